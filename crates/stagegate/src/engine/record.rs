//! The release record: every outcome stagegate establishes, written when it happens to GitHub
//! Deployments (the `release-record` crate) and read back by the gates, `rollback`, `status`
//! and `history`.
//!
//! The record is kept for a repository on GitHub when a GitHub token is at hand
//! (`GITHUB_TOKEN`, `GH_TOKEN`, or `gh auth token`). Without one there is no record, and
//! nothing becomes weaker: the gates then check live (the environment runs the commit now and
//! its health check proves it now). A record that cannot be written never changes a
//! deployment's outcome: the command says why and how to fix it, and exits as the deployment
//! says.

use std::time::Duration;

use coolify_client::{ApplicationUuid, CommitSha, DeploymentUuid, RepositoryId, Timestamp};
use release_record::{
    App, Environment, HistoryQuery, Outcome, Purpose, RanBy, Record, Recorder, ReleaseRef,
    Repository, RetryPolicy, RunRecord, Settlement, Start,
};
use secrecy::SecretString;

use super::outcome::{Cause, RolloutFailure};
use super::rollout::Rollout;
use crate::config::{Config, EnvironmentName};
use crate::journal::Journal;
use crate::output::Output;
use crate::process_env::ProcessEnv;
use crate::repo::Repo;

/// The longest the record's retries may take, whatever the deploy timeout: GitHub's secondary
/// limits ask for a minute at most.
const RECORD_DEADLINE: Duration = Duration::from_secs(90);

/// How long `gh auth token` may take.
const GH_DEADLINE: Duration = Duration::from_secs(5);

/// Where this run's record is kept, or why there is none.
#[derive(Debug, Clone)]
pub(crate) struct ReleaseRecord {
    recorder: Option<Recorder>,
    /// Why there is no record (shown when a gate checks live instead).
    absent: Option<String>,
    /// Who runs this, and where.
    ran_by: RanBy,
    output: Output,
}

impl ReleaseRecord {
    /// The record of the repository at `repo`, as the process environment allows: the GitHub
    /// repository from `GITHUB_REPOSITORY` under Actions or the `origin` remote, the API from
    /// `GITHUB_API_URL` (GitHub Enterprise Server) or github.com's, the token from
    /// `GITHUB_TOKEN`, `GH_TOKEN` or `gh auth token`. The token is registered with the output
    /// before anything else, so it is scrubbed from whatever comes back.
    pub(crate) fn open(env: &ProcessEnv, repo: &Repo, config: &Config, output: &Output) -> Self {
        let ran_by = ran_by(env);
        let absent = |reason: String| Self {
            recorder: None,
            absent: Some(reason),
            ran_by: ran_by.clone(),
            output: output.clone(),
        };
        let Some((repository, api_url)) = github_repository(env, repo) else {
            return absent(
                "the repository is not on GitHub (no GITHUB_REPOSITORY, and the `origin` remote is not a GitHub repository)".to_owned(),
            );
        };
        let Some(token) = github_token(env) else {
            return absent(format!(
                "no GitHub token for {}/{} (set GITHUB_TOKEN or GH_TOKEN, or log in with `gh auth login`; under Actions pass `GITHUB_TOKEN: ${{{{ github.token }}}}` to the step)",
                repository.owner(),
                repository.name()
            ));
        };
        {
            use secrecy::ExposeSecret as _;
            output.add_secret(token.expose_secret());
        }
        let deadline = config.deploy.timeout.min(RECORD_DEADLINE);
        // Whatever the output treats as a secret (the tokens, every probe header value) is
        // never written to GitHub either, whatever text brought it there.
        let scrubber = output.clone();
        let built = Recorder::builder(repository, token)
            .redact(move |text| scrubber.scrub(text))
            .api_url(api_url)
            .user_agent(concat!("stagegate/", env!("CARGO_PKG_VERSION")))
            .retry_policy(RetryPolicy::default().deadline(deadline))
            .build();
        match built {
            Ok(recorder) => Self {
                recorder: Some(recorder),
                absent: None,
                ran_by,
                output: output.clone(),
            },
            Err(error) => absent(format!("the GitHub record cannot be set up: {error}")),
        }
    }

    /// Why there is no record, when there is none.
    pub(crate) fn absent(&self) -> Option<&str> {
        self.absent.as_deref()
    }

    /// A writer for one rollout on `environment`; it creates the record with the first
    /// deployment it is told of, so a rollout refused before any deployment records nothing.
    pub(crate) fn run(
        &self,
        journal: &Journal,
        config: &Config,
        environment: EnvironmentName,
        apps: &[usize],
        release: &ReleaseRef,
        purpose: Purpose,
    ) -> Recording {
        if self.recorder.is_none() {
            return Recording::off();
        }
        let environment_record = match environment {
            EnvironmentName::Production => Environment::production(environment.as_str()),
            EnvironmentName::Staging => Environment::persistent(environment.as_str()),
        };
        let Ok(environment_record) = environment_record else {
            return Recording::off();
        };
        let mut start = Start::new(
            environment_record,
            release.commit_sha().clone(),
            self.ran_by.clone(),
        )
        .purpose(purpose);
        if let Some(tag) = release.tag()
            && let Ok(tagged) = start.clone().tag(tag)
        {
            start = tagged;
        }
        let section = config.environment(environment);
        for index in apps {
            let Some(app) = section.apps.get(*index) else {
                continue;
            };
            let mut record_app = App::new(app.uuid.clone(), app.label.clone());
            if let Some(url) = &app.health_url {
                record_app = record_app.health_url(url.clone());
            }
            start = start.app(record_app);
        }
        self.recording(journal, start)
    }

    /// A writer for one run that starts as `start` says; it creates the record with the first
    /// deployment it is told of. Writes nothing without a record.
    pub(crate) fn recording(&self, journal: &Journal, start: Start) -> Recording {
        let Some(recorder) = &self.recorder else {
            return Recording::off();
        };
        Recording {
            writer: Some(Writer {
                recorder: recorder.clone(),
                start,
                run: None,
                output: self.output.clone(),
                journal: journal.clone(),
                trouble: None,
            }),
        }
    }

    /// The record's client, when there is a record.
    pub(crate) fn recorder(&self) -> Option<&Recorder> {
        self.recorder.as_ref()
    }

    /// Who runs this, and where.
    pub(crate) fn ran_by(&self) -> &RanBy {
        &self.ran_by
    }

    /// Say once that a write to the record failed; the outcome stands.
    pub(crate) fn warn_unwritten(&self, error: &release_record::Error) {
        self.output.warn(format!(
            "the release record could not be written ({}); the outcome stands",
            trouble_text(error)
        ));
    }

    /// Every recorded run of `commit` on `environment`, newest first; `Ok(None)` without a
    /// record.
    pub(crate) async fn runs_of_commit(
        &self,
        environment: EnvironmentName,
        commit: &CommitSha,
    ) -> Result<Option<Vec<Record>>, release_record::Error> {
        match &self.recorder {
            Some(recorder) => recorder
                .outcomes_of_commit(environment.as_str(), commit)
                .await
                .map(Some),
            None => Ok(None),
        }
    }

    /// The recorded runs of `environments` since `since` (all when `None`), newest first;
    /// `Ok(None)` without a record.
    pub(crate) async fn history(
        &self,
        environments: &[EnvironmentName],
        since: Option<std::time::SystemTime>,
    ) -> Result<Option<release_record::History>, release_record::Error> {
        let Some(recorder) = &self.recorder else {
            return Ok(None);
        };
        let mut query = HistoryQuery::new(environments.iter().map(|name| name.as_str()));
        if let Some(since) = since {
            query = query.since(since);
        }
        recorder.history(&query).await.map(Some)
    }
}

/// What a write to the record failed on, and what fixes it.
pub(crate) fn trouble_text(error: &release_record::Error) -> String {
    use release_record::Error;
    let fix = match error {
        Error::MissingPermission { .. } => {
            "add `deployments: write` to the job's `permissions` (and pass `GITHUB_TOKEN: ${{ github.token }}` to the step)"
        }
        Error::Unauthorized { .. } => {
            "the GitHub token was rejected: give a valid one in GITHUB_TOKEN or GH_TOKEN"
        }
        Error::RateLimited { .. } => {
            "GitHub's rate limit was reached: it records again once it resets"
        }
        Error::NotFound { .. } => "the token cannot see the repository: give it access to it",
        _ => "check that GitHub is reachable from here",
    };
    let mut text = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        let line = cause.to_string();
        if !text.contains(&line) {
            text.push_str(": ");
            text.push_str(&line);
        }
        source = cause.source();
    }
    format!("{text}; {fix}")
}

/// The writer of one rollout's record.
#[derive(Debug)]
pub(crate) struct Recording {
    writer: Option<Writer>,
}

#[derive(Debug)]
struct Writer {
    recorder: Recorder,
    start: Start,
    run: Option<RunRecord>,
    output: Output,
    /// Where an interruption finds the run to settle as cancelled.
    journal: Journal,
    /// The first write that failed, said once.
    trouble: Option<String>,
}

impl Recording {
    /// A writer that writes nothing (no record, or a dry run).
    pub(crate) fn off() -> Self {
        Self { writer: None }
    }

    /// What the run relied on to deploy its commit, written with the record when it is created.
    #[must_use]
    pub(crate) fn gate(mut self, gate: Option<release_record::Gate>) -> Self {
        if let (Some(writer), Some(gate)) = (&mut self.writer, gate) {
            writer.start = writer.start.clone().gate(gate);
        }
        self
    }

    /// The GitHub deployment this run writes to, once it is created.
    pub(crate) fn deployment(&self) -> Option<release_record::DeploymentId> {
        self.writer
            .as_ref()
            .and_then(|writer| writer.run.as_ref())
            .map(release_record::RunRecord::deployment)
    }

    /// Coolify started deploying `app`: the record is created with the first one.
    pub(crate) async fn deployment_started(
        &mut self,
        app: &ApplicationUuid,
        deployment: &DeploymentUuid,
    ) {
        let Some(writer) = &mut self.writer else {
            return;
        };
        if writer.run.is_none() && writer.trouble.is_none() {
            match writer.recorder.start(&writer.start).await {
                Ok(run) => {
                    writer.journal.run_started(run.clone());
                    writer.run = Some(run);
                }
                Err(error) => writer.failed(&error),
            }
        }
        if let Some(run) = &writer.run
            && let Err(error) = run.deployment_started(app, deployment).await
        {
            writer.failed(&error);
        }
    }

    /// Coolify finished deploying `app`; its verification starts.
    pub(crate) async fn deployment_finished(&mut self, app: &ApplicationUuid) {
        let Some(writer) = &mut self.writer else {
            return;
        };
        if let Some(run) = &writer.run
            && let Err(error) = run.deployment_finished(app).await
        {
            writer.failed(&error);
        }
    }

    /// How the rollout ended. A settlement of a run that recorded nothing (no deployment
    /// started) is dropped: nothing happened to the commit.
    pub(crate) async fn settle(&mut self, settlement: &Settlement) {
        let Some(writer) = &mut self.writer else {
            return;
        };
        if let Some(run) = &writer.run {
            writer.journal.run_settled(run.deployment());
            if let Err(error) = run.settle(settlement).await {
                writer.failed(&error);
            }
        }
    }
}

impl Writer {
    fn failed(&mut self, error: &release_record::Error) {
        if self.trouble.is_none() {
            let text = trouble_text(error);
            self.output.warn(format!(
                "the release record could not be written ({text}); the deployment's outcome stands"
            ));
            self.trouble = Some(text);
        }
    }
}

/// The settlement of a rollout that proved every app.
pub(crate) fn verified(rollout: &Rollout) -> Settlement {
    let evidence: Vec<String> = rollout
        .apps
        .iter()
        .map(|app| match (&app.probe, &app.container) {
            (Some(probe), _) => format!(
                "{} answers {} ({} attempts)",
                app.label,
                &app.commit[..app.commit.len().min(7)],
                probe.attempt_count()
            ),
            (None, Some(container)) => format!("{} container {container}", app.label),
            (None, None) => format!("{} deployed", app.label),
        })
        .collect();
    Settlement::verified(&evidence.join("; "))
}

/// The settlement of a rollout that failed; `None` when no deployment was started (nothing
/// happened to the commit on the environment).
pub(crate) fn failed(failure: &RolloutFailure) -> Option<Settlement> {
    if !failure.started_a_deployment() {
        return None;
    }
    let evidence = failure.message.as_str();
    let settlement = match &failure.cause {
        Cause::ProbeFailed { .. }
        | Cause::ContainerNotRunning { .. }
        | Cause::OtherCommit { .. } => Settlement::failed_verification(evidence),
        Cause::DeploymentFailed { .. } | Cause::ImageNotStarted { .. } => {
            Settlement::failed_in_coolify(evidence)
        }
        Cause::DeploymentCancelled { .. } | Cause::Coolify { .. } | Cause::Input => {
            Settlement::cancelled(evidence)
        }
    };
    Some(
        match failure.app.as_deref().and_then(|app| app.parse().ok()) {
            Some(app) => settlement.app(app),
            None => settlement,
        },
    )
}

/// A time of the record in the words of messages: `2026-12-06 12:03 UTC`.
pub(crate) fn when(at: &Timestamp) -> String {
    let text = at.to_string();
    match (text.get(..10), text.get(11..16)) {
        (Some(day), Some(time)) => format!("{day} {time} UTC"),
        _ => text,
    }
}

/// Who ran a recorded run, for messages: `run https://…/actions/runs/4711` or `ann on laptop`.
pub(crate) fn by(record: &Record) -> String {
    match record.ran_by() {
        RanBy::GithubActions { run_url, .. } => format!("run {run_url}"),
        RanBy::Local { user, host } => format!("{user} on {host}"),
        _ => "an unknown run".to_owned(),
    }
}

/// Whether an outcome says the release failed where it ran.
pub(crate) fn is_failure(outcome: Outcome) -> bool {
    matches!(
        outcome,
        Outcome::FailedVerification | Outcome::FailedInCoolify | Outcome::RolledBack
    )
}

/// Who runs this: the GitHub Actions run, or the user on this host.
fn ran_by(env: &ProcessEnv) -> RanBy {
    RanBy::github_actions(|name| env.get(name).map(str::to_owned)).unwrap_or_else(|| {
        let user = env
            .get("USER")
            .or_else(|| env.get("USERNAME"))
            .unwrap_or("someone");
        let host = env
            .get("HOSTNAME")
            .or_else(|| env.get("COMPUTERNAME"))
            .map(str::to_owned)
            .or_else(|| {
                std::fs::read_to_string("/etc/hostname")
                    .ok()
                    .map(|text| text.trim().to_owned())
                    .filter(|text| !text.is_empty())
            })
            .unwrap_or_else(|| "an unknown host".to_owned());
        RanBy::local(user, host)
    })
}

/// The GitHub repository and API URL: `GITHUB_REPOSITORY` and `GITHUB_API_URL` under Actions,
/// else the `origin` remote on github.com (or on the GitHub Enterprise Server that
/// `GITHUB_SERVER_URL` names, with `GITHUB_API_URL` or its `/api/v3`).
fn github_repository(env: &ProcessEnv, repo: &Repo) -> Option<(Repository, String)> {
    let server_host = env
        .get("GITHUB_SERVER_URL")
        .and_then(|url| url::Url::parse(url).ok())
        .and_then(|url| url.host_str().map(str::to_ascii_lowercase));
    let api_url = |host: &str| {
        env.get("GITHUB_API_URL")
            .map(str::to_owned)
            .unwrap_or_else(|| {
                if host == "github.com" {
                    "https://api.github.com".to_owned()
                } else {
                    format!("https://{host}/api/v3")
                }
            })
    };
    if let Some(named) = env.get("GITHUB_REPOSITORY")
        && let Ok(repository) = named.parse::<Repository>()
    {
        let host = server_host
            .clone()
            .unwrap_or_else(|| "github.com".to_owned());
        return Some((repository, api_url(&host)));
    }
    let origin: RepositoryId = repo.origin_repository()?;
    let (host, path) = origin.as_str().split_once('/')?;
    let on_github = host == "github.com" || server_host.as_deref() == Some(host);
    if !on_github {
        return None;
    }
    let repository: Repository = path.parse().ok()?;
    Some((repository, api_url(host)))
}

/// The GitHub token: `GITHUB_TOKEN`, `GH_TOKEN`, else what `gh auth token` prints when `gh` is
/// on the `PATH`.
fn github_token(env: &ProcessEnv) -> Option<SecretString> {
    if let Some(token) = env.get("GITHUB_TOKEN").or_else(|| env.get("GH_TOKEN")) {
        return Some(SecretString::from(token.trim().to_owned()));
    }
    let path = env.get("PATH")?;
    let gh = std::env::split_paths(path)
        .map(|directory| directory.join(if cfg!(windows) { "gh.exe" } else { "gh" }))
        .find(|candidate| candidate.is_file())?;
    let mut child = std::process::Command::new(gh)
        .args(["auth", "token"])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .ok()?;
    let started = std::time::Instant::now();
    loop {
        match child.try_wait() {
            Ok(Some(status)) if status.success() => break,
            Ok(Some(_)) | Err(_) => return None,
            Ok(None) if started.elapsed() > GH_DEADLINE => {
                let _ = child.kill();
                let _ = child.wait();
                return None;
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(20)),
        }
    }
    let mut text = String::new();
    std::io::Read::read_to_string(child.stdout.as_mut()?, &mut text).ok()?;
    let token = text.trim();
    (!token.is_empty()).then(|| SecretString::from(token.to_owned()))
}

/// What the record says a commit did in an environment: its newest settled outcome there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Verdict {
    /// The outcome.
    pub(crate) outcome: Outcome,
    /// When it settled, in words.
    pub(crate) when: String,
    /// For a rollback, what the environment went back to.
    pub(crate) rolled_back_to: Option<String>,
}

impl Verdict {
    /// Whether the release failed there.
    pub(crate) fn failed(&self) -> bool {
        is_failure(self.outcome)
    }

    /// `failed in production 2026-12-06 12:10 UTC, rolled back to v1.1.0`.
    pub(crate) fn describe(&self, environment: EnvironmentName) -> String {
        let what = match self.outcome {
            Outcome::Verified => "verified",
            Outcome::FailedInCoolify => "failed in Coolify",
            Outcome::FailedVerification | Outcome::RolledBack => "failed",
            Outcome::Cancelled => "cancelled",
            Outcome::Superseded => "superseded",
            _ => "in progress",
        };
        let mut text = format!("{what} in {environment} {}", self.when);
        if self.outcome == Outcome::RolledBack {
            text.push_str(", rolled back");
            if let Some(to) = &self.rolled_back_to {
                text.push_str(&format!(" to {to}"));
            }
        }
        text
    }
}

impl ReleaseRecord {
    /// The newest settled outcome of each commit in `environment`, from its whole recorded
    /// history (10 requests for 1,000 runs); `Ok(None)` without a record. A run that only
    /// started, or was cancelled, says nothing either way and is passed over.
    pub(crate) async fn verdicts(
        &self,
        environment: EnvironmentName,
    ) -> Result<Option<std::collections::HashMap<CommitSha, Verdict>>, release_record::Error> {
        let Some(history) = self.history(&[environment], None).await? else {
            return Ok(None);
        };
        Ok(Some(verdicts_of(history.records(), environment)))
    }
}

/// The newest settled outcome of each commit among `records` (newest first) of `environment`.
pub(crate) fn verdicts_of(
    records: &[Record],
    environment: EnvironmentName,
) -> std::collections::HashMap<CommitSha, Verdict> {
    let mut verdicts = std::collections::HashMap::new();
    for run in records
        .iter()
        .filter(|run| run.environment().name() == environment.as_str())
    {
        if run.outcome() != Outcome::Verified && !is_failure(run.outcome()) {
            continue;
        }
        verdicts
            .entry(run.commit().clone())
            .or_insert_with(|| Verdict {
                outcome: run.outcome(),
                when: run.settled_at().map(when).unwrap_or_default(),
                rolled_back_to: run.rolled_back_to().map(|to| {
                    to.tag()
                        .map(str::to_owned)
                        .unwrap_or_else(|| to.commit_sha().short().to_owned())
                }),
            });
    }
    verdicts
}
