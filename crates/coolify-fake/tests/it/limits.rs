//! The server's limits as Coolify has them: the API rate limit, the concurrent builds, the
//! deployment queue, and cancelling a deployment in each version.

use std::time::Duration;

use coolify_client::{ApplicationUuid, DeployOutcome, DeploymentStatus, ForceRebuild};
use coolify_fake::{FakeApplication, FakeCoolify};

use crate::raw::{send, send_with_token};

fn status_of(fake: &FakeCoolify, app: &ApplicationUuid) -> Vec<DeploymentStatus> {
    fake.deployments_of(app)
        .into_iter()
        .map(|deployment| deployment.status)
        .collect()
}

async fn fake_with_apps(count: usize, build: Duration) -> (FakeCoolify, Vec<ApplicationUuid>) {
    let fake = FakeCoolify::start().await.unwrap();
    let apps = (0..count)
        .map(|index| {
            fake.add_application(
                FakeApplication::new(format!("app{index}"))
                    .queue_time(Duration::ZERO)
                    .build_time(build),
            )
        })
        .collect();
    (fake, apps)
}

async fn cancel(fake: &FakeCoolify, deployment: &str) -> crate::raw::Answer {
    let path = format!("/api/v1/deployments/{deployment}/cancel");
    send(fake, "POST", &path, None).await
}

/// Two applications on a server of one build: the first one's deployment runs, the second's
/// waits; returns the running one.
async fn one_running_one_waiting(fake: &FakeCoolify, apps: &[ApplicationUuid]) -> String {
    fake.set_concurrent_builds(1);
    let client = fake.client_builder().build().unwrap();
    let DeployOutcome::Queued(first) = client.deploy(&apps[0], ForceRebuild::No).await.unwrap()
    else {
        panic!("queued")
    };
    client.deploy(&apps[1], ForceRebuild::No).await.unwrap();
    tokio::time::sleep(Duration::from_secs(5)).await;
    first.to_string()
}

async fn deploy(fake: &FakeCoolify, app: &ApplicationUuid) -> crate::raw::Answer {
    send(
        fake,
        "POST",
        "/api/v1/deploy",
        Some(serde_json::json!({"uuid": app.as_str()})),
    )
    .await
}

#[tokio::test(start_paused = true)]
async fn every_answer_carries_the_budget_and_past_it_coolify_answers_429_until_the_window_ends() {
    let fake = FakeCoolify::start().await.unwrap();
    fake.set_rate_limit(Some(3));
    tokio::time::sleep(Duration::from_secs(5)).await;
    for remaining in ["2", "1", "0"] {
        let answer = send(&fake, "GET", "/api/v1/version", None).await;
        assert_eq!(answer.status, 200);
        assert_eq!(answer.header("x-ratelimit-limit"), "3");
        assert_eq!(answer.header("x-ratelimit-remaining"), remaining);
        tokio::time::sleep(Duration::from_secs(10)).await;
    }
    // 35 s into the window that began with the first request.
    let refused = send(&fake, "GET", "/api/v1/applications", None).await;
    assert_eq!(refused.status, 429);
    assert_eq!(refused.body["message"], "Too Many Attempts.");
    assert_eq!(refused.header("retry-after"), "30");
    assert_eq!(refused.header("x-ratelimit-remaining"), "0");
    assert_eq!(refused.header("x-ratelimit-limit"), "3");
    // 2026-08-01T12:01:05Z: the window's end on the fake's clock.
    assert_eq!(refused.header("x-ratelimit-reset"), "1785585665");
    tokio::time::sleep(Duration::from_secs(30)).await;
    let again = send(&fake, "GET", "/api/v1/version", None).await;
    assert_eq!(
        (again.status, again.header("x-ratelimit-remaining")),
        (200, "2")
    );

    let traffic = fake.traffic();
    assert_eq!(traffic.requests(), 5);
    assert_eq!(traffic.rate_limited(), 1);
    assert_eq!(traffic.queue_full(), 0);
    assert_eq!(traffic.route("GET /api/v1/version"), 4);
    assert_eq!(traffic.peak_per_minute(), 4);
    let statuses: Vec<Option<u16>> = fake
        .requests()
        .iter()
        .map(coolify_fake::RecordedRequest::status)
        .collect();
    assert_eq!(
        statuses,
        [Some(200), Some(200), Some(200), Some(429), Some(200)]
    );
    assert!(fake.requests()[3].was_rate_limited());
}

#[tokio::test(start_paused = true)]
async fn a_rejected_token_is_not_counted_and_the_health_endpoint_has_its_own_budget() {
    let fake = FakeCoolify::start().await.unwrap();
    fake.set_rate_limit(Some(1));
    let rejected = send_with_token(&fake, "9|wrong", "GET", "/api/v1/version", None).await;
    assert_eq!(rejected.status, 401);
    assert_eq!(rejected.header("x-ratelimit-limit"), "");
    let health = send(&fake, "GET", "/api/health", None).await;
    assert_eq!(health.header("x-ratelimit-limit"), "1000");
    let counted = send(&fake, "GET", "/api/v1/version", None).await;
    assert_eq!(counted.header("x-ratelimit-remaining"), "0");
    assert_eq!(
        send(&fake, "GET", "/api/v1/version", None).await.status,
        429
    );
    // Off: no limit, no headers.
    fake.set_rate_limit(None);
    let unlimited = send(&fake, "GET", "/api/v1/version", None).await;
    assert_eq!(
        (unlimited.status, unlimited.header("x-ratelimit-limit")),
        (200, "")
    );
}

#[tokio::test(start_paused = true)]
async fn two_builds_run_at_once_and_the_others_wait_their_turn_oldest_first() {
    let (fake, apps) = fake_with_apps(5, Duration::from_secs(60)).await;
    let client = fake.client_builder().build().unwrap();
    for app in &apps {
        assert!(matches!(
            client.deploy(app, ForceRebuild::No).await.unwrap(),
            DeployOutcome::Queued(_)
        ));
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    let in_flight = client.deployments_in_flight().await.unwrap();
    assert_eq!(
        in_flight.len(),
        5,
        "every queued and in-progress deployment"
    );
    let running: Vec<&str> = in_flight
        .iter()
        .filter(|deployment| deployment.status == DeploymentStatus::InProgress)
        .filter_map(|deployment| deployment.application_name.as_deref())
        .collect();
    assert_eq!(running, ["app0", "app1"]);
    tokio::time::sleep(Duration::from_secs(60)).await;
    assert_eq!(status_of(&fake, &apps[0]), [DeploymentStatus::Finished]);
    assert_eq!(status_of(&fake, &apps[2]), [DeploymentStatus::InProgress]);
    assert_eq!(status_of(&fake, &apps[3]), [DeploymentStatus::InProgress]);
    assert_eq!(status_of(&fake, &apps[4]), [DeploymentStatus::Queued]);
    tokio::time::sleep(Duration::from_secs(120)).await;
    assert!(client.deployments_in_flight().await.unwrap().is_empty());
    assert_eq!(status_of(&fake, &apps[4]), [DeploymentStatus::Finished]);

    fake.set_concurrent_builds(3);
    for app in &apps {
        client.deploy(app, ForceRebuild::Yes).await.unwrap();
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    let running = client
        .deployments_in_flight()
        .await
        .unwrap()
        .into_iter()
        .filter(|deployment| deployment.status == DeploymentStatus::InProgress)
        .count();
    assert_eq!(running, 3);
}

#[tokio::test(start_paused = true)]
async fn one_application_runs_one_deployment_at_a_time() {
    let (fake, apps) = fake_with_apps(1, Duration::from_secs(30)).await;
    let client = fake.client_builder().build().unwrap();
    client.deploy(&apps[0], ForceRebuild::No).await.unwrap();
    client.deploy(&apps[0], ForceRebuild::Yes).await.unwrap();
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(
        status_of(&fake, &apps[0]),
        [DeploymentStatus::Queued, DeploymentStatus::InProgress]
    );
    tokio::time::sleep(Duration::from_secs(30)).await;
    assert_eq!(
        status_of(&fake, &apps[0]),
        [DeploymentStatus::InProgress, DeploymentStatus::Finished]
    );
}

#[tokio::test(start_paused = true)]
async fn a_full_queue_answers_429_with_retry_after_60_and_queues_nothing() {
    let (fake, apps) = fake_with_apps(5, Duration::from_secs(60)).await;
    fake.set_concurrent_builds(1);
    fake.set_deployment_queue_limit(2);
    deploy(&fake, &apps[0]).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    deploy(&fake, &apps[1]).await;
    deploy(&fake, &apps[2]).await;
    let full = deploy(&fake, &apps[3]).await;
    assert_eq!(full.status, 429);
    assert_eq!(
        full.body["message"],
        "Deployment queue is full. Please wait for existing deployments to complete."
    );
    assert_eq!(full.header("retry-after"), "60");
    assert!(fake.deployments_of(&apps[3]).is_empty());
    // Several uuids: the loop stops at the full queue.
    tokio::time::sleep(Duration::from_secs(60)).await;
    let uuids = format!("{},{}", apps[3], apps[4]);
    let partly = send(
        &fake,
        "POST",
        "/api/v1/deploy",
        Some(serde_json::json!({ "uuid": uuids })),
    )
    .await;
    assert_eq!(partly.status, 429);
    assert_eq!(
        fake.deployments_of(&apps[3]).len(),
        1,
        "queued before the stop"
    );
    assert!(fake.deployments_of(&apps[4]).is_empty());
    // A webhook finds the same full queue; `start` does not look and answers a uuid it never
    // stored.
    assert_eq!(fake.trigger_deployment(&apps[4], None), None);
    let started = send(
        &fake,
        "POST",
        &format!("/api/v1/applications/{}/start", apps[4]),
        None,
    )
    .await;
    assert_eq!(started.body["message"], "Deployment request queued.");
    let phantom = started.body["deployment_uuid"].as_str().unwrap();
    let lookup = send(
        &fake,
        "GET",
        &format!("/api/v1/deployments/{phantom}"),
        None,
    )
    .await;
    assert_eq!(lookup.status, 404);
    let traffic = fake.traffic();
    assert_eq!((traffic.queue_full(), traffic.rate_limited()), (2, 0));
}

#[tokio::test(start_paused = true)]
async fn from_4_3_7_a_cancel_starts_the_next_queued_deployment_at_once() {
    let (fake, apps) = fake_with_apps(2, Duration::from_secs(60)).await;
    let first = one_running_one_waiting(&fake, &apps).await;
    let answer = cancel(&fake, &first).await;
    assert_eq!(answer.status, 200);
    assert_eq!(
        answer.body,
        serde_json::json!({"message": "Deployment cancelled successfully.", "deployment_uuid": first, "status": "cancelled-by-user"})
    );
    assert_eq!(status_of(&fake, &apps[1]), [DeploymentStatus::InProgress]);
    let again = cancel(&fake, &first).await;
    assert_eq!(again.status, 400);
    assert_eq!(
        again.body["message"],
        "Deployment cannot be cancelled. Current status: cancelled-by-user"
    );
    let unknown = cancel(&fake, "nosuchdeployment0000000").await;
    assert_eq!(
        (unknown.status, unknown.body["message"].as_str()),
        (404, Some("Deployment not found."))
    );
    fake.set_abilities(&[coolify_fake::Ability::Read]);
    let denied = cancel(&fake, &first).await;
    assert_eq!(
        (denied.status, denied.body["message"].as_str()),
        (403, Some("Missing required permissions: deploy"))
    );
}

#[tokio::test(start_paused = true)]
async fn before_4_3_7_the_queue_waits_for_another_deployment_to_end_and_4_1_to_4_3_6_answer_500() {
    let (fake, apps) = fake_with_apps(3, Duration::from_secs(60)).await;
    fake.set_version("4.3.6");
    let first = one_running_one_waiting(&fake, &apps).await;
    let client = fake.client_builder().build().unwrap();
    let answer = cancel(&fake, &first).await;
    assert_eq!(answer.status, 500);
    assert_eq!(
        answer.body["message"],
        "Failed to cancel deployment: Undefined variable $application"
    );
    assert_eq!(
        status_of(&fake, &apps[0]),
        [DeploymentStatus::CancelledByUser]
    );
    tokio::time::sleep(Duration::from_secs(120)).await;
    assert_eq!(status_of(&fake, &apps[1]), [DeploymentStatus::Queued]);
    // A new deployment takes the free build itself; the one queued before it waits for its end.
    client.deploy(&apps[2], ForceRebuild::No).await.unwrap();
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(status_of(&fake, &apps[2]), [DeploymentStatus::InProgress]);
    assert_eq!(status_of(&fake, &apps[1]), [DeploymentStatus::Queued]);
    tokio::time::sleep(Duration::from_secs(60)).await;
    assert_eq!(status_of(&fake, &apps[1]), [DeploymentStatus::InProgress]);

    // Before 4.1.0 the answer was right; before beta.436 there was no route.
    fake.set_version("4.0.0");
    let second = fake.deployments_of(&apps[1])[0].deployment_uuid.clone();
    let cancelled = cancel(&fake, second.as_str()).await;
    assert_eq!(cancelled.status, 200);
    fake.set_version("4.0.0-beta.435");
    let missing = cancel(&fake, second.as_str()).await;
    assert_eq!(
        (missing.status, missing.body["message"].as_str()),
        (404, Some("Not found."))
    );
}

#[tokio::test(start_paused = true)]
async fn seeded_deployments_in_flight_hold_their_place() {
    let (fake, apps) = fake_with_apps(2, Duration::from_secs(10)).await;
    fake.set_deployment_queue_limit(1);
    fake.seed_deployment(&apps[0], "HEAD", DeploymentStatus::Queued);
    assert_eq!(deploy(&fake, &apps[1]).await.status, 429);
    assert_eq!(fake.traffic().queue_full(), 1);
}
