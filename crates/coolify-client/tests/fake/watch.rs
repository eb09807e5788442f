//! Following many deployments with one request per poll: the cost, the events, and the same
//! outcomes as a single follow.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use coolify_client::{
    ApplicationUuid, DeployOutcome, DeploymentStatus, DeploymentUuid, Error, FollowEvent,
    ForceRebuild, WatchOptions, WatchUpdate,
};
use coolify_fake::{FakeApplication, FakeCoolify, Fault, FaultRule};
use tokio::time::Instant;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::calls::{client_with, quick_retries};

async fn fake_with_apps(count: usize, build: Duration) -> (FakeCoolify, Vec<ApplicationUuid>) {
    let fake = FakeCoolify::start().await.unwrap();
    fake.set_deployment_queue_limit(count);
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

async fn deploy_all(fake: &FakeCoolify, apps: &[ApplicationUuid]) -> Vec<DeploymentUuid> {
    let client = fake.client_builder().build().unwrap();
    let mut deployments = Vec::new();
    for app in apps {
        match client.deploy(app, ForceRebuild::No).await.unwrap() {
            DeployOutcome::Queued(deployment) => deployments.push(deployment),
            other => panic!("{other:?}"),
        }
    }
    deployments
}

#[tokio::test(start_paused = true)]
async fn ten_deployments_cost_one_request_per_poll_and_one_read_each() {
    let (fake, apps) = fake_with_apps(10, Duration::from_secs(60)).await;
    let deployments = deploy_all(&fake, &apps).await;
    let client = fake.client_builder().build().unwrap();
    let before = fake.requests().len();
    let started = Instant::now();
    let mut events: BTreeMap<DeploymentUuid, Vec<FollowEvent>> = BTreeMap::new();
    let ended = client
        .follow_many(
            &deployments,
            &WatchOptions::default(),
            |deployment, event| {
                events
                    .entry(deployment.clone())
                    .or_default()
                    .push(event.clone());
            },
        )
        .await
        .unwrap();
    let took = started.elapsed();
    // Five rounds of two 60 s builds.
    assert!(
        took >= Duration::from_secs(300) && took <= Duration::from_secs(303),
        "{took:?}"
    );
    let order: Vec<&DeploymentUuid> = ended.iter().map(|(deployment, _)| deployment).collect();
    assert_eq!(order, deployments.iter().collect::<Vec<_>>());
    for (deployment, outcome) in &ended {
        let finished = outcome.as_ref().unwrap();
        assert_eq!(finished.status, DeploymentStatus::Finished);
        let statuses: Vec<&DeploymentStatus> = events[deployment]
            .iter()
            .filter_map(|event| match event {
                FollowEvent::Status { status, .. } => Some(status),
                _ => None,
            })
            .collect();
        assert_eq!(statuses.last(), Some(&&DeploymentStatus::Finished));
        assert!(
            events[deployment]
                .iter()
                .any(|event| matches!(event, FollowEvent::Commit { .. })),
            "{deployment}"
        );
    }
    let traffic = coolify_fake::Traffic::of(&fake.requests()[before..]);
    assert_eq!(traffic.route("GET /api/v1/deployments/{uuid}"), 10);
    let polls = traffic.route("GET /api/v1/deployments");
    assert_eq!(traffic.requests(), polls + 10);
    // At most one poll every 2 s after the first few.
    assert!(polls <= 160, "{polls} polls in {took:?}");
    assert_eq!(traffic.rate_limited(), 0);
}

#[tokio::test(start_paused = true)]
async fn an_ended_deployment_is_seen_within_the_poll_ceiling() {
    let (fake, apps) = fake_with_apps(1, Duration::from_secs(97)).await;
    let finished_at: Arc<Mutex<Option<Instant>>> = Arc::default();
    let slot = Arc::clone(&finished_at);
    fake.on_deployment_finished(move |_| *slot.lock().unwrap() = Some(Instant::now()));
    let deployments = deploy_all(&fake, &apps).await;
    let client = fake.client_builder().build().unwrap();
    let options = WatchOptions::default();
    client
        .follow_many(&deployments, &options, |_, _| {})
        .await
        .unwrap();
    let lag = Instant::now() - finished_at.lock().unwrap().unwrap();
    assert!(lag <= options.poll.max(), "seen {lag:?} after it finished");
}

#[tokio::test(start_paused = true)]
async fn each_deployment_ends_as_a_single_follow_would_end_it() {
    let (fake, apps) = fake_with_apps(4, Duration::from_secs(30)).await;
    fake.set_concurrent_builds(4);
    fake.fail_next_deployment(&apps[1]);
    fake.next_deployment_takes(&apps[3], Duration::from_secs(3600));
    let mut deployments = deploy_all(&fake, &apps).await;
    let client = fake.client_builder().build().unwrap();
    let bogus: DeploymentUuid = "nosuchdeployment00000000".parse().unwrap();
    deployments.push(bogus.clone());
    let canceller = client.clone();
    let cancelled = deployments[2].clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_secs(5)).await;
        canceller.cancel_deployment(&cancelled).await.unwrap();
    });
    let options = WatchOptions::with_deadline(Duration::from_secs(600));
    let ended = client
        .follow_many(&deployments, &options, |_, _| {})
        .await
        .unwrap();
    assert!(ended[0].1.is_ok());
    assert!(
        matches!(&ended[1].1, Err(Error::DeploymentFailed { deployment, .. }) if *deployment == deployments[1])
    );
    assert!(matches!(
        &ended[2].1,
        Err(Error::DeploymentCancelled { .. })
    ));
    assert!(
        matches!(&ended[3].1, Err(Error::DeadlineExceeded { after, last_status: DeploymentStatus::InProgress, .. }) if *after == Duration::from_secs(600)),
        "{:?}",
        ended[3].1
    );
    assert!(
        matches!(&ended[4].1, Err(Error::NotFound { .. })),
        "{:?}",
        ended[4].1
    );
}

#[tokio::test(start_paused = true)]
async fn deployments_added_while_watching_are_followed_from_then_on() {
    let (fake, apps) = fake_with_apps(3, Duration::from_secs(60)).await;
    fake.set_concurrent_builds(1);
    let client = fake.client_builder().build().unwrap();
    let mut watch = client.watch(WatchOptions::default());
    let mut waves = apps.iter();
    let first = deploy_all(&fake, &[waves.next().unwrap().clone()]).await;
    watch.add(first[0].clone());
    watch.add(first[0].clone());
    assert_eq!(watch.len(), 1, "added once");
    let mut ended = Vec::new();
    while let Some(update) = watch.next().await {
        if let WatchUpdate::Ended {
            deployment,
            outcome,
        } = update.unwrap()
        {
            outcome.unwrap();
            ended.push(deployment);
            // The next wave, once this one made room.
            if let Some(app) = waves.next() {
                let next = deploy_all(&fake, std::slice::from_ref(app)).await;
                watch.add(next[0].clone());
            }
        }
    }
    assert_eq!(ended.len(), 3);
    assert!(watch.is_empty());
}

#[tokio::test(start_paused = true)]
async fn a_poll_dropped_while_it_reads_an_ended_deployment_loses_nothing() {
    let (fake, apps) = fake_with_apps(2, Duration::from_secs(10)).await;
    let deployments = deploy_all(&fake, &apps).await;
    // The read of the first deployment once it left the list takes a minute, once.
    fake.inject(
        FaultRule::on_path(
            deployments[0].as_str(),
            Fault::Delay(Duration::from_secs(60)),
        )
        .method("GET")
        .times(1),
    );
    let client = fake.client_builder().build().unwrap();
    let mut watch = client.watch(WatchOptions::default());
    for deployment in &deployments {
        watch.add(deployment.clone());
    }
    let mut ended = Vec::new();
    let mut dropped = 0;
    loop {
        // What a caller's `select!` does when another branch is ready first.
        match tokio::time::timeout(Duration::from_secs(5), watch.next()).await {
            Ok(Some(update)) => {
                if let WatchUpdate::Ended {
                    deployment,
                    outcome,
                } = update.unwrap()
                {
                    assert!(outcome.is_ok(), "{outcome:?}");
                    ended.push(deployment);
                }
            }
            Ok(None) => break,
            Err(_) => dropped += 1,
        }
    }
    assert!(dropped > 0, "no poll was dropped mid-read");
    ended.sort();
    let mut expected = deployments.clone();
    expected.sort();
    assert_eq!(ended, expected);
}

#[tokio::test(start_paused = true)]
async fn a_coolify_that_stops_answering_ends_the_watch_at_the_deadline() {
    let (fake, apps) = fake_with_apps(2, Duration::from_secs(600)).await;
    let deployments = deploy_all(&fake, &apps).await;
    fake.inject(FaultRule::on_path(
        "/api/v1/deployments",
        Fault::Delay(Duration::from_secs(3600)),
    ));
    let client = fake.client_builder().build().unwrap();
    let started = Instant::now();
    let options = WatchOptions::with_deadline(Duration::from_secs(20));
    let error = client
        .follow_many(&deployments, &options, |_, _| {})
        .await
        .unwrap_err();
    assert!(
        matches!(&error, Error::Unanswered { deployment, last_status: None, .. } if *deployment == deployments[0]),
        "{error:?}"
    );
    assert_eq!(started.elapsed(), Duration::from_secs(20));
}

#[tokio::test(start_paused = true)]
async fn a_failure_past_the_retries_ends_the_watch_with_it_as_a_single_follow_does() {
    let (fake, apps) = fake_with_apps(1, Duration::from_secs(600)).await;
    let deployments = deploy_all(&fake, &apps).await;
    fake.inject(FaultRule::on_path(
        "/api/v1/deployments",
        Fault::CloseConnection,
    ));
    let client = fake.client_builder().build().unwrap();
    let error = client
        .follow_many(&deployments, &WatchOptions::default(), |_, _| {})
        .await
        .unwrap_err();
    assert!(matches!(error, Error::ConnectionClosed { .. }), "{error:?}");
    // The first attempt and the fake's client's 3 retries.
    assert_eq!(fake.traffic().route("GET /api/v1/deployments"), 4);
}

#[tokio::test]
async fn deployments_that_left_the_list_are_read_once_each() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/v1/deployments"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!([])))
        .expect(1)
        .mount(&server)
        .await;
    let uuids = ["dpl0000000000000000000001", "dpl0000000000000000000002"];
    for (uuid, status) in uuids.iter().zip(["finished", "failed"]) {
        Mock::given(method("GET"))
            .and(path(format!("/api/v1/deployments/{uuid}")))
            .respond_with(ResponseTemplate::new(200).set_body_json(
                serde_json::json!({"deployment_uuid": uuid, "status": status, "commit": "0123456789abcdef0123456789abcdef01234567"}),
            ))
            .expect(1)
            .mount(&server)
            .await;
    }
    let client = client_with(&server.uri(), quick_retries(), Duration::from_secs(10));
    let deployments: Vec<DeploymentUuid> = uuids.iter().map(|uuid| uuid.parse().unwrap()).collect();
    let mut seen = Vec::new();
    let ended = client
        .follow_many(
            &deployments,
            &WatchOptions::default(),
            |deployment, event| seen.push((deployment.clone(), event.clone())),
        )
        .await
        .unwrap();
    assert!(ended[0].1.is_ok());
    assert!(matches!(ended[1].1, Err(Error::DeploymentFailed { .. })));
    assert_eq!(seen.len(), 4, "a status and a commit each: {seen:?}");
    server.verify().await;
}

#[tokio::test]
async fn a_token_without_read_ends_the_watch_with_its_error() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/v1/deployments"))
        .respond_with(
            ResponseTemplate::new(403).set_body_json(
                serde_json::json!({"message": "Missing required permissions: read"}),
            ),
        )
        .expect(1)
        .mount(&server)
        .await;
    let client = client_with(&server.uri(), quick_retries(), Duration::from_secs(10));
    let mut watch = client.watch(WatchOptions::default());
    watch.add("dpl0000000000000000000001".parse().unwrap());
    let error = watch.next().await.unwrap().unwrap_err();
    assert!(matches!(error, Error::MissingAbility { .. }), "{error:?}");
    assert!(watch.next().await.is_none(), "the watch is over");
    server.verify().await;
}

/// A caller may `tokio::spawn` a watch and the operations built on it.
#[test]
fn the_watch_futures_are_send() {
    fn assert_send<T: Send>(_: &T) {}
    let client = coolify_client::Client::builder(
        "https://c.example.com",
        secrecy::SecretString::from(crate::calls::TOKEN),
    )
    .build()
    .unwrap();
    let mut watch = client.watch(WatchOptions::default());
    assert_send(&watch.next());
    let deployments: Vec<DeploymentUuid> = Vec::new();
    assert_send(&client.follow_many(&deployments, &WatchOptions::default(), |_, _| {}));
    let deployment: DeploymentUuid = crate::calls::DEPLOYMENT.parse().unwrap();
    assert_send(&client.cancel_deployment(&deployment));
    let app = crate::calls::app();
    let pull_request = "1".parse().unwrap();
    assert_send(&client.deploy_preview(&app, pull_request, None, ForceRebuild::No));
    assert_send(&client.delete_preview(&app, pull_request));
}
