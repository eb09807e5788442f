//! `preview list`: the open previews, from the release record (what stagegate deployed and
//! has not removed) and Coolify's deployments (what it deployed, whoever asked).
//!
//! Coolify 4.3 has no API that lists previews; its deployment list names each preview
//! deployment's pull request, and keeps those of a removed preview, so the record is what says
//! a preview is still open.

use std::collections::BTreeMap;
use std::time::SystemTime;

use anyhow::Context as _;
use coolify_client::{Deployment, PullRequestId, Timestamp};
use release_record::{EnvironmentKind, HistoryQuery, Record};

use super::{ListReport, ListedPreview};
use crate::config::Placeholder;
use crate::engine::Engine;
use crate::engine::preview::{environment_name, pull_request_of};
use crate::session::Session;

/// How many of the record's newest runs (of every environment) `preview list` reads: 3
/// requests.
const RECORD_RUNS: usize = 300;

pub(super) async fn list(session: &Session) -> anyhow::Result<ListReport> {
    let engine = Engine::open(session).context("preview list")?;
    let app = engine.preview_app();
    let application = engine
        .coolify
        .application(&app.uuid)
        .await
        .with_context(|| format!("preview list: read staging's app {}", app.uuid))?;
    let page = engine
        .coolify
        .deployments(&app.uuid, 0, coolify_client::HISTORY_WINDOW)
        .await
        .with_context(|| format!("preview list: read the deployments of app {}", app.uuid))?;
    // The newest preview deployment of each pull request (the list is newest first).
    let mut deployed: BTreeMap<PullRequestId, Deployment> = BTreeMap::new();
    for deployment in page.deployments {
        if let Some(pull_request) = deployment.pull_request() {
            deployed.entry(pull_request).or_insert(deployment);
        }
    }
    let records = match engine.record.recorder() {
        Some(recorder) => {
            let query = HistoryQuery::new(Vec::<String>::new()).limit(RECORD_RUNS);
            match recorder.history(&query).await {
                Ok(history) => Some(history.into_records()),
                Err(error) => {
                    engine.output.warn(format!(
                        "the release record cannot be read ({}); listing what Coolify deployed",
                        crate::engine::record::trouble_text(&error)
                    ));
                    None
                }
            }
        }
        None => None,
    };
    // The newest run of each pull request's environment.
    let mut recorded: BTreeMap<PullRequestId, &Record> = BTreeMap::new();
    for record in records.iter().flatten() {
        let environment = record.environment();
        if environment.kind() != EnvironmentKind::Transient {
            continue;
        }
        if let Some(pull_request) = pull_request_of(environment.name()) {
            recorded.entry(pull_request).or_insert(record);
        }
    }
    let now = SystemTime::now();
    let url = |pull_request: PullRequestId| {
        engine
            .preview(&application, pull_request)
            .ok()
            .map(|preview| preview.url.to_string())
    };
    let mut previews = Vec::new();
    for (pull_request, record) in &recorded {
        if record.inactive_at().is_some() {
            continue;
        }
        let deployment = deployed.get(pull_request);
        previews.push(ListedPreview {
            pull_request: pull_request.get(),
            environment: environment_name(*pull_request),
            commit: record.commit().to_string(),
            url: url(*pull_request),
            outcome: Some(record.outcome().to_string()),
            deployment_status: deployment.map(|deployment| deployment.status.to_string()),
            since: Some(record.started_at().to_string()),
            age_seconds: age(now, record.started_at()),
            recorded: true,
        });
    }
    for (pull_request, deployment) in &deployed {
        if recorded.contains_key(pull_request) {
            continue;
        }
        previews.push(ListedPreview {
            pull_request: pull_request.get(),
            environment: environment_name(*pull_request),
            commit: commit_of(app, deployment),
            url: url(*pull_request),
            outcome: None,
            deployment_status: Some(deployment.status.to_string()),
            since: deployment.created_at.as_ref().map(ToString::to_string),
            age_seconds: deployment
                .created_at
                .as_ref()
                .and_then(|created| age(now, created)),
            recorded: false,
        });
    }
    previews.sort_by_key(|preview| std::cmp::Reverse(preview.pull_request));
    Ok(ListReport {
        app: app.uuid.to_string(),
        previews,
        no_record: engine.record.absent().map(str::to_owned),
    })
}

/// Seconds from `at` to `now`; `None` for a time that cannot be read.
fn age(now: SystemTime, at: &Timestamp) -> Option<u64> {
    at.system_time()
        .map(|at| now.duration_since(at).map_or(0, |age| age.as_secs()))
}

/// The commit a preview deployment built: Coolify's commit, or the one its image tag names;
/// what Coolify reports otherwise.
fn commit_of(app: &crate::config::AppConfig, deployment: &Deployment) -> String {
    if let Some(commit) = deployment.resolved_commit() {
        return commit.to_string();
    }
    let tag = deployment.docker_registry_image_tag.as_deref();
    if let (Some(image), Some(tag)) = (&app.image, tag)
        && let Some(captured) = image.tag.captures(tag)
        && let Some((_, commit)) = captured.into_iter().find(|(placeholder, _)| {
            matches!(placeholder, Placeholder::Commit | Placeholder::ShortCommit)
        })
    {
        return commit;
    }
    tag.or(deployment.commit.as_deref())
        .unwrap_or("unknown")
        .to_owned()
}
