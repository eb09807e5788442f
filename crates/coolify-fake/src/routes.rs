//! The API's routes: abilities, and the handlers of applications and deployments.

use std::sync::{Arc, Mutex};

use coolify_client::DeploymentStatus;
use serde_json::{Value, json};

use crate::envs::{EnvWrite, bulk_envs, delete_env, envs_json, write_env};
use crate::lifecycle::{NewDeployment, Queueing, queue_deployment, schedule};
use crate::previews::{delete_preview, deploy_preview};
use crate::server::lock;
use crate::state::{Ability, State, StoredDeployment};
use crate::version::Version;
use crate::wire::{
    Reply, application_json, deployment_json, environment_id, message, project_uuid, projects,
    reply, reply_text,
};

/// What Coolify answers when a deployment of the same commit is already queued for the app.
pub(crate) const ALREADY_QUEUED: &str = "Deployment already queued for this commit.";

/// What Coolify answers when the server's deployment queue is full.
pub(crate) const QUEUE_FULL: &str =
    "Deployment queue is full. Please wait for existing deployments to complete.";

/// Coolify's catch-all answer for a path (or a method) it has no route for.
pub(crate) fn not_found_route() -> Reply {
    reply(
        404,
        &json!({"message": "Not found.", "docs": "https://coolify.io/docs"}),
    )
}

/// `429` "Deployment queue is full." with `Retry-After: 60`.
pub(crate) fn queue_full() -> Reply {
    let mut response = message(429, QUEUE_FULL);
    response.headers_mut().insert(
        hyper::header::RETRY_AFTER,
        hyper::header::HeaderValue::from_static("60"),
    );
    response
}

/// Request parameters from the query string and the JSON body (Coolify merges both).
pub(crate) struct Params {
    pairs: Vec<(String, Value)>,
}

impl Params {
    pub(crate) fn new(query: Option<&str>, body: Option<&Value>) -> Self {
        let mut pairs = Vec::new();
        if let Some(Value::Object(fields)) = body {
            pairs.extend(
                fields
                    .iter()
                    .map(|(key, value)| (key.clone(), value.clone())),
            );
        }
        for pair in query
            .unwrap_or_default()
            .split('&')
            .filter(|pair| !pair.is_empty())
        {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            pairs.push((key.to_owned(), Value::String(value.to_owned())));
        }
        Self { pairs }
    }

    pub(crate) fn get(&self, key: &str) -> Option<&Value> {
        self.pairs
            .iter()
            .find(|(name, _)| name == key)
            .map(|(_, value)| value)
    }

    pub(crate) fn text(&self, key: &str) -> Option<String> {
        match self.get(key)? {
            Value::String(text) => Some(text.clone()),
            Value::Number(number) => Some(number.to_string()),
            _ => None,
        }
    }

    pub(crate) fn flag(&self, key: &str) -> bool {
        match self.get(key) {
            Some(Value::Bool(flag)) => *flag,
            Some(Value::String(text)) => matches!(text.as_str(), "1" | "true" | "on" | "yes"),
            Some(Value::Number(number)) => number.as_i64().is_some_and(|n| n != 0),
            _ => false,
        }
    }

    pub(crate) fn number(&self, key: &str) -> Option<u64> {
        self.text(key).and_then(|text| text.parse().ok())
    }
}

fn required(state: &Mutex<State>, ability: Ability) -> Option<Reply> {
    (!lock(state).has(ability)).then(|| {
        message(
            403,
            &format!("Missing required permissions: {}", ability.as_str()),
        )
    })
}

pub(crate) fn route(
    shared: &Arc<Mutex<State>>,
    method: &str,
    path: &str,
    params: &Params,
    body: Option<&Value>,
) -> Reply {
    let segments: Vec<&str> = path.trim_start_matches("/api/v1/").split('/').collect();
    let ability = match method {
        "GET" => Ability::Read,
        "POST"
            if segments.first() == Some(&"deploy")
                || path.ends_with("/cancel")
                || path.ends_with("/start")
                || path.ends_with("/stop")
                || path.ends_with("/restart") =>
        {
            Ability::Deploy
        }
        _ => Ability::Write,
    };
    if !path.starts_with("/api/v1/") {
        return not_found_route();
    }
    if let Some(denied) = required(shared, ability) {
        return denied;
    }
    match (method, segments.as_slice()) {
        ("GET", ["version"]) => reply_text(200, "text/html", lock(shared).version.clone()),
        ("GET", ["deploy"]) => {
            let mut response = message(405, "This endpoint has changed to a POST request.");
            response.headers_mut().insert(
                hyper::header::ALLOW,
                hyper::header::HeaderValue::from_static("POST"),
            );
            response
        }
        ("POST", ["deploy"]) => deploy(shared, params),
        ("GET", ["deployments"]) => {
            let state = lock(shared);
            let mut list: Vec<&StoredDeployment> = state
                .deployments
                .iter()
                .filter(|deployment| deployment.status.is_in_flight())
                .collect();
            list.sort_by_key(|deployment| deployment.id);
            let items: Vec<Value> = list
                .into_iter()
                .map(|deployment| deployment_json(&state, deployment))
                .collect();
            reply(200, &Value::Array(items))
        }
        ("GET", ["deployments", "applications", app]) => list_deployments(shared, app, params),
        ("GET", ["deployments", uuid]) => {
            let state = lock(shared);
            match state
                .deployments
                .iter()
                .find(|deployment| deployment.uuid == *uuid)
            {
                Some(deployment) => reply(200, &deployment_json(&state, deployment)),
                None => message(404, "Deployment not found."),
            }
        }
        ("POST", ["deployments", uuid, "cancel"]) => cancel(shared, uuid),
        ("GET", ["applications"]) => {
            let state = lock(shared);
            let sensitive = state.can_read_sensitive();
            let list: Vec<Value> = state
                .applications
                .values()
                .map(|stored| application_json(&stored.spec, sensitive))
                .collect();
            reply(200, &Value::Array(list))
        }
        ("GET", ["projects"]) => {
            let state = lock(shared);
            let list: Vec<Value> = projects(&state)
                .into_iter()
                .map(|(name, _)| json!({"uuid": project_uuid(&name), "name": name, "description": null}))
                .collect();
            reply(200, &Value::Array(list))
        }
        ("GET", ["projects", uuid]) => {
            let state = lock(shared);
            match projects(&state)
                .into_iter()
                .find(|(name, _)| project_uuid(name) == *uuid)
            {
                Some((name, environments)) => reply(
                    200,
                    &json!({
                        "uuid": uuid,
                        "name": name,
                        "description": null,
                        "environments": environments
                            .into_iter()
                            .map(|environment| json!({
                                "id": environment_id(&name, &environment),
                                "name": environment,
                                "uuid": project_uuid(&format!("{name}-{environment}")),
                            }))
                            .collect::<Vec<Value>>(),
                    }),
                ),
                None => message(404, "Project not found."),
            }
        }
        ("GET", ["applications", app]) => {
            let state = lock(shared);
            match state.applications.get(*app) {
                Some(stored) => reply(
                    200,
                    &application_json(&stored.spec, state.can_read_sensitive()),
                ),
                None => message(404, "Application not found."),
            }
        }
        ("PATCH", ["applications", app]) => patch_application(shared, app, body),
        ("GET", ["applications", app, "rollback-images"]) => rollback_images(shared, app),
        ("POST", ["applications", app, action @ ("start" | "restart")]) => {
            start_or_restart(shared, app, action, params)
        }
        ("POST", ["applications", app, "stop"]) => {
            if lock(shared).applications.contains_key(*app) {
                message(200, "Application stopping request queued.")
            } else {
                message(404, "Application not found.")
            }
        }
        ("GET", ["applications", app, "envs"]) => {
            let state = lock(shared);
            if !state.applications.contains_key(*app) {
                return message(404, "Application not found.");
            }
            reply(200, &envs_json(&state, app, state.can_read_sensitive()))
        }
        ("POST", ["applications", app, "envs"]) => write_env(shared, app, body, EnvWrite::Create),
        ("PATCH", ["applications", app, "envs"]) => write_env(shared, app, body, EnvWrite::Update),
        ("PATCH", ["applications", app, "envs", "bulk"]) => bulk_envs(shared, app, body),
        ("DELETE", ["applications", app, "envs", env]) => delete_env(shared, app, env),
        ("DELETE", ["applications", app, "previews", pull_request]) => {
            delete_preview(shared, app, pull_request)
        }
        _ => not_found_route(),
    }
}

/// `POST /applications/{uuid}/start|restart`. Coolify ignores a full queue here: it answers
/// "queued" with a uuid it never stored.
fn start_or_restart(shared: &Arc<Mutex<State>>, app: &str, action: &str, params: &Params) -> Reply {
    let new = NewDeployment {
        force_rebuild: params.flag("force"),
        is_api: true,
        restart_only: action == "restart",
        ..NewDeployment::default()
    };
    let uuid = match queue_deployment(shared, app, new) {
        None => return message(404, "Application not found."),
        Some(Queueing::AlreadyQueued) => return message(200, ALREADY_QUEUED),
        Some(Queueing::Queued(uuid)) => uuid,
        Some(Queueing::QueueFull) => lock(shared).fresh("").1,
    };
    let text = if action == "start" {
        "Deployment request queued."
    } else {
        "Restart request queued."
    };
    reply(200, &json!({"message": text, "deployment_uuid": uuid}))
}

/// `GET /applications/{uuid}/rollback-images` (Coolify 4.3.0+; older versions answer the
/// catch-all 404). `current` is null: the fake names containers `{uuid}-<time>`, as Coolify
/// does by default.
fn rollback_images(shared: &Mutex<State>, app: &str) -> Reply {
    let state = lock(shared);
    if !state.version_at_least(Version::new(4, 3, 0)) {
        return not_found_route();
    }
    let Some(stored) = state.applications.get(app) else {
        return message(404, "Application not found.");
    };
    let images: Vec<Value> = stored
        .images
        .iter()
        .rev()
        .map(|image| json!({"tag": image.tag, "created_at": image.created_at, "is_current": false}))
        .collect();
    reply(200, &json!({"current": null, "images": images}))
}

fn deploy(shared: &Arc<Mutex<State>>, params: &Params) -> Reply {
    let pull_request = params
        .number("pull_request_id")
        .or_else(|| params.number("pr"))
        .unwrap_or(0);
    let docker_tag = params.text("docker_tag").filter(|tag| !tag.is_empty());
    if params.get("tag").is_some() {
        if params.get("uuid").is_some() {
            return message(400, "You can only use uuid or tag, not both.");
        }
        return message(400, "Tag deploys are not supported by the fake; use uuid.");
    }
    let Some(uuids) = params.text("uuid") else {
        return message(400, "You must provide uuid or tag.");
    };
    if docker_tag.is_some() && pull_request == 0 {
        return message(400, "docker_tag requires pull_request_id.");
    }
    let force = params.flag("force");
    let mut entries = Vec::new();
    // Coolify splits at commas without trimming: ` u2` matches nothing.
    for app in uuids.split(',').filter(|uuid| !uuid.is_empty()) {
        let Some(name) = lock(shared)
            .applications
            .get(app)
            .map(|stored| stored.spec.name.clone())
        else {
            continue;
        };
        let queueing = if pull_request > 0 {
            match deploy_preview(shared, app, pull_request, docker_tag.as_deref(), force) {
                Ok(queueing) => queueing,
                Err(refused) => {
                    entries.push(json!({"message": refused, "resource_uuid": app}));
                    continue;
                }
            }
        } else {
            let new = NewDeployment {
                force_rebuild: force,
                is_api: true,
                ..NewDeployment::default()
            };
            queue_deployment(shared, app, new)
        };
        match queueing {
            None => {}
            // The loop stops; what was queued before stays queued, unlisted.
            Some(Queueing::QueueFull) => return queue_full(),
            Some(Queueing::AlreadyQueued) => {
                let (_, bogus) = lock(shared).fresh("");
                entries.push(json!({
                    "deployment_uuid": bogus,
                    "message": ALREADY_QUEUED,
                    "resource_uuid": app,
                }));
            }
            Some(Queueing::Queued(uuid)) => entries.push(json!({
                "deployment_uuid": uuid,
                "message": format!("Application {name} deployment queued."),
                "resource_uuid": app,
            })),
        }
    }
    if entries.is_empty() {
        return message(404, "No resources found.");
    }
    reply(200, &json!({ "deployments": entries }))
}

fn list_deployments(shared: &Mutex<State>, app: &str, params: &Params) -> Reply {
    let state = lock(shared);
    if !state.applications.contains_key(app) {
        return message(404, "Application not found");
    }
    let skip = params.number("skip").unwrap_or(0);
    let take = params.number("take").unwrap_or(10);
    if take == 0 {
        return reply(
            422,
            &json!({"message": "The take field must be at least 1.", "errors": {"take": ["The take field must be at least 1."]}}),
        );
    }
    let mut list: Vec<&StoredDeployment> = state
        .deployments
        .iter()
        .filter(|deployment| deployment.application == app)
        .collect();
    list.sort_by_key(|deployment| std::cmp::Reverse(deployment.id));
    let count = list.len();
    let page: Vec<Value> = list
        .into_iter()
        .skip(usize::try_from(skip).unwrap_or(usize::MAX))
        .take(usize::try_from(take).unwrap_or(usize::MAX))
        .map(|deployment| deployment_json(&state, deployment))
        .collect();
    reply(200, &json!({"count": count, "deployments": page}))
}

/// `POST /deployments/{uuid}/cancel` as each version answers it: no route before
/// 4.0.0-beta.436; from 4.3.7 an atomic cancel after which the next queued deployment starts;
/// before, the queue moves on only when another deployment ends, and from 4.1.0 to 4.3.6 the
/// answer is a `500` although the deployment was cancelled.
fn cancel(shared: &Arc<Mutex<State>>, uuid: &str) -> Reply {
    let mut state = lock(shared);
    let version = Version::parse(&state.version);
    if version < Version::beta(4, 0, 0, 436) {
        return not_found_route();
    }
    let now = state.timestamp();
    let Some(deployment) = state.deployment_mut(uuid) else {
        return message(404, "Deployment not found.");
    };
    if !deployment.status.is_in_flight() {
        return message(
            400,
            &format!(
                "Deployment cannot be cancelled. Current status: {}",
                deployment.status
            ),
        );
    }
    cancel_one(deployment, now);
    drop(state);
    if version >= Version::new(4, 3, 7) {
        schedule(shared);
    } else if version >= Version::new(4, 1, 0) {
        return message(
            500,
            "Failed to cancel deployment: Undefined variable $application",
        );
    }
    reply(
        200,
        &json!({
            "message": "Deployment cancelled successfully.",
            "deployment_uuid": uuid,
            "status": "cancelled-by-user",
        }),
    )
}

/// Mark a queued or in-progress deployment `cancelled-by-user`.
pub(crate) fn cancel_one(deployment: &mut StoredDeployment, now: String) {
    deployment.status = DeploymentStatus::CancelledByUser;
    deployment.updated_at.clone_from(&now);
    deployment.finished_at = Some(now);
    deployment
        .logs
        .push("Deployment cancelled by user.".to_owned());
}

pub(crate) fn patch_application(
    shared: &Arc<Mutex<State>>,
    app: &str,
    body: Option<&Value>,
) -> Reply {
    let Some(Value::Object(fields)) = body else {
        return reply(
            400,
            &json!({"message": "Invalid request.", "error": "Invalid JSON."}),
        );
    };
    if fields.is_empty() {
        return reply(
            400,
            &json!({"message": "Invalid request.", "error": "Empty JSON."}),
        );
    }
    let mut state = lock(shared);
    let version = Version::parse(&state.version);
    let Some(stored) = state.applications.get_mut(app) else {
        return message(404, "Application not found");
    };
    let mut errors = serde_json::Map::new();
    for (key, value) in fields {
        let known = match key.as_str() {
            "preview_url_template" => version >= Version::new(4, 3, 0),
            "is_pr_deployments_public_enabled" => version >= Version::new(4, 2, 0),
            _ => true,
        };
        let accepted = match (key.as_str(), value) {
            _ if !known => {
                errors.insert(key.clone(), json!(["This field is not allowed."]));
                continue;
            }
            (
                "is_preview_deployments_enabled" | "is_pr_deployments_public_enabled",
                Value::Bool(_),
            ) => true,
            ("preview_url_template", Value::String(template)) => !template.trim().is_empty(),
            ("git_commit_sha", Value::String(sha)) => valid_commit(sha),
            ("git_branch", Value::String(branch)) => valid_branch(branch),
            ("is_auto_deploy_enabled", Value::Bool(_)) => true,
            ("docker_registry_image_name", Value::String(name)) => {
                coolify_client::ImageName::new(name.as_str()).is_ok()
            }
            ("docker_registry_image_tag", Value::String(tag)) => {
                coolify_client::ImageTag::new(tag.as_str()).is_ok()
            }
            (
                "git_commit_sha"
                | "git_branch"
                | "is_auto_deploy_enabled"
                | "docker_registry_image_name"
                | "docker_registry_image_tag"
                | "is_preview_deployments_enabled"
                | "is_pr_deployments_public_enabled"
                | "preview_url_template",
                _,
            ) => false,
            _ => {
                errors.insert(key.clone(), json!(["This field is not allowed."]));
                continue;
            }
        };
        if !accepted {
            errors.insert(
                key.clone(),
                json!([format!(
                    "The {} field format is invalid.",
                    key.replace('_', " ")
                )]),
            );
        }
    }
    if !errors.is_empty() {
        return reply(
            422,
            &json!({"message": "Validation failed.", "errors": errors}),
        );
    }
    for (key, value) in fields {
        match (key.as_str(), value) {
            ("git_commit_sha", Value::String(sha)) => stored.spec.git_commit_sha.clone_from(sha),
            ("git_branch", Value::String(branch)) => stored.spec.git_branch.clone_from(branch),
            ("is_auto_deploy_enabled", Value::Bool(flag)) => stored.spec.auto_deploy = *flag,
            ("docker_registry_image_name", Value::String(name)) => {
                stored.spec.image_name = Some(name.clone());
            }
            ("docker_registry_image_tag", Value::String(tag)) => {
                stored.spec.image_tag = Some(tag.clone());
            }
            ("is_preview_deployments_enabled", Value::Bool(flag)) => {
                stored.spec.previews_enabled = *flag;
            }
            ("is_pr_deployments_public_enabled", Value::Bool(flag)) => {
                stored.spec.pr_deployments_public = *flag;
            }
            ("preview_url_template", Value::String(template)) => {
                stored.spec.preview_url_template.clone_from(template);
            }
            _ => {}
        }
    }
    let race = if fields.contains_key("git_commit_sha") {
        stored.race.take()
    } else {
        None
    };
    if let Some((commit, also_deploy)) = race {
        stored.spec.git_commit_sha.clone_from(&commit);
        drop(state);
        if also_deploy {
            let new = NewDeployment {
                is_api: true,
                ..NewDeployment::default()
            };
            queue_deployment(shared, app, new);
        }
    }
    reply(200, &json!({ "uuid": app }))
}

pub(crate) fn valid_commit(sha: &str) -> bool {
    let mut characters = sha.chars();
    characters
        .next()
        .is_some_and(|first| first.is_ascii_alphanumeric())
        && characters.all(|character| {
            character.is_ascii_alphanumeric() || matches!(character, '.' | '_' | '-' | '/')
        })
}

fn valid_branch(branch: &str) -> bool {
    !branch.is_empty()
        && branch != "HEAD"
        && !branch.contains("..")
        && !branch.contains("//")
        && !branch.contains("@{")
        && !branch.starts_with(['/', '.'])
        && !branch.ends_with(['/', '.'])
        && branch.chars().all(|character| {
            character.is_ascii_alphanumeric() || matches!(character, '-' | '_' | '/' | '.')
        })
}
