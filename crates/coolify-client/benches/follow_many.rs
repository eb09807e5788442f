//! What following deployments costs Coolify: requests per minute while following 1, 10 and
//! 100 deployments on a server of 2 concurrent builds with 60 s builds, at Coolify's default
//! rate limit (200 a minute) and at 60 a minute, against the fake Coolify on tokio's paused
//! clock (an hour of builds takes seconds).
//!
//! Every deployment is queued first (the fake's queue is raised to hold them all: sending
//! deploys in waves that fit Coolify's queue of 25 is the caller's part), then followed with
//! one [`coolify_client::DeploymentWatch`]; for comparison, the same deployments followed with
//! one [`coolify_client::Client::follow`] each.
//!
//! Targets: no 429 at either limit; the watch's requests per minute with 100 deployments at
//! most 1.25 times those with one; at the default limit, every deployment seen ended within
//! 2.5 s of its end (at 60 a minute the client's share, 30 a minute, bounds how soon: reported).
//!
//! Run: `cargo bench -p coolify-client --bench follow_many`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use coolify_client::{
    Client, DeployOutcome, DeploymentUuid, FollowOptions, ForceRebuild, WatchOptions, WatchUpdate,
};
use coolify_fake::{FakeApplication, FakeCoolify, Traffic};
use tokio::time::Instant;

const BUILD: Duration = Duration::from_secs(60);
const BUILDS: usize = 2;
const SEEN_WITHIN: Duration = Duration::from_millis(2500);

/// One run's numbers.
struct Run {
    following: Duration,
    floor: Duration,
    traffic: Traffic,
    rate_limited: usize,
    worst_lag: Duration,
}

impl Run {
    fn per_minute(&self) -> f64 {
        self.traffic.requests() as f64 / (self.following.as_secs_f64() / 60.0)
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Way {
    Watch,
    EachAlone,
}

async fn run(limit: u32, count: usize, way: Way) -> Run {
    let fake = FakeCoolify::start().await.unwrap();
    fake.set_rate_limit(Some(limit));
    fake.set_concurrent_builds(BUILDS);
    fake.set_deployment_queue_limit(count);
    let finished: Arc<Mutex<HashMap<DeploymentUuid, Instant>>> = Arc::default();
    let slot = Arc::clone(&finished);
    fake.on_deployment_finished(move |deployment| {
        slot.lock()
            .unwrap()
            .insert(deployment.deployment().clone(), Instant::now());
    });
    let client = fake.client_builder().build().unwrap();
    let mut deployments = Vec::new();
    for index in 0..count {
        let app = fake.add_application(
            FakeApplication::new(format!("app{index:03}"))
                .queue_time(Duration::ZERO)
                .build_time(BUILD),
        );
        match client.deploy(&app, ForceRebuild::No).await.unwrap() {
            DeployOutcome::Queued(deployment) => deployments.push(deployment),
            other => panic!("{other:?}"),
        }
    }
    let before = fake.requests().len();
    let started = Instant::now();
    let deadline = BUILD * u32::try_from(count).unwrap() * 2;
    let seen = match way {
        Way::Watch => watch_all(&client, &deployments, deadline).await,
        Way::EachAlone => follow_each(&client, &deployments, deadline).await,
    };
    let following = started.elapsed();
    let finished = finished.lock().unwrap();
    // A deployment that ended while the others were still being deployed is seen at the
    // start of the follow at the earliest.
    let worst_lag = deployments
        .iter()
        .map(|deployment| seen[deployment] - finished[deployment].max(started))
        .max()
        .unwrap_or_default();
    let rounds = u32::try_from(count.div_ceil(BUILDS)).unwrap();
    Run {
        following,
        floor: BUILD * rounds,
        traffic: Traffic::of(&fake.requests()[before..]),
        rate_limited: fake.traffic().rate_limited(),
        worst_lag,
    }
}

async fn watch_all(
    client: &Client,
    deployments: &[DeploymentUuid],
    deadline: Duration,
) -> HashMap<DeploymentUuid, Instant> {
    let mut watch = client.watch(WatchOptions::with_deadline(deadline));
    for deployment in deployments {
        watch.add(deployment.clone());
    }
    let mut seen = HashMap::new();
    while let Some(update) = watch.next().await {
        if let WatchUpdate::Ended {
            deployment,
            outcome,
        } = update.unwrap()
        {
            outcome.unwrap();
            seen.insert(deployment, Instant::now());
        }
    }
    seen
}

async fn follow_each(
    client: &Client,
    deployments: &[DeploymentUuid],
    deadline: Duration,
) -> HashMap<DeploymentUuid, Instant> {
    let tasks: Vec<_> = deployments
        .iter()
        .map(|deployment| {
            let client = client.clone();
            let deployment = deployment.clone();
            tokio::spawn(async move {
                client
                    .follow(&deployment, &FollowOptions::with_deadline(deadline), |_| {})
                    .await
                    .unwrap();
                (deployment, Instant::now())
            })
        })
        .collect();
    let mut seen = HashMap::new();
    for task in tasks {
        let (deployment, at) = task.await.unwrap();
        seen.insert(deployment, at);
    }
    seen
}

fn minutes(duration: Duration) -> String {
    format!("{:.1}", duration.as_secs_f64() / 60.0)
}

fn main() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .start_paused(true)
        .build()
        .unwrap();
    let real = std::time::Instant::now();
    println!(
        "follow_many: {BUILDS} concurrent builds, {}s builds, paused clock, the client's default share of the limit (50%)",
        BUILD.as_secs()
    );
    println!(
        "{:<11} {:<6} {:>12} {:>9} {:>11} {:>8} {:>8} {:>9} {:>5} {:>10}",
        "way",
        "limit",
        "deployments",
        "floor min",
        "follow min",
        "requests",
        "per min",
        "peak 60s",
        "429s",
        "seen after"
    );
    let mut met = true;
    for (way, name) in [(Way::Watch, "watch"), (Way::EachAlone, "follow each")] {
        for limit in [200, 60] {
            let mut one_per_minute = None;
            for count in [1, 10, 100] {
                if way == Way::EachAlone && limit != 200 {
                    continue;
                }
                let result = runtime.block_on(run(limit, count, way));
                println!(
                    "{name:<11} {limit:<6} {count:>12} {:>9} {:>11} {:>8} {:>8.1} {:>9} {:>5} {:>9.1}s",
                    minutes(result.floor),
                    minutes(result.following),
                    result.traffic.requests(),
                    result.per_minute(),
                    result.traffic.peak_per_minute(),
                    result.rate_limited,
                    result.worst_lag.as_secs_f64()
                );
                if way == Way::Watch {
                    met &= result.rate_limited == 0;
                    met &= limit != 200 || result.worst_lag <= SEEN_WITHIN;
                    let per_minute = result.per_minute();
                    let first = *one_per_minute.get_or_insert(per_minute);
                    met &= per_minute <= first * 1.25;
                }
            }
        }
    }
    println!(
        "targets (watch: no 429, requests per minute at 100 within 1.25x of 1, seen within {}s at the default limit): {}",
        SEEN_WITHIN.as_secs_f64(),
        if met { "met" } else { "MISSED" }
    );
    println!("real time: {:.1}s", real.elapsed().as_secs_f64());
    if !met {
        std::process::exit(1);
    }
}
