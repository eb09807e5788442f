//! How deployments move: queued, started when the server has a free build, finished.
//!
//! As Coolify's `queue_application_deployment`, `next_queuable` and `queue_next_deployment`
//! do: a deploy is refused while the server's queue holds `deployment_queue_limit` queued
//! deployments; a queued deployment starts once the server runs fewer than
//! `concurrent_builds` and the same application (for the same pull request) runs none: a new
//! deployment starts at once when it can, and each end (and, from 4.3.7, each cancel) starts
//! the queued ones that can, oldest first. The fake adds one thing Coolify does not have: a
//! deployment stays queued for its application's queue time before it may start.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use coolify_client::DeploymentStatus;

use crate::server::{generated_deployment_uuid, known_application_uuid, lock};
use crate::state::{FinishedDeployment, KeptImage, State, StoredDeployment};

/// A deployment to queue: what it builds and who asked.
#[derive(Debug, Clone, Default)]
pub(crate) struct NewDeployment {
    /// The commit to build; `None` for the application's pin (or `HEAD`).
    pub(crate) commit: Option<String>,
    pub(crate) force_rebuild: bool,
    pub(crate) is_api: bool,
    pub(crate) restart_only: bool,
    /// The pull request of a preview; 0 for the application itself.
    pub(crate) pull_request_id: u64,
    /// The `docker_tag` of a Docker-image preview.
    pub(crate) docker_tag: Option<String>,
    /// Set by webhooks.
    pub(crate) git_type: Option<String>,
}

/// What queuing a deployment did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Queueing {
    /// A new deployment, with its uuid.
    Queued(String),
    /// "Deployment already queued for this commit.": one of the same commit, pull request and
    /// image tag is queued or in progress.
    AlreadyQueued,
    /// The server's queue is full: nothing was queued.
    QueueFull,
}

/// Queue a deployment of `application` (Coolify's `queue_application_deployment`); `None` for
/// an unknown application. A task moves it once its queue time has passed.
pub(crate) fn queue_deployment(
    shared: &Arc<Mutex<State>>,
    application: &str,
    new: NewDeployment,
) -> Option<Queueing> {
    let mut state = lock(shared);
    let queued = state
        .deployments
        .iter()
        .filter(|deployment| deployment.status == DeploymentStatus::Queued)
        .count();
    let stored = state.applications.get(application)?;
    let image_app = stored.spec.is_image_app();
    let queue_time = stored.spec.queue_time;
    // An image application's deployments are all of `HEAD`, never rewritten.
    let commit = match new.commit {
        Some(_) if image_app => "HEAD".to_owned(),
        Some(commit) => commit,
        None => stored.spec.git_commit_sha.clone(),
    };
    if queued >= state.queue_limit {
        return Some(Queueing::QueueFull);
    }
    let duplicate = state.deployments.iter().any(|deployment| {
        deployment.application == application
            && deployment.status.is_in_flight()
            && deployment.commit == commit
            && deployment.pull_request_id == new.pull_request_id
            && deployment.docker_tag == new.docker_tag
    });
    if duplicate && !new.force_rebuild {
        return Some(Queueing::AlreadyQueued);
    }
    let script = state
        .applications
        .get_mut(application)
        .and_then(|stored| stored.scripts.pop_front())
        .unwrap_or_default();
    let (id, uuid) = state.fresh("");
    let now = state.timestamp();
    state.deployments.push(StoredDeployment {
        id,
        uuid: uuid.clone(),
        application: application.to_owned(),
        status: DeploymentStatus::Queued,
        commit,
        force_rebuild: new.force_rebuild,
        is_api: new.is_api,
        restart_only: new.restart_only,
        created_at: now.clone(),
        updated_at: now,
        finished_at: None,
        image_tag: None,
        logs: Vec::new(),
        pull_request_id: new.pull_request_id,
        docker_tag: new.docker_tag,
        git_type: new.git_type,
        is_webhook: !new.is_api,
        ready: false,
        moves: true,
        script,
    });
    drop(state);
    let task_state = Arc::clone(shared);
    let task_uuid = uuid.clone();
    tokio::spawn(async move {
        tokio::time::sleep(queue_time).await;
        if let Some(deployment) = lock(&task_state).deployment_mut(&task_uuid) {
            deployment.ready = true;
        }
        start(&task_state, Some(&task_uuid));
    });
    Some(Queueing::Queued(uuid))
}

/// Start every queued deployment that can start, oldest first (Coolify's
/// `queue_next_deployment`), and spawn the task that ends each.
pub(crate) fn schedule(shared: &Arc<Mutex<State>>) {
    start(shared, None);
}

/// Start the queued deployments that can start (only `only`, when given), oldest first, and
/// spawn the task that ends each.
fn start(shared: &Arc<Mutex<State>>, only: Option<&str>) {
    let started = {
        let mut state = lock(shared);
        let mut waiting: Vec<(u64, String)> = state
            .deployments
            .iter()
            .filter(|deployment| {
                deployment.status == DeploymentStatus::Queued
                    && deployment.ready
                    && deployment.moves
                    && only.is_none_or(|uuid| deployment.uuid == uuid)
            })
            .map(|deployment| (deployment.id, deployment.uuid.clone()))
            .collect();
        waiting.sort_unstable();
        let mut started = Vec::new();
        for (_, uuid) in waiting {
            if let Some(run) = start_if_queuable(&mut state, &uuid) {
                started.push((uuid, run));
            }
        }
        started
    };
    for (uuid, run) in started {
        let task_state = Arc::clone(shared);
        tokio::spawn(async move {
            tokio::time::sleep(run.duration).await;
            // A deployment cancelled meanwhile ended already: before 4.3.7 the queue waits
            // for another end, from 4.3.7 the cancel moved it on.
            if finish_run(&task_state, &uuid, &run) {
                schedule(&task_state);
            }
        });
    }
}

/// Coolify's `next_queuable`: the server runs fewer than `concurrent_builds`, and the same
/// application runs nothing for the same pull request.
fn start_if_queuable(state: &mut State, uuid: &str) -> Option<Run> {
    let deployment = state
        .deployments
        .iter()
        .find(|deployment| deployment.uuid == uuid)?;
    let (application, pull_request) = (deployment.application.clone(), deployment.pull_request_id);
    let running = state
        .deployments
        .iter()
        .filter(|deployment| deployment.status == DeploymentStatus::InProgress);
    let mut builds = 0;
    for deployment in running {
        if deployment.application == application && deployment.pull_request_id == pull_request {
            return None;
        }
        builds += 1;
    }
    if builds >= state.concurrent_builds {
        return None;
    }
    start_run(state, uuid)
}

/// What a deployment does once it starts, decided when it moves to `in_progress`.
pub(crate) struct Run {
    duration: Duration,
    fails: bool,
    /// The image it leaves on the server: the commit's for a build, the tag for a pull.
    image: Option<String>,
    /// The log line of a failure.
    failure: Option<String>,
}

/// Move a queued deployment to `in_progress`: resolve `HEAD` (git apps, the pull request's
/// head or the base branch for a preview) or read the image tag (image apps), and decide
/// whether it builds, skips the build, or pulls.
fn start_run(state: &mut State, uuid: &str) -> Option<Run> {
    let now = state.timestamp();
    let deployment = state
        .deployments
        .iter()
        .find(|deployment| deployment.uuid == uuid)?;
    let (app, commit, force, restart_only, pull_request, script) = (
        deployment.application.clone(),
        deployment.commit.clone(),
        deployment.force_rebuild,
        deployment.restart_only,
        deployment.pull_request_id,
        deployment.script,
    );
    let preview_tag = deployment.docker_tag.clone();
    let fetches_pull_request = deployment.git_type.is_some();
    let stored = state.applications.get(&app)?;
    let spec = stored.spec.clone();
    let mut logs = Vec::new();
    let mut image_tag = None;
    let run = if spec.is_image_app() {
        let name = spec.image_name.clone().unwrap_or_else(|| app.clone());
        let tag = preview_tag
            .or_else(|| spec.image_tag.clone())
            .unwrap_or_else(|| "latest".to_owned());
        image_tag = Some(tag.clone());
        logs.push(format!(
            "Pulling latest images from the registry: {name}:{tag}"
        ));
        let pushed = state.registry.contains(&(name.clone(), tag.clone()));
        Run {
            duration: script.build_time.unwrap_or(spec.pull_time),
            fails: script.fails || !pushed,
            image: Some(tag.clone()),
            failure: (!pushed).then(|| {
                format!(
                    "Failed to start container: Error response from daemon: manifest for {name}:{tag} not found: manifest unknown: manifest unknown"
                )
            }),
        }
    } else {
        // An explicit commit (a pin, a webhook's sha) is checked out as it is; `HEAD` is
        // resolved to the pull request's head when the job fetches its ref, else to the
        // branch's.
        let fetches_ref = fetches_pull_request || spec.source.fetches_pull_request_refs();
        let resolved = if !commit.eq_ignore_ascii_case("HEAD") {
            commit
        } else if pull_request > 0 && fetches_ref {
            stored
                .pull_request_heads
                .get(&pull_request)
                .cloned()
                .unwrap_or_else(|| spec.branch_head.clone())
        } else {
            spec.branch_head.clone()
        };
        let kept = pull_request == 0 && stored.images.iter().any(|image| image.tag == resolved);
        let skip = (kept || restart_only) && !force && script.build_time.is_none();
        let duration = if skip {
            logs.push(format!(
                "No build configuration changed & image found ({app}:{resolved}) with the same Git Commit SHA. Build step skipped."
            ));
            spec.restart_time
        } else {
            logs.push(format!(
                "Building docker image started for {app}:{resolved}."
            ));
            script.build_time.unwrap_or(spec.build_time)
        };
        if let Some(deployment) = state.deployment_mut(uuid) {
            deployment.commit.clone_from(&resolved);
        }
        Run {
            duration,
            fails: script.fails,
            image: Some(resolved),
            failure: None,
        }
    };
    let deployment = state.deployment_mut(uuid)?;
    deployment.status = DeploymentStatus::InProgress;
    deployment.updated_at = now;
    deployment.image_tag = image_tag;
    deployment.logs.extend(logs);
    Some(run)
}

/// End an in-progress deployment: `failed` (the previous container keeps running) or
/// `finished` (the image is kept on the server, the container runs it; a preview's container
/// runs beside the application's), then call the hooks. A deployment cancelled meanwhile is
/// left as it is. Returns whether it ended it.
fn finish_run(shared: &Mutex<State>, uuid: &str, run: &Run) -> bool {
    let (hooks, finished) = {
        let mut state = lock(shared);
        let now = state.timestamp();
        let created = state.docker_timestamp();
        let Some(deployment) = state.deployment_mut(uuid) else {
            return false;
        };
        if deployment.status != DeploymentStatus::InProgress {
            return false;
        }
        deployment.status = if run.fails {
            DeploymentStatus::Failed
        } else {
            DeploymentStatus::Finished
        };
        deployment.updated_at = now.clone();
        deployment.finished_at = Some(now);
        if let Some(failure) = &run.failure {
            deployment.logs.push(failure.clone());
        } else if run.fails {
            deployment.logs.push("Deployment failed.".to_owned());
        } else {
            deployment.logs.push("New container started.".to_owned());
        }
        let pull_request = deployment.pull_request_id;
        let finished = FinishedDeployment {
            application: known_application_uuid(&deployment.application),
            deployment: generated_deployment_uuid(deployment.uuid.clone()),
            commit: deployment.commit.clone(),
            image_tag: deployment.image_tag.clone(),
            pull_request_id: (pull_request > 0).then_some(pull_request),
        };
        if run.fails {
            return true;
        }
        let app = deployment.application.clone();
        if let Some(stored) = state.applications.get_mut(&app) {
            if pull_request > 0 {
                if let Some(preview) = stored.previews.get_mut(&pull_request) {
                    preview.running.clone_from(&run.image);
                }
            } else {
                if let Some(image) = &run.image {
                    let pulled = stored.spec.is_image_app();
                    let present = stored.images.iter().any(|kept| &kept.tag == image);
                    // A rebuild replaces the image; a pull of a tag the server has keeps it.
                    if !(pulled && present) {
                        stored.images.retain(|kept| &kept.tag != image);
                        stored.images.push(KeptImage {
                            tag: image.clone(),
                            created_at: created,
                        });
                    }
                    stored.running_image = Some(image.clone());
                }
                stored.spec.status = stored
                    .status_after_next
                    .take()
                    .unwrap_or_else(|| "running:healthy".to_owned());
            }
        }
        (state.hooks.clone(), finished)
    };
    for hook in hooks {
        hook(&finished);
    }
    true
}
