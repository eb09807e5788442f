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
    let fix = if entries.deployments.is_empty() {
        cause.push_str(", before a deployment was started");
        format!("Run `{rerun}` to deploy it")
    } else {
        let started: Vec<String> = entries
            .deployments
            .iter()
            .map(|(environment, deployment)| format!("{environment} deployment {deployment}"))
            .collect();
        cause.push_str(&format!(
            "; it started {}, which Coolify keeps running without this command",
            started.join(" and ")
        ));
        format!(
            "Nothing verifies it now: run `{status}` until it ends, then `{rerun}` to verify it (it joins a deployment still in flight instead of starting another)"
        )
    };
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

async fn describe_state(session: &Session) -> anyhow::Result<String> {
    let engine = Engine::open(session)?;
    let releases = engine.releases()?;
    Ok(engine.aftermath(&releases).await)
}
