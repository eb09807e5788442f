//! `preview remove --pr N`: the preview removed in Coolify, its record marked inactive.
//! Idempotent: a preview that is already gone is done, and says so.

use anyhow::Context as _;
use coolify_client::PreviewRemoval;

use super::{RemoveAction, RemoveOptions, RemoveReport};
use crate::engine::Engine;
use crate::engine::preview::environment_name;
use crate::session::Session;

pub(super) async fn remove(
    session: &Session,
    options: &RemoveOptions,
) -> anyhow::Result<RemoveReport> {
    let pull_request = super::pull_request(options.pull_request)?;
    let context = format!("preview remove --pr {pull_request}");
    let engine = Engine::open(session).context(context.clone())?;
    let mut rerun = format!("preview remove --pr {pull_request}");
    if options.dry_run.is_dry() {
        rerun.push_str(" --dry-run");
    }
    engine.journal.track(rerun);
    let app = engine.preview_app().uuid.clone();
    let environment = environment_name(pull_request);
    let mut report = RemoveReport {
        pull_request: pull_request.get(),
        environment: environment.clone(),
        app: app.to_string(),
        action: RemoveAction::Planned,
        marked_inactive: 0,
        no_record: engine.record.absent().map(str::to_owned),
        planned: Vec::new(),
    };
    if options.dry_run.is_dry() {
        report.planned.push(format!(
            "DELETE /api/v1/applications/{app}/previews/{pull_request} (its container, and its queued and running deployments)"
        ));
        report.planned.push(match engine.record.absent() {
            None => format!("mark the GitHub deployments of {environment} inactive"),
            Some(reason) => format!("no release record: {reason}"),
        });
        return Ok(report);
    }
    engine.output.step(format!(
        "{environment}: removing the preview of pull request {pull_request} (app {app})"
    ));
    engine.journal.write(format!(
        "remove the preview of pull request {pull_request} (app {app})"
    ));
    let removal = engine
        .coolify
        .delete_preview(&app, pull_request)
        .await
        .with_context(|| format!("{context}: remove it in Coolify (app {app})"))?;
    report.action = match removal {
        PreviewRemoval::NoPreview => RemoveAction::NoPreview,
        _ => RemoveAction::Removed,
    };
    report.marked_inactive = match engine
        .mark_preview_inactive(
            pull_request,
            &format!("removed: the preview of pull request {pull_request} is gone"),
        )
        .await
    {
        Ok(marked) => marked,
        Err(error) => {
            engine.record.warn_unwritten(&error);
            0
        }
    };
    engine.output.step_summary(&format!(
        "### preview of pull request {pull_request}\n\n{report}\n"
    ))?;
    Ok(report)
}
