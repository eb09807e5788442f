//! Environment variables: Coolify's create, update and bulk upsert, with preview copies.

use std::sync::Mutex;

use coolify_client::EnvVarInput;
use hyper::StatusCode;
use serde_json::{Value, json};

use crate::server::lock;
use crate::state::{State, StoredEnv};
use crate::wire::{Reply, message, reply};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum EnvWrite {
    Create,
    Update,
    Upsert,
}

fn valid_key(key: &str) -> bool {
    let mut characters = key.chars();
    characters
        .next()
        .is_some_and(|first| first.is_ascii_alphabetic() || first == '_')
        && characters
            .all(|character| character.is_ascii_alphanumeric() || matches!(character, '_' | '.'))
        && key.len() <= 255
}

pub(crate) fn write_env(
    shared: &Mutex<State>,
    app: &str,
    body: Option<&Value>,
    mode: EnvWrite,
) -> Reply {
    let mut state = lock(shared);
    if !state.applications.contains_key(app) {
        return message(404, "Application not found.");
    }
    let Some(item) = body.filter(|body| body.is_object()) else {
        return reply(
            400,
            &json!({"message": "Invalid request.", "error": "Invalid JSON."}),
        );
    };
    upsert_env(&mut state, app, item, mode)
}

pub(crate) fn bulk_envs(shared: &Mutex<State>, app: &str, body: Option<&Value>) -> Reply {
    let mut state = lock(shared);
    if !state.applications.contains_key(app) {
        return message(404, "Application not found.");
    }
    let Some(Value::Array(items)) = body.and_then(|body| body.get("data")) else {
        return message(400, "Bulk data is required.");
    };
    let mut saved = Vec::new();
    for item in items {
        let response = upsert_env(&mut state, app, item, EnvWrite::Upsert);
        if response.status() != StatusCode::CREATED {
            return response;
        }
        let key = item.get("key").and_then(Value::as_str).unwrap_or_default();
        let preview = item
            .get("is_preview")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        if let Some(stored) = state.envs.get(app).and_then(|list| {
            list.iter()
                .find(|variable| variable.key == key && variable.is_preview == preview)
        }) {
            saved.push(env_json(stored, state.can_read_sensitive()));
        }
    }
    reply(201, &Value::Array(saved))
}

/// Create, update or upsert one variable with Coolify's semantics; answers 201 on success.
pub(crate) fn upsert_env(state: &mut State, app: &str, item: &Value, mode: EnvWrite) -> Reply {
    let allowed = [
        "key",
        "value",
        "is_preview",
        "is_literal",
        "is_multiline",
        "is_shown_once",
        "is_runtime",
        "is_buildtime",
        "comment",
    ];
    if let Some(fields) = item.as_object()
        && let Some(unknown) = fields.keys().find(|key| !allowed.contains(&key.as_str()))
    {
        return reply(
            422,
            &json!({"message": "Validation failed.", "errors": {unknown: "This field is not allowed."}}),
        );
    }
    let key = item
        .get("key")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .trim()
        .replace(' ', "_");
    if !valid_key(&key) {
        return reply(
            422,
            &json!({"message": "Validation failed.", "errors": {"key": ["The key field format is invalid."]}}),
        );
    }
    let flag = |name: &str| item.get(name).and_then(Value::as_bool);
    let value = item
        .get("value")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let is_preview = flag("is_preview").unwrap_or(false);
    let comment = item
        .get("comment")
        .and_then(Value::as_str)
        .map(str::to_owned);
    let sensitive = state.can_read_sensitive();
    let exists = state.envs.get(app).is_some_and(|list| {
        list.iter()
            .any(|variable| variable.key == key && variable.is_preview == is_preview)
    });
    match (mode, exists) {
        (EnvWrite::Create, true) => {
            return message(
                409,
                "Environment variable already exists. Use PATCH request to update it.",
            );
        }
        (EnvWrite::Update, false) => return message(404, "Environment variable not found."),
        (_, true) => {
            let list = state.envs.entry(app.to_owned()).or_default();
            if let Some(variable) = list
                .iter_mut()
                .find(|variable| variable.key == key && variable.is_preview == is_preview)
            {
                variable.value = value;
                variable.is_literal = flag("is_literal").unwrap_or(false);
                variable.is_multiline = flag("is_multiline").unwrap_or(false);
                variable.is_shown_once = flag("is_shown_once").unwrap_or(false);
                if let Some(runtime) = flag("is_runtime") {
                    variable.is_runtime = runtime;
                }
                if let Some(buildtime) = flag("is_buildtime") {
                    variable.is_buildtime = buildtime;
                }
                if comment.is_some() {
                    variable.comment = comment;
                }
                let updated = env_json(variable, sensitive);
                return reply(201, &updated);
            }
            return message(404, "Environment variable not found.");
        }
        (_, false) => {}
    }
    let mut created = Vec::new();
    for preview in [is_preview, true] {
        let already = state.envs.get(app).is_some_and(|list| {
            list.iter()
                .any(|variable| variable.key == key && variable.is_preview == preview)
        });
        if already || (preview && created.len() == 1 && is_preview) {
            continue;
        }
        let (id, uuid) = state.fresh("");
        created.push(uuid.clone());
        state
            .envs
            .entry(app.to_owned())
            .or_default()
            .push(StoredEnv {
                id,
                uuid,
                key: key.clone(),
                value: value.clone(),
                is_preview: preview,
                is_literal: flag("is_literal").unwrap_or(false),
                is_multiline: flag("is_multiline").unwrap_or(false),
                is_shown_once: flag("is_shown_once").unwrap_or(false),
                is_runtime: flag("is_runtime").unwrap_or(true),
                is_buildtime: flag("is_buildtime").unwrap_or(true),
                comment: comment.clone(),
            });
    }
    reply(201, &json!({ "uuid": created.first() }))
}

pub(crate) fn env_input_json(variable: &EnvVarInput) -> Value {
    serde_json::to_value(variable).unwrap_or(Value::Null)
}

fn env_json(variable: &StoredEnv, sensitive: bool) -> Value {
    let mut body = json!({
        "uuid": variable.uuid,
        "key": variable.key,
        "is_preview": variable.is_preview,
        "is_literal": variable.is_literal,
        "is_multiline": variable.is_multiline,
        "is_shown_once": variable.is_shown_once,
        "is_runtime": variable.is_runtime,
        "is_buildtime": variable.is_buildtime,
        "is_shared": false,
        "is_really_required": false,
        "is_buildpack_control": variable.key.starts_with("NIXPACKS_") || variable.key.starts_with("RAILPACK_"),
        "is_coolify": variable.key.starts_with("SERVICE_"),
        "comment": variable.comment,
        "version": "4.3.11",
        "created_at": "2026-08-01T12:00:00.000000Z",
        "updated_at": "2026-08-01T12:00:00.000000Z",
    });
    if sensitive
        && !variable.is_shown_once
        && let Some(fields) = body.as_object_mut()
    {
        fields.insert("value".to_owned(), json!(variable.value));
        fields.insert("real_value".to_owned(), json!(variable.value));
    }
    body
}

pub(crate) fn envs_json(state: &State, app: &str, sensitive: bool) -> Value {
    let list = state.envs.get(app).map(Vec::as_slice).unwrap_or_default();
    let mut ordered: Vec<&StoredEnv> = list.iter().collect();
    ordered.sort_by_key(|variable| (variable.is_preview, variable.id));
    Value::Array(
        ordered
            .into_iter()
            .map(|variable| env_json(variable, sensitive))
            .collect(),
    )
}

/// `DELETE /applications/{uuid}/envs/{env_uuid}`: a hard delete.
pub(crate) fn delete_env(shared: &Mutex<State>, app: &str, env: &str) -> Reply {
    let mut state = lock(shared);
    if !state.applications.contains_key(app) {
        return message(404, "Application not found.");
    }
    let list = state.envs.entry(app.to_owned()).or_default();
    let before = list.len();
    list.retain(|variable| variable.uuid != env);
    if list.len() < before {
        message(200, "Environment variable deleted.")
    } else {
        message(404, "Environment variable not found.")
    }
}
