//! The gates: what must hold before production moves.

use anyhow::Context as _;
use coolify_client::CommitSha;
use tag_policy::{Releases, TaggedRelease};

use super::{Engine, EnvironmentLive};
use crate::config::EnvironmentName;
use crate::exit::{BadInput, Refused};
use crate::repo::{commit_sha, oid, short};

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

pub(crate) async fn check_staging_gate(
    engine: &Engine,
    release: &TaggedRelease,
) -> anyhow::Result<()> {
    let sha = commit_sha(release.commit()).context("check the staging gate")?;
    let commit = sha.as_str();
    let staging = &engine.config.staging;
    let several = staging.has_several_apps();
    let mut missing = Vec::new();
    let mut reasons = Vec::new();
    for app in &staging.apps {
        if app.image.is_some() {
            match image_gate(engine, app, &sha, release).await? {
                None => continue,
                Some(reason) => {
                    reasons.push(reason);
                    missing.push(app);
                    continue;
                }
            }
        }
        let evidence = engine
            .coolify
            .find_finished_deployment_of_commit(&app.uuid, &sha)
            .await
            .context("check the staging gate")?;
        match evidence {
            Some(deployment) if several => engine.output.step(format!(
                "staging gate: {} ({}) finished on staging's {} in deployment {}",
                release.tag(),
                short(commit),
                app.label,
                deployment.deployment_uuid
            )),
            Some(deployment) => engine.output.step(format!(
                "staging gate: {} ({}) finished on staging in deployment {}",
                release.tag(),
                short(commit),
                deployment.deployment_uuid
            )),
            None => missing.push(app),
        }
    }
    if missing.is_empty() {
        return Ok(());
    }
    let deploy = engine
        .invocation
        .command(format_args!("deploy staging --commit {commit}"));
    if !reasons.is_empty() {
        return Err(Refused(format!(
            "staging gate: {} ({}) is not verified on staging: {}; deploy it to staging first with `{deploy}`",
            release.tag(),
            short(commit),
            reasons.join("; ")
        ))
        .into());
    }
    Err(if several {
        let apps: Vec<String> = missing
            .iter()
            .map(|app| app.describe())
            .collect();
        Refused(format!(
            "staging gate: commit {commit} ({}) has no finished deployment on staging's {}; every app of staging must run it first: deploy it to staging with `{deploy}`",
            release.tag(),
            apps.join(" and ")
        ))
    } else {
        Refused(format!(
            "staging gate: commit {commit} ({}) has no finished staging deployment; deploy it to staging first with `{deploy}`",
            release.tag(),
        ))
    }
    .into())
}

/// The staging gate for an image app. Coolify keeps no record of which tag a deployment ran
/// (its rows say `HEAD`), so it holds when the app is set to the commit's tag now, its newest
/// deployment finished, and its health endpoint reports the commit now (an app without one:
/// its container runs). `None` when it holds, else why not.
async fn image_gate(
    engine: &Engine,
    app: &crate::config::AppConfig,
    sha: &CommitSha,
    release: &TaggedRelease,
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
    let application = engine
        .coolify
        .application(&app.uuid)
        .await
        .context("check the staging gate")?;
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
        .await
        .context("check the staging gate")?
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
    match engine.probe_spec(EnvironmentName::Staging, app, commit, None)? {
        Some(spec) => {
            let attempt = engine.prober.check(&spec).await;
            if !attempt.passed() {
                return Ok(Some(format!(
                    "{name}'s health endpoint does not report {} now ({attempt})",
                    short(commit)
                )));
            }
        }
        None => {
            let status = application.container_status();
            if !status.is_running_ok() {
                return Ok(Some(format!(
                    "{name}'s container is {}",
                    application.status.as_deref().unwrap_or("unknown")
                )));
            }
        }
    }
    engine.output.step(format!(
        "staging gate: {} ({}) runs on {name} as {}:{expected}, and answers now",
        release.tag(),
        short(commit),
        image.name
    ));
    Ok(None)
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
