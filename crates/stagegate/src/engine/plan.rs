//! What a dry run lists: the writes and waits a rollout would make, none of them made.

use coolify_client::{Client, CommitSha, ForceRebuild};
use tag_policy::ReleaseTag;

use super::Engine;
use crate::config::EnvironmentName;
use crate::exit::BadInput;
use crate::repo::short;

impl Engine {
    /// The writes and waits a rollout of `sha` on an environment would make: what a dry run lists.
    pub(crate) fn plan(
        &self,
        environment: EnvironmentName,
        sha: &CommitSha,
        tag: Option<&ReleaseTag>,
    ) -> anyhow::Result<Vec<String>> {
        let commit = sha.as_str();
        let section = self.config.environment(environment);
        let mut planned: Vec<String> = Vec::new();
        for app in &section.apps {
            let requests = match &app.image {
                Some(image) => {
                    let image_tag = image
                        .tag
                        .expand(commit, tag.map(ReleaseTag::version_str))
                        .map_err(|reason| {
                            BadInput(format!(
                                "{}: `image_tag` of {environment}'s {}: {reason}",
                                self.config.path.display(),
                                app.label
                            ))
                        })?;
                    Client::planned_deploy_image_tag(&app.uuid, &image_tag)
                }
                None => Client::planned_deploy_commit(&app.uuid, sha, ForceRebuild::No),
            };
            planned.extend(requests.iter().map(ToString::to_string));
        }
        planned.push(format!(
            "follow the deployment{} until it ends (deadline {})",
            if section.has_several_apps() { "s" } else { "" },
            humantime::format_duration(self.config.deploy.timeout)
        ));
        for app in &section.apps {
            match self.probe_spec(environment, app, commit, tag)? {
                Some(spec) => planned.push(format!(
                    "probe {} until it reports {} ({} consecutive passes, deadline {})",
                    spec.url(),
                    short(commit),
                    spec.success_threshold(),
                    humantime::format_duration(spec.deadline())
                )),
                None => planned.push(format!(
                    "watch the container of {} for {}: it must stay running",
                    app.describe(),
                    humantime::format_duration(
                        super::CONTAINER_CHECK_INTERVAL * (super::CONTAINER_CHECKS - 1)
                    )
                )),
            }
        }
        Ok(planned)
    }
}
