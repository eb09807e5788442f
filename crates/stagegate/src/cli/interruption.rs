//! The `error:` line of an interrupted command: whether it changed anything, the deployments
//! it started, what each environment runs now, and the command to run next.

use crate::Session;
use crate::engine::Engine;
use crate::exit::{Aftermath, Exit};

use super::signal::Signal;

/// The error an interruption ends with.
pub(super) async fn describe(session: &Session, signal: Signal) -> anyhow::Error {
    let entries = session.journal.snapshot();
    let status = session.invocation.command("status");
    if !entries.tracked {
        return anyhow::anyhow!(
            "interrupted by {signal}: this command may have changed Coolify before it stopped; run `{status}` to see what each environment runs"
        );
    }
    let rerun = entries
        .rerun
        .as_deref()
        .map(|rerun| session.invocation.command(rerun))
        .unwrap_or_else(|| status.clone());
    if entries.writes.is_empty() {
        return anyhow::anyhow!(
            "interrupted by {signal} before this command changed anything: nothing was written to Coolify; run `{rerun}` to start again"
        );
    }
    let mut cause = format!(
        "interrupted by {signal} after it began to {}",
        entries.writes.join(", then to ")
    );
    let fix = if let Some((environment, app)) = &entries.deploy_requested {
        // The request was sent: Coolify may queue the deployment whatever became of it here.
        if !entries.deployments.is_empty() {
            cause.push_str(&format!(
                "; it started {}, which Coolify keeps running without this command",
                started(&entries.deployments)
            ));
        }
        cause.push_str(&format!(
            ", while its request to deploy {environment} (app {app}) was in flight: Coolify may have queued that deployment"
        ));
        format!(
            "See whether it did with `{status}`; run `{rerun}` again to join it (it follows a deployment still in flight instead of starting another) or, if none was queued, to deploy"
        )
    } else if entries.deployments.is_empty() {
        cause.push_str(", before a deployment was started");
        format!("Run `{rerun}` to deploy it")
    } else {
        cause.push_str(&format!(
            "; it started {}, which Coolify keeps running without this command",
            started(&entries.deployments)
        ));
        format!(
            "Nothing verifies it now: run `{status}` until it ends, then `{rerun}` to verify it (it joins a deployment still in flight instead of starting another)"
        )
    };
    // The record's runs this command started say so, instead of staying "in progress".
    for run in &entries.open_runs {
        let _ = run
            .settle(&release_record::Settlement::cancelled(&format!(
                "interrupted by {signal} before it was verified"
            )))
            .await;
    }
    let state = match describe_state(session).await {
        Ok(state) => state,
        Err(error) => format!("unknown ({})", crate::exit::message(&error)),
    };
    Aftermath {
        cause,
        state,
        fix,
        exit: Exit::Failed,
        rollout: None,
    }
    .into()
}

/// `staging deployment d1 and production deployment d2`.
fn started(deployments: &[(crate::config::EnvironmentName, String)]) -> String {
    deployments
        .iter()
        .map(|(environment, deployment)| format!("{environment} deployment {deployment}"))
        .collect::<Vec<_>>()
        .join(" and ")
}

async fn describe_state(session: &Session) -> anyhow::Result<String> {
    let engine = Engine::open(session)?;
    let releases = engine.releases()?;
    Ok(engine.aftermath(&releases).await)
}
