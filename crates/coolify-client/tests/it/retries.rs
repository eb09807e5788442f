//! Retry rules: GETs retry transient failures, a deploy POST is sent exactly once unless 429.
//!
//! Waits (timeouts, `Retry-After`) run on tokio's paused clock against a scripted server on the
//! test's own runtime; wiremock serves the answers whose timing does not matter.

use std::time::Duration;

use coolify_client::{Error, ForceRebuild, RetryPolicy};
use tokio::time::Instant;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::calls::{Call, app, client_with, quick_retries};
use crate::server::{Reply, ScriptedServer};

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

/// A scripted loopback server on the test's runtime: `first` for the first request of
/// `call`, its success after that.
async fn scripted(call: Call, first: Reply) -> ScriptedServer {
    let (status, body) = call.success_body();
    ScriptedServer::start(vec![first, Reply::json(status, &body)]).await
}

fn rate_limited_for(seconds: u64) -> Reply {
    Reply::json(429, &serde_json::json!({"message": "Too Many Attempts."}))
        .header("Retry-After", &seconds.to_string())
}

#[tokio::test(start_paused = true)]
async fn a_get_is_retried_after_a_timeout_then_succeeds() {
    let (status, body) = Call::Application.success_body();
    let slow = Reply::json(status, &body).delayed(Duration::from_secs(5));
    let server = scripted(Call::Application, slow).await;
    let client = client_with(&server.uri(), quick_retries(), Duration::from_millis(300));
    let started = Instant::now();
    Call::Application.run(&client).await.unwrap();
    // The first request timed out at 300 ms, the retry came 10 to 20 ms later and was answered
    // at once: the client did not wait for the slow answer.
    let elapsed = started.elapsed();
    assert!(
        elapsed >= Duration::from_millis(310) && elapsed <= Duration::from_millis(320),
        "succeeded after {elapsed:?}"
    );
    assert_eq!(server.requests().len(), 2, "{:?}", server.requests());
}

#[tokio::test(start_paused = true)]
async fn retry_after_is_honoured_on_a_get() {
    let server = scripted(Call::Deployments, rate_limited_for(7)).await;
    let client = client_with(&server.uri(), quick_retries(), Duration::from_secs(10));
    let started = Instant::now();
    Call::Deployments.run(&client).await.unwrap();
    // Retry-After (7 s) wins over the policy's 10 to 20 ms backoff.
    let elapsed = started.elapsed();
    assert!(
        elapsed >= Duration::from_secs(7) && elapsed < Duration::from_secs(8),
        "retried after {elapsed:?}"
    );
    let requests = server.requests();
    let expected = format!("GET {}?", Call::Deployments.path());
    assert_eq!(requests.len(), 2, "{requests:?}");
    assert!(
        requests.iter().all(|line| line.starts_with(&expected)),
        "{requests:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn a_deploy_post_is_retried_only_after_a_429() {
    let server = scripted(Call::Deploy, rate_limited_for(7)).await;
    let client = client_with(&server.uri(), quick_retries(), Duration::from_secs(10));
    let started = Instant::now();
    Call::Deploy.run(&client).await.unwrap();
    let elapsed = started.elapsed();
    assert!(
        elapsed >= Duration::from_secs(7) && elapsed < Duration::from_secs(8),
        "retried after {elapsed:?}"
    );
    let requests = server.requests();
    assert_eq!(requests.len(), 2, "{requests:?}");
    assert!(
        requests
            .iter()
            .all(|line| line.starts_with("POST /api/v1/deploy")),
        "{requests:?}"
    );
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
