//! The checks of a rollout before its first write: probe settings, image tags, each app's
//! kind in Coolify, the token's deploy ability.

use coolify_client::{Application, ImageTag};
use tag_policy::ReleaseTag;

use super::Engine;
use super::outcome::Stopped;
use super::rollout::{Step, Target};
use crate::config::{AppConfig, EnvironmentName};
use crate::exit::BadInput;

impl Engine {
    /// Everything a roll-out can check before its first write: each app's probe settings and
    /// image tag, each app's kind in Coolify (the application read then is what the first
    /// deploys pin against), and the token's deploy ability. A pin followed by
    /// a refused deploy would leave the app pinned to a commit it does not run (a token
    /// without `write` fails the pin itself).
    pub(super) async fn check_before_writes<'a>(
        &'a self,
        environment: EnvironmentName,
        targets: &'a [Target],
    ) -> Result<Vec<Step<'a>>, Stopped> {
        let section = self.config.environment(environment);
        let mut checked = Vec::with_capacity(targets.len());
        for target in targets {
            let app = section.apps.get(target.app_index).ok_or_else(|| {
                Stopped::input(
                    None,
                    anyhow::anyhow!("{environment} has no app number {}", target.app_index + 1),
                )
            })?;
            self.probe_spec(
                environment,
                app,
                target.commit.as_str(),
                target.tag.as_ref(),
            )
            .map_err(|error| Stopped::input(Some(target.app_index), error))?;
            let image_tag = self
                .image_tag_of(environment, app, target)
                .map_err(|error| Stopped::input(Some(target.app_index), error))?;
            checked.push((target, app, image_tag));
        }
        let mut steps = Vec::with_capacity(checked.len());
        for (target, app, image_tag) in checked {
            let application = self
                .check_app_kind(environment, target.app_index, app)
                .await?;
            steps.push(Step {
                target,
                app,
                image_tag,
                application,
                read_at: tokio::time::Instant::now(),
            });
        }
        let every_app: Vec<String> = steps.iter().map(|step| step.app.uuid.to_string()).collect();
        if let Err(error) = self.coolify.check_deploy_ability().await {
            let mut stopped = Stopped::coolify(
                0,
                error,
                format!(
                    "check that the token may deploy {environment} (app {}); nothing was changed",
                    every_app.join(", app ")
                ),
            );
            stopped.app = None;
            return Err(stopped);
        }
        Ok(steps)
    }

    /// The image tag a target deploys on an image app (`None` for a git app).
    fn image_tag_of(
        &self,
        environment: EnvironmentName,
        app: &AppConfig,
        target: &Target,
    ) -> anyhow::Result<Option<ImageTag>> {
        let Some(image) = &app.image else {
            return Ok(None);
        };
        if let Some(image_tag) = &target.image_tag {
            return Ok(Some(image_tag.clone()));
        }
        image
            .tag
            .expand(
                target.commit.as_str(),
                target.tag.as_ref().map(ReleaseTag::version_str),
            )
            .map(Some)
            .map_err(|reason| {
                crate::BadInput(format!(
                    "{}: `image_tag` of {environment}'s {}: {reason}; nothing was changed",
                    self.config.path.display(),
                    app.describe()
                ))
                .into()
            })
    }

    /// Refuse, before any write, an app whose kind in Coolify differs from the config: a
    /// Docker-image app without `image` (a pin would change nothing it runs), a git app with
    /// it, or another image than the one configured. The application as read, for its deploy.
    async fn check_app_kind(
        &self,
        environment: EnvironmentName,
        index: usize,
        app: &AppConfig,
    ) -> Result<Application, Stopped> {
        let application = self.coolify.application(&app.uuid).await.map_err(|error| {
            Stopped::coolify(
                index,
                error,
                format!("read {environment}'s app {}", app.uuid),
            )
        })?;
        match self.kind_problem(environment, app, &application) {
            Some(message) => Err(Stopped::input(Some(index), BadInput(message).into())),
            None => Ok(application),
        }
    }

    /// How `app`'s kind in Coolify (`application`) differs from the config, in words; `None`
    /// when it does not.
    pub(crate) fn kind_problem(
        &self,
        environment: EnvironmentName,
        app: &AppConfig,
        application: &coolify_client::Application,
    ) -> Option<String> {
        let path = self.config.path.display();
        match (&app.image, application.is_image_app()) {
            (None, true) => Some(format!(
                "{environment}'s app {} is a Docker-image application in Coolify (image {}): set `image = \"{}\"` for it in {path}, so that a deploy sets its image tag instead of a git commit; nothing was changed",
                app.uuid,
                application
                    .docker_registry_image_name
                    .as_deref()
                    .unwrap_or("unknown"),
                application
                    .docker_registry_image_name
                    .as_deref()
                    .unwrap_or("registry/name"),
            )),
            (Some(image), false) => Some(format!(
                "{environment}'s app {} builds from git in Coolify, but {path} gives it `image = \"{}\"`: remove `image` and `image_tag`, or make it a Docker-image application in Coolify; nothing was changed",
                app.uuid, image.name
            )),
            (Some(image), true)
                if application.docker_registry_image_name.as_deref()
                    != Some(image.name.as_str()) =>
            {
                Some(format!(
                    "{environment}'s app {} runs image {} in Coolify, but {path} says {}: run `{}` to set it, or fix `image`; nothing was changed",
                    app.uuid,
                    application
                        .docker_registry_image_name
                        .as_deref()
                        .unwrap_or("none"),
                    image.name,
                    self.invocation.command("setup")
                ))
            }
            _ => None,
        }
    }
}
