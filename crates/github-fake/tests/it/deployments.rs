//! The REST deployments API: creation rules, lists, statuses, auto_inactive, deletion.

use github_fake::FakeGitHub;
use reqwest::Method;
use serde_json::json;

use crate::{call, deploy, sha, status};

#[tokio::test(start_paused = true)]
async fn creation_refuses_what_github_refuses() {
    let github = FakeGitHub::start().await.unwrap();
    let path = "/repos/acme/api/deployments";
    let (code, _, body) = call(
        &github,
        Method::POST,
        path,
        Some(json!({"ref": sha('a'), "required_contexts": []})),
    )
    .await;
    assert_eq!(code, 409, "auto_merge defaults to true: {body}");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .starts_with("Conflict merging main into")
    );
    let (code, _, body) = call(
        &github,
        Method::POST,
        path,
        Some(json!({"ref": sha('a'), "auto_merge": false})),
    )
    .await;
    assert_eq!(
        code, 409,
        "required_contexts defaults to every context: {body}"
    );
    assert_eq!(body["errors"][0]["field"], "required_contexts");
    let (code, _, body) = call(
        &github,
        Method::POST,
        path,
        Some(json!({"ref": "v1.2.0", "auto_merge": false, "required_contexts": []})),
    )
    .await;
    assert_eq!(
        (code, body["message"].as_str().unwrap()),
        (422, "No ref found for: v1.2.0")
    );
    let (code, _, _) = call(&github, Method::POST, path, Some(json!({"ref": sha('a'), "auto_merge": false, "required_contexts": [], "description": "x".repeat(141)}))).await;
    assert_eq!(code, 422);
    github.set_ref("v1.2.0", sha('b'));
    github.set_status_checks_pending(false);
    let (code, _, body) = call(
        &github,
        Method::POST,
        path,
        Some(json!({"ref": "v1.2.0", "auto_merge": false})),
    )
    .await;
    assert_eq!(code, 201, "{body}");
    assert_eq!(body["sha"], sha('b'));
    assert_eq!(body["environment"], "production");
    assert_eq!(body["production_environment"], true);
    assert_eq!(body["payload"], json!({}));
    let id = deploy(
        &github,
        &sha('c'),
        "staging",
        json!({"payload": "{\"a\": 1}", "transient_environment": true}),
    )
    .await;
    let (_, _, body) = call(&github, Method::GET, &format!("{path}/{id}"), None).await;
    assert_eq!(body["payload"], json!({"a": 1}));
    assert_eq!(body["production_environment"], false);
    assert_eq!(body["transient_environment"], true);
    assert_eq!(body["creator"]["login"], "stagegate-bot");
}

#[tokio::test(start_paused = true)]
async fn lists_are_newest_first_filtered_and_paged() {
    let github = FakeGitHub::start().await.unwrap();
    for index in 0..5 {
        let environment = if index % 2 == 0 {
            "staging"
        } else {
            "production"
        };
        deploy(&github, &sha('a'), environment, json!({})).await;
    }
    deploy(
        &github,
        &sha('b'),
        "staging",
        json!({"task": "deploy:migrations"}),
    )
    .await;
    let (_, _, all) = call(&github, Method::GET, "/repos/acme/api/deployments", None).await;
    let ids: Vec<u64> = all
        .as_array()
        .unwrap()
        .iter()
        .map(|item| item["id"].as_u64().unwrap())
        .collect();
    assert!(ids.windows(2).all(|pair| pair[0] > pair[1]), "{ids:?}");
    let (_, _, staging) = call(
        &github,
        Method::GET,
        &format!(
            "/repos/acme/api/deployments?environment=staging&sha={}",
            sha('a')
        ),
        None,
    )
    .await;
    assert_eq!(staging.as_array().unwrap().len(), 3);
    let (_, _, tasks) = call(
        &github,
        Method::GET,
        "/repos/acme/api/deployments?task=deploy%3Amigrations",
        None,
    )
    .await;
    assert_eq!(tasks.as_array().unwrap().len(), 1);
    let (_, headers, page) = call(
        &github,
        Method::GET,
        "/repos/acme/api/deployments?per_page=4&page=1",
        None,
    )
    .await;
    assert_eq!(page.as_array().unwrap().len(), 4);
    assert!(
        headers["link"]
            .to_str()
            .unwrap()
            .contains("page=2>; rel=\"next\"")
    );
    let (_, headers, page) = call(
        &github,
        Method::GET,
        "/repos/acme/api/deployments?per_page=4&page=2",
        None,
    )
    .await;
    assert_eq!(page.as_array().unwrap().len(), 2);
    assert!(!headers.contains_key("link"));
}

#[tokio::test(start_paused = true)]
async fn a_success_retires_earlier_successful_persistent_deployments_only() {
    let github = FakeGitHub::start().await.unwrap();
    let old_staging = deploy(&github, &sha('a'), "staging", json!({})).await;
    let failed_staging = deploy(&github, &sha('b'), "staging", json!({})).await;
    let old_production = deploy(&github, &sha('a'), "production", json!({})).await;
    let preview = deploy(
        &github,
        &sha('a'),
        "staging",
        json!({"transient_environment": true}),
    )
    .await;
    // The preview succeeds first: a success retires only deployments already successful.
    for (id, state) in [
        (preview, "success"),
        (old_staging, "success"),
        (failed_staging, "failure"),
        (old_production, "success"),
    ] {
        assert_eq!(status(&github, id, state, "").await, 201);
    }
    tokio::time::advance(std::time::Duration::from_secs(90)).await;
    let new_staging = deploy(&github, &sha('c'), "staging", json!({})).await;
    assert_eq!(
        status(&github, new_staging, "success", "verified").await,
        201
    );
    let new_production = deploy(&github, &sha('c'), "production", json!({})).await;
    assert_eq!(
        status(&github, new_production, "success", "verified").await,
        201
    );

    let state_of = |id: u64| {
        github
            .deployments()
            .into_iter()
            .find(|deployment| deployment.id == id)
            .unwrap()
    };
    let retired = state_of(old_staging);
    assert_eq!(retired.state(), "inactive");
    assert_eq!(
        retired.statuses.last().unwrap().created_at,
        "2026-08-01T12:01:30Z"
    );
    assert_eq!(state_of(failed_staging).state(), "failure");
    assert_eq!(
        state_of(old_production).state(),
        "success",
        "production is never retired"
    );
    assert_eq!(
        state_of(preview).state(),
        "success",
        "transient is never retired"
    );
    let (_, _, statuses) = call(
        &github,
        Method::GET,
        &format!("/repos/acme/api/deployments/{old_staging}/statuses"),
        None,
    )
    .await;
    assert_eq!(statuses[0]["state"], "inactive", "newest first");
    assert_eq!(statuses[1]["state"], "success");
    assert_eq!(status(&github, new_staging, "bogus", "").await, 422);
    assert_eq!(status(&github, 999, "success", "").await, 404);
}

#[tokio::test(start_paused = true)]
async fn only_inactive_or_lone_deployments_can_be_deleted() {
    let github = FakeGitHub::start().await.unwrap();
    let first = deploy(&github, &sha('a'), "staging", json!({})).await;
    let second = deploy(&github, &sha('b'), "staging", json!({})).await;
    status(&github, first, "success", "").await;
    let path = |id: u64| format!("/repos/acme/api/deployments/{id}");
    assert_eq!(
        call(&github, Method::DELETE, &path(first), None).await.0,
        422
    );
    status(&github, first, "inactive", "").await;
    assert_eq!(
        call(&github, Method::DELETE, &path(first), None).await.0,
        204
    );
    assert_eq!(
        call(&github, Method::DELETE, &path(second), None).await.0,
        204,
        "alone in its environment"
    );
    assert!(github.deployments().is_empty());
}

#[tokio::test(start_paused = true)]
async fn a_base_path_serves_the_rest_api_like_github_enterprise_server() {
    let github = FakeGitHub::builder()
        .base_path("api/v3/")
        .start()
        .await
        .unwrap();
    assert!(github.api_url().ends_with("/api/v3"));
    assert!(github.graphql_url().ends_with("/api/graphql"));
    deploy(&github, &sha('a'), "staging", json!({})).await;
    let root = crate::http()
        .get(format!(
            "{}/repos/acme/api/deployments",
            github.api_url().trim_end_matches("/api/v3")
        ))
        .bearer_auth(github.token())
        .send()
        .await
        .unwrap();
    assert_eq!(root.status(), 404);
    assert_eq!(
        github.requests()[0].path,
        "/api/v3/repos/acme/api/deployments"
    );
}

#[tokio::test(start_paused = true)]
async fn inserted_deployments_carry_their_statuses() {
    let github = FakeGitHub::start().await.unwrap();
    let id = github.insert_deployment(
        "acme/api",
        "staging",
        &sha('a'),
        json!({"x": 1}),
        &[("in_progress", "started"), ("success", "done")],
    );
    let (_, _, body) = call(
        &github,
        Method::GET,
        &format!("/repos/acme/api/deployments/{id}/statuses"),
        None,
    )
    .await;
    assert_eq!(body[0]["description"], "done");
    assert!(
        github
            .requests()
            .iter()
            .all(|request| !request.method.is_empty())
    );
}
