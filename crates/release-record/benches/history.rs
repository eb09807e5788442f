//! The history of 1,000 recorded runs against the fake GitHub on loopback: how many requests
//! and how long. Targets: at most 20 requests, under 2 s.
//!
//! Run: `cargo bench -p release-record --bench history` (`HISTORY_RUNS` to vary the count).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use github_fake::FakeGitHub;
use release_record::coolify_client::CommitSha;
use release_record::{App, Environment, HistoryQuery, RanBy, Recorder, Settlement, Start};

fn main() {
    let runs: u32 = std::env::var("HISTORY_RUNS")
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(1000);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let met = runtime.block_on(bench(runs));
    if !met {
        std::process::exit(1);
    }
}

async fn bench(runs: u32) -> bool {
    let github = FakeGitHub::start().await.unwrap();
    let recorder = Recorder::builder(github.repository().parse().unwrap(), github.token().into())
        .api_url(github.api_url())
        .build()
        .unwrap();
    let seeding = Instant::now();
    let app: release_record::coolify_client::ApplicationUuid =
        "vgsco4o4wc8w0ok8gwgk8w0o".parse().unwrap();
    let mut tasks = tokio::task::JoinSet::new();
    for seed in 0..runs {
        let recorder = recorder.clone();
        let app = App::new(app.clone(), "web")
            .health_url("https://staging.example.com/healthz".parse().unwrap());
        tasks.spawn(async move {
            let commit: CommitSha = format!("{seed:08x}").repeat(5).parse().unwrap();
            let (environment, tag) = if seed % 4 == 0 {
                (
                    Environment::production("production").unwrap(),
                    Some(format!("v1.{seed}.0")),
                )
            } else {
                (Environment::persistent("staging").unwrap(), None)
            };
            let mut start = Start::new(environment, commit, RanBy::local("ann", "laptop")).app(app);
            if let Some(tag) = tag {
                start = start.tag(tag).unwrap();
            }
            let run = recorder.start(&start).await.unwrap();
            run.settle(&Settlement::verified("web answers"))
                .await
                .unwrap();
        });
        if tasks.len() >= 32 {
            tasks.join_next().await.unwrap().unwrap();
        }
    }
    while let Some(done) = tasks.join_next().await {
        done.unwrap();
    }
    println!(
        "history: {runs} runs recorded in {:.2?} ({} requests)",
        seeding.elapsed(),
        github.requests().len()
    );

    let query = HistoryQuery::new(["staging", "production"]);
    let mut times = Vec::new();
    let mut requests = 0;
    for _ in 0..5 {
        github.clear_requests();
        let started = Instant::now();
        let history = recorder.history(&query).await.unwrap();
        times.push(started.elapsed());
        assert_eq!(history.records().len(), runs as usize);
        requests = github.requests().len();
        assert_eq!(requests as u32, history.requests());
    }
    times.sort();
    let median = times[times.len() / 2];
    let worst = times[times.len() - 1];
    let request_bound = 20;
    let time_bound = Duration::from_secs(2);
    let met = requests <= request_bound && worst < time_bound;
    println!("history of {runs} runs (staging and production), 5 reads:");
    println!("  requests per read: {requests} (bound {request_bound})");
    println!("  median: {median:.2?}, worst: {worst:.2?} (bound {time_bound:?})");
    println!("  {}", if met { "met" } else { "MISSED" });
    met
}
