//! `rollback [--to TAG]`: put an earlier release back on production.
//!
//! A rollback never touches staging, never moves or pushes a tag, and needs no staging gate:
//! with a release record it returns only to a release the record says was verified (in
//! production, or on staging for one that never ran there) and never to one that failed in
//! production; `--force` takes another, with a warning.

use anyhow::Context as _;

use crate::config::EnvironmentName;
use crate::deploy::{
    Action, AutoRollback, DeployReport, ReleaseDeploy, deploy_release, release_for_production,
};
use crate::engine::Engine;
use crate::exit::{BadInput, Refused};
use crate::repo::commit_sha;
use crate::session::{DryRun, Session};
use release_record::Purpose;

/// Options of `rollback`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RollbackOptions {
    /// `--to`: the release to return to (default: the newest release older than production's
    /// that did not fail in production).
    pub to: Option<String>,
    /// `--force`: go back to a release the record does not vouch for (it failed in production,
    /// or the record has no verification of it, or cannot be read).
    pub force: Force,
    /// `--dry-run`.
    pub dry_run: DryRun,
}

/// `--force`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Force {
    /// Refuse a release the record does not vouch for.
    #[default]
    No,
    /// Take it anyway, with a warning.
    Yes,
}

impl RollbackOptions {
    /// The command's arguments that run these options again: `rollback --to v1.1.0`.
    pub(crate) fn arguments(&self) -> String {
        let mut arguments = match &self.to {
            Some(to) => format!("rollback --to {to}"),
            None => "rollback".to_owned(),
        };
        if self.force == Force::Yes {
            arguments.push_str(" --force");
        }
        if self.dry_run.is_dry() {
            arguments.push_str(" --dry-run");
        }
        arguments
    }
}

/// Deploy an earlier release tag to production, follow and probe it.
///
/// # Errors
///
/// [`BadInput`] when the target is not a release tag of the repository or production runs
/// no release to go back from; [`Refused`] when the target is newer than production's
/// release; a failed deployment or probe, with what each environment runs now.
pub async fn rollback(
    session: &Session,
    options: &RollbackOptions,
) -> anyhow::Result<DeployReport> {
    let context = match &options.to {
        Some(to) => format!("rollback to {to}"),
        None => "rollback".to_owned(),
    };
    let repo = session.open_repo().context(context.clone())?;
    let config = session.load_config(&repo).context(context.clone())?;
    let explicit = match &options.to {
        Some(name) => Some(
            release_for_production(&session.invocation, &repo, &config.tags, name)
                .context(context.clone())?,
        ),
        None => None,
    };
    // From here on an interruption can say what this run changed.
    session.journal.track(options.arguments());
    let engine = Engine::from_parts(session, repo, config).context(context.clone())?;
    let releases = engine.releases()?;
    let settled = engine
        .settle_production(&releases, options.dry_run)
        .await
        .context(context.clone())?;
    let live = &settled.live;
    let current = live.current_release(&releases);

    // What the record says each release did in production (and, for one that never ran
    // there, on staging): a rollback goes back only to a release the record says was
    // verified, never to one that failed in production.
    let force_command = |tag: &str| {
        engine
            .invocation
            .command(format_args!("rollback --to {tag} --force"))
    };
    let record = match engine.record.verdicts(EnvironmentName::Production).await {
        Ok(Some(production)) => {
            let staging = engine
                .record
                .verdicts(EnvironmentName::Staging)
                .await
                .ok()
                .flatten()
                .unwrap_or_default();
            Some((production, staging))
        }
        Ok(None) => {
            engine.output.warn(format!(
                "no release record ({}): this rollback cannot tell whether an older release failed in production before",
                engine.record.absent().unwrap_or("none is kept")
            ));
            None
        }
        Err(error) if options.force == Force::Yes => {
            engine.output.warn(format!(
                "--force: the release record could not be read ({}); going back without knowing whether the release failed in production before",
                crate::engine::record::trouble_text(&error)
            ));
            None
        }
        Err(error) => {
            return Err(anyhow::Error::new(Refused(format!(
                "the release record could not be read ({}), so this rollback cannot tell whether an older release failed in production; run it again, or go back without the record's word with `{}`",
                crate::engine::record::trouble_text(&error),
                force_command(options.to.as_deref().unwrap_or("TAG"))
            )))
            .context(context));
        }
    };
    // Why `release` may not be gone back to, or `None` when it may.
    let refusal = |release: &tag_policy::TaggedRelease| -> Option<String> {
        let (production, staging) = record.as_ref()?;
        let commit = commit_sha(release.commit()).ok()?;
        match production.get(&commit) {
            Some(verdict) if verdict.failed() => {
                Some(verdict.describe(EnvironmentName::Production))
            }
            Some(_) => None,
            None => match staging.get(&commit) {
                Some(verdict) if !verdict.failed() => None,
                _ => Some(
                    "has no record of running in production or of a verification on staging"
                        .to_owned(),
                ),
            },
        }
    };

    let target = match explicit {
        Some(target) => {
            if let Some(current) = &current
                && target.tag().cmp_precedence(current).is_gt()
            {
                return Err(Refused(format!(
                    "{} is newer than {current}, which production runs; a rollback only goes back: run `{}`",
                    target.tag(),
                    engine.invocation.command(format_args!("deploy production --tag {}", target.tag()))
                ))
                .into());
            }
            if let Some(why) = refusal(&target) {
                if options.force == Force::No {
                    return Err(anyhow::Error::new(Refused(format!(
                        "{} {why}; going back to it could put a release that was never proven into production: pick another (`{}` picks the newest the record allows), or take it anyway with `{}`",
                        target.tag(),
                        engine.invocation.command("rollback --dry-run"),
                        force_command(&target.tag().to_string())
                    )))
                    .context(context));
                }
                engine.output.warn(format!(
                    "--force: rolling back to {}, which {why}",
                    target.tag()
                ));
            }
            target
        }
        None => {
            let Some(current) = &current else {
                let runs = match live.commit() {
                    Some(commit) => format!("commit {}, which has no release tag", commit.short()),
                    None if live.is_empty() => "nothing yet".to_owned(),
                    None => format!("{}, none of it a release", live.describe()),
                };
                return Err(anyhow::Error::new(BadInput(format!(
                    "production runs {runs}, so there is no release to go back from; name one with `{}`",
                    engine.invocation.command("rollback --to TAG")
                )))
                .context(context));
            };
            let live_commit = live.commit().and_then(crate::repo::oid);
            let mut skipped = Vec::new();
            let mut chosen = None;
            for candidate in releases.rollback_targets(current) {
                // Another tag of the commit production runs is no way back.
                if live_commit == Some(candidate.commit()) {
                    skipped.push(format!("{}: the commit production runs", candidate.tag()));
                    continue;
                }
                match refusal(candidate) {
                    Some(why) => skipped.push(format!("{}: {why}", candidate.tag())),
                    None => {
                        chosen = Some(candidate.clone());
                        break;
                    }
                }
            }
            for skip in &skipped {
                engine.output.step(format!("skipping {skip}"));
            }
            chosen
                .ok_or_else(|| {
                    BadInput(if skipped.is_empty() {
                        format!(
                            "no release older than {current} may go to production; name one with `{}`",
                            engine.invocation.command("rollback --to TAG")
                        )
                    } else {
                        format!(
                            "no release older than {current} may be gone back to ({}); deploy a fixed release instead, or take one anyway with `{}`",
                            skipped.join("; "),
                            force_command("TAG")
                        )
                    })
                })
                .context(context.clone())?
        }
    };

    let rerun = RollbackOptions {
        to: Some(target.tag().name().to_owned()),
        force: options.force,
        dry_run: options.dry_run,
    }
    .arguments();
    session.journal.track(rerun.clone());
    if live.commit().and_then(crate::repo::oid) == Some(target.commit()) {
        engine.output.step(format!(
            "production runs {} already: nothing to roll back, checking its health",
            target.tag()
        ));
    } else {
        engine.output.step(format!(
            "rolling production back from {} to {}",
            live.describe(),
            target.tag()
        ));
    }
    let mut report = deploy_release(
        &engine,
        &ReleaseDeploy {
            releases: &releases,
            release: &target,
            settled: &settled,
            auto_rollback: AutoRollback::Off,
            dry_run: options.dry_run,
            context: &context,
            rerun,
            purpose: Purpose::Rollback {
                from: live
                    .commit()
                    .map(|commit| crate::deploy::release_ref(commit, current.as_ref())),
            },
            gate: None,
        },
    )
    .await?;
    if report.action == Action::Planned {
        // Whether the rollback only restarts (the image is still on the server) or rebuilds.
        let images = engine.server_images(EnvironmentName::Production).await;
        let commit = commit_sha(target.commit()).context(context)?;
        report.costs = engine.rollback_costs(
            EnvironmentName::Production,
            &images,
            &commit,
            Some(target.tag()),
        );
    }
    Ok(report)
}
