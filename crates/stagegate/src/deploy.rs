//! `deploy staging` and `deploy production`.
//!
//! Staging takes any commit; production takes only a release tag that the policy admits,
//! whose commit finished deploying on staging, that is not older than what production runs,
//! and it never stacks a deployment on one already in flight.

use std::fmt;

use anyhow::Context as _;
use serde::Serialize;
use tag_policy::{ReleaseTag, Releases, TaggedRelease};

use crate::config::{EnvironmentName, StagingGate};
use crate::exit::{Aftermath, BadInput, Exit, Refused, message};
use crate::pipeline::{Live, Pipeline, Rollout, seconds};
use crate::repo::short;
use crate::session::{DryRun, Session};

pub use crate::pipeline::{InFlight, Timings};

/// Options of `deploy staging`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StagingOptions {
    /// The revision to deploy.
    pub commit: String,
    /// `--dry-run`.
    pub dry_run: DryRun,
}

impl StagingOptions {
    /// Deploy `HEAD`.
    pub fn head() -> Self {
        Self::revision("HEAD")
    }

    /// Deploy a revision.
    pub fn revision(revision: impl Into<String>) -> Self {
        Self {
            commit: revision.into(),
            dry_run: DryRun::No,
        }
    }
}

/// `--auto-rollback`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum AutoRollback {
    /// Leave production as the failure left it.
    #[default]
    Off,
    /// Redeploy the release that was live before, then fail.
    On,
}

/// `--skip-staging-gate`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum GateCheck {
    /// Check the staging gate if the config requires it.
    #[default]
    AsConfigured,
    /// Skip it for this deploy.
    Skip,
}

/// Options of `deploy production`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProductionOptions {
    /// The release tag.
    pub tag: String,
    /// `--auto-rollback`.
    pub auto_rollback: AutoRollback,
    /// `--skip-staging-gate`.
    pub gate: GateCheck,
    /// `--dry-run`.
    pub dry_run: DryRun,
}

impl ProductionOptions {
    /// Deploy `tag` with the defaults.
    pub fn tag(tag: impl Into<String>) -> Self {
        Self {
            tag: tag.into(),
            auto_rollback: AutoRollback::Off,
            gate: GateCheck::AsConfigured,
            dry_run: DryRun::No,
        }
    }
}

/// What a deploy did.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Deployed and verified.
    Deployed,
    /// Already live and healthy: nothing done.
    AlreadyLive,
    /// `--dry-run`: only planned.
    Planned,
}

/// The result of `deploy staging`, `deploy production` and `rollback`.
#[derive(Debug, Clone, Serialize)]
pub struct DeployReport {
    /// Which environment.
    pub environment: EnvironmentName,
    /// The commit.
    pub commit: String,
    /// The release tag, if any.
    pub tag: Option<String>,
    /// What was done.
    pub action: Action,
    /// What the environment ran before.
    pub previous: Option<String>,
    /// The deployment and its evidence, when one ran.
    pub rollout: Option<Rollout>,
    /// With `--dry-run`: the writes that would be made.
    pub planned: Vec<String>,
}

impl fmt::Display for DeployReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match &self.tag {
            Some(tag) => format!("{tag} ({})", short(&self.commit)),
            None => short(&self.commit).to_owned(),
        };
        match self.action {
            Action::Deployed => {
                write!(f, "{} now serves {what}", self.environment)?;
                if let Some(rollout) = &self.rollout {
                    write!(
                        f,
                        ": deployment {}, {}",
                        rollout.deployment, rollout.timings
                    )?;
                }
                Ok(())
            }
            Action::AlreadyLive => write!(
                f,
                "{} already runs {what} and is healthy: nothing to do",
                self.environment
            ),
            Action::Planned => {
                writeln!(f, "dry run: would deploy {what} to {}:", self.environment)?;
                for write in &self.planned {
                    writeln!(f, "  - {write}")?;
                }
                Ok(())
            }
        }
    }
}

impl DeployReport {
    fn summary(&self) -> String {
        let mut text = format!(
            "### {} deploy\n\n| | |\n| --- | --- |\n| commit | `{}` |\n",
            self.environment, self.commit
        );
        if let Some(tag) = &self.tag {
            text.push_str(&format!("| tag | `{tag}` |\n"));
        }
        if let Some(previous) = &self.previous {
            text.push_str(&format!("| previous | {previous} |\n"));
        }
        match &self.rollout {
            Some(rollout) => text.push_str(&format!(
                "| deployment | `{}` |\n| deployment time | {} |\n| probe time | {} ({} attempts) |\n| total | {} |\n",
                rollout.deployment,
                seconds(rollout.timings.deployment_ms),
                seconds(rollout.timings.probe_ms),
                rollout.probe.attempt_count(),
                seconds(rollout.timings.total_ms)
            )),
            None => text.push_str(&format!("| result | {} |\n", self)),
        }
        text
    }
}

/// Deploy a commit to staging and wait until staging serves it.
///
/// # Errors
///
/// [`BadInput`] for an unknown revision or a bad config; a failed deployment or probe, with
/// what each environment runs now.
pub async fn staging(session: &Session, options: &StagingOptions) -> anyhow::Result<DeployReport> {
    let environment = EnvironmentName::Staging;
    let pipeline = Pipeline::open(session).context("deploy staging")?;
    let commit = pipeline
        .repo
        .resolve_commit(&options.commit)
        .context("deploy staging")?;
    if pipeline.repo.is_on_a_remote_branch(commit) == Some(false) {
        session.output.warn(format!(
            "{} is on no remote branch: Coolify clones from the remote and cannot build it until it is pushed",
            short(&commit.to_string())
        ));
    }
    let releases = pipeline.releases()?;
    let tag = releases.at_commit(commit).last().map(|r| r.tag().clone());
    let commit = commit.to_string();
    let live = pipeline
        .live(environment, &releases)
        .await
        .context("deploy staging")?;

    if options.dry_run.is_dry() {
        let planned = plan(&pipeline, environment, &commit, tag.as_ref())?;
        return finish(
            session,
            DeployReport {
                environment,
                commit,
                tag: tag.map(|t| t.name().to_owned()),
                action: Action::Planned,
                previous: live.commit.as_ref().map(|_| live.describe()),
                rollout: None,
                planned,
            },
        );
    }

    match pipeline.roll_out(environment, &commit, tag.as_ref()).await {
        Ok(rollout) => finish(
            session,
            DeployReport {
                environment,
                commit,
                tag: tag.map(|t| t.name().to_owned()),
                action: Action::Deployed,
                previous: live.commit.as_ref().map(|_| live.describe()),
                rollout: Some(rollout),
                planned: Vec::new(),
            },
        ),
        Err(error) => {
            let error = error.context(format!("deploy staging {}", short(&commit)));
            let fix = format!(
                "Production was not touched. Fix the cause, then run `{}` again",
                session
                    .invocation
                    .command(format_args!("deploy staging --commit {commit}"))
            );
            Err(aftermath(&pipeline, &releases, error, fix).await)
        }
    }
}

/// Deploy a release tag to production, gated on staging.
///
/// # Errors
///
/// [`BadInput`] for a malformed, unknown or pre-release tag (before anything is contacted);
/// [`Refused`] when the staging gate is not met, the tag is older than production's, or a
/// deployment stays in flight; a failed deployment or probe (after an automatic rollback when
/// asked), with what each environment runs now.
pub async fn production(
    session: &Session,
    options: &ProductionOptions,
) -> anyhow::Result<DeployReport> {
    let context = format!("deploy production {}", options.tag);
    let repo = session.open_repo().context(context.clone())?;
    let config = session.load_config(&repo).context(context.clone())?;
    // The tag policy first: nothing is contacted for a tag that may not go to production.
    let release = release_for_production(&session.invocation, &repo, &config.tags, &options.tag)
        .context(context.clone())?;
    let pipeline = Pipeline::open(session).context(context.clone())?;
    let releases = pipeline.releases()?;
    let commit = release.commit().to_string();

    if options.gate == GateCheck::AsConfigured
        && pipeline.config.deploy.staging_gate == StagingGate::Required
    {
        check_staging_gate(&pipeline, &release)
            .await
            .context(context.clone())?;
    } else {
        session.output.warn(format!(
            "the staging gate is skipped: {} ({}) goes to production without proof that staging ran it",
            release.tag(),
            short(&commit)
        ));
    }

    let live = pipeline
        .settle_production(&releases, options.dry_run)
        .await
        .context(context.clone())?;
    refuse_downgrade(
        &session.invocation,
        &releases,
        &live,
        release.tag(),
        "deploy production",
    )
    .context(context.clone())?;

    deploy_release(
        session,
        &pipeline,
        &releases,
        &release,
        &live,
        options.auto_rollback,
        options.dry_run,
        &context,
    )
    .await
}

/// Put a release on production (shared by `deploy production` and `rollback`).
#[allow(clippy::too_many_arguments)]
pub(crate) async fn deploy_release(
    session: &Session,
    pipeline: &Pipeline,
    releases: &Releases,
    release: &TaggedRelease,
    live: &Live,
    auto_rollback: AutoRollback,
    dry_run: DryRun,
    context: &str,
) -> anyhow::Result<DeployReport> {
    let environment = EnvironmentName::Production;
    let commit = release.commit().to_string();
    let previous = live.commit.as_ref().map(|_| live.describe());
    let report = |action: Action, rollout: Option<Rollout>, planned: Vec<String>| DeployReport {
        environment,
        commit: commit.clone(),
        tag: Some(release.tag().name().to_owned()),
        action,
        previous: previous.clone(),
        rollout,
        planned,
    };

    // Idempotent: a release that is live and answers healthy is left alone.
    if live.commit.as_deref() == Some(commit.as_str()) && live.in_flight.is_none() {
        let outcome = pipeline
            .probe(environment, &commit, Some(release.tag()))
            .await
            .context(context.to_owned())?;
        if outcome.is_healthy() {
            return finish(session, report(Action::AlreadyLive, None, Vec::new()));
        }
        session.output.warn(format!(
            "production runs {} but is not healthy ({}); deploying it again",
            release.tag(),
            outcome.verdict
        ));
    }

    if dry_run.is_dry() {
        let mut planned = plan(pipeline, environment, &commit, Some(release.tag()))?;
        if let Some(in_flight) = &live.in_flight {
            planned.insert(
                0,
                format!(
                    "wait for production deployment {} ({}) to end",
                    in_flight.deployment, in_flight.status
                ),
            );
        }
        return finish(session, report(Action::Planned, None, planned));
    }

    let error = match pipeline
        .roll_out(environment, &commit, Some(release.tag()))
        .await
    {
        Ok(rollout) => {
            return finish(session, report(Action::Deployed, Some(rollout), Vec::new()));
        }
        Err(error) => error.context(context.to_owned()),
    };

    let before = live
        .commit
        .as_deref()
        .filter(|before| *before != commit)
        .and_then(|before| git2::Oid::from_str(before).ok());
    let before_tag = before.and_then(|oid| releases.at_commit(oid).last().map(|r| r.tag().clone()));
    let before_name = before_tag
        .as_ref()
        .map(|tag| tag.name().to_owned())
        .or_else(|| before.map(|oid| oid.to_string()));

    let before = match (auto_rollback, before) {
        (AutoRollback::On, Some(before)) => before,
        (auto_rollback, _) => {
            let redeploy = live.commit.as_deref() == Some(commit.as_str());
            let fix = match (&before_name, before_tag.is_some()) {
                (Some(name), true) => format!(
                    "Staging was not touched. Fix the release and tag a new version, or go back with `{}`",
                    session.invocation.command(format_args!("rollback --to {name}"))
                ),
                (Some(name), false) => format!(
                    "Staging was not touched. Fix the release and tag a new version; production ran {name} before"
                ),
                (None, _) if redeploy => format!(
                    "Staging was not touched. Production already ran {} before this deploy, so there was nothing older to restore automatically; read the deployment log, then deploy it again or run `{}`",
                    release.tag(),
                    session.invocation.command("rollback")
                ),
                (None, _) if auto_rollback == AutoRollback::On => "Nothing to roll back to: production had no earlier finished deployment. Fix the release and tag a new version".to_owned(),
                (None, _) => "Staging was not touched. Fix the release and tag a new version".to_owned(),
            };
            return Err(aftermath(pipeline, releases, error, fix).await);
        }
    };
    let before_commit = before.to_string();
    let before_label = before_name.unwrap_or_else(|| before_commit.clone());
    session.output.warn(format!(
        "{}; rolling production back to {before_label}",
        message(&error)
    ));
    let cause = match pipeline
        .roll_out(environment, &before_commit, before_tag.as_ref())
        .await
    {
        Ok(rollback) => {
            session.output.step(format!(
                "production rolled back to {before_label} (deployment {})",
                rollback.deployment
            ));
            let _ = session
                .output
                .github_output("rolled_back_to", &before_label);
            format!("{}; rolled back to {before_label}", message(&error))
        }
        Err(rollback_error) => format!(
            "{}; the automatic rollback to {before_label} failed too: {}",
            message(&error),
            message(&rollback_error)
        ),
    };
    let state = pipeline.aftermath(releases).await;
    Err(Aftermath {
        cause,
        state,
        fix: format!(
            "{} did not go live. Fix it and tag a new version; if production is not on {before_label}, run `{}`",
            release.tag(),
            session.invocation.command(format_args!("rollback --to {before_label}"))
        ),
        exit: Exit::Failed,
    }
    .into())
}

/// Parse, admit and find a tag for production.
pub(crate) fn release_for_production(
    invocation: &crate::Invocation,
    repo: &crate::repo::Repo,
    policy: &tag_policy::TagPolicy,
    name: &str,
) -> anyhow::Result<TaggedRelease> {
    let tag = policy.parse(name).map_err(|error| {
        BadInput(format!(
            "{error}; production takes release tags like {}1.4.2",
            policy.prefix()
        ))
    })?;
    policy
        .admit_to_production(&tag)
        .map_err(|error| BadInput(error.to_string()))?;
    tag_policy::find_release(repo.git(), policy, name).map_err(|error| match error {
        tag_policy::Error::TagNotFound { .. } => BadInput(format!(
            "tag `{name}` does not exist in {}; fetch it (`git fetch --tags`) or create it with `{}`",
            repo.root().display(),
            invocation.command("release")
        ))
        .into(),
        other => anyhow::Error::new(other).context(format!("read tag {name}")),
    })
}

async fn check_staging_gate(pipeline: &Pipeline, release: &TaggedRelease) -> anyhow::Result<()> {
    let commit = release.commit().to_string();
    let staging = &pipeline.config.staging.app;
    let evidence = pipeline
        .coolify
        .find_finished_deployment_of_commit(staging, &commit)
        .await
        .context("check the staging gate")?;
    match evidence {
        Some(deployment) => {
            pipeline.output.step(format!(
                "staging gate: {} ({}) finished on staging in deployment {}",
                release.tag(),
                short(&commit),
                deployment.deployment_uuid
            ));
            Ok(())
        }
        None => Err(Refused(format!(
            "staging gate: commit {commit} ({}) has no finished staging deployment; deploy it to staging first with `{}`",
            release.tag(),
            pipeline.invocation.command(format_args!("deploy staging --commit {commit}"))
        ))
        .into()),
    }
}

/// Refuse to deploy a release older than production's unless it is a rollback.
pub(crate) fn refuse_downgrade(
    invocation: &crate::Invocation,
    releases: &Releases,
    live: &Live,
    target: &ReleaseTag,
    verb: &str,
) -> anyhow::Result<()> {
    let Some(current) = live.current_release(releases) else {
        return Ok(());
    };
    if target.cmp_precedence(&current).is_lt() {
        return Err(Refused(format!(
            "{target} is older than {current}, which production runs; `{verb}` only moves forward: to go back, run `{}`",
            invocation.command(format_args!("rollback --to {target}"))
        ))
        .into());
    }
    Ok(())
}

fn plan(
    pipeline: &Pipeline,
    environment: EnvironmentName,
    commit: &str,
    tag: Option<&ReleaseTag>,
) -> anyhow::Result<Vec<String>> {
    let section = pipeline.config.environment(environment);
    let spec = pipeline.probe_spec(environment, commit, tag)?;
    Ok(vec![
        format!(
            "PATCH /api/v1/applications/{} {{\"git_commit_sha\": \"{commit}\"}}",
            section.app
        ),
        format!("POST /api/v1/deploy?uuid={}", section.app),
        format!(
            "follow the deployment until it ends (deadline {})",
            humantime::format_duration(pipeline.config.deploy.timeout)
        ),
        format!(
            "probe {} until it reports {} ({} consecutive passes, deadline {})",
            section.health_url,
            short(commit),
            spec.success_threshold(),
            humantime::format_duration(spec.deadline())
        ),
    ])
}

async fn aftermath(
    pipeline: &Pipeline,
    releases: &Releases,
    error: anyhow::Error,
    fix: String,
) -> anyhow::Error {
    let state = pipeline.aftermath(releases).await;
    Aftermath {
        cause: message(&error),
        state,
        fix,
        exit: Exit::of(&error),
    }
    .into()
}

fn finish(session: &Session, report: DeployReport) -> anyhow::Result<DeployReport> {
    if report.action != Action::Planned {
        session.output.github_output("commit", &report.commit)?;
        if let Some(tag) = &report.tag {
            session.output.github_output("tag", tag)?;
        }
        if let Some(rollout) = &report.rollout {
            session
                .output
                .github_output("deployment", &rollout.deployment)?;
        }
        session.output.step_summary(&report.summary())?;
    }
    Ok(report)
}
