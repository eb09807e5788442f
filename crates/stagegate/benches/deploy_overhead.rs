//! How much longer a production deploy takes than Coolify's deployment plus the app's
//! switch-over, with the default probe settings, and how often it polls Coolify while
//! following (the polls of the deployments in flight and the read of the one that ended).
//!
//! Run: `cargo bench -p stagegate --bench deploy_overhead`
//!
//! A fake Coolify on loopback deploys in a known time (1 s queued + 5 s building); the app's
//! health endpoint switches to the new commit a known time after the deployment finishes.
//! The overhead is the deploy's wall time minus those two.

mod support;

use std::time::{Duration, Instant};

use coolify_client::DeploymentStatus;
use coolify_fake::FakeCoolify;
use stagegate::deploy::ProductionOptions;
use stagegate_tests::HealthServer;

const QUEUE: Duration = Duration::from_secs(1);
const BUILD: Duration = Duration::from_secs(5);

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    println!("switch-over | wall    | overhead | follow GETs | GETs/s while following");
    let mut worst = Duration::ZERO;
    let mut worst_rate: f64 = 0.0;
    for switch_over in [250, 600, 1000, 1400, 1800] {
        let switch_over = Duration::from_millis(switch_over);
        let (wall, gets) = runtime.block_on(run(switch_over))?;
        let overhead = wall.saturating_sub(QUEUE + BUILD + switch_over);
        let rate = gets as f64 / (QUEUE + BUILD).as_secs_f64();
        worst = worst.max(overhead);
        worst_rate = worst_rate.max(rate);
        println!(
            "{:>9} ms | {:>5.2} s | {:>6.2} s | {gets:>11} | {rate:.2}",
            switch_over.as_millis(),
            wall.as_secs_f64(),
            overhead.as_secs_f64()
        );
    }
    println!(
        "worst overhead {:.2} s (target 2 s), worst poll rate {worst_rate:.2}/s (target 2/s)",
        worst.as_secs_f64()
    );
    Ok(())
}

async fn run(switch_over: Duration) -> Result<(Duration, usize), Box<dyn std::error::Error>> {
    let directory = tempfile::tempdir()?;
    let repository = git2::Repository::init(directory.path())?;
    let commit = support::commit_tagged(&repository, "bench", "v1.0.0")?;

    let fake = FakeCoolify::start().await?;
    let (staging, production) = support::add_apps(&fake, QUEUE, BUILD);
    fake.seed_deployment(&staging, &commit.to_string(), DeploymentStatus::Finished);

    let health = HealthServer::start("production", switch_over).await?;
    health.serve(&"0".repeat(40));
    let staging_health = HealthServer::start("staging", Duration::ZERO).await?;
    staging_health.serve(&commit.to_string());
    {
        let health = health.clone();
        fake.on_deployment_finished(move |finished| health.deployment_finished(finished.commit()));
    }
    support::write_config(
        directory.path(),
        &fake,
        (&staging, staging_health.url()),
        (&production, health.url()),
    )?;
    let session = support::quiet_session(directory.path(), &fake);

    let started = Instant::now();
    stagegate::deploy::production(&session, &ProductionOptions::tag("v1.0.0")).await?;
    let wall = started.elapsed();
    // The polls of the deployments in flight and the reads of one deployment.
    let gets = fake
        .requests()
        .iter()
        .filter(|request| {
            request.method() == "GET"
                && request.path().starts_with("/api/v1/deployments")
                && !request.path().contains("/applications/")
        })
        .count();
    Ok((wall, gets))
}
