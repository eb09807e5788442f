//! Coolify's JSON: the answers' shapes, and the objects as Coolify serialises them.

use http_body_util::Full;
use hyper::body::Bytes;
use hyper::{Response, StatusCode};
use serde_json::{Value, json};

use crate::state::{FakeApplication, State, StoredDeployment};

/// An answer of the fake.
pub(crate) type Reply = Response<Full<Bytes>>;

pub(crate) fn reply(status: u16, body: &Value) -> Reply {
    let mut response = Response::new(Full::new(Bytes::from(body.to_string())));
    *response.status_mut() =
        StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    response.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("application/json"),
    );
    response
}

pub(crate) fn reply_text(status: u16, content_type: &'static str, body: String) -> Reply {
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() =
        StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    response.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static(content_type),
    );
    response
}

pub(crate) fn message(status: u16, text: &str) -> Reply {
    reply(status, &json!({ "message": text }))
}

/// The projects the applications name, each with its environments, sorted.
pub(crate) fn projects(state: &State) -> Vec<(String, Vec<String>)> {
    let mut projects: std::collections::BTreeMap<String, std::collections::BTreeSet<String>> =
        std::collections::BTreeMap::new();
    for stored in state.applications.values() {
        projects
            .entry(stored.spec.project.clone())
            .or_default()
            .insert(stored.spec.environment.clone());
    }
    projects
        .into_iter()
        .map(|(name, environments)| (name, environments.into_iter().collect()))
        .collect()
}

/// A stable uuid-like id for a project name.
pub(crate) fn project_uuid(name: &str) -> String {
    let slug: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    format!("project-{slug}")
}

/// A stable numeric id for an environment of a project.
pub(crate) fn environment_id(project: &str, environment: &str) -> u64 {
    // FNV-1a: stable across runs and platforms, unlike the std hasher.
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in project.bytes().chain([0]).chain(environment.bytes()) {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    hash % 1_000_000
}

pub(crate) fn application_json(spec: &FakeApplication, sensitive: bool) -> Value {
    let mut body = json!({
        "uuid": spec.uuid,
        "name": spec.name,
        "description": null,
        "fqdn": spec.fqdn,
        "health_check_enabled": spec.health_check_path.is_some(),
        "health_check_path": spec.health_check_path.as_deref().unwrap_or("/"),
        "environment_id": environment_id(&spec.project, &spec.environment),
        "git_repository": spec.git_repository,
        "git_branch": spec.git_branch,
        "git_commit_sha": spec.git_commit_sha,
        "git_full_url": null,
        "build_pack": spec.build_pack,
        "ports_exposes": "3000",
        "status": spec.status,
        "watch_paths": null,
        "docker_registry_image_name": spec.image_name,
        "docker_registry_image_tag": spec.image_tag,
        "preview_url_template": spec.preview_url_template,
        "settings": {
            "is_auto_deploy_enabled": spec.auto_deploy,
            "is_git_shallow_clone_enabled": true,
            "is_static": false,
            "is_preview_deployments_enabled": spec.previews_enabled,
            "is_pr_deployments_public_enabled": spec.pr_deployments_public,
        },
        "created_at": "2026-08-01T12:00:00.000000Z",
        "updated_at": "2026-08-01T12:00:00.000000Z",
    });
    if sensitive && let Some(fields) = body.as_object_mut() {
        fields.insert(
            "manual_webhook_secret_github".to_owned(),
            json!("fake-webhook-secret"),
        );
        fields.insert("dockerfile".to_owned(), Value::Null);
    }
    body
}

pub(crate) fn deployment_json(state: &State, deployment: &StoredDeployment) -> Value {
    let name = state.applications.get(&deployment.application).map_or_else(
        || deployment.application.clone(),
        |stored| stored.spec.name.clone(),
    );
    let mut body = json!({
        "id": deployment.id,
        "application_id": "1",
        "deployment_uuid": deployment.uuid,
        "pull_request_id": deployment.pull_request_id,
        "docker_registry_image_tag": deployment.docker_tag,
        "force_rebuild": deployment.force_rebuild,
        "commit": deployment.commit,
        "commit_message": null,
        "status": deployment.status.as_str(),
        "is_webhook": deployment.is_webhook,
        "is_api": deployment.is_api,
        "restart_only": deployment.restart_only,
        "rollback": false,
        "only_this_server": false,
        "git_type": deployment.git_type,
        "server_id": 0,
        "build_server_id": null,
        "server_name": "localhost",
        "application_name": name,
        "deployment_url": format!("/project/p/environment/e/application/{}/deployment/{}", deployment.application, deployment.uuid),
        "destination_id": "0",
        "current_process_id": null,
        "horizon_job_id": null,
        "horizon_job_worker": null,
        "configuration_hash": null,
        "finished_at": deployment.finished_at,
        "created_at": deployment.created_at,
        "updated_at": deployment.updated_at,
    });
    if state.can_read_sensitive()
        && let Some(fields) = body.as_object_mut()
    {
        let lines: Vec<Value> = deployment
            .logs
            .iter()
            .cloned()
            .chain([format!("status {}", deployment.status)])
            .enumerate()
            .map(|(order, output)| json!({"command": null, "output": output, "type": "stdout", "timestamp": deployment.updated_at, "hidden": false, "batch": 1, "order": order + 1}))
            .collect();
        let logs = Value::Array(lines);
        fields.insert("logs".to_owned(), Value::String(logs.to_string()));
    }
    body
}
