//! Retry rules: GETs retry transient failures, a deploy POST is sent exactly once unless 429.

use std::time::{Duration, Instant};

use coolify_client::{Error, ForceRebuild, RetryPolicy};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::calls::{Call, app, client_with, quick_retries};

fn rate_limited(seconds: u64) -> ResponseTemplate {
    ResponseTemplate::new(429)
        .insert_header("retry-after", seconds.to_string().as_str())
        .set_body_json(serde_json::json!({"message": "Too Many Attempts."}))
}

async fn mount_then(
    server: &MockServer,
    call: Call,
    first: ResponseTemplate,
    first_times: u64,
    then_times: u64,
) {
    Mock::given(method(call.method()))
        .and(path(call.path()))
        .respond_with(first)
        .up_to_n_times(first_times)
        .expect(first_times)
        .with_priority(1)
        .mount(server)
        .await;
    Mock::given(method(call.method()))
        .and(path(call.path()))
        .respond_with(call.success())
        .expect(then_times)
        .with_priority(2)
        .mount(server)
        .await;
}

#[tokio::test]
async fn a_get_is_retried_after_a_5xx_then_succeeds() {
    let server = MockServer::start().await;
    let html = ResponseTemplate::new(503).set_body_string("<html>maintenance</html>");
    mount_then(&server, Call::Deployment, html, 2, 1).await;
    let client = client_with(&server.uri(), quick_retries(), Duration::from_secs(10));
    Call::Deployment.run(&client).await.unwrap();
    server.verify().await;
}

#[tokio::test]
async fn a_get_is_retried_after_a_timeout_then_succeeds() {
    let server = MockServer::start().await;
    let slow = Call::Application
        .success()
        .set_delay(Duration::from_secs(5));
    mount_then(&server, Call::Application, slow, 1, 1).await;
    let client = client_with(&server.uri(), quick_retries(), Duration::from_millis(300));
    Call::Application.run(&client).await.unwrap();
    server.verify().await;
}

#[tokio::test]
async fn retry_after_is_honoured_on_a_get() {
    let server = MockServer::start().await;
    mount_then(&server, Call::Deployments, rate_limited(1), 1, 1).await;
    let client = client_with(&server.uri(), quick_retries(), Duration::from_secs(10));
    let started = Instant::now();
    Call::Deployments.run(&client).await.unwrap();
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "retried after {:?}",
        started.elapsed()
    );
    server.verify().await;
}

#[tokio::test]
async fn a_deploy_post_is_retried_only_after_a_429() {
    let server = MockServer::start().await;
    mount_then(&server, Call::Deploy, rate_limited(1), 1, 1).await;
    let client = client_with(&server.uri(), quick_retries(), Duration::from_secs(10));
    let started = Instant::now();
    Call::Deploy.run(&client).await.unwrap();
    assert!(started.elapsed() >= Duration::from_secs(1));
    server.verify().await;
}

#[tokio::test]
async fn a_deploy_post_is_sent_exactly_once_on_5xx() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/v1/deploy"))
        .respond_with(
            ResponseTemplate::new(500)
                .set_body_json(serde_json::json!({"message": "Server Error"})),
        )
        .expect(1)
        .mount(&server)
        .await;
    let client = client_with(&server.uri(), quick_retries(), Duration::from_secs(10));
    let error = client.deploy(&app(), ForceRebuild::No).await.unwrap_err();
    assert!(matches!(error, Error::Api { status: 500, .. }), "{error:?}");
    server.verify().await;
}

#[tokio::test]
async fn a_retry_after_past_the_deadline_gives_up_at_once() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(Call::Version.path()))
        .respond_with(rate_limited(3600))
        .expect(1)
        .mount(&server)
        .await;
    let policy = quick_retries().deadline(Duration::from_secs(30));
    let client = client_with(&server.uri(), policy, Duration::from_secs(10));
    let error = client.version().await.unwrap_err();
    assert_eq!(error.retry_after(), Some(Duration::from_secs(3600)));
    assert!(error.to_string().contains("rate limited"), "{error}");
    server.verify().await;
}

#[tokio::test]
async fn retries_stop_after_max_retries() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(Call::Version.path()))
        .respond_with(
            ResponseTemplate::new(500).set_body_json(serde_json::json!({"message": "boom"})),
        )
        .expect(4)
        .mount(&server)
        .await;
    let policy = RetryPolicy::default()
        .max_retries(3)
        .min_delay(Duration::from_millis(5))
        .max_delay(Duration::from_millis(10));
    let client = client_with(&server.uri(), policy, Duration::from_secs(10));
    assert!(client.version().await.is_err());
    server.verify().await;
}
