//! Pacing under Coolify's rate limit, on tokio's paused clock: a share of the announced
//! limit, one wait for all after a 429, never past a caller's deadline.

use std::time::Duration;

use coolify_client::{Client, Error, FollowOptions};
use coolify_fake::{FakeApplication, FakeCoolify};
use secrecy::SecretString;
use tokio::time::Instant;

use crate::calls::{Call, TOKEN, quick_retries};
use crate::server::{Reply, ScriptedServer};

fn version_with(limit: &str, remaining: &str) -> Reply {
    let (status, body) = Call::Version.success_body();
    Reply::json(status, &body)
        .header("X-RateLimit-Limit", limit)
        .header("X-RateLimit-Remaining", remaining)
}

fn client(uri: &str) -> Client {
    Client::builder(uri, SecretString::from(TOKEN))
        .retry_policy(quick_retries())
        .build()
        .unwrap()
}

#[tokio::test(start_paused = true)]
async fn every_clone_keeps_within_its_share_of_the_limit_coolify_announces() {
    let fake = FakeCoolify::start().await.unwrap();
    fake.set_rate_limit(Some(40));
    let client = fake.client_builder().build().unwrap();
    let started = Instant::now();
    let tasks: Vec<_> = (0..3)
        .map(|_| {
            let clone = client.clone();
            tokio::spawn(async move {
                for _ in 0..20 {
                    clone.version().await.unwrap();
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    let traffic = fake.traffic();
    assert_eq!(traffic.requests(), 60);
    assert_eq!(traffic.rate_limited(), 0);
    // Half of 40 a minute, and the requests sent before the first answer told the limit.
    assert!(
        traffic.peak_per_minute() <= 20 + 3,
        "{} in a minute",
        traffic.peak_per_minute()
    );
    assert!(
        started.elapsed() >= Duration::from_secs(120),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test(start_paused = true)]
async fn a_server_that_announces_no_limit_is_not_paced() {
    let (status, body) = Call::Version.success_body();
    let server = ScriptedServer::start(vec![Reply::json(status, &body)]).await;
    let client = client(&server.uri());
    let started = Instant::now();
    for _ in 0..50 {
        client.version().await.unwrap();
    }
    assert_eq!(started.elapsed(), Duration::ZERO);
}

#[tokio::test(start_paused = true)]
async fn after_a_429_every_request_waits_out_the_one_retry_after_together() {
    let limited = Reply::json(429, &serde_json::json!({"message": "Too Many Attempts."}))
        .header("Retry-After", "30")
        .header("X-RateLimit-Limit", "200")
        .header("X-RateLimit-Remaining", "0");
    let server = ScriptedServer::start(vec![limited, version_with("200", "199")]).await;
    let client = client(&server.uri());
    let started = Instant::now();
    let first = {
        let client = client.clone();
        tokio::spawn(async move {
            client.version().await.unwrap();
            Instant::now()
        })
    };
    tokio::time::sleep(Duration::from_secs(1)).await;
    client.version().await.unwrap();
    let second = Instant::now();
    let first = first.await.unwrap();
    assert_eq!(first - started, Duration::from_secs(30));
    assert_eq!(second - started, Duration::from_secs(30));
    // The 429, its retry, and the second request, which was not sent before the wait ended.
    assert_eq!(server.requests().len(), 3);
}

#[tokio::test(start_paused = true)]
async fn a_budget_nearly_spent_by_another_tool_holds_requests_until_its_window_ends() {
    let server = ScriptedServer::start(vec![
        version_with("100", "60"),
        version_with("100", "5"),
        version_with("100", "99"),
    ])
    .await;
    let client = client(&server.uri());
    let started = Instant::now();
    client.version().await.unwrap();
    tokio::time::sleep(Duration::from_secs(10)).await;
    client.version().await.unwrap();
    client.version().await.unwrap();
    // The window seen first ends at the latest 60 s after it was first seen.
    assert_eq!(started.elapsed(), Duration::from_secs(60));
    client.version().await.unwrap();
    assert_eq!(started.elapsed(), Duration::from_secs(60));
}

#[tokio::test(start_paused = true)]
async fn a_follow_is_never_held_past_its_deadline() {
    let limited = Reply::json(429, &serde_json::json!({"message": "Too Many Attempts."}))
        .header("Retry-After", "60");
    let server = ScriptedServer::start(vec![limited]).await;
    let client = Client::builder(server.uri(), SecretString::from(TOKEN))
        .retry_policy(coolify_client::RetryPolicy::none())
        .build()
        .unwrap();
    assert!(matches!(
        client.version().await.unwrap_err(),
        Error::RateLimited { .. }
    ));
    let started = Instant::now();
    let deployment = crate::calls::DEPLOYMENT.parse().unwrap();
    let error = client
        .follow(
            &deployment,
            &FollowOptions::with_deadline(Duration::from_secs(10)),
            |_| {},
        )
        .await
        .unwrap_err();
    assert_eq!(started.elapsed(), Duration::from_secs(10));
    let Error::Unanswered { source, .. } = &error else {
        panic!("{error:?}")
    };
    assert!(
        matches!(**source, Error::Throttled { wait, .. } if wait == Duration::from_secs(60)),
        "{source:?}"
    );
    assert!(error.is_transient());
    assert_eq!(server.requests().len(), 1, "the poll was never sent");
}

#[tokio::test(start_paused = true)]
async fn a_follow_seen_running_ends_at_its_deadline_when_no_poll_fits() {
    let fake = FakeCoolify::start().await.unwrap();
    // A tiny budget: half of 4 a minute is one request a minute after the first.
    fake.set_rate_limit(Some(4));
    let app =
        fake.add_application(FakeApplication::new("web").build_time(Duration::from_secs(600)));
    let client = fake.client_builder().build().unwrap();
    let coolify_client::DeployOutcome::Queued(deployment) = client
        .deploy(&app, coolify_client::ForceRebuild::No)
        .await
        .unwrap()
    else {
        panic!("queued")
    };
    let started = Instant::now();
    let error = client
        .follow(
            &deployment,
            &FollowOptions::with_deadline(Duration::from_secs(45)),
            |_| {},
        )
        .await
        .unwrap_err();
    assert!(
        matches!(error, Error::DeadlineExceeded { after, .. } if after == Duration::from_secs(45)),
        "{error:?}"
    );
    assert_eq!(started.elapsed(), Duration::from_secs(45));
    assert_eq!(fake.traffic().rate_limited(), 0);
}

#[test]
fn the_share_is_a_percentage() {
    for share in [0, 101] {
        let error = Client::builder("https://c.example.com", SecretString::from(TOKEN))
            .rate_limit_share(share)
            .build()
            .unwrap_err();
        assert!(
            matches!(
                error,
                Error::InvalidConfig {
                    field: "rate_limit_share",
                    ..
                }
            ),
            "{error:?}"
        );
        assert!(error.to_string().contains("from 1 to 100"), "{error}");
    }
    for share in [1, 50, 100] {
        Client::builder("https://c.example.com", SecretString::from(TOKEN))
            .rate_limit_share(share)
            .build()
            .unwrap();
    }
}
