//! An image app whose new image did not start: what Coolify logged, the previous tag put
//! back, and whether the previous release still answers.

use coolify_client::ApplicationPatch;

use super::Engine;
use super::outcome::{Cause, Stopped};
use super::rollout::Started;
use crate::config::{AppConfig, EnvironmentName};
use crate::repo::oid;

/// Coolify could not start an image app's new image (most often: the registry does not have
/// the tag), in words.
#[derive(Debug, Clone, thiserror::Error)]
#[error("Coolify could not start {image} on {environment}'s {label} (app {app}) (the registry may not have it{})", log_line.as_deref().map(|line| format!(": {line}")).unwrap_or_default())]
struct ImageNotStarted {
    environment: EnvironmentName,
    app: String,
    label: String,
    image: String,
    log_line: Option<String>,
}

impl Engine {
    /// An image deployment failed: say what Coolify logged, put the previous tag back (the
    /// old container keeps running, so no redeploy is needed) and check once that the
    /// previous release still answers.
    pub(super) async fn image_not_started(
        &self,
        environment: EnvironmentName,
        index: usize,
        app: &AppConfig,
        deployment: &Started,
        error: coolify_client::Error,
    ) -> Stopped {
        let image_tag = deployment
            .image_tag
            .as_ref()
            .map(ToString::to_string)
            .unwrap_or_default();
        let image = app
            .image
            .as_ref()
            .map(|image| format!("{}:{image_tag}", image.name))
            .unwrap_or_default();
        let log_line = match self.coolify.deployment(&deployment.deployment).await {
            Ok(read) => read.log_lines().into_iter().rev().find(|line| {
                line.contains("Failed to start container")
                    || line.contains("manifest unknown")
                    || line.contains("not found")
            }),
            Err(_) => None,
        };
        let mut restored = None;
        let mut previous_answers = None;
        if let Some(previous) = &deployment.previous_tag {
            self.journal.write(format!(
                "set {environment} (app {}) back to image tag {previous}",
                app.uuid
            ));
            let patch = ApplicationPatch::new().docker_registry_image_tag(previous);
            match self.coolify.update_application(&app.uuid, &patch).await {
                Ok(_) => {
                    self.output.step(format!(
                        "{environment}: app {} is set to image tag {previous} again",
                        app.uuid
                    ));
                    restored = Some(Ok(previous.to_string()));
                }
                Err(restore) => restored = Some(Err(restore.to_string())),
            }
            let releases = self.releases().ok();
            let commit = releases
                .as_ref()
                .and_then(|releases| self.commit_of_image_tag(app, previous.as_str(), releases));
            if let (Some(commit), Some(releases)) = (&commit, &releases) {
                let release = oid(commit)
                    .and_then(|oid| releases.at_commit(oid).last().map(|r| r.tag().clone()));
                if let Ok(Some(spec)) =
                    self.probe_spec(environment, app, commit.as_str(), release.as_ref())
                {
                    previous_answers = Some(self.prober.check(&spec).await.passed());
                }
            }
        }
        let words = ImageNotStarted {
            environment,
            app: app.uuid.to_string(),
            label: app.label.clone(),
            image: image.clone(),
            log_line: log_line.clone(),
        };
        Stopped {
            app: Some(index),
            cause: Box::new(Cause::ImageNotStarted {
                deployment: deployment.deployment.to_string(),
                image,
                log_line,
                restored,
                previous_answers,
            }),
            error: anyhow::Error::new(error).context(words),
        }
    }
}
