//! Environments with several apps (a web app and a worker) that move together: every app is
//! pinned, deployed, followed and verified; a failure of one rolls every app back; the
//! staging gate needs every staging app on the commit.

use stagegate::deploy::{Action, AutoRollback, ProductionOptions};
use stagegate::{DryRun, Exit};
use stagegate_tests::{Env, World};

#[tokio::test(start_paused = true)]
async fn both_apps_go_to_staging_and_then_to_production_together() {
    let world = World::with_worker().await.unwrap();
    let commit = world
        .repo
        .commit("src/app.txt", "feat: greet users")
        .unwrap();

    let staged = world.deploy_staging().await;

    assert_eq!(staged.exit(), Exit::Done, "{}", staged.stderr);
    for app in [world.app(Env::Staging), world.worker(Env::Staging)] {
        assert_eq!(staged.pins_of(&app), [commit.as_str()], "{app}");
        assert_eq!(staged.deploys_of(&app).len(), 1, "{app}");
    }
    for app in [world.app(Env::Production), world.worker(Env::Production)] {
        assert!(staged.requests_to(&app).is_empty(), "{app}");
    }
    let rollout = staged.value().rollout.clone().unwrap();
    let labels: Vec<&str> = rollout.apps.iter().map(|app| app.label.as_str()).collect();
    assert_eq!(labels, ["web", "worker"]);
    assert!(rollout.apps[0].probe.is_some());
    assert_eq!(rollout.apps[1].probe, None);
    assert_eq!(
        rollout.apps[1].container.as_deref(),
        Some("running:healthy")
    );
    assert!(
        staged
            .stderr
            .contains("staging worker: no health URL; watching its container"),
        "{}",
        staged.stderr
    );
    assert_eq!(world.staging_health.commit(), commit);

    world.release_version("1.0.0").await.value();
    let (_, summary) = world.enable_github_actions();
    let run = world.deploy_production("v1.0.0").await;

    assert_eq!(run.exit(), Exit::Done, "{}", run.stderr);
    assert_eq!(run.value().action, Action::Deployed);
    let summary = std::fs::read_to_string(summary).unwrap();
    let worker_deployment = &run.value().rollout.as_ref().unwrap().apps[1].deployment;
    assert!(
        summary.contains(&format!("| worker | deployment `{worker_deployment}` |")),
        "{summary}"
    );
    for app in [world.app(Env::Production), world.worker(Env::Production)] {
        assert_eq!(run.pins_of(&app), [commit.as_str()], "{app}");
        assert_eq!(run.deploys_of(&app).len(), 1, "{app}");
    }
    for app in [world.app(Env::Staging), world.worker(Env::Staging)] {
        assert!(run.writes_to(&app).is_empty(), "{:?}", run.writes_to(&app));
    }
    let text = run.value().to_string();
    for expected in [
        "production now serves v1.0.0",
        "web runs v1.0.0",
        "worker runs v1.0.0",
    ] {
        assert!(text.contains(expected), "{expected:?} in {text}");
    }
    // The gate relied on the record: both staging apps verified the commit in one run.
    assert!(
        run.stderr.contains("staging gate: v1.0.0") && run.stderr.contains("verified on staging"),
        "{}",
        run.stderr
    );
    assert_eq!(world.production_health.commit(), commit);

    // Live on every app and healthy: nothing to do.
    let again = world.deploy_production("v1.0.0").await;
    assert_eq!(again.value().action, Action::AlreadyLive);
    for app in [world.app(Env::Production), world.worker(Env::Production)] {
        assert!(again.writes_to(&app).is_empty());
    }
    world.assert_token_never_leaked();
}

#[tokio::test(start_paused = true)]
async fn a_failed_worker_deployment_rolls_both_apps_back() {
    let world = World::with_worker().await.unwrap();
    let (first, second) = world.v1_0_live_and_v1_1_staged().await.unwrap();
    let web = world.app(Env::Production);
    let worker = world.worker(Env::Production);
    world.fake.fail_next_deployment(&worker);

    let run = world
        .deploy_production_with(ProductionOptions {
            auto_rollback: AutoRollback::On,
            ..ProductionOptions::tag("v1.1.0")
        })
        .await;

    let short = &first[..7];
    run.assert_failed(
        Exit::Failed,
        &[
            "deploy production v1.1.0",
            "rolled back to v1.0.0",
            &format!("production: web runs v1.0.0 ({short}), worker runs v1.0.0 ({short})"),
            "v1.1.0 did not go live",
            "stagegate rollback --to v1.0.0",
        ],
    );
    for app in [&web, &worker] {
        assert_eq!(run.pins_of(app), [second.clone(), first.clone()], "{app}");
        assert_eq!(run.deploys_of(app).len(), 2, "{app}");
        let latest = &world.fake.deployments_of(app)[0];
        assert_eq!(latest.status.to_string(), "finished");
        assert_eq!(
            latest.resolved_commit().map(String::from),
            Some(first.clone())
        );
    }
    for app in [world.app(Env::Staging), world.worker(Env::Staging)] {
        assert!(run.writes_to(&app).is_empty());
    }
    assert_eq!(world.production_health.commit(), first);
}

#[tokio::test(start_paused = true)]
async fn without_auto_rollback_the_message_says_what_each_app_runs() {
    let world = World::with_worker().await.unwrap();
    let (first, second) = world.v1_0_live_and_v1_1_staged().await.unwrap();
    let worker = world.worker(Env::Production);
    world.fake.fail_next_deployment(&worker);

    let run = world.deploy_production("v1.1.0").await;

    run.assert_failed(
        Exit::Failed,
        &[
            &format!(
                "production: web runs v1.1.0 ({}), worker runs v1.0.0 ({}) (app pinned to {})",
                &second[..7],
                &first[..7],
                &second[..7]
            ),
            "stagegate rollback --to v1.0.0",
        ],
    );
    assert_eq!(run.pins_of(&worker), [second]);
}

#[tokio::test(start_paused = true)]
async fn the_staging_gate_needs_every_staging_app_on_the_commit() {
    let world = World::with_worker().await.unwrap();
    let commit = world
        .repo
        .commit("src/app.txt", "feat: greet users")
        .unwrap();
    world.fake.fail_next_deployment(&world.worker(Env::Staging));
    let staged = world.deploy_staging().await;
    staged.assert_failed(Exit::Failed, &["Production was not touched"]);
    world.repo.tag_lightweight("v1.0.0", "HEAD").unwrap();

    // The record says the commit failed on staging: refused, naming the failure.
    let run = world.deploy_production("v1.0.0").await;
    run.assert_failed(
        Exit::Refused,
        &[
            "staging gate: v1.0.0",
            "failed in Coolify on staging",
            &format!("stagegate deploy staging --commit {commit}"),
        ],
    );
    for app in [world.app(Env::Production), world.worker(Env::Production)] {
        assert!(run.requests_to(&app).is_empty(), "{app}");
    }

    // Without a record, the live check names the app that does not run it.
    world.forget_github();
    let run = world.deploy_production("v1.0.0").await;

    run.assert_failed(
        Exit::Refused,
        &[
            "staging gate",
            &commit[..7],
            &format!("staging's worker (app {})", world.worker(Env::Staging)),
            &format!("stagegate deploy staging --commit {commit}"),
        ],
    );
    assert!(
        !run.message().contains("staging's web"),
        "{}",
        run.message()
    );
    for app in [world.app(Env::Production), world.worker(Env::Production)] {
        assert!(run.requests_to(&app).is_empty(), "{app}");
    }
}

#[tokio::test(start_paused = true)]
async fn a_dry_run_plans_every_app() {
    let world = World::with_worker().await.unwrap();
    world
        .repo
        .commit("src/app.txt", "feat: greet users")
        .unwrap();

    let run = world
        .deploy_staging_with(stagegate::deploy::StagingOptions {
            dry_run: DryRun::Yes,
            ..stagegate::deploy::StagingOptions::head()
        })
        .await;

    let planned = run.value().planned.join("\n");
    for app in [world.app(Env::Staging), world.worker(Env::Staging)] {
        assert!(
            planned.contains(&format!("/applications/{app}")),
            "{planned}"
        );
        assert!(run.writes_to(&app).is_empty());
    }
    assert!(
        planned.contains("watch the container of worker"),
        "{planned}"
    );
}

#[tokio::test(start_paused = true)]
async fn a_rollback_puts_every_app_back_and_keeps_the_pin() {
    let world = World::with_worker().await.unwrap();
    let first = world.ship("feat: greet users", "1.0.0").await.unwrap();
    world.ship("feat: say goodbye", "1.1.0").await.unwrap();

    let run = world.rollback(None).await;

    assert_eq!(run.exit(), Exit::Done, "{}", run.stderr);
    assert_eq!(run.value().tag.as_deref(), Some("v1.0.0"));
    for app in [world.app(Env::Production), world.worker(Env::Production)] {
        // The pin moves with the rollback, so a later redeploy keeps the old commit.
        assert_eq!(run.pins_of(&app), [first.as_str()], "{app}");
        assert_eq!(run.deploys_of(&app).len(), 1, "{app}");
        let application = world.fake.application(&app).unwrap();
        assert_eq!(application.pinned_commit(), Some(first.as_str()));
    }
    for app in [world.app(Env::Staging), world.worker(Env::Staging)] {
        assert!(run.requests_to(&app).is_empty(), "{app}");
    }
    assert_eq!(world.production_health.commit(), first);
}

#[tokio::test(start_paused = true)]
async fn status_shows_every_app_of_each_environment() {
    let world = World::with_worker().await.unwrap();
    let commit = world.ship("feat: greet users", "1.0.0").await.unwrap();

    let run = world
        .run(|s| async move { stagegate::status::status(&s).await })
        .await;

    let report = run.value();
    for environment in &report.environments {
        let labels: Vec<&str> = environment
            .apps
            .iter()
            .map(|app| app.label.as_str())
            .collect();
        assert_eq!(labels, ["web", "worker"]);
        for app in &environment.apps {
            assert_eq!(
                app.live.commit.as_ref().map(|c| c.to_string()),
                Some(commit.clone())
            );
        }
        assert!(environment.apps[0].health.as_ref().unwrap().passed);
        assert!(environment.apps[1].health.is_none());
    }
    let text = report.to_string();
    for expected in [
        "production:\n  web: production-app (running:healthy)",
        "  worker: production-worker (running:healthy)\n    runs       v1.0.0",
        "    health     no health URL (container status only)",
    ] {
        assert!(text.contains(expected), "{expected:?} in {text}");
    }
    assert_eq!(report.ahead_of_production, Some(0));
    // The JSON keeps the first app's fields where documents before several apps had them.
    let json = serde_json::to_value(report).unwrap();
    assert_eq!(json["environments"][1]["app"], "production-app");
    assert_eq!(json["environments"][1]["live"]["commit"], commit.as_str());
    assert_eq!(
        json["environments"][1]["apps"][1]["app"],
        "production-worker"
    );
    assert_eq!(
        json["environments"][1]["apps"][1]["health"],
        serde_json::Value::Null
    );
}

#[tokio::test(start_paused = true)]
async fn a_worker_that_crashes_after_its_deployment_rolls_both_apps_back() {
    let world = World::with_worker().await.unwrap();
    let (first, second) = world.v1_0_live_and_v1_1_staged().await.unwrap();
    let web = world.app(Env::Production);
    let worker = world.worker(Env::Production);
    // Its deployment finishes, then the container keeps restarting.
    world.fake.crash_after_next_deployment(&worker);

    let run = world
        .deploy_production_with(ProductionOptions {
            auto_rollback: AutoRollback::On,
            ..ProductionOptions::tag("v1.1.0")
        })
        .await;

    let short = &first[..7];
    run.assert_failed(
        Exit::Failed,
        &[
            &format!("the container of worker (app {worker}) is degraded:unhealthy after its deployment finished"),
            "rolled back to v1.0.0",
            &format!("production: web runs v1.0.0 ({short}), worker runs v1.0.0 ({short})"),
        ],
    );
    for app in [&web, &worker] {
        assert_eq!(run.pins_of(app), [second.clone(), first.clone()], "{app}");
        let latest = &world.fake.deployments_of(app)[0];
        assert_eq!(latest.status.to_string(), "finished");
        assert_eq!(
            latest.resolved_commit().map(String::from),
            Some(first.clone())
        );
    }
    // The web app's deployment succeeded, and it went back too.
    assert_eq!(world.production_health.commit(), first);
    let worker_now = world.fake.application(&worker).unwrap();
    assert!(worker_now.container_status().is_running_ok());
}

/// Without a record, the staging gate checks every staging app live, all at once: with each of
/// Coolify's answers taking a second, eight apps take as long as one (2 s; one after
/// another, 15 s).
#[tokio::test(start_paused = true)]
async fn the_live_staging_gate_checks_every_app_at_once() {
    let world = World::with_apps(8).await.unwrap();
    world
        .repo
        .commit("src/app.txt", "feat: greet users")
        .unwrap();
    world.deploy_staging().await.value();
    world.forget_github();
    world
        .fake
        .inject(coolify_fake::FaultRule::always(coolify_fake::Fault::Delay(
            std::time::Duration::from_secs(1),
        )));
    let started = tokio::time::Instant::now();
    let run = world.release_version("1.0.0").await;
    let took = started.elapsed();

    assert!(run.stderr.contains("checked live"), "{}", run.stderr);
    let requests = run.requests.len();
    assert_eq!(run.value().tag, "v1.0.0");
    assert!(requests >= 15, "every app was read: {requests} requests");
    // One after another, the requests alone would take a second each.
    assert!(
        took < std::time::Duration::from_secs(6),
        "{requests} requests of a second each took {took:?}"
    );
}
