//! What going back to an earlier release costs: whether each app's server still has the
//! release's image (`GET /applications/{uuid}/rollback-images`, Coolify 4.3.0+), so a deploy of
//! it only restarts, or whether it builds (a git app) or pulls (an image app) again.

use coolify_client::{CommitSha, ImageAvailability, UnknownImages};
use serde::Serialize;
use tag_policy::ReleaseTag;

use crate::config::EnvironmentName;
use crate::engine::Engine;

/// What deploying a release again costs on one app, from the images its server still has.
#[derive(Debug, Clone, Serialize)]
pub struct RollbackCost {
    /// The app's uuid.
    pub app: String,
    /// Its name in messages.
    pub label: String,
    /// The image the release would run: the full commit sha for a git app, the tag for an
    /// image app.
    pub image: String,
    /// What the deploy does.
    pub cost: Cost,
}

/// What deploying an earlier release does on one app.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Cost {
    /// The image is still on the server: Coolify skips the build (or pull) and restarts.
    Restart,
    /// A git app's image was cleaned up: Coolify builds the commit again.
    Rebuild,
    /// An image app's image was cleaned up: Coolify pulls it again.
    Pull,
    /// The server could not tell.
    Unknown {
        /// Why.
        reason: String,
    },
}

impl std::fmt::Display for Cost {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Restart => f.write_str("restart (image kept)"),
            Self::Rebuild => f.write_str("rebuild (image removed)"),
            Self::Pull => f.write_str("pull (image removed from the server)"),
            Self::Unknown { reason } => write!(f, "unknown ({reason})"),
        }
    }
}

/// The images each app of an environment's server has, read once for several releases.
pub(crate) struct ServerImages(Vec<Result<coolify_client::RollbackImages, String>>);

impl Engine {
    /// The images each app of `environment` still has on its server (`GET
    /// .../rollback-images`); an app whose read fails gets its error, shown as unknown.
    pub(crate) async fn server_images(&self, environment: EnvironmentName) -> ServerImages {
        let mut images = Vec::new();
        for app in &self.config.environment(environment).apps {
            images.push(
                self.coolify
                    .rollback_images(&app.uuid)
                    .await
                    .map_err(|error| error.to_string()),
            );
        }
        ServerImages(images)
    }

    /// What deploying `commit` (released as `tag`) again costs on each app of `environment`.
    pub(crate) fn rollback_costs(
        &self,
        environment: EnvironmentName,
        images: &ServerImages,
        commit: &CommitSha,
        tag: Option<&ReleaseTag>,
    ) -> Vec<RollbackCost> {
        self.config
            .environment(environment)
            .apps
            .iter()
            .zip(&images.0)
            .map(|(app, images)| {
                let image = match &app.image {
                    Some(image) => image
                        .tag
                        .expand(commit.as_str(), tag.map(ReleaseTag::version_str))
                        .map(|tag| tag.to_string()),
                    None => Ok(commit.to_string()),
                };
                let (image, cost) = match (image, images) {
                    (Err(reason), _) => (String::new(), Cost::Unknown { reason }),
                    (Ok(image), Err(reason)) => (
                        image,
                        Cost::Unknown {
                            reason: reason.clone(),
                        },
                    ),
                    (Ok(image), Ok(images)) => {
                        let cost = match images.availability(&image) {
                            ImageAvailability::Kept => Cost::Restart,
                            ImageAvailability::Removed if app.image.is_some() => Cost::Pull,
                            ImageAvailability::Removed => Cost::Rebuild,
                            ImageAvailability::Unknown {
                                reason: UnknownImages::Unsupported,
                            } => Cost::Unknown {
                                reason: "Coolify before 4.3.0".to_owned(),
                            },
                            ImageAvailability::Unknown { reason } => Cost::Unknown {
                                reason: reason.to_string(),
                            },
                            // A kind of answer this stagegate does not know yet.
                            _ => Cost::Unknown {
                                reason: "Coolify answered in a way this stagegate does not know"
                                    .to_owned(),
                            },
                        };
                        (image, cost)
                    }
                };
                RollbackCost {
                    app: app.uuid.to_string(),
                    label: app.label.clone(),
                    image,
                    cost,
                }
            })
            .collect()
    }
}
