//! What the preview commands share: the app previews are made of, a preview's URL and health
//! URL, and its record in GitHub Deployments (the transient environment `pr-N`).

use coolify_client::{Application, CommitSha, PreviewUrlProblem, PullRequestId};
use release_record::{
    App, DeploymentId, Environment, HistoryQuery, Outcome, Record, Settlement, Start,
};
use url::Url;

use super::Engine;
use super::record::Recording;
use crate::config::{AppConfig, PR_PLACEHOLDER};
use crate::exit::BadInput;

/// A pull request's preview: the app, where it answers and where its health endpoint is.
#[derive(Debug, Clone)]
pub(crate) struct Preview<'a> {
    /// The pull request.
    pub(crate) pull_request: PullRequestId,
    /// The staging app previews are made of.
    pub(crate) app: &'a AppConfig,
    /// Where the preview answers (GitHub's "View deployment").
    pub(crate) url: Url,
    /// Its health endpoint, probed until it reports the commit.
    pub(crate) health_url: Url,
}

/// The name of a pull request's environment in the record and in GitHub: `pr-42`.
pub(crate) fn environment_name(pull_request: PullRequestId) -> String {
    format!("pr-{pull_request}")
}

/// The pull request of a recorded environment named `pr-N`.
pub(crate) fn pull_request_of(environment: &str) -> Option<PullRequestId> {
    environment.strip_prefix("pr-")?.parse().ok()
}

/// `health_url` moved to the origin (scheme, host and port) of `preview`: the path and query
/// stay, as Coolify keeps them in a preview's domain.
fn moved_to(health_url: &Url, preview: &Url) -> Url {
    let mut moved = health_url.clone();
    // Both are http(s) URLs with a host, so each change is accepted; a refused one keeps the
    // value it had, which the probe then names.
    let _ = moved.set_scheme(preview.scheme());
    let _ = moved.set_host(preview.host_str());
    let _ = moved.set_port(preview.port());
    moved
}

impl Engine {
    /// The staging app previews are made of: `[preview] app`, or the first with a health URL.
    pub(crate) fn preview_app(&self) -> &AppConfig {
        &self.config.preview.app
    }

    /// Where a preview answers and where its health endpoint is: `[preview]`'s `url` and
    /// `health_url` when set, else as Coolify makes them (the app's first domain in its
    /// `preview_url_template`) and the app's health URL moved to the preview's host.
    ///
    /// # Errors
    ///
    /// [`BadInput`] when Coolify's URL cannot be known (`{{random}}`, no domain) and
    /// `[preview]` gives none, naming where in `deploy.toml` to write it.
    pub(crate) fn preview<'a>(
        &'a self,
        application: &Application,
        pull_request: PullRequestId,
    ) -> Result<Preview<'a>, BadInput> {
        let app = self.preview_app();
        let number = pull_request.get();
        let preview = &self.config.preview;
        let url = match &preview.url {
            Some(template) => template
                .expand(number)
                .map_err(|reason| self.preview_url_error(&reason))?,
            None => application
                .preview_url(pull_request)
                .map_err(|error| self.coolify_url_error(app, &error))?,
        };
        let health_url = match (&preview.health_url, &app.health_url) {
            (Some(template), _) => template
                .expand(number)
                .map_err(|reason| self.preview_url_error(&reason))?,
            (None, Some(health_url)) => moved_to(health_url, &url),
            // The config refuses an app without a health URL and no `[preview] health_url`.
            (None, None) => url.clone(),
        };
        Ok(Preview {
            pull_request,
            app,
            url,
            health_url,
        })
    }

    /// A problem with `preview.url`, at the line of the `[preview]` table.
    fn preview_url_error(&self, message: &str) -> BadInput {
        let path = self.config.path.display();
        BadInput(match self.config.preview.line {
            Some(line) => format!("{path}, line {line}: `preview.url`: {message}"),
            None => format!("{path}: `preview.url`: {message}"),
        })
    }

    /// Coolify's preview URL cannot be known: say why and where `url` goes.
    fn coolify_url_error(&self, app: &AppConfig, error: &coolify_client::Error) -> BadInput {
        let example = format!("url = \"https://pr-{PR_PLACEHOLDER}.preview.example.com\"");
        let why = match error {
            coolify_client::Error::PreviewUrl {
                reason: PreviewUrlProblem::RandomInTemplate { template },
                ..
            } => format!(
                "the preview URL template of app {} in Coolify is {template:?}, and Coolify fills {{{{random}}}} with a new random value for each preview, so where a preview answers cannot be known",
                app.uuid
            ),
            coolify_client::Error::PreviewUrl {
                reason: PreviewUrlProblem::NoDomain,
                ..
            } => format!(
                "app {} has no domain in Coolify, so Coolify gives its previews no URL",
                app.uuid
            ),
            other => other.to_string(),
        };
        let fix = match self.config.preview.line {
            Some(_) => {
                format!("set `url` in [preview] to the URL your previews answer on ({example})")
            }
            None => {
                format!("add a [preview] table with the URL your previews answer on ({example})")
            }
        };
        self.preview_url_error(&format!("{why}: {fix}, or change the app in Coolify"))
    }

    /// The record of one preview run of `commit`: environment `pr-N` (transient), the
    /// preview's URL as GitHub's "View deployment".
    pub(crate) fn preview_recording(&self, preview: &Preview<'_>, commit: &CommitSha) -> Recording {
        let Ok(environment) = Environment::transient(environment_name(preview.pull_request)) else {
            return Recording::off();
        };
        let app = App::new(preview.app.uuid.clone(), preview.app.label.clone())
            .health_url(preview.health_url.clone());
        let start = Start::new(environment, commit.clone(), self.record.ran_by().clone())
            .app(app)
            .environment_url(preview.url.clone());
        self.record.recording(&self.journal, start)
    }

    /// Every recorded run of the preview of `pull_request`, newest first; `Ok(None)` without
    /// a record.
    pub(crate) async fn preview_runs(
        &self,
        pull_request: PullRequestId,
    ) -> Result<Option<Vec<Record>>, release_record::Error> {
        let Some(recorder) = self.record.recorder() else {
            return Ok(None);
        };
        let query = HistoryQuery::new([environment_name(pull_request)]);
        let history = recorder.history(&query).await?;
        Ok(Some(history.into_records()))
    }

    /// The preview now runs `commit` (run `current`): the earlier runs of the pull request
    /// that GitHub still shows as live no longer are. A run that never settled is superseded;
    /// a settled one keeps its outcome and is marked inactive. Returns how many were retired;
    /// a record that cannot be written is said once, and changes nothing else.
    pub(crate) async fn retire_earlier_previews(
        &self,
        pull_request: PullRequestId,
        current: Option<DeploymentId>,
        commit: &CommitSha,
    ) -> usize {
        let runs = match self.preview_runs(pull_request).await {
            Ok(Some(runs)) => runs,
            Ok(None) => return 0,
            Err(error) => {
                self.record.warn_unwritten(&error);
                return 0;
            }
        };
        let Some(recorder) = self.record.recorder() else {
            return 0;
        };
        let reason = format!(
            "{} now runs {}",
            environment_name(pull_request),
            commit.short()
        );
        let mut retired = 0;
        for run in runs
            .iter()
            .filter(|run| Some(run.deployment()) != current && run.inactive_at().is_none())
        {
            let written = if run.outcome() == Outcome::InProgress {
                let apps = run.apps().iter().map(|app| app.app().clone()).collect();
                recorder
                    .resume(run.deployment(), run.environment().clone(), apps)
                    .settle(&Settlement::superseded(Some(commit.clone()), &reason))
                    .await
            } else {
                recorder
                    .mark_inactive(run.deployment(), &format!("superseded: {reason}"))
                    .await
            };
            match written {
                Ok(()) => retired += 1,
                Err(error) => {
                    self.record.warn_unwritten(&error);
                    break;
                }
            }
        }
        retired
    }

    /// The preview of `pull_request` is gone: mark every run GitHub still shows as live
    /// inactive (GitHub then shows the environment as destroyed). Returns how many.
    ///
    /// # Errors
    ///
    /// The record cannot be read or written.
    pub(crate) async fn mark_preview_inactive(
        &self,
        pull_request: PullRequestId,
        reason: &str,
    ) -> Result<usize, release_record::Error> {
        let (Some(runs), Some(recorder)) = (
            self.preview_runs(pull_request).await?,
            self.record.recorder(),
        ) else {
            return Ok(0);
        };
        let mut marked = 0;
        for run in runs.iter().filter(|run| run.inactive_at().is_none()) {
            recorder.mark_inactive(run.deployment(), reason).await?;
            marked += 1;
        }
        Ok(marked)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_health_url_moves_to_the_preview_host_keeping_its_path() {
        let health: Url = "http://127.0.0.1:8080/app/healthz?deep=1".parse().unwrap();
        let preview: Url = "https://42.staging.example.com/app".parse().unwrap();
        assert_eq!(
            moved_to(&health, &preview).as_str(),
            "https://42.staging.example.com/app/healthz?deep=1"
        );
        let preview: Url = "http://42.staging.example.test:8443".parse().unwrap();
        assert_eq!(
            moved_to(&health, &preview).as_str(),
            "http://42.staging.example.test:8443/app/healthz?deep=1"
        );
    }

    #[test]
    fn environments_name_their_pull_request() {
        let pull_request: PullRequestId = "42".parse().unwrap();
        assert_eq!(environment_name(pull_request), "pr-42");
        assert_eq!(pull_request_of("pr-42"), Some(pull_request));
        assert_eq!(pull_request_of("staging"), None);
        assert_eq!(pull_request_of("pr-0"), None);
    }
}
