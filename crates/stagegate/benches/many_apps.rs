//! What deploying an environment of many apps costs Coolify and how long it takes, against the
//! fake Coolify on tokio's paused clock (an hour of builds takes seconds): a server of 2
//! concurrent builds and Coolify's queue of 25, every app building for 60 s (after 1 s queued)
//! and answering on its own health endpoint, which switches to a deployment's commit 1 s after
//! it finished; stagegate with its defaults (`max_parallel = 4`, half of the rate limit).
//!
//! 1. `deploy staging` of 1, 10 and 100 apps at Coolify's default limit of 200 requests a
//!    minute, then at 60 a minute: the 429s, Coolify's requests a minute, the most in any 60 s,
//!    and the wall time against the build floor (ceil(apps / 2) × 60 s).
//! 2. `deploy production --auto-rollback` of a release whose every app answers `503` once it
//!    runs, with 100 apps: the time from the first failing deployment finishing to production
//!    verified on the previous release again.
//! 3. A queue that stays full, in staging and in production with `--auto-rollback`: full of
//!    another team's deployments from the start, and filled by another team's storm of deploys
//!    from 30 s after the run's first deployment finished (which stops after ten minutes).
//! 4. The process's peak resident memory (Linux; the fake and 200 health servers included).
//!
//! Targets (the bench fails when one is missed): no 429; with 100 apps at 200 a minute, the
//! wall time within 1.1 times the build floor plus 5 minutes, and Coolify's requests a minute
//! at most 1.5 times those with 10 apps; the fast failure within 30 s plus one redeploy; a full
//! queue ends with exit 1 and nothing half-applied (every app pinned to what its newest
//! finished deployment built, nothing of the run's in flight, and production, with
//! `--auto-rollback`, back on the release it ran); peak memory under 32 MB.
//!
//! Run: `cargo bench -p stagegate --bench many_apps`

#![allow(clippy::unwrap_used, clippy::expect_used)]

// Only the repository and session helpers: the two-app ones are the other benches'.
#[allow(dead_code)]
mod support;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use coolify_client::{ApplicationUuid, AutoDeploy, DeploymentStatus, DeploymentUuid};
use coolify_fake::{FakeApplication, FakeCoolify, Traffic};
use stagegate::Exit;
use stagegate::deploy::{AutoRollback, ProductionOptions, StagingOptions};
use stagegate_tests::{HealthMode, HealthServer};
use tokio::time::Instant;

const BUILD: Duration = Duration::from_secs(60);
const QUEUE: Duration = Duration::from_secs(1);
const BUILDS: usize = 2;
const SWITCH_OVER: Duration = Duration::from_secs(1);
const FAST_FAILURE: Duration = Duration::from_secs(30);
const RSS_TARGET_KB: u64 = 32 * 1024;

type Outcome<T> = Result<T, Box<dyn std::error::Error>>;

/// An environment's apps and their health endpoints.
struct Apps {
    uuids: Vec<ApplicationUuid>,
    health: Vec<HealthServer>,
}

/// A repository with two releases, the fake with `count` apps per environment, and the config.
struct World {
    directory: tempfile::TempDir,
    fake: FakeCoolify,
    staging: Apps,
    production: Apps,
    /// v1.0.0's commit, and v1.1.0's.
    good: String,
    bad: String,
    /// When each deployment finished, by commit.
    finishes: Arc<Mutex<Vec<(String, Instant)>>>,
}

impl World {
    async fn new(count: usize, limit: u32) -> Outcome<Self> {
        let directory = tempfile::tempdir()?;
        let repository = git2::Repository::init(directory.path())?;
        let good = support::commit_tagged(&repository, "good", "v1.0.0")?.to_string();
        let bad = support::commit_tagged(&repository, "bad", "v1.1.0")?.to_string();
        let fake = FakeCoolify::start().await?;
        fake.set_rate_limit(Some(limit));
        fake.set_concurrent_builds(BUILDS);
        let mut environments = Vec::new();
        let mut by_app: HashMap<ApplicationUuid, HealthServer> = HashMap::new();
        for environment in ["staging", "production"] {
            let mut apps = Apps {
                uuids: Vec::new(),
                health: Vec::new(),
            };
            for index in 0..count {
                let uuid = fake.add_application(
                    FakeApplication::new(format!("{environment}-{index:03}"))
                        .auto_deploy(AutoDeploy::Disabled)
                        .queue_time(QUEUE)
                        .build_time(BUILD),
                );
                let health = HealthServer::start(environment, SWITCH_OVER).await?;
                by_app.insert(uuid.clone(), health.clone());
                apps.uuids.push(uuid);
                apps.health.push(health);
            }
            environments.push(apps);
        }
        let finishes: Arc<Mutex<Vec<(String, Instant)>>> = Arc::default();
        {
            let finishes = Arc::clone(&finishes);
            fake.on_deployment_finished(move |finished| {
                if finished.pull_request_id().is_some() {
                    return;
                }
                finishes
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .push((finished.commit().to_owned(), Instant::now()));
                if let Some(health) = by_app.get(finished.application()) {
                    health.deployment_finished(finished.commit());
                }
            });
        }
        let production = environments.pop().ok_or("no production")?;
        let staging = environments.pop().ok_or("no staging")?;
        let section = |name: &str, apps: &Apps| {
            let entries: String = apps
                .uuids
                .iter()
                .zip(&apps.health)
                .enumerate()
                .map(|(index, (uuid, health))| {
                    format!(
                        "  {{ app = \"{uuid}\", name = \"app-{index:03}\", health_url = \"{}\" }},\n",
                        health.url()
                    )
                })
                .collect();
            format!("[environments.{name}]\napps = [\n{entries}]\n\n")
        };
        std::fs::write(
            directory.path().join("deploy.toml"),
            format!(
                "[coolify]\nurl = \"{}\"\ntoken_env = \"BENCH_TOKEN\"\n\n{}{}",
                fake.base_url(),
                section("staging", &staging),
                section("production", &production)
            ),
        )?;
        Ok(Self {
            directory,
            fake,
            staging,
            production,
            good,
            bad,
            finishes,
        })
    }

    fn session(&self) -> stagegate::Session {
        support::quiet_session(self.directory.path(), &self.fake)
    }

    /// Production runs v1.0.0 and staging v1.1.0 (finished deployments), each app's health
    /// endpoint reporting it.
    fn v1_0_live_and_v1_1_staged(&self) {
        for (uuid, health) in self.production.uuids.iter().zip(&self.production.health) {
            self.fake
                .seed_deployment(uuid, &self.good, DeploymentStatus::Finished);
            health.serve(&self.good);
        }
        for (uuid, health) in self.staging.uuids.iter().zip(&self.staging.health) {
            self.fake
                .seed_deployment(uuid, &self.bad, DeploymentStatus::Finished);
            health.serve(&self.bad);
        }
    }

    /// The first time a deployment of `commit` finished.
    fn first_finish(&self, commit: &str) -> Option<Instant> {
        self.finishes
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .find(|(finished, _)| finished == commit)
            .map(|(_, at)| *at)
    }

    /// Nothing half-applied: no app pinned to another commit than its newest finished
    /// deployment built (an app stagegate never pinned keeps `HEAD`), nothing in flight; `on`,
    /// when given, what every app runs.
    fn check_nothing_half_applied(&self, apps: &Apps, on: Option<&str>) -> Outcome<String> {
        let (mut changed, mut unchanged) = (0, 0);
        for uuid in &apps.uuids {
            let deployments = self.fake.deployments_of(uuid);
            if deployments
                .iter()
                .any(|deployment| deployment.status.is_in_flight())
            {
                return Err(format!("{uuid} has a deployment in flight").into());
            }
            let runs = deployments
                .iter()
                .find(|deployment| deployment.status == DeploymentStatus::Finished)
                .and_then(|deployment| deployment.commit.clone())
                .unwrap_or_else(|| "HEAD".to_owned());
            let pinned = self
                .fake
                .application(uuid)
                .and_then(|application| application.git_commit_sha)
                .unwrap_or_default();
            if pinned != runs && pinned != "HEAD" {
                return Err(format!("{uuid} is pinned to {pinned} but runs {runs}").into());
            }
            if let Some(on) = on
                && runs != on
            {
                return Err(format!("{uuid} runs {runs}, not {on}").into());
            }
            if pinned != "HEAD" {
                changed += 1;
            } else {
                unchanged += 1;
            }
        }
        Ok(format!(
            "{changed} apps pinned to what they run, {unchanged} never pinned, nothing in flight"
        ))
    }
}

/// One `deploy staging` of every app.
struct Throughput {
    apps: usize,
    limit: u32,
    wall: Duration,
    traffic: Traffic,
    polls: usize,
}

impl Throughput {
    fn floor(&self) -> Duration {
        BUILD * u32::try_from(self.apps.div_ceil(BUILDS)).unwrap_or(u32::MAX)
    }

    fn per_minute(&self) -> f64 {
        self.traffic.requests() as f64 / (self.wall.as_secs_f64() / 60.0)
    }
}

async fn throughput(apps: usize, limit: u32) -> Outcome<Throughput> {
    let world = World::new(apps, limit).await?;
    let session = world.session();
    let before = world.fake.requests().len();
    let started = Instant::now();
    stagegate::deploy::staging(&session, &StagingOptions::head()).await?;
    let wall = started.elapsed();
    let requests = world.fake.requests().split_off(before);
    let traffic = Traffic::of(&requests);
    let polls = traffic.route("GET /api/v1/deployments");
    for health in &world.staging.health {
        if health.commit() != world.bad {
            return Err("an app does not serve the commit".into());
        }
    }
    Ok(Throughput {
        apps,
        limit,
        wall,
        traffic,
        polls,
    })
}

/// `deploy production --auto-rollback` of a release answering 503 on every app.
async fn fast_failure(apps: usize) -> Outcome<(Duration, Duration, String)> {
    let world = World::new(apps, 200).await?;
    world.v1_0_live_and_v1_1_staged();
    for health in &world.production.health {
        health.set_mode(HealthMode::NewVersionUnavailable);
    }
    let session = world.session();
    let options = ProductionOptions {
        auto_rollback: AutoRollback::On,
        ..ProductionOptions::tag("v1.1.0")
    };
    let error = match stagegate::deploy::production(&session, &options).await {
        Ok(_) => return Err("the bad release went live".into()),
        Err(error) => error,
    };
    let ended = Instant::now();
    let message = stagegate::exit::message(&error);
    if !message.contains("rolled back to v1.0.0") {
        return Err(format!("no rollback: {message}").into());
    }
    world.check_nothing_half_applied(&world.production, Some(&world.good))?;
    let bad_finished = world
        .first_finish(&world.bad)
        .ok_or("no deployment of the bad release finished")?;
    let redeploy = QUEUE + BUILD + SWITCH_OVER;
    Ok((ended.duration_since(bad_finished), redeploy, message))
}

/// Where a full queue comes from.
#[derive(Clone, Copy, PartialEq, Eq)]
enum FullQueue {
    /// Another team's deployments fill it before the run.
    FromTheStart,
    /// Another team's storm of deploys fills every place that frees from 30 s after the run's
    /// first deployment finished, for ten minutes.
    Midway,
}

/// The other team's app, whose seeded queued deployments hold places in the queue.
fn other_team(fake: &FakeCoolify) -> ApplicationUuid {
    fake.add_application(FakeApplication::new("other-team").auto_deploy(AutoDeploy::Disabled))
}

/// Fill every free place of the queue (25) with the other team's queued deployments.
fn fill_the_queue(
    fake: &FakeCoolify,
    other: &ApplicationUuid,
    all: &[&Apps],
) -> Vec<DeploymentUuid> {
    let queued = all
        .iter()
        .flat_map(|apps| apps.uuids.iter())
        .chain(std::iter::once(other))
        .flat_map(|uuid| fake.deployments_of(uuid))
        .filter(|deployment| deployment.status == DeploymentStatus::Queued)
        .count();
    (queued..25)
        .map(|place| {
            fake.seed_deployment(other, &format!("{place:040x}"), DeploymentStatus::Queued)
        })
        .collect()
}

/// A run into a queue that stays full: exit 1 and nothing half-applied.
async fn full_queue(
    apps: usize,
    environment: &str,
    full: FullQueue,
) -> Outcome<(Duration, String)> {
    let world = World::new(apps, 200).await?;
    if environment != "staging" {
        world.v1_0_live_and_v1_1_staged();
    }
    let other = other_team(&world.fake);
    if full == FullQueue::FromTheStart {
        fill_the_queue(&world.fake, &other, &[&world.staging, &world.production]);
    }
    let storm = async {
        if full == FullQueue::FromTheStart {
            return Ok::<(), coolify_client::Error>(());
        }
        let first = world.bad.as_str();
        while world.first_finish(first).is_none() {
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
        tokio::time::sleep(Duration::from_secs(30)).await;
        let until = Instant::now() + Duration::from_secs(600);
        let mut seeded = Vec::new();
        while Instant::now() < until {
            seeded.extend(fill_the_queue(
                &world.fake,
                &other,
                &[&world.staging, &world.production],
            ));
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
        // The other team's deployments end.
        let client = world.fake.client_builder().build()?;
        for deployment in seeded {
            client.cancel_deployment(&deployment).await?;
        }
        Ok(())
    };
    let session = world.session();
    let started = Instant::now();
    let run = async {
        if environment == "staging" {
            stagegate::deploy::staging(&session, &StagingOptions::revision("v1.1.0"))
                .await
                .map(|_| ())
        } else {
            let options = ProductionOptions {
                auto_rollback: AutoRollback::On,
                ..ProductionOptions::tag("v1.1.0")
            };
            stagegate::deploy::production(&session, &options)
                .await
                .map(|_| ())
        }
    };
    let (result, stormed) = tokio::join!(
        async {
            let result = run.await;
            (result, started.elapsed())
        },
        storm
    );
    stormed?;
    let (result, took) = result;
    let error = match result {
        Ok(()) => return Err("the run succeeded against a full queue".into()),
        Err(error) => error,
    };
    if Exit::of(&error) != Exit::Failed {
        return Err(format!(
            "exit {:?}: {}",
            Exit::of(&error),
            stagegate::exit::message(&error)
        )
        .into());
    }
    let state = if environment == "staging" {
        world.check_nothing_half_applied(&world.staging, None)?
    } else {
        world.check_nothing_half_applied(&world.production, Some(&world.good))?
    };
    Ok((took, state))
}

/// The process's peak resident memory in KiB, where the system says (Linux).
fn peak_rss_kb() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
}

fn minutes(duration: Duration) -> String {
    format!("{:.1} min", duration.as_secs_f64() / 60.0)
}

fn main() -> Outcome<()> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .start_paused(true)
        .build()?;
    let mut missed: Vec<String> = Vec::new();

    println!(
        "deploy staging of every app (2 builds at once, 60 s builds, max_parallel 4, half of the limit)"
    );
    println!(
        "| limit a minute | apps | wall | build floor | wall / floor | wall - floor | requests | a minute | most in any 60 s | polls | 429s |"
    );
    println!("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |");
    for limit in [200, 60] {
        let mut per_minute_with_10 = None;
        for apps in [1, 10, 100] {
            let run = runtime.block_on(throughput(apps, limit))?;
            println!(
                "| {} | {} | {} | {} | {:.2} | {:.1} s | {} | {:.1} | {} | {} | {} |",
                run.limit,
                run.apps,
                minutes(run.wall),
                minutes(run.floor()),
                run.wall.as_secs_f64() / run.floor().as_secs_f64(),
                run.wall.saturating_sub(run.floor()).as_secs_f64(),
                run.traffic.requests(),
                run.per_minute(),
                run.traffic.peak_per_minute(),
                run.polls,
                run.traffic.rate_limited()
            );
            if run.traffic.rate_limited() > 0 {
                missed.push(format!("{apps} apps at {limit} a minute got 429s"));
            }
            if limit == 200 && apps == 10 {
                per_minute_with_10 = Some(run.per_minute());
            }
            if limit == 200 && apps == 100 {
                if run.wall > run.floor().mul_f64(1.1) + Duration::from_secs(300) {
                    missed.push(format!(
                        "100 apps took {}, over 1.1 x the floor + 5 min",
                        minutes(run.wall)
                    ));
                }
                if let Some(with_10) = per_minute_with_10
                    && run.per_minute() > 1.5 * with_10
                {
                    missed.push(format!(
                        "{:.1} requests a minute with 100 apps, over 1.5 x the {with_10:.1} with 10",
                        run.per_minute()
                    ));
                }
            }
        }
    }

    println!();
    let (took, redeploy, message) = runtime.block_on(fast_failure(100))?;
    println!(
        "deploy production --auto-rollback, 100 apps, every app of the release answering 503: first failing deployment finished -> production back on v1.0.0, verified: {:.1} s (target {} s + one redeploy of {} s)",
        took.as_secs_f64(),
        FAST_FAILURE.as_secs(),
        redeploy.as_secs()
    );
    println!("  the error ({} characters): {message}", message.len());
    if took > FAST_FAILURE + redeploy {
        missed.push(format!("the fast failure took {:.1} s", took.as_secs_f64()));
    }

    println!();
    println!("a queue that stays full (exit 1 each time)");
    for (full, what) in [
        (
            FullQueue::FromTheStart,
            "full of another team's deployments from the start",
        ),
        (
            FullQueue::Midway,
            "filled by another team's storm from 30 s after the first deployment finished, for 10 minutes",
        ),
    ] {
        for environment in ["staging", "production --auto-rollback"] {
            match runtime.block_on(full_queue(100, environment, full)) {
                Ok((took, state)) => println!(
                    "  {environment}, 100 apps, {what}: exit 1 after {}; {state}",
                    minutes(took)
                ),
                Err(error) => {
                    println!("  {environment}, 100 apps, {what}: {error}");
                    missed.push(format!("{environment}, {what}: {error}"));
                }
            }
        }
    }

    println!();
    match peak_rss_kb() {
        Some(peak) => {
            println!(
                "peak resident memory of the whole bench process (the fake Coolify and 200 health servers included): {:.1} MB (target 32 MB)",
                peak as f64 / 1024.0
            );
            if peak > RSS_TARGET_KB {
                missed.push(format!("peak memory {peak} kB"));
            }
        }
        None => println!("peak resident memory: not measured on this system"),
    }
    if missed.is_empty() {
        Ok(())
    } else {
        Err(format!("missed: {}", missed.join("; ")).into())
    }
}
