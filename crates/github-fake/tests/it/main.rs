//! Integration tests of github-fake over loopback HTTP.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod deployments;
mod graphql;
mod limits;

use github_fake::FakeGitHub;
use serde_json::Value;

/// An HTTP client (the fake is plain HTTP on loopback).
pub fn http() -> reqwest::Client {
    reqwest::Client::new()
}

/// A full sha made of one digit.
pub fn sha(digit: char) -> String {
    digit.to_string().repeat(40)
}

/// Send `method path` under the fake's API root with its token and `body`; status, headers
/// and JSON body (`Null` when empty).
pub async fn call(
    github: &FakeGitHub,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
) -> (u16, reqwest::header::HeaderMap, Value) {
    let mut request = http()
        .request(method, format!("{}{path}", github.api_url()))
        .bearer_auth(github.token());
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let text = response.text().await.unwrap();
    (
        status,
        headers,
        serde_json::from_str(&text).unwrap_or(Value::Null),
    )
}

/// Create a deployment of `sha` to `environment` the way a careful client does.
pub async fn deploy(github: &FakeGitHub, sha: &str, environment: &str, extra: Value) -> u64 {
    let mut body = serde_json::json!({
        "ref": sha,
        "environment": environment,
        "auto_merge": false,
        "required_contexts": [],
    });
    if let (Some(fields), Value::Object(extra)) = (body.as_object_mut(), extra) {
        fields.extend(extra);
    }
    let (status, _, created) = call(
        github,
        reqwest::Method::POST,
        "/repos/acme/api/deployments",
        Some(body),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    created["id"].as_u64().unwrap()
}

/// Post a status.
pub async fn status(github: &FakeGitHub, id: u64, state: &str, description: &str) -> u16 {
    call(
        github,
        reqwest::Method::POST,
        &format!("/repos/acme/api/deployments/{id}/statuses"),
        Some(serde_json::json!({"state": state, "description": description})),
    )
    .await
    .0
}
