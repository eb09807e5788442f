//! `rollback [--to TAG]`: put an earlier release back on production.
//!
//! A rollback never touches staging, never moves or pushes a tag, and needs no staging gate:
//! the release it returns to was in production before.

use anyhow::Context as _;

use crate::config::EnvironmentName;
use crate::deploy::{
    Action, AutoRollback, DeployReport, ReleaseDeploy, deploy_release, release_for_production,
};
use crate::engine::Engine;
use crate::exit::{BadInput, Refused};
use crate::repo::commit_sha;
use crate::session::{DryRun, Session};

/// Options of `rollback`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RollbackOptions {
    /// `--to`: the release to return to (default: the newest release older than production's).
    pub to: Option<String>,
    /// `--dry-run`.
    pub dry_run: DryRun,
}

impl RollbackOptions {
    /// The command's arguments that run these options again: `rollback --to v1.1.0`.
    pub(crate) fn arguments(&self) -> String {
        let mut arguments = match &self.to {
            Some(to) => format!("rollback --to {to}"),
            None => "rollback".to_owned(),
        };
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
            releases
                .rollback_target(current)
                .cloned()
                .ok_or_else(|| {
                    BadInput(format!(
                        "no release older than {current} may go to production; name one with `{}`",
                        engine.invocation.command("rollback --to TAG")
                    ))
                })
                .context(context.clone())?
        }
    };

    let rerun = RollbackOptions {
        to: Some(target.tag().name().to_owned()),
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
