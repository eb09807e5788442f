//! The token, the permission, rate limits, faults and the request log.

use std::time::Duration;

use github_fake::{FakeGitHub, Fault, FaultRule, Permission};
use reqwest::Method;
use serde_json::json;

use crate::{call, deploy, http, sha};

#[tokio::test(start_paused = true)]
async fn a_wrong_token_gets_bad_credentials() {
    let github = FakeGitHub::builder()
        .token("ghs_mine")
        .start()
        .await
        .unwrap();
    let response = http()
        .get(format!("{}/repos/acme/api/deployments", github.api_url()))
        .bearer_auth("ghs_other")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["message"], "Bad credentials");
    let (code, _, _) = call(&github, Method::GET, "/repos/acme/other/deployments", None).await;
    assert_eq!(code, 404, "a repository the fake does not serve");
}

#[tokio::test(start_paused = true)]
async fn the_permission_decides_what_the_token_may_do() {
    let github = FakeGitHub::start().await.unwrap();
    github.set_permission(Permission::Read);
    let body = json!({"ref": sha('a'), "auto_merge": false, "required_contexts": []});
    let (code, _, answer) = call(
        &github,
        Method::POST,
        "/repos/acme/api/deployments",
        Some(body.clone()),
    )
    .await;
    assert_eq!(
        (code, answer["message"].as_str().unwrap()),
        (403, "Resource not accessible by integration")
    );
    assert_eq!(
        call(&github, Method::GET, "/repos/acme/api/deployments", None)
            .await
            .0,
        200
    );
    github.set_permission(Permission::None);
    assert_eq!(
        call(&github, Method::GET, "/repos/acme/api/deployments", None)
            .await
            .0,
        403
    );
    github.set_permission(Permission::Write);
    assert_eq!(
        call(
            &github,
            Method::POST,
            "/repos/acme/api/deployments",
            Some(body)
        )
        .await
        .0,
        201
    );
}

#[tokio::test(start_paused = true)]
async fn the_primary_budget_is_counted_in_headers_and_refuses_when_spent() {
    let github = FakeGitHub::start().await.unwrap();
    github.set_rate_limit(2);
    let (code, headers, _) = call(&github, Method::GET, "/repos/acme/api/deployments", None).await;
    assert_eq!(code, 200);
    assert_eq!(headers["x-ratelimit-limit"], "2");
    assert_eq!(headers["x-ratelimit-remaining"], "1");
    assert_eq!(headers["x-ratelimit-resource"], "core");
    call(&github, Method::GET, "/repos/acme/api/deployments", None).await;
    let (code, headers, body) =
        call(&github, Method::GET, "/repos/acme/api/deployments", None).await;
    assert_eq!(code, 403);
    assert_eq!(headers["x-ratelimit-remaining"], "0");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .starts_with("API rate limit exceeded")
    );
    tokio::time::advance(Duration::from_secs(3600)).await;
    assert_eq!(
        call(&github, Method::GET, "/repos/acme/api/deployments", None)
            .await
            .0,
        200
    );
}

#[tokio::test(start_paused = true)]
async fn bursts_of_writes_meet_the_secondary_limit() {
    let github = FakeGitHub::start().await.unwrap();
    github.limit_writes_per_minute(Some(2));
    deploy(&github, &sha('a'), "staging", json!({})).await;
    deploy(&github, &sha('a'), "staging", json!({})).await;
    let body = json!({"ref": sha('a'), "auto_merge": false, "required_contexts": []});
    let (code, headers, answer) = call(
        &github,
        Method::POST,
        "/repos/acme/api/deployments",
        Some(body),
    )
    .await;
    assert_eq!(code, 403);
    assert_eq!(headers["retry-after"], "60");
    assert!(
        answer["message"]
            .as_str()
            .unwrap()
            .contains("secondary rate limit")
    );
    assert_eq!(
        call(&github, Method::GET, "/repos/acme/api/deployments", None)
            .await
            .0,
        200,
        "reads are not limited"
    );
    tokio::time::advance(Duration::from_secs(60)).await;
    deploy(&github, &sha('a'), "staging", json!({})).await;
}

#[tokio::test(start_paused = true)]
async fn faults_answer_instead_and_run_out() {
    let github = FakeGitHub::start().await.unwrap();
    github.fail(
        FaultRule::on_path(
            "/deployments",
            Fault::SecondaryRateLimit {
                retry_after: Some(Duration::from_secs(7)),
            },
        )
        .method("GET")
        .times(1),
    );
    let (code, headers, _) = call(&github, Method::GET, "/repos/acme/api/deployments", None).await;
    assert_eq!((code, headers["retry-after"].to_str().unwrap()), (403, "7"));
    assert_eq!(
        call(&github, Method::GET, "/repos/acme/api/deployments", None)
            .await
            .0,
        200
    );
    github.fail(FaultRule::always(Fault::CloseConnection).times(1));
    let dropped = http()
        .get(format!("{}/repos/acme/api/deployments", github.api_url()))
        .bearer_auth(github.token())
        .send()
        .await;
    assert!(dropped.is_err());
    github.fail(FaultRule::always(Fault::EchoingProxyError));
    let echoed = http()
        .get(format!("{}/repos/acme/api/deployments", github.api_url()))
        .bearer_auth(github.token())
        .send()
        .await
        .unwrap();
    assert_eq!(echoed.status(), 502);
    assert!(echoed.text().await.unwrap().contains(&github.token()));
    github.clear_faults();
    github.fail(
        FaultRule::always(Fault::CloseAfterHandling)
            .method("POST")
            .times(1),
    );
    let body = json!({"ref": sha('a'), "auto_merge": false, "required_contexts": []});
    let lost = http()
        .post(format!("{}/repos/acme/api/deployments", github.api_url()))
        .bearer_auth(github.token())
        .json(&body)
        .send()
        .await;
    assert!(lost.is_err());
    assert_eq!(
        github.deployments().len(),
        1,
        "handled, then the answer was lost"
    );
}

#[tokio::test(start_paused = true)]
async fn every_request_is_logged_with_its_headers() {
    let github = FakeGitHub::start().await.unwrap();
    http()
        .get(format!(
            "{}/repos/acme/api/deployments?per_page=5",
            github.api_url()
        ))
        .bearer_auth(github.token())
        .header("accept", "application/vnd.github+json")
        .header("x-github-api-version", "2022-11-28")
        .send()
        .await
        .unwrap();
    let request = &github.requests()[0];
    assert_eq!(request.method, "GET");
    assert_eq!(request.query.as_deref(), Some("per_page=5"));
    assert_eq!(
        request.accept.as_deref(),
        Some("application/vnd.github+json")
    );
    assert_eq!(request.api_version.as_deref(), Some("2022-11-28"));
    assert!(!request.graphql);
    github.clear_requests();
    assert!(github.requests().is_empty());
}
