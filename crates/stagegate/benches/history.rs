//! `stagegate history` over 1,000 recorded runs, against a fake GitHub on loopback: how many
//! GitHub requests the whole command makes and how long it takes, lead times from git included.
//! Targets: at most 20 requests, under 2 s.
//!
//! Run: `cargo bench -p stagegate --bench history`
//!
//! The repository has 250 tagged releases; the fake holds one production run per release and
//! three staging runs per release (1,000 runs), recorded through `release-record` as stagegate
//! records them.

mod support;

use std::time::{Duration, Instant};

use coolify_fake::FakeCoolify;
use github_fake::FakeGitHub;
use release_record::coolify_client::{ApplicationUuid, CommitSha};
use release_record::{App, Environment, RanBy, Recorder, Settlement, Start};
use stagegate::history::{HistoryFormat, HistoryOptions};

const RELEASES: usize = 250;
const STAGING_RUNS_PER_RELEASE: usize = 3;
const READS: usize = 5;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(run())
}

async fn run() -> Result<(), Box<dyn std::error::Error>> {
    let directory = tempfile::tempdir()?;
    let repository = git2::Repository::init(directory.path())?;
    let mut commits = Vec::with_capacity(RELEASES);
    for release in 0..RELEASES {
        let commit = support::commit_tagged(
            &repository,
            &format!("change {release}"),
            &format!("v1.{release}.0"),
        )?;
        commits.push((commit.to_string(), format!("v1.{release}.0")));
    }
    let fake = FakeCoolify::start().await?;
    let (staging, production) =
        support::add_apps(&fake, Duration::from_millis(10), Duration::from_millis(10));
    support::write_config(
        directory.path(),
        &fake,
        (&staging, "http://127.0.0.1:9/staging/healthz"),
        (&production, "http://127.0.0.1:9/healthz"),
    )?;

    let github = FakeGitHub::builder()
        .epoch(std::time::SystemTime::now() - Duration::from_secs(7 * 24 * 3600))
        .start()
        .await?;
    let recorder = Recorder::builder(github.repository().parse()?, github.token().into())
        .api_url(github.api_url())
        .build()?;
    let seeding = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for (commit, tag) in &commits {
        for (environment, app, tag) in std::iter::repeat_n(
            (
                Environment::persistent("staging")?,
                staging.clone(),
                None::<String>,
            ),
            STAGING_RUNS_PER_RELEASE,
        )
        .chain([(
            Environment::production("production")?,
            production.clone(),
            Some(tag.clone()),
        )]) {
            let recorder = recorder.clone();
            let commit: CommitSha = commit.parse()?;
            let app: ApplicationUuid = app;
            tasks.spawn(async move {
                let mut start = Start::new(environment, commit, RanBy::local("bench", "host"))
                    .app(App::new(app, "web"));
                if let Some(tag) = tag {
                    start = start.tag(tag)?;
                }
                let run = recorder.start(&start).await?;
                run.settle(&Settlement::verified("web answers")).await?;
                Ok::<(), release_record::Error>(())
            });
            if tasks.len() >= 32 {
                tasks.join_next().await.ok_or("no task")???;
            }
        }
    }
    while let Some(done) = tasks.join_next().await {
        done??;
    }
    let recorded = github.deployments().len();
    println!(
        "history: {recorded} runs recorded in {:.2?}",
        seeding.elapsed()
    );

    let session = support::quiet_session(directory.path(), &fake);
    let session = session.clone();
    let mut times = Vec::with_capacity(READS);
    let mut requests = Vec::with_capacity(READS);
    for _ in 0..READS {
        github.clear_requests();
        let started = Instant::now();
        let report = stagegate::history::history(
            &with_github(&session, &github),
            &HistoryOptions::default(),
            HistoryFormat::Text,
        )
        .await?;
        times.push(started.elapsed());
        requests.push(github.requests().len());
        if report.runs.len() != recorded {
            return Err(format!("read {} runs of {recorded}", report.runs.len()).into());
        }
    }
    times.sort();
    let median = times[READS / 2];
    let most = requests.iter().copied().max().unwrap_or_default();
    println!(
        "history: `stagegate history` over {recorded} runs: median {median:.2?} (min {:.2?}, max {:.2?}) over {READS} reads, {most} GitHub requests each (targets: under 2 s, at most 20)",
        times[0],
        times[READS - 1]
    );
    if median > Duration::from_secs(2) || most > 20 {
        return Err("over target".into());
    }
    Ok(())
}

/// The bench's session, with the fake GitHub's repository, API and token in its environment.
fn with_github(session: &stagegate::Session, github: &FakeGitHub) -> stagegate::Session {
    let environment = session
        .process_env
        .clone()
        .with("GITHUB_REPOSITORY", github.repository())
        .with("GITHUB_API_URL", github.api_url())
        .with("GITHUB_TOKEN", github.token());
    let mut updated = session.clone();
    updated.process_env = environment;
    updated
}
