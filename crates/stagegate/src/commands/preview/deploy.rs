//! `preview deploy --pr N [--commit SHA]`: the preview of the pull request's commit, deployed
//! or followed, then probed until it reports the commit.

use std::time::Duration;

use anyhow::Context as _;
use coolify_client::{
    Application, CommitSha, DeploymentUuid, ForceRebuild, ImageTag, PreviewOutcome, PullRequestId,
};
use health_probe::{Failure, Verdict};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::failure::{Cause, OtherCommit, PreviewFailure};
use super::{DeployOptions, PreviewAction, PreviewReport, Trigger};
use crate::commands::deploy::table_cell;
use crate::config::EnvironmentName;
use crate::engine::preview::{Preview, environment_name};
use crate::engine::{EarlyStop, Engine, Timings, millis, report_probe_event, seconds};
use crate::exit::{BadInput, Refused};
use crate::repo::{commit_sha, short};
use crate::session::Session;

/// How long `preview deploy` waits for the deployment Coolify's pull-request webhook starts,
/// before it redeploys the preview through the API.
pub const WEBHOOK_WAIT: Duration = Duration::from_secs(60);

/// How often it looks for that deployment meanwhile.
const WEBHOOK_POLL: Duration = Duration::from_secs(3);

/// A deployment of the preview, and how it came about.
struct Started {
    deployment: DeploymentUuid,
    trigger: Trigger,
}

/// What one run of `preview deploy` works with.
struct Run<'a> {
    engine: &'a Engine,
    preview: Preview<'a>,
    commit: CommitSha,
    /// The preview's name in progress lines: `pr-42`.
    name: String,
    /// The app's branch in Coolify: the base branch of its pull requests.
    base_branch: String,
    rerun: String,
}

pub(super) async fn deploy(
    session: &Session,
    options: &DeployOptions,
) -> anyhow::Result<PreviewReport> {
    let pull_request = super::pull_request(options.pull_request)?;
    let context = format!("preview deploy --pr {pull_request}");
    let engine = Engine::open(session).context(context.clone())?;
    let commit =
        preview_commit(&engine, session, options, pull_request).context(context.clone())?;
    let rerun = options.arguments(commit.as_str());
    engine.journal.track(rerun.clone());
    let app = engine.preview_app();
    let application = engine
        .coolify
        .application(&app.uuid)
        .await
        .with_context(|| format!("{context}: read staging's app {}", app.uuid))?;
    if let Some(problem) = engine.kind_problem(EnvironmentName::Staging, app, &application) {
        return Err(anyhow::Error::new(BadInput(problem)).context(context));
    }
    if app.image.is_none() && application.previews_enabled() == Some(false) {
        return Err(
            anyhow::Error::new(previews_off(&engine, &application, pull_request)).context(context),
        );
    }
    let preview = engine
        .preview(&application, pull_request)
        .context(context.clone())?;
    let spec = app
        .probe
        .to_spec(
            preview.health_url.clone(),
            &Engine::variables(EnvironmentName::Staging, commit.as_str(), None),
        )
        .map_err(|error| {
            BadInput(format!(
                "{}: the probe of the preview at {}: {error}",
                engine.config.path.display(),
                preview.health_url
            ))
        })
        .context(context.clone())?;
    let image_tag = match &app.image {
        Some(image) => Some(
            image
                .tag
                .expand(commit.as_str(), None)
                .map_err(|reason| {
                    BadInput(format!(
                        "{}: `image_tag` of staging's {} (app {}): {reason}",
                        engine.config.path.display(),
                        app.label,
                        app.uuid
                    ))
                })
                .context(context.clone())?,
        ),
        None => None,
    };
    let run = Run {
        engine: &engine,
        name: environment_name(pull_request),
        base_branch: application
            .git_branch
            .clone()
            .unwrap_or_else(|| engine.config.staging.branch.clone()),
        preview,
        commit,
        rerun: engine.invocation.command(&rerun),
    };
    if options.dry_run.is_dry() {
        return Ok(run.planned(image_tag.as_ref()));
    }
    run.go(image_tag.as_ref(), &spec, &context).await
}

/// The commit a preview must run: `--commit`, else the pull request's head from the GitHub
/// Actions event, else `HEAD`.
fn preview_commit(
    engine: &Engine,
    session: &Session,
    options: &DeployOptions,
    pull_request: PullRequestId,
) -> anyhow::Result<CommitSha> {
    if let Some(revision) = &options.commit {
        return match engine.repo.resolve_commit(revision) {
            Ok(oid) => commit_sha(oid),
            // The pull request's head need not be in a shallow clone of the merge commit.
            Err(error) => revision.parse::<CommitSha>().map_err(|_| error),
        };
    }
    if session.process_env.is_github_actions()
        && let Some(head) = event_head(engine, session, pull_request)
    {
        return Ok(head);
    }
    commit_sha(engine.repo.resolve_commit("HEAD")?)
}

/// What a GitHub Actions event says of a pull request's head.
#[derive(Debug, Clone, PartialEq, Eq)]
enum EventHead {
    /// The event is of this pull request: its head commit.
    Head(CommitSha),
    /// The event is of another pull request.
    Other(u64),
    /// The event is of no pull request, or its head is not a commit.
    None,
}

/// The head of `pull_request` in an event's JSON (`pull_request.number` and
/// `pull_request.head.sha`).
fn event_head_of(event: &serde_json::Value, pull_request: PullRequestId) -> EventHead {
    let Some(number) = event
        .pointer("/pull_request/number")
        .and_then(serde_json::Value::as_u64)
    else {
        return EventHead::None;
    };
    if number != pull_request.get() {
        return EventHead::Other(number);
    }
    event
        .pointer("/pull_request/head/sha")
        .and_then(serde_json::Value::as_str)
        .and_then(|sha| sha.parse().ok())
        .map_or(EventHead::None, EventHead::Head)
}

/// The head commit of `pull_request` from the event of the GitHub Actions run
/// (`GITHUB_EVENT_PATH`); `None`, with a warning when the event cannot be read or is of
/// another pull request.
fn event_head(
    engine: &Engine,
    session: &Session,
    pull_request: PullRequestId,
) -> Option<CommitSha> {
    let path = session.process_env.get("GITHUB_EVENT_PATH")?;
    let event = std::fs::read_to_string(path)
        .ok()
        .and_then(|text| serde_json::from_str::<serde_json::Value>(&text).ok());
    let Some(event) = event else {
        engine.output.warn(format!(
            "the GitHub event at {path} cannot be read: deploying HEAD as the preview of pull request {pull_request} (give --commit to choose)"
        ));
        return None;
    };
    match event_head_of(&event, pull_request) {
        EventHead::Head(head) => Some(head),
        EventHead::Other(number) => {
            engine.output.warn(format!(
                "the GitHub event is of pull request {number}, not {pull_request}: deploying HEAD as the preview of pull request {pull_request} (give --commit to choose)"
            ));
            None
        }
        EventHead::None => None,
    }
}

/// Preview deployments are off for a git app: Coolify's webhook creates no preview.
fn previews_off(
    engine: &Engine,
    application: &Application,
    pull_request: PullRequestId,
) -> Refused {
    let app = &application.uuid;
    let turn_on = match engine.config.preview.declared {
        crate::config::Declared::Yes => format!("run `{}`", engine.invocation.command("setup")),
        crate::config::Declared::No => format!(
            "add a [preview] table to {} and run `{}`",
            engine.config.path.display(),
            engine.invocation.command("setup")
        ),
    };
    Refused(format!(
        "preview deployments are off for app {app} in Coolify, so its pull-request webhook creates no preview of pull request {pull_request}: {turn_on} to turn them on (or turn on Preview Deployments in the app's settings in Coolify), then push to the pull request"
    ))
}

impl Run<'_> {
    fn failure(&self, cause: Cause) -> PreviewFailure {
        PreviewFailure {
            cause,
            pull_request: self.preview.pull_request.get(),
            commit: self.commit.clone(),
            url: self.preview.url.to_string(),
            health_url: self.preview.health_url.to_string(),
            app: self.preview.app.uuid.to_string(),
            rerun: self.rerun.clone(),
            setup: self.engine.invocation.command("setup"),
        }
    }

    fn report(&self, action: PreviewAction) -> PreviewReport {
        PreviewReport {
            pull_request: self.preview.pull_request.get(),
            environment: self.name.clone(),
            app: self.preview.app.uuid.to_string(),
            label: self.preview.app.label.clone(),
            commit: self.commit.to_string(),
            url: self.preview.url.to_string(),
            health_url: self.preview.health_url.to_string(),
            action,
            trigger: None,
            deployment: None,
            image_tag: None,
            probe: None,
            timings: None,
            github_deployment: None,
            retired: 0,
            planned: Vec::new(),
        }
    }

    /// `--dry-run`: what would be sent and awaited.
    fn planned(&self, image_tag: Option<&ImageTag>) -> PreviewReport {
        let app = &self.preview.app.uuid;
        let pull_request = self.preview.pull_request;
        let request = coolify_client::Client::planned_deploy_preview(
            app,
            pull_request,
            image_tag,
            ForceRebuild::No,
        );
        let mut planned = match image_tag {
            Some(tag) => vec![format!("deploy image tag {tag}: {request}")],
            None => vec![format!(
                "follow the deployment of {} Coolify's pull-request webhook starts; if none comes within {}: {request}",
                self.commit.short(),
                humantime::format_duration(WEBHOOK_WAIT)
            )],
        };
        planned.push(format!(
            "probe {} until it reports {}",
            self.preview.health_url,
            self.commit.short()
        ));
        match self.engine.record.absent() {
            None => planned.push(format!(
                "record it as a GitHub deployment of {} (transient) with {} as its URL",
                self.name, self.preview.url
            )),
            Some(reason) => planned.push(format!("no release record: {reason}")),
        }
        let mut report = self.report(PreviewAction::Planned);
        report.image_tag = image_tag.map(ToString::to_string);
        report.planned = planned;
        report
    }

    /// Deploy or follow, then verify, recording each step.
    async fn go(
        &self,
        image_tag: Option<&ImageTag>,
        spec: &health_probe::ProbeSpec,
        context: &str,
    ) -> anyhow::Result<PreviewReport> {
        let app = &self.preview.app.uuid;
        let started_at = Instant::now();
        let started = match image_tag {
            Some(tag) => self.deploy_image(tag).await,
            None => self.follow_webhook_or_redeploy().await,
        };
        let started = match started {
            Ok(started) => started,
            Err(cause) => return Err(self.fail(cause, None, context).await),
        };
        let mut recording = self.engine.preview_recording(&self.preview, &self.commit);
        recording.deployment_started(app, &started.deployment).await;
        let triggered = Instant::now();
        let finished = match self
            .engine
            .follow_as(self.name.clone(), &started.deployment)
            .await
        {
            Ok(finished) => finished,
            Err(error) => {
                let cause = self
                    .follow_failure(&started.deployment, image_tag, error)
                    .await;
                return Err(self.fail(cause, Some(&mut recording), context).await);
            }
        };
        if image_tag.is_none()
            && let Some(built) = finished.resolved_commit()
            && !finished.is_of_commit(&self.commit)
        {
            let cause = Cause::BuiltOther {
                deployment: started.deployment.to_string(),
                built: self.other_commit(built.to_string()),
            };
            return Err(self.fail(cause, Some(&mut recording), context).await);
        }
        recording.deployment_finished(app).await;
        let deployed = Instant::now();
        self.engine.output.step(format!(
            "{}: deployment {} finished in {}",
            self.name,
            started.deployment,
            seconds(millis(deployed.duration_since(triggered)))
        ));
        // The preview's container now runs this commit: earlier runs no longer are live.
        let retired = self
            .engine
            .retire_earlier_previews(
                self.preview.pull_request,
                recording.deployment(),
                &self.commit,
            )
            .await;
        self.engine.output.step(format!(
            "{}: probing {} until it reports {}",
            self.name,
            spec.url(),
            self.commit.short()
        ));
        let output = self.engine.output.clone();
        let name = self.name.clone();
        let outcome = self
            .engine
            .prober
            .probe_with(spec, &CancellationToken::new(), move |event| {
                report_probe_event(&output, &name, event);
            })
            .await;
        if !outcome.is_healthy() {
            let cause = self.probe_failure(&outcome);
            return Err(self.fail(cause, Some(&mut recording), context).await);
        }
        let done = Instant::now();
        self.engine.output.step(format!(
            "{}: {} serves {} ({} attempts)",
            self.name,
            self.preview.health_url,
            self.commit.short(),
            outcome.attempt_count()
        ));
        recording
            .settle(&release_record::Settlement::verified(&format!(
                "{} answers {} at {} ({} attempts)",
                self.preview.app.label,
                self.commit.short(),
                self.preview.url,
                outcome.attempt_count()
            )))
            .await;
        let mut report = self.report(PreviewAction::Verified);
        report.trigger = Some(started.trigger);
        report.deployment = Some(started.deployment.to_string());
        report.image_tag = image_tag.map(ToString::to_string);
        report.probe = Some(outcome);
        report.timings = Some(Timings {
            trigger_ms: millis(triggered.duration_since(started_at)),
            deployment_ms: millis(deployed.duration_since(triggered)),
            probe_ms: millis(done.duration_since(deployed)),
            total_ms: millis(done.duration_since(started_at)),
        });
        report.github_deployment = recording
            .deployment()
            .map(release_record::DeploymentId::get);
        report.retired = retired;
        self.finish(&report)?;
        Ok(report)
    }

    /// A Docker-image app: deploy the commit's tag as the preview (Coolify creates it).
    async fn deploy_image(&self, tag: &ImageTag) -> Result<Started, Cause> {
        let app = &self.preview.app.uuid;
        let pull_request = self.preview.pull_request;
        self.engine.output.step(format!(
            "{}: deploying image tag {tag} ({}) as the preview of pull request {pull_request} (app {app})",
            self.name,
            self.commit.short()
        ));
        self.engine.journal.write(format!(
            "deploy image tag {tag} as the preview of pull request {pull_request} (app {app})"
        ));
        let outcome = self
            .engine
            .coolify
            .deploy_preview(app, pull_request, Some(tag), ForceRebuild::No)
            .await
            .map_err(|error| self.refused(error, "deploy the preview"))?;
        self.started(outcome, Trigger::ImageTag).await
    }

    /// A git app: the deployment Coolify's webhook started for the commit, or, when none
    /// comes within [`WEBHOOK_WAIT`], a redeploy of the existing preview through the API.
    async fn follow_webhook_or_redeploy(&self) -> Result<Started, Cause> {
        let app = &self.preview.app.uuid;
        let pull_request = self.preview.pull_request;
        let waiting = Instant::now();
        let until = waiting + WEBHOOK_WAIT;
        self.engine.output.step(format!(
            "{}: looking for the deployment of {} that Coolify's pull-request webhook starts (app {app})",
            self.name,
            self.commit.short()
        ));
        loop {
            let found = self
                .engine
                .coolify
                .find_preview_deployment(app, pull_request, &self.commit)
                .await
                .map_err(|error| self.refused(error, "look for the preview's deployment"))?;
            if let Some(found) = found {
                self.engine.output.step(format!(
                    "{}: following deployment {} ({}), started by Coolify's webhook",
                    self.name, found.deployment_uuid, found.status
                ));
                return Ok(Started {
                    deployment: found.deployment_uuid,
                    trigger: Trigger::Webhook,
                });
            }
            if Instant::now() >= until {
                break;
            }
            self.engine.output.progress(format!(
                "{}: no webhook deployment of {} yet ({})",
                self.name,
                self.commit.short(),
                seconds(millis(waiting.elapsed()))
            ));
            tokio::time::sleep(WEBHOOK_POLL.min(until.saturating_duration_since(Instant::now())))
                .await;
        }
        self.engine.output.step(format!(
            "{}: no deployment of {} from Coolify's webhook within {}; redeploying the preview through Coolify's API",
            self.name,
            self.commit.short(),
            humantime::format_duration(WEBHOOK_WAIT)
        ));
        self.engine.journal.write(format!(
            "redeploy the preview of pull request {pull_request} (app {app})"
        ));
        let outcome = self
            .engine
            .coolify
            .deploy_preview(app, pull_request, None, ForceRebuild::No)
            .await
            .map_err(|error| self.refused(error, "redeploy the preview"))?;
        self.started(outcome, Trigger::Api).await
    }

    /// The deployment a preview deploy answered with; an identical one already queued is
    /// found in the app's list.
    async fn started(&self, outcome: PreviewOutcome, trigger: Trigger) -> Result<Started, Cause> {
        let app = &self.preview.app.uuid;
        match outcome {
            PreviewOutcome::Queued(deployment) => Ok(Started {
                deployment,
                trigger,
            }),
            PreviewOutcome::AlreadyQueued => {
                let found = self
                    .engine
                    .coolify
                    .latest_preview_deployment(app, self.preview.pull_request)
                    .await
                    .map_err(|error| self.refused(error, "find the queued preview deployment"))?;
                match found {
                    Some(found) => {
                        self.engine.output.step(format!(
                            "{}: an identical deployment was already queued; following {} instead of stacking another",
                            self.name, found.deployment_uuid
                        ));
                        Ok(Started {
                            deployment: found.deployment_uuid,
                            trigger,
                        })
                    }
                    None => Err(Cause::Refused {
                        message: format!(
                            "Coolify said a deployment of the preview was already queued, but app {app} lists none"
                        ),
                    }),
                }
            }
            PreviewOutcome::NoPreview => Err(Cause::NoPreview),
            _ => Err(Cause::Refused {
                message:
                    "Coolify answered the preview deploy in a way this stagegate does not know"
                        .to_owned(),
            }),
        }
    }

    /// Coolify refused or failed before a deployment existed.
    fn refused(&self, error: coolify_client::Error, what: &str) -> Cause {
        Cause::Refused {
            message: format!(
                "{what} of pull request {} (app {}): {}",
                self.preview.pull_request,
                self.preview.app.uuid,
                crate::exit::message(&anyhow::Error::new(error))
            ),
        }
    }

    /// A follow that did not end `finished`, as a cause.
    async fn follow_failure(
        &self,
        deployment: &DeploymentUuid,
        image_tag: Option<&ImageTag>,
        error: coolify_client::Error,
    ) -> Cause {
        let uuid = deployment.to_string();
        match (error, image_tag, &self.preview.app.image) {
            (coolify_client::Error::DeploymentFailed { .. }, Some(tag), Some(image)) => {
                let log_line = match self.engine.coolify.deployment(deployment).await {
                    Ok(read) => read.log_lines().into_iter().rev().find(|line| {
                        line.contains("Failed to start container")
                            || line.contains("manifest unknown")
                            || line.contains("not found")
                    }),
                    Err(_) => None,
                };
                Cause::ImageNotStarted {
                    deployment: uuid,
                    image: format!("{}:{tag}", image.name),
                    log_line,
                }
            }
            (coolify_client::Error::DeploymentFailed { .. }, _, _) => {
                Cause::DeploymentFailed { deployment: uuid }
            }
            (coolify_client::Error::DeploymentCancelled { .. }, _, _) => {
                Cause::DeploymentCancelled { deployment: uuid }
            }
            (error, _, _) => Cause::Follow {
                deployment: uuid,
                message: crate::exit::message(&anyhow::Error::new(error)),
            },
        }
    }

    /// A probe that did not prove the commit, as a cause: another commit answering (the base
    /// branch's, when it is), or another failure.
    fn probe_failure(&self, outcome: &health_probe::Outcome) -> Cause {
        if let Verdict::Unhealthy {
            reason: Failure::WrongVersion { actual, .. },
            ..
        } = &outcome.verdict
        {
            let value = match actual {
                serde_json::Value::String(text) => text.clone(),
                other => other.to_string(),
            };
            return Cause::ReportsOther {
                reported: self.other_commit(value),
            };
        }
        Cause::Unhealthy {
            verdict: EarlyStop::of(&self.preview.app.probe).describe(&outcome.verdict),
        }
    }

    /// A commit that is not the pull request's head, marked when it is the head of the base
    /// branch (as this repository knows it: `origin/BRANCH`, else `BRANCH`).
    fn other_commit(&self, value: String) -> OtherCommit {
        let branch = &self.base_branch;
        let base_head = [
            format!("refs/remotes/origin/{branch}"),
            format!("refs/heads/{branch}"),
        ]
        .iter()
        .find_map(|reference| self.engine.repo.resolve_commit(reference).ok());
        let is_base = base_head.is_some_and(|head| {
            let head = head.to_string();
            value.len() >= 7 && head.starts_with(&value.to_ascii_lowercase())
        });
        OtherCommit {
            base_branch: is_base.then(|| branch.clone()),
            value,
        }
    }

    /// Settle the record, say what happened in the step summary, and make the error.
    async fn fail(
        &self,
        cause: Cause,
        recording: Option<&mut crate::engine::record::Recording>,
        context: &str,
    ) -> anyhow::Error {
        let failure = self.failure(cause);
        if let (Some(recording), Some(settlement)) = (recording, failure.settlement()) {
            // A failed write is said by the recording and changes nothing else.
            recording.settle(&settlement).await;
        }
        if !failure.started_a_deployment() {
            // The command line summarizes a failure before any deployment itself.
            return failure.into_error(context);
        }
        let _ = self.engine.output.step_summary(&format!(
            "### preview of pull request {}\n\n| | |\n| --- | --- |\n| commit | `{}` |\n| preview | {} |\n| result | failed: {} |\n",
            self.preview.pull_request,
            self.commit,
            self.preview.url,
            table_cell(&failure.what())
        ));
        failure.into_error(context)
    }

    /// Outputs and the step summary of a verified preview.
    fn finish(&self, report: &PreviewReport) -> anyhow::Result<()> {
        let output = &self.engine.output;
        output.github_output("commit", &report.commit)?;
        output.github_output("url", &report.url)?;
        if let Some(deployment) = &report.deployment {
            output.github_output("deployment", deployment)?;
        }
        let mut text = format!(
            "### preview of pull request {}\n\n| | |\n| --- | --- |\n| commit | `{}` |\n| preview | {} |\n| health | {} |\n",
            report.pull_request, report.commit, report.url, report.health_url
        );
        if let Some(deployment) = &report.deployment {
            text.push_str(&format!("| deployment | `{deployment}` |\n"));
        }
        if let Some(tag) = &report.image_tag {
            text.push_str(&format!("| image tag | `{tag}` |\n"));
        }
        if let Some(timings) = &report.timings {
            text.push_str(&format!(
                "| deployment time | {} |\n| probe time | {} ({} attempts) |\n",
                seconds(timings.deployment_ms),
                seconds(timings.probe_ms),
                report
                    .probe
                    .as_ref()
                    .map_or(0, health_probe::Outcome::attempt_count)
            ));
        }
        text.push_str(&format!(
            "| result | verified: {} serves `{}` |\n",
            report.url,
            short(&report.commit)
        ));
        output.step_summary(&text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_event_gives_the_head_of_its_own_pull_request_only() {
        let head = "4f2a9c1e0b7d3a5f6c8e9d0a1b2c3d4e5f6a7b8c";
        let event = serde_json::json!({
            "action": "synchronize",
            "pull_request": { "number": 42, "head": { "sha": head } }
        });
        let pull_request = |number: u64| PullRequestId::new(number).unwrap();
        assert_eq!(
            event_head_of(&event, pull_request(42)),
            EventHead::Head(head.parse().unwrap())
        );
        assert_eq!(event_head_of(&event, pull_request(7)), EventHead::Other(42));
        let push = serde_json::json!({ "ref": "refs/heads/main", "after": head });
        assert_eq!(event_head_of(&push, pull_request(42)), EventHead::None);
        let short =
            serde_json::json!({ "pull_request": { "number": 42, "head": { "sha": "4f2a9c1" } } });
        assert_eq!(event_head_of(&short, pull_request(42)), EventHead::None);
    }
}
