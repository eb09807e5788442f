//! GitHub's REST deployments API: create, list, get and delete deployments; create and list
//! statuses, with `auto_inactive`.

use std::collections::BTreeMap;
use std::sync::Mutex;

use serde_json::{Value, json};

use crate::server::{
    DOCS, Received, Reply, charge, lock, message, reply, reply_text, set_header, with_limit_headers,
};
use crate::state::{FakeDeployment, FakeStatus, Permission, State};

pub(crate) fn rest_answer(shared: &Mutex<State>, rest: &str, request: &Received) -> Reply {
    let mut state = lock(shared);
    if !charge(&mut state.core) {
        let response = message(
            403,
            "API rate limit exceeded for installation. If you reach out to GitHub Support for help, please include the request ID.",
        );
        return with_limit_headers(response, &state.core, "core");
    }
    let is_write = matches!(request.method.as_str(), "POST" | "DELETE" | "PATCH" | "PUT");
    if is_write && state.over_write_limit() {
        let mut response = message(
            403,
            "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.",
        );
        set_header(&mut response, "retry-after", "60");
        return with_limit_headers(response, &state.core, "core");
    }
    let response = route(&mut state, rest, request);
    with_limit_headers(response, &state.core, "core")
}

fn route(state: &mut State, rest: &str, request: &Received) -> Reply {
    let segments: Vec<&str> = rest.trim_matches('/').split('/').collect();
    let ["repos", owner, name, tail @ ..] = segments.as_slice() else {
        return message(404, "Not Found");
    };
    let repository = format!("{owner}/{name}");
    if !state.repositories.contains(&repository) {
        return message(404, "Not Found");
    }
    let method = request.method.as_str();
    let permitted = match (method, state.permission) {
        (_, Permission::None) => false,
        ("GET", _) => true,
        (_, permission) => permission == Permission::Write,
    };
    if !permitted {
        return message(403, "Resource not accessible by integration");
    }
    match (method, tail) {
        ("POST", ["deployments"]) => create_deployment(state, &repository, request.body.as_ref()),
        ("GET", ["deployments"]) => list_deployments(state, &repository, &request.query),
        ("GET", ["deployments", id]) => match find(state, &repository, id) {
            Some(index) => reply(200, &deployment_json(&state.deployments[index])),
            None => message(404, "Not Found"),
        },
        ("DELETE", ["deployments", id]) => delete_deployment(state, &repository, id),
        ("POST", ["deployments", id, "statuses"]) => {
            create_status(state, &repository, id, request.body.as_ref())
        }
        ("GET", ["deployments", id, "statuses"]) => {
            list_statuses(state, &repository, id, &request.query)
        }
        _ => message(404, "Not Found"),
    }
}

fn find(state: &State, repository: &str, id: &str) -> Option<usize> {
    let id: u64 = id.parse().ok()?;
    state
        .deployments
        .iter()
        .position(|deployment| deployment.id == id && deployment.repository == repository)
}

fn validation(field: &str, text: &str) -> Reply {
    reply(
        422,
        &json!({
            "message": "Validation Failed",
            "errors": [{"resource": "Deployment", "code": "custom", "field": field, "message": text}],
            "documentation_url": DOCS,
            "status": "422",
        }),
    )
}

/// The `description` of a body, refused with GitHub's 422 past 140 characters.
fn description_of(body: &Value) -> Result<String, Box<Reply>> {
    let description = body
        .get("description")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    if description.chars().count() > 140 {
        return Err(Box::new(validation(
            "description",
            "description is too long (maximum is 140 characters)",
        )));
    }
    Ok(description)
}

fn is_full_sha(text: &str) -> bool {
    text.len() == 40 && text.chars().all(|character| character.is_ascii_hexdigit())
}

fn create_deployment(state: &mut State, repository: &str, body: Option<&Value>) -> Reply {
    let Some(body) = body.filter(|body| body.is_object()) else {
        return message(400, "Problems parsing JSON");
    };
    let Some(reference) = body.get("ref").and_then(Value::as_str) else {
        return message(422, "Invalid request.\n\n\"ref\" wasn't supplied.");
    };
    let sha = if is_full_sha(reference) {
        reference.to_ascii_lowercase()
    } else if let Some(sha) = state.refs.get(reference) {
        sha.clone()
    } else {
        return message(422, &format!("No ref found for: {reference}"));
    };
    let auto_merge = body
        .get("auto_merge")
        .and_then(Value::as_bool)
        .unwrap_or(true);
    if auto_merge && reference != state.default_branch {
        return message(
            409,
            &format!(
                "Conflict merging {} into {reference}.",
                state.default_branch
            ),
        );
    }
    if body.get("required_contexts").is_none() && state.status_checks_pending {
        return reply(
            409,
            &json!({
                "message": format!("Conflict: Commit status checks failed for {reference}."),
                "errors": [{"contexts": [{"context": "ci", "state": "pending"}], "resource": "Deployment", "field": "required_contexts", "code": "invalid"}],
                "documentation_url": DOCS,
                "status": "409",
            }),
        );
    }
    let description = match description_of(body) {
        Ok(description) => description,
        Err(refused) => return *refused,
    };
    let payload = match body.get("payload") {
        None | Some(Value::Null) => json!({}),
        Some(Value::String(text)) => {
            serde_json::from_str(text).unwrap_or(Value::String(text.clone()))
        }
        Some(other) => other.clone(),
    };
    let environment = body
        .get("environment")
        .and_then(Value::as_str)
        .unwrap_or("production")
        .to_owned();
    let production = body
        .get("production_environment")
        .and_then(Value::as_bool)
        .unwrap_or(environment == "production");
    let transient = body
        .get("transient_environment")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let task = body
        .get("task")
        .and_then(Value::as_str)
        .unwrap_or("deploy")
        .to_owned();
    let id = state.fresh_id();
    let deployment = FakeDeployment {
        id,
        repository: repository.to_owned(),
        sha,
        r#ref: reference.to_owned(),
        task,
        environment,
        description,
        payload,
        production,
        transient,
        creator: state.login.clone(),
        created_at: state.timestamp(),
        statuses: Vec::new(),
    };
    let answer = deployment_json(&deployment);
    state.deployments.push(deployment);
    reply(201, &answer)
}

const STATES: [&str; 7] = [
    "error",
    "failure",
    "inactive",
    "in_progress",
    "queued",
    "pending",
    "success",
];

fn create_status(state: &mut State, repository: &str, id: &str, body: Option<&Value>) -> Reply {
    let Some(index) = find(state, repository, id) else {
        return message(404, "Not Found");
    };
    let Some(body) = body.filter(|body| body.is_object()) else {
        return message(400, "Problems parsing JSON");
    };
    let Some(status_state) = body
        .get("state")
        .and_then(Value::as_str)
        .filter(|value| STATES.contains(value))
    else {
        return validation("state", "state is not included in the list");
    };
    let description = match description_of(body) {
        Ok(description) => description,
        Err(refused) => return *refused,
    };
    let text = |field: &str| body.get(field).and_then(Value::as_str).map(str::to_owned);
    let auto_inactive = body
        .get("auto_inactive")
        .and_then(Value::as_bool)
        .unwrap_or(true);
    let status_id = state.fresh_id();
    let now = state.timestamp();
    let status = FakeStatus {
        id: status_id,
        state: status_state.to_owned(),
        description,
        environment_url: text("environment_url"),
        log_url: text("log_url").or_else(|| text("target_url")),
        creator: state.login.clone(),
        created_at: now.clone(),
    };
    let (deployment_id, environment) = {
        let deployment = &mut state.deployments[index];
        deployment.statuses.push(status.clone());
        (deployment.id, deployment.environment.clone())
    };
    if status_state == "success" && auto_inactive {
        // GitHub: an inactive status for every earlier successful deployment of the same
        // environment that is neither transient nor production.
        let login = state.login.clone();
        let mut ids = Vec::new();
        for other in &state.deployments {
            if other.repository == repository
                && other.environment == environment
                && other.id < deployment_id
                && !other.transient
                && !other.production
                && other.state() == "success"
            {
                ids.push(other.id);
            }
        }
        for other_id in ids {
            let fresh = state.fresh_id();
            if let Some(other) = state
                .deployments
                .iter_mut()
                .find(|other| other.id == other_id)
            {
                other.statuses.push(FakeStatus {
                    id: fresh,
                    state: "inactive".to_owned(),
                    description: String::new(),
                    environment_url: None,
                    log_url: None,
                    creator: login.clone(),
                    created_at: now.clone(),
                });
            }
        }
    }
    reply(201, &status_json(&state.deployments[index], &status))
}

fn delete_deployment(state: &mut State, repository: &str, id: &str) -> Reply {
    let Some(index) = find(state, repository, id) else {
        return message(404, "Not Found");
    };
    let deployment = &state.deployments[index];
    let alone = state
        .deployments
        .iter()
        .filter(|other| {
            other.repository == repository && other.environment == deployment.environment
        })
        .count()
        == 1;
    if deployment.state() != "inactive" && !alone {
        return message(
            422,
            "We cannot delete an active deployment unless it is the only deployment in a given environment.",
        );
    }
    state.deployments.remove(index);
    reply_text(204, "application/json; charset=utf-8", String::new())
}

/// `per_page` (default 30, at most 100) and `page` (from 1).
fn paging(query: &BTreeMap<String, String>) -> (usize, usize) {
    let per_page = query
        .get("per_page")
        .and_then(|value| value.parse().ok())
        .unwrap_or(30usize)
        .clamp(1, 100);
    let page = query
        .get("page")
        .and_then(|value| value.parse().ok())
        .unwrap_or(1usize)
        .max(1);
    (per_page, page)
}

fn paged(items: Vec<Value>, per_page: usize, page: usize) -> Reply {
    let total = items.len();
    let pages = total.div_ceil(per_page).max(1);
    let slice: Vec<Value> = items
        .into_iter()
        .skip((page - 1) * per_page)
        .take(per_page)
        .collect();
    let mut response = reply(200, &Value::Array(slice));
    if page < pages {
        set_header(
            &mut response,
            "link",
            &format!(
                "<?per_page={per_page}&page={}>; rel=\"next\", <?per_page={per_page}&page={pages}>; rel=\"last\"",
                page + 1
            ),
        );
    }
    response
}

fn list_deployments(state: &State, repository: &str, query: &BTreeMap<String, String>) -> Reply {
    let wanted = |key: &str| query.get(key).filter(|value| !value.is_empty());
    let items: Vec<Value> = state
        .deployments
        .iter()
        .rev()
        .filter(|deployment| {
            deployment.repository == repository
                && wanted("sha").is_none_or(|sha| sha.eq_ignore_ascii_case(&deployment.sha))
                && wanted("ref").is_none_or(|reference| *reference == deployment.r#ref)
                && wanted("task").is_none_or(|task| *task == deployment.task)
                && wanted("environment")
                    .is_none_or(|environment| *environment == deployment.environment)
        })
        .map(deployment_json)
        .collect();
    let (per_page, page) = paging(query);
    paged(items, per_page, page)
}

fn list_statuses(
    state: &State,
    repository: &str,
    id: &str,
    query: &BTreeMap<String, String>,
) -> Reply {
    let Some(index) = find(state, repository, id) else {
        return message(404, "Not Found");
    };
    let deployment = &state.deployments[index];
    let items: Vec<Value> = deployment
        .statuses
        .iter()
        .rev()
        .map(|status| status_json(deployment, status))
        .collect();
    let (per_page, page) = paging(query);
    paged(items, per_page, page)
}

fn user_json(login: &str) -> Value {
    json!({"login": login, "id": 1, "type": if login.ends_with("[bot]") { "Bot" } else { "User" }})
}

pub(crate) fn deployment_json(deployment: &FakeDeployment) -> Value {
    let base = format!("https://api.github.invalid/repos/{}", deployment.repository);
    json!({
        "url": format!("{base}/deployments/{}", deployment.id),
        "id": deployment.id,
        "node_id": deployment.node_id(),
        "sha": deployment.sha,
        "ref": deployment.r#ref,
        "task": deployment.task,
        "payload": deployment.payload,
        "original_environment": deployment.environment,
        "environment": deployment.environment,
        "description": deployment.description,
        "creator": user_json(&deployment.creator),
        "created_at": deployment.created_at,
        "updated_at": deployment.statuses.last().map_or(&deployment.created_at, |status| &status.created_at),
        "statuses_url": format!("{base}/deployments/{}/statuses", deployment.id),
        "repository_url": base,
        "transient_environment": deployment.transient,
        "production_environment": deployment.production,
        "performed_via_github_app": Value::Null,
    })
}

fn status_json(deployment: &FakeDeployment, status: &FakeStatus) -> Value {
    let base = format!("https://api.github.invalid/repos/{}", deployment.repository);
    json!({
        "url": format!("{base}/deployments/{}/statuses/{}", deployment.id, status.id),
        "id": status.id,
        "node_id": format!("DES_fake{}", status.id),
        "state": status.state,
        "creator": user_json(&status.creator),
        "description": status.description,
        "environment": deployment.environment,
        "target_url": status.log_url.clone().unwrap_or_default(),
        "log_url": status.log_url.clone().unwrap_or_default(),
        "environment_url": status.environment_url.clone().unwrap_or_default(),
        "created_at": status.created_at,
        "updated_at": status.created_at,
        "deployment_url": format!("{base}/deployments/{}", deployment.id),
        "repository_url": base,
        "performed_via_github_app": Value::Null,
    })
}
