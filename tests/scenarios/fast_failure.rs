//! A bad release leaves production fast: with stagegate's probe defaults, a release that keeps
//! failing once the rolling update has switched over is rolled back within seconds, not at the
//! probe's 5-minute deadline, while the old container answering during the switch-over never
//! counts against the new one.

use std::time::Duration;

use stagegate::deploy::{Action, AutoRollback, ProductionOptions};
use stagegate::{DryRun, Exit};
use stagegate_tests::{Env, HealthMode, Run, World};

/// The standard config without its probe timings, so that stagegate's defaults apply:
/// a 1 s interval, a 5-minute deadline, a 15 s switch-over and 5 counted failures.
fn with_default_probe_timings(config: &str) -> String {
    config
        .lines()
        .filter(|line| {
            !["interval", "attempt_timeout", "deadline"]
                .iter()
                .any(|key| line.starts_with(&format!("{key} =")))
        })
        .map(|line| format!("{line}\n"))
        .collect()
}

/// A world on stagegate's probe defaults where production runs v1.0.0 and v1.1.0 is released
/// and live on staging; returns (v1.0.0's commit, v1.1.0's commit).
async fn v1_1_staged_on_default_probes() -> (World, String, String) {
    let world = World::new().await.unwrap();
    let config = with_default_probe_timings(&world.config());
    assert!(!config.contains("deadline"), "{config}");
    world
        .repo
        .commit_file("deploy.toml", &config, "chore: probe with the defaults")
        .unwrap();
    let first = world.ship("feat: greet users", "1.0.0").await.unwrap();
    let second = world
        .repo
        .commit("src/app.txt", "feat: say goodbye")
        .unwrap();
    world.deploy_staging().await.value();
    assert_eq!(world.release_version("1.1.0").await.value().tag, "v1.1.0");
    (world, first, second)
}

async fn deploy_with_auto_rollback(world: &World) -> Run<stagegate::deploy::DeployReport> {
    world
        .deploy_production_with(ProductionOptions {
            auto_rollback: AutoRollback::On,
            dry_run: DryRun::No,
            ..ProductionOptions::tag("v1.1.0")
        })
        .await
}

/// Virtual time from the release's deployment finishing to the rollback's finishing.
fn release_to_rollback(world: &World) -> Duration {
    let finishes = world.production_health.finishes();
    let [.., release, rollback] = finishes[..] else {
        panic!("expected the release's and the rollback's deployments: {finishes:?}")
    };
    rollback - release
}

#[tokio::test(start_paused = true)]
async fn a_release_answering_503_after_the_switch_over_is_rolled_back_within_30_seconds() {
    let (world, first, second) = v1_1_staged_on_default_probes().await;
    world
        .production_health
        .set_mode(HealthMode::NewVersionUnavailable);

    let run = deploy_with_auto_rollback(&world).await;

    run.assert_failed(
        Exit::Failed,
        &[
            "deploy production v1.1.0",
            "health check failed 5 times in a row after the 15s switch-over (last: status 503)",
            "rolled back to v1.0.0",
            &format!("production runs v1.0.0 ({})", &first[..7]),
            "v1.1.0 served production for about ",
            "s after its deployment finished, then was rolled back",
        ],
    );
    assert!(
        !run.message().contains("did not go live"),
        "{}",
        run.message()
    );
    assert!(
        run.stderr.contains("rolling production back to v1.0.0"),
        "{}",
        run.stderr
    );
    let production = world.app(Env::Production);
    assert_eq!(run.pins_of(&production), [second, first.clone()]);
    assert_eq!(run.deploys_of(&production).len(), 2);
    // Failures count only after the switch-over, and the rollback's own deployment and probe
    // fit in the rest of the 30 s (the deadline is 5 minutes).
    let elapsed = release_to_rollback(&world);
    assert!(
        elapsed > Duration::from_secs(15) && elapsed < Duration::from_secs(30),
        "{elapsed:?}"
    );
    assert_eq!(world.production_health.commit(), first);
    world.assert_token_never_leaked();
}

#[tokio::test(start_paused = true)]
async fn a_release_that_refuses_connections_after_the_switch_over_is_rolled_back() {
    let (world, first, second) = v1_1_staged_on_default_probes().await;
    world
        .production_health
        .set_mode(HealthMode::NewVersionRefuses);

    let run = deploy_with_auto_rollback(&world).await;

    run.assert_failed(
        Exit::Failed,
        &[
            "health check failed 5 times in a row after the 15s switch-over (last: connection refused",
            "rolled back to v1.0.0",
            &format!("production runs v1.0.0 ({})", &first[..7]),
        ],
    );
    let production = world.app(Env::Production);
    assert_eq!(run.pins_of(&production), [second, first.clone()]);
    let elapsed = release_to_rollback(&world);
    assert!(
        elapsed > Duration::from_secs(15) && elapsed < Duration::from_secs(30),
        "{elapsed:?}"
    );
    // The rollback's probe proved v1.0.0 answering again.
    assert_eq!(world.production_health.commit(), first);
}

#[tokio::test(start_paused = true)]
async fn the_old_container_answering_past_the_switch_over_is_not_a_failure_of_the_new_one() {
    let (world, first, second) = v1_1_staged_on_default_probes().await;
    // A proxy's 503 for 3 s, then the old container until 25 s after the deployment finished:
    // ten seconds of old answers after the switch-over window, twice the failure threshold.
    world
        .production_health
        .set_mode(HealthMode::OldLingers(Duration::from_secs(25)));

    let run = deploy_with_auto_rollback(&world).await;

    assert_eq!(run.exit(), Exit::Done, "{}", run.stderr);
    let report = run.value();
    assert_eq!(report.action, Action::Deployed);
    let production = world.app(Env::Production);
    assert_eq!(run.pins_of(&production), [second.as_str()]);
    assert_eq!(run.deploys_of(&production).len(), 1, "no rollback");
    assert_eq!(world.production_health.commit(), second);
    let probe = report.rollout.as_ref().unwrap().probe.as_ref().unwrap();
    assert!(probe.is_healthy());
    // The evidence, as `--json` shows it.
    let evidence = serde_json::to_value(probe).unwrap();
    let attempts = evidence["attempts"].as_array().unwrap();
    let failures = |class: &str| {
        attempts
            .iter()
            .filter(|attempt| attempt["failure"]["class"] == class)
            .collect::<Vec<_>>()
    };
    let old_after_the_window = failures("wrong_version")
        .into_iter()
        .filter(|attempt| attempt["offset_ms"].as_u64().unwrap() > 15_000)
        .filter(|attempt| attempt["failure"]["actual"] == first.as_str())
        .count();
    assert!(old_after_the_window >= 5, "{evidence:#}");
    assert!(!failures("status").is_empty(), "{evidence:#}");
}
