//! The gates: what must hold before production moves.

use anyhow::Context as _;
use coolify_client::CommitSha;
use tag_policy::{Releases, TaggedRelease};

use release_record::{Outcome, Verdict};

use super::record;
use super::unordered::Unordered;
use super::{Engine, EnvironmentLive};
use crate::config::{AppConfig, EnvironmentName};
use crate::exit::{BadInput, Refused};
use crate::repo::oid;

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
    tag_policy::find_release(&repo.git(), policy, name).map_err(|error| match error {
        tag_policy::Error::TagNotFound { .. } => BadInput(format!(
            "tag `{name}` does not exist in {}; fetch it (`git fetch --tags`) or create it with `{}`",
            repo.root().display(),
            invocation.command("release")
        ))
        .into(),
        other => anyhow::Error::new(other).context(format!("read tag {name}")),
    })
}

/// What the staging gate relied on when it let a commit through.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Relied {
    /// The record: every staging app's newest settled run of the commit is verified.
    Recorded {
        /// When the last of them was verified, in words.
        when: String,
        /// Who ran it.
        by: String,
    },
    /// No record to rely on: every staging app runs the commit now and its health check (or
    /// container) proves it now.
    Live {
        /// Why there was no record to rely on.
        why: String,
    },
}

impl Relied {
    /// The line a tag message and a report carry: `verified on staging 2026-12-06 12:03 UTC by
    /// run …`, or `checked live on staging (…)`.
    pub(crate) fn describe(&self) -> String {
        match self {
            Self::Recorded { when, by } => format!("verified on staging {when} by {by}"),
            Self::Live { why } => {
                format!("running on staging and answering now, checked live ({why})")
            }
        }
    }

    /// What the production run records it relied on.
    pub(crate) fn gate(&self) -> release_record::Gate {
        match self {
            Self::Recorded { .. } => release_record::Gate::recorded(&self.describe()),
            Self::Live { .. } => release_record::Gate::live(&self.describe()),
        }
    }
}

/// The staging gate: production (and a release tag) only takes a commit verified on staging.
///
/// It relies on the release record when there is one: every staging app's newest settled run
/// of the commit must be `verified` (a later failure of the same commit wins over an earlier
/// verification). A recorded failure refuses. Without a record (no GitHub, no token, the API
/// unreachable, no run of this commit) it checks live: every staging app runs the commit now
/// and its health check proves it now. It never takes "the deployment finished" for proof.
/// `what` names the commit in messages, e.g. `v1.2.0 (9579fc7)`.
///
/// # Errors
///
/// [`Refused`] when neither the record nor the live check proves the commit; Coolify errors
/// of the live check.
pub(crate) async fn staging_gate(
    engine: &Engine,
    sha: &CommitSha,
    what: &str,
    releases: &Releases,
) -> anyhow::Result<Relied> {
    let environment = EnvironmentName::Staging;
    let deploy = engine
        .invocation
        .command(format_args!("deploy staging --commit {sha}"));
    let why_live = match engine.record.runs_of_commit(environment, sha).await {
        Ok(Some(runs)) => {
            let mut verified: Vec<&release_record::Record> = Vec::new();
            let mut unrecorded = Vec::new();
            for app in &engine.config.staging.apps {
                match release_record::verdict(&runs, &app.uuid) {
                    Verdict::Verified(run) => verified.push(run),
                    Verdict::Failed(run) => {
                        let evidence = run
                            .outcomes()
                            .iter()
                            .rev()
                            .find(|entry| record::is_failure(entry.outcome()))
                            .map(|entry| entry.evidence().to_owned())
                            .unwrap_or_default();
                        let at = run
                            .settled_at()
                            .map(record::when)
                            .unwrap_or_else(|| "an unknown time".to_owned());
                        let fix = match run.outcome() {
                            Outcome::FailedInCoolify => format!(
                                "fix the build and deploy the fix to staging, or, if Coolify failed and not the commit, deploy it to staging again with `{deploy}`"
                            ),
                            _ => format!(
                                "deploy a fix to staging (`{}`), then release that commit",
                                engine.invocation.command("deploy staging --commit FIX")
                            ),
                        };
                        return Err(Refused(format!(
                            "staging gate: {what} {} on staging at {at}: {evidence}; {fix}",
                            failure_words(run.outcome()),
                        ))
                        .into());
                    }
                    Verdict::Unknown {
                        newest: Some(run),
                    } => unrecorded.push(match run.settled_at() {
                        Some(at) => format!(
                            "the record's newest run of it on staging's {} was {} at {}",
                            app.describe(),
                            run.outcome().as_str().replace('_', " "),
                            record::when(at)
                        ),
                        None => format!(
                            "the record's newest run of it on staging's {}, started {}, has no verdict",
                            app.describe(),
                            record::when(run.started_at())
                        ),
                    }),
                    _ => unrecorded.push(format!(
                        "the record has no run of it on staging's {}",
                        app.describe()
                    )),
                }
            }
            if unrecorded.is_empty() {
                let newest = verified
                    .iter()
                    .max_by_key(|run| run.settled_at().map(ToString::to_string))
                    .copied();
                let relied = Relied::Recorded {
                    when: newest
                        .and_then(|run| run.settled_at())
                        .map(record::when)
                        .unwrap_or_default(),
                    by: newest.map(record::by).unwrap_or_default(),
                };
                engine
                    .output
                    .step(format!("staging gate: {what} {}", relied.describe()));
                return Ok(relied);
            }
            if runs.is_empty() {
                "the record has no run of it on staging".to_owned()
            } else {
                unrecorded.join("; ")
            }
        }
        Ok(None) => format!(
            "no release record: {}",
            engine.record.absent().unwrap_or("none is kept")
        ),
        Err(error) => format!(
            "the release record could not be read: {}",
            record::trouble_text(&error)
        ),
    };
    // Every app at once: the Coolify client paces its requests, and the probes go to the apps.
    let mut checks = Unordered::new();
    for (index, app) in engine.config.staging.apps.iter().enumerate() {
        checks.push(Box::pin(async move {
            (index, live_proof(engine, app, sha, releases).await)
        }));
    }
    let mut found = Vec::new();
    while !checks.is_empty() {
        let (index, proof) = checks.next().await;
        if let Some(reason) = proof.context("check the staging gate")? {
            found.push((index, reason));
        }
    }
    found.sort();
    let reasons: Vec<String> = found.into_iter().map(|(_, reason)| reason).collect();
    if reasons.is_empty() {
        let relied = Relied::Live { why: why_live };
        engine
            .output
            .step(format!("staging gate: {what} {}", relied.describe()));
        return Ok(relied);
    }
    Err(Refused(format!(
        "staging gate: {what} is not verified on staging ({why_live}), and the live check fails: {}; deploy it to staging first with `{deploy}`",
        reasons.join("; ")
    ))
    .into())
}

/// How a failed outcome reads in a refusal.
fn failure_words(outcome: Outcome) -> &'static str {
    match outcome {
        Outcome::FailedInCoolify => "failed in Coolify",
        Outcome::RolledBack => "failed and was rolled back",
        _ => "failed verification",
    }
}

/// Whether one staging app runs `sha` now and proves it now; `None` when it does, else why not.
async fn live_proof(
    engine: &Engine,
    app: &AppConfig,
    sha: &CommitSha,
    releases: &Releases,
) -> anyhow::Result<Option<String>> {
    if app.image.is_some() {
        return image_gate(engine, app, sha).await;
    }
    let name = format!("staging's {}", app.describe());
    let live = engine
        .app_live(EnvironmentName::Staging, app, releases)
        .await?;
    if live.commit.as_ref() != Some(sha) {
        return Ok(Some(format!("{name} runs {}", live.describe())));
    }
    if let Some(in_flight) = &live.in_flight {
        return Ok(Some(format!(
            "{name} is about to change: deployment {} is {}",
            in_flight.deployment, in_flight.status
        )));
    }
    proves_now(engine, app, sha, &name).await
}

/// One check now: the app's health endpoint reports `sha`, or (without a health URL) its
/// container runs. `None` when it does, else why not.
async fn proves_now(
    engine: &Engine,
    app: &AppConfig,
    sha: &CommitSha,
    name: &str,
) -> anyhow::Result<Option<String>> {
    match engine.probe_spec(EnvironmentName::Staging, app, sha.as_str(), None)? {
        Some(spec) => {
            let attempt = engine.prober.check(&spec).await;
            Ok((!attempt.passed()).then(|| {
                format!(
                    "{name}'s health endpoint does not report {} now ({attempt})",
                    sha.short()
                )
            }))
        }
        None => {
            let application = engine.coolify.application(&app.uuid).await?;
            Ok((!application.container_status().is_running_ok()).then(|| {
                format!(
                    "{name}'s container is {}",
                    application.status.as_deref().unwrap_or("unknown")
                )
            }))
        }
    }
}

/// The live check of an image app. Coolify keeps no record of which tag a deployment ran (its
/// rows say `HEAD`), so it holds when the app is set to the commit's tag now, its newest
/// deployment finished, and its health endpoint reports the commit now (an app without one:
/// its container runs). `None` when it holds, else why not.
async fn image_gate(
    engine: &Engine,
    app: &AppConfig,
    sha: &CommitSha,
) -> anyhow::Result<Option<String>> {
    let Some(image) = &app.image else {
        return Ok(None);
    };
    let commit = sha.as_str();
    let name = format!("staging's {}", app.describe());
    let expected = match image.tag.expand(commit, None) {
        Ok(expected) => expected,
        Err(reason) => return Ok(Some(format!("{name}: {reason}"))),
    };
    let application = engine.coolify.application(&app.uuid).await?;
    let current = application
        .docker_registry_image_tag
        .as_deref()
        .unwrap_or("latest");
    if current != expected.as_str() {
        return Ok(Some(format!(
            "{name} is set to image tag {current}, not {expected}"
        )));
    }
    let latest = engine
        .coolify
        .deployments(&app.uuid, 0, 1)
        .await?
        .deployments
        .into_iter()
        .next();
    match latest {
        Some(deployment) if deployment.status == coolify_client::DeploymentStatus::Finished => {}
        Some(deployment) => {
            return Ok(Some(format!(
                "{name}'s newest deployment {} is {}",
                deployment.deployment_uuid, deployment.status
            )));
        }
        None => return Ok(Some(format!("{name} has no deployment"))),
    }
    proves_now(engine, app, sha, &name).await
}

/// Refuse to deploy a release older than production's unless it is a rollback.
pub(crate) fn refuse_downgrade(
    invocation: &crate::Invocation,
    releases: &Releases,
    live: &EnvironmentLive,
    target: &TaggedRelease,
    verb: &str,
) -> anyhow::Result<()> {
    // Commits before versions: the commit production runs is never a downgrade of itself,
    // whichever of its tags is named.
    if live.commit().and_then(oid) == Some(target.commit()) {
        return Ok(());
    }
    let target = target.tag();
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
