//! How long a bad release stays in production with the default probe settings: the time from
//! its deployment finishing to production serving the previous release again, verified by the
//! rollback's probe, under `deploy production --auto-rollback`.
//!
//! Run: `cargo bench -p stagegate --bench fast_failure`
//!
//! A fake Coolify on loopback deploys in a known time (1 s queued + 5 s building); the app's
//! health endpoint switches to a deployment's commit 1 s after it finishes, and answers `503`
//! while it serves the bad release. The target is 30 s plus the fake's redeploy time (the
//! rollback's queue and build, and the app's switch-over).

mod support;

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use coolify_client::DeploymentStatus;
use coolify_fake::FakeCoolify;
use stagegate::deploy::{AutoRollback, ProductionOptions};
use stagegate_tests::{HealthMode, HealthServer};

const QUEUE: Duration = Duration::from_secs(1);
const BUILD: Duration = Duration::from_secs(5);
const SWITCH_OVER: Duration = Duration::from_secs(1);
const TARGET: Duration = Duration::from_secs(30);

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let run = runtime.block_on(run())?;
    let redeploy = QUEUE + BUILD + SWITCH_OVER;
    println!(
        "bad release's deployment finished -> production serves the previous release again, verified: {:.2} s",
        run.bad_to_verified.as_secs_f64()
    );
    println!(
        "  bad release's deployment finished -> rollback's deployment finished: {:.2} s",
        run.bad_to_rollback_finished.as_secs_f64()
    );
    println!(
        "  fake's redeploy time: {:.2} s (queue {} s + build {} s + the app's switch-over {} s)",
        redeploy.as_secs_f64(),
        QUEUE.as_secs(),
        BUILD.as_secs(),
        SWITCH_OVER.as_secs()
    );
    println!(
        "  without the redeploy: {:.2} s (target {} s + the redeploy, {:.2} s in all)",
        run.bad_to_verified.saturating_sub(redeploy).as_secs_f64(),
        TARGET.as_secs(),
        (TARGET + redeploy).as_secs_f64()
    );
    println!("  the error: {}", run.message);
    if run.bad_to_verified > TARGET + redeploy {
        return Err(format!(
            "over target: {:.2} s > {:.2} s",
            run.bad_to_verified.as_secs_f64(),
            (TARGET + redeploy).as_secs_f64()
        )
        .into());
    }
    Ok(())
}

struct Measured {
    bad_to_verified: Duration,
    bad_to_rollback_finished: Duration,
    message: String,
}

async fn run() -> Result<Measured, Box<dyn std::error::Error>> {
    let directory = tempfile::tempdir()?;
    let repository = git2::Repository::init(directory.path())?;
    let good = support::commit_tagged(&repository, "good", "v1.0.0")?.to_string();
    let bad = support::commit_tagged(&repository, "bad", "v1.1.0")?.to_string();

    let fake = FakeCoolify::start().await?;
    let (staging, production) = support::add_apps(&fake, QUEUE, BUILD);
    fake.seed_deployment(&staging, &good, DeploymentStatus::Finished);
    fake.seed_deployment(&staging, &bad, DeploymentStatus::Finished);
    fake.seed_deployment(&production, &good, DeploymentStatus::Finished);

    // Production answers 503 once it serves the bad release, until the rollback.
    let health = HealthServer::start("production", SWITCH_OVER).await?;
    health.serve(&good);
    health.set_mode(HealthMode::NewVersionUnavailable);
    let staging_health = HealthServer::start("staging", Duration::ZERO).await?;
    staging_health.serve(&bad);
    let finishes: Arc<Mutex<Vec<(String, Instant)>>> = Arc::default();
    {
        let finishes = Arc::clone(&finishes);
        let health = health.clone();
        fake.on_deployment_finished(move |finished| {
            finishes
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push((finished.commit().to_owned(), Instant::now()));
            health.deployment_finished(finished.commit());
        });
    }
    // No [probe] table: stagegate's defaults.
    support::write_config(
        directory.path(),
        &fake,
        (&staging, staging_health.url()),
        (&production, health.url()),
    )?;
    let session = support::quiet_session(directory.path(), &fake);

    let options = ProductionOptions {
        auto_rollback: AutoRollback::On,
        ..ProductionOptions::tag("v1.1.0")
    };
    let error = match stagegate::deploy::production(&session, &options).await {
        Ok(report) => return Err(format!("the bad release went live: {report}").into()),
        Err(error) => error,
    };
    let verified = Instant::now();
    let message = stagegate::exit::message(&error);
    if !message.contains("rolled back to v1.0.0") {
        return Err(format!("no rollback: {message}").into());
    }
    let finishes = finishes
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .clone();
    let finished = |commit: &str| {
        finishes
            .iter()
            .find(|(finished, _)| finished == commit)
            .map(|(_, at)| *at)
            .ok_or_else(|| format!("no finished deployment of {commit}: {finishes:?}"))
    };
    let bad_finished = finished(&bad)?;
    let rollback_finished = finished(&good)?;
    Ok(Measured {
        bad_to_verified: verified.duration_since(bad_finished),
        bad_to_rollback_finished: rollback_finished.duration_since(bad_finished),
        message,
    })
}
