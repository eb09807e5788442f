//! Environments of many apps: deployed in waves that fit the server (`max_parallel`), followed
//! with one poll for all, paced within the configured share of Coolify's rate limit; a queue
//! that stays full leaves nothing half-applied; under `--auto-rollback` the first failure stops
//! the whole environment and it goes back together; messages count the apps instead of
//! listing them.

use std::time::{Duration, SystemTime};

use coolify_client::{ApplicationUuid, DeploymentStatus};
use coolify_fake::{FakeApplication, Traffic};
use stagegate::Exit;
use stagegate_tests::{Env, HealthMode, World};

/// `world`'s config with `max_parallel` set in both environments, `coolify`'s lines in
/// `[coolify]` and `deploy.timeout` set to `timeout`, committed.
fn configure(world: &World, max_parallel: usize, coolify: &str, timeout: &str) {
    let config = world
        .config()
        .replace("timeout = \"2m\"", &format!("timeout = \"{timeout}\""))
        .replace(
            "[environments.staging]\n",
            &format!("[environments.staging]\nmax_parallel = {max_parallel}\n"),
        )
        .replace(
            "[environments.production]\n",
            &format!("[environments.production]\nmax_parallel = {max_parallel}\n"),
        )
        .replace(
            "token_env = \"COOLIFY_TOKEN\"\n",
            &format!("token_env = \"COOLIFY_TOKEN\"\n{coolify}"),
        );
    world
        .repo
        .commit_file("deploy.toml", &config, "chore: deploy in waves")
        .unwrap();
}

/// A world of `count` apps per environment [`configure`]d so, with a commit to deploy.
async fn a_change_to_deploy(
    count: usize,
    max_parallel: usize,
    coolify: &str,
    timeout: &str,
) -> (World, String) {
    let world = World::with_apps(count).await.unwrap();
    configure(&world, max_parallel, coolify, timeout);
    let commit = world
        .repo
        .commit("src/app.txt", "feat: greet users")
        .unwrap();
    (world, commit)
}

/// The most deployments of `apps` queued or building at the same moment.
fn most_in_flight_at_once(world: &World, apps: &[ApplicationUuid]) -> usize {
    let mut moments: Vec<(SystemTime, i32)> = Vec::new();
    for app in apps {
        for deployment in world.fake.deployments_of(app) {
            let created = deployment.created_at.and_then(|at| at.system_time());
            let ended = deployment.finished_at.and_then(|at| at.system_time());
            if let (Some(created), Some(ended)) = (created, ended) {
                moments.push((created, 1));
                moments.push((ended, -1));
            }
        }
    }
    // An end and a start at the same moment: the end first.
    moments.sort();
    let (mut now, mut most) = (0, 0);
    for (_, change) in moments {
        now += change;
        most = most.max(now);
    }
    usize::try_from(most).unwrap()
}

/// Whether `app` has a deployment queued or building.
fn in_flight(world: &World, app: &ApplicationUuid) -> bool {
    world
        .fake
        .deployments_of(app)
        .iter()
        .any(|deployment| deployment.status.is_in_flight())
}

/// The next deployment of each of `apps` builds for `seconds`.
fn builds_take(world: &World, apps: &[ApplicationUuid], seconds: u64) {
    for app in apps {
        world
            .fake
            .next_deployment_takes(app, Duration::from_secs(seconds));
    }
}

/// Every app of production pinned to `commit` with nothing in flight, and the web app serving
/// it.
fn assert_every_app_on(world: &World, apps: &[ApplicationUuid], commit: &str) {
    for app in apps {
        assert_eq!(pin(world, app), commit, "{app}");
        assert!(!in_flight(world, app), "{app}");
    }
    assert_eq!(world.production_health.commit(), commit);
}

fn pin(world: &World, app: &ApplicationUuid) -> String {
    world
        .fake
        .application(app)
        .unwrap()
        .git_commit_sha
        .unwrap_or_default()
}

#[tokio::test(start_paused = true)]
async fn many_apps_go_in_waves_of_max_parallel_followed_by_one_poll() {
    let (world, commit) = a_change_to_deploy(6, 2, "", "2m").await;
    let apps = world.apps(Env::Staging);

    let run = world.deploy_staging().await;

    assert_eq!(run.exit(), Exit::Done, "{}", run.stderr);
    for app in &apps {
        assert_eq!(run.pins_of(app), [commit.as_str()], "{app}");
        assert_eq!(run.deploys_of(app).len(), 1, "{app}");
    }
    assert_eq!(most_in_flight_at_once(&world, &apps), 2);
    let rollout = run.value().rollout.clone().unwrap();
    assert_eq!(rollout.apps.len(), 6);
    assert!(rollout.apps[1..].iter().all(|app| app.container.is_some()));
    // One poll of the deployments in flight for all of them, and one read of each as it ended.
    let traffic = Traffic::of(&run.requests);
    assert_eq!(traffic.route("GET /api/v1/deployments/{uuid}"), 6);
    assert!(traffic.route("GET /api/v1/deployments") > 0);
    // Each app read once by the checks, which its deploy pins against, and each worker's
    // container read four times.
    assert_eq!(traffic.route("GET /api/v1/applications/{uuid}"), 6 + 5 * 4);
    for app in world.apps(Env::Production) {
        assert!(run.requests_to(&app).is_empty(), "{app}");
    }
    world.assert_token_never_leaked();
}

#[tokio::test(start_paused = true)]
async fn a_two_app_deploy_reads_each_application_once_before_its_pin() {
    let world = World::with_worker().await.unwrap();
    world
        .repo
        .commit("src/app.txt", "feat: greet users")
        .unwrap();

    let run = world.deploy_staging().await;

    assert_eq!(run.exit(), Exit::Done, "{}", run.stderr);
    for app in world.apps(Env::Staging) {
        // The checks read each app; its pin and deploy follow without another read.
        let requests = run.requests_to(&app);
        let pin = requests
            .iter()
            .position(|request| request.method() == "PATCH")
            .unwrap();
        let reads_before_pin = requests[..pin]
            .iter()
            .filter(|request| request.route() == "GET /api/v1/applications/{uuid}")
            .count();
        assert_eq!(reads_before_pin, 1, "{app}");
        // What the app ran: one read of its deployments.
        let deployment_reads = requests[..pin]
            .iter()
            .filter(|request| request.route() == "GET /api/v1/deployments/applications/{uuid}")
            .count();
        assert_eq!(deployment_reads, 1, "{app}");
    }
}

#[tokio::test(start_paused = true)]
async fn the_run_keeps_within_its_share_of_the_rate_limit() {
    // 10 % of Coolify's 200 a minute: 20.
    let (world, _) = a_change_to_deploy(6, 2, "rate_limit_share = 10\n", "2m").await;

    let run = world.deploy_staging().await;

    assert_eq!(run.exit(), Exit::Done, "{}", run.stderr);
    let traffic = Traffic::of(&run.requests);
    assert!(traffic.requests() > 40, "{traffic:?}");
    assert_eq!(traffic.rate_limited(), 0, "{traffic:?}");
    // The share, and the reads of what each app runs, sent together before the first answer
    // announced the limit.
    assert!(traffic.peak_per_minute() <= 20 + 6, "{traffic:?}");
}

#[tokio::test(start_paused = true)]
async fn a_queue_full_of_the_runs_own_deployments_waits_for_one_to_end() {
    let (world, commit) = a_change_to_deploy(4, 4, "", "10m").await;
    // One build at a time and one place in the queue; the first two builds outlast the
    // client's wait for the queue (Retry-After: 60).
    world.fake.set_concurrent_builds(1);
    world.fake.set_deployment_queue_limit(1);
    let apps = world.apps(Env::Staging);
    builds_take(&world, &apps[..2], 90);

    let run = world.deploy_staging().await;

    assert_eq!(run.exit(), Exit::Done, "{}", run.stderr);
    assert!(
        run.stderr.contains(
            "Coolify's deployment queue is full; deploying it once one of this run's 2 deployments in flight ended"
        ),
        "{}",
        run.stderr
    );
    assert!(Traffic::of(&run.requests).queue_full() >= 2);
    for app in &apps {
        assert_eq!(pin(&world, app), commit, "{app}");
        let deployments = world.fake.deployments_of(app);
        assert_eq!(deployments.len(), 1, "{app}");
        assert_eq!(deployments[0].status, DeploymentStatus::Finished, "{app}");
    }
}

/// Another team's app, each of whose deployments builds for `build`: its first deployment
/// starts building at once (on a free build slot), the next wait behind it (an app builds one
/// deployment at a time).
async fn other_team(world: &World, build: Duration) -> ApplicationUuid {
    let other = world.fake.add_application(
        FakeApplication::new("other-team")
            .queue_time(Duration::ZERO)
            .build_time(build),
    );
    assert!(
        world
            .fake
            .trigger_deployment(&other, Some(&commit(0)))
            .is_some()
    );
    tokio::time::sleep(Duration::from_millis(10)).await;
    other
}

/// A commit of the other team's app.
fn commit(digit: usize) -> String {
    format!("{digit:x}").repeat(40)
}

/// Fill every place of Coolify's queue (`places` of them) with `other`'s deployments.
fn fill_the_queue(world: &World, other: &ApplicationUuid, places: usize) {
    world.fake.set_deployment_queue_limit(places);
    let mut digit = 1;
    while world
        .fake
        .trigger_deployment(other, Some(&commit(digit)))
        .is_some()
    {
        digit += 1;
    }
    assert!(digit > 1, "the queue was full already");
}

#[tokio::test(start_paused = true)]
async fn a_queue_that_stays_full_of_others_deployments_changes_nothing() {
    let world = World::with_apps(4).await.unwrap();
    world
        .repo
        .commit("src/app.txt", "feat: greet users")
        .unwrap();
    let other = other_team(&world, Duration::from_secs(3600)).await;
    fill_the_queue(&world, &other, 3);
    let apps = world.apps(Env::Staging);

    let run = world.deploy_staging().await;

    run.assert_failed(
        Exit::Failed,
        &[
            "deployment queue for this application's server is full",
            "Coolify's queue holds 4 deployment(s) now",
            "Nothing was changed",
            "wait until Coolify's deployment queue has room",
        ],
    );
    for app in &apps {
        assert_eq!(pin(&world, app), "HEAD", "{app}");
        assert!(world.fake.deployments_of(app).is_empty(), "{app}");
    }
}

#[tokio::test(start_paused = true)]
async fn a_queue_that_fills_midway_in_production_rolls_every_changed_app_back() {
    let world = World::with_apps(4).await.unwrap();
    configure(&world, 2, "", "10m");
    let (first, second) = world.v1_0_live_and_v1_1_staged().await.unwrap();
    let apps = world.apps(Env::Production);
    // Another team builds for four minutes a deployment on a third build slot; this run's
    // first wave builds for a minute, and meanwhile the other team fills the queue until its
    // build ends.
    world.fake.set_concurrent_builds(3);
    let other = other_team(&world, Duration::from_secs(240)).await;
    builds_take(&world, &apps[..2], 60);
    let filler = async {
        tokio::time::sleep(Duration::from_secs(30)).await;
        fill_the_queue(&world, &other, 1);
    };

    let (run, ()) = tokio::join!(world.deploy_production_rolling_back("v1.1.0"), filler);

    run.assert_failed(
        Exit::Failed,
        &[
            "deployment queue for this application's server is full",
            "production's 4 apps: 1 put back (worker-2), 2 verified (web, worker-1), 1 untouched (worker-3)",
            "rolled back to v1.0.0 (2 apps redeployed, 2 had not changed)",
            "v1.1.0 did not go live. The release is not at fault: wait until Coolify's deployment queue has room",
        ],
    );
    assert!(
        run.stderr.contains(
            "Coolify's deployment queue is still full of others' deployments; trying again"
        ),
        "{}",
        run.stderr
    );
    for app in &apps[..2] {
        // Pinned to the release; then back, refused by the full queue (the pin put back
        // each time), until the rollback's deploy got in.
        let pins = run.pins_of(app);
        assert_eq!(pins.first(), Some(&second), "{app}: {pins:?}");
        assert_eq!(pins.last(), Some(&first), "{app}: {pins:?}");
    }
    for app in &apps {
        assert_eq!(pin(&world, app), first, "{app}");
        assert!(!in_flight(&world, app), "{app}");
        let finished = world
            .fake
            .deployments_of(app)
            .into_iter()
            .find(|deployment| deployment.status == DeploymentStatus::Finished)
            .unwrap();
        assert_eq!(
            finished.resolved_commit().map(String::from),
            Some(first.clone()),
            "{app}"
        );
    }
    assert_eq!(world.production_health.commit(), first);
}

#[tokio::test(start_paused = true)]
async fn with_auto_rollback_the_first_failure_stops_every_app_and_only_changed_ones_go_back() {
    let world = World::with_apps(4).await.unwrap();
    let (first, second) = world.v1_0_live_and_v1_1_staged().await.unwrap();
    let apps = world.apps(Env::Production);
    let (web, worker_1) = (&apps[0], &apps[1]);
    world.fake.fail_next_deployment(web);
    // The last two wait behind the first two, then build for a minute: they are in flight
    // when the web app's build fails.
    builds_take(&world, &apps[2..], 60);
    let started = tokio::time::Instant::now();

    let run = world.deploy_production_rolling_back("v1.1.0").await;

    run.assert_failed(
        Exit::Failed,
        &[
            "production's 4 apps: 1 failed (web)",
            "2 cancelled and put back (worker-2, worker-3)",
            "rolled back to v1.0.0 (2 apps redeployed, 2 had not changed)",
            "v1.1.0 did not go live",
        ],
    );
    // Well within a minute: the two cancelled builds were not waited for.
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "{:?}",
        started.elapsed()
    );
    for app in [web, worker_1] {
        assert_eq!(run.pins_of(app), [second.clone(), first.clone()], "{app}");
        assert_eq!(run.deploys_of(app).len(), 2, "{app}");
    }
    for app in &apps[2..] {
        assert_eq!(run.pins_of(app), [second.clone(), first.clone()], "{app}");
        assert_eq!(run.deploys_of(app).len(), 1, "{app}");
        let cancelled = &world.fake.deployments_of(app)[0];
        assert_eq!(cancelled.status, DeploymentStatus::CancelledByUser, "{app}");
    }
    assert_every_app_on(&world, &apps, &first);
}

#[tokio::test(start_paused = true)]
async fn a_failing_probe_stops_the_wave_and_production_goes_back_together() {
    let world = World::with_apps(4).await.unwrap();
    let (first, _) = world.v1_0_live_and_v1_1_staged().await.unwrap();
    let apps = world.apps(Env::Production);
    builds_take(&world, &apps[2..], 60);
    world
        .production_health
        .set_mode(HealthMode::NewVersionUnavailable);

    let run = world.deploy_production_rolling_back("v1.1.0").await;

    run.assert_failed(
        Exit::Failed,
        &[
            "probe",
            "1 failed (web)",
            "2 cancelled and put back (worker-2, worker-3)",
            "rolled back to v1.0.0",
        ],
    );
    assert_every_app_on(&world, &apps, &first);
}

#[tokio::test(start_paused = true)]
async fn without_auto_rollback_a_failure_starts_no_other_app_and_follows_the_started_ones() {
    let world = World::with_apps(4).await.unwrap();
    configure(&world, 2, "", "2m");
    let (first, second) = world.v1_0_live_and_v1_1_staged().await.unwrap();
    let apps = world.apps(Env::Production);
    world.fake.fail_next_deployment(&apps[0]);

    let run = world.deploy_production("v1.1.0").await;

    run.assert_failed(
        Exit::Failed,
        &[
            "production's 4 apps: 1 failed (web)",
            "1 verified (worker-1)",
            "2 untouched (worker-2, worker-3)",
        ],
    );
    assert_eq!(run.pins_of(&apps[1]), [second]);
    for app in &apps[2..] {
        assert!(run.writes_to(app).is_empty(), "{app}");
        assert_eq!(pin(&world, app), first, "{app}");
    }
    for app in &apps {
        assert!(!in_flight(&world, app), "{app}");
    }
}

#[tokio::test(start_paused = true)]
async fn with_many_apps_the_error_line_counts_them_instead_of_listing_them() {
    let world = World::with_apps(12).await.unwrap();
    let (_, second) = world.v1_0_live_and_v1_1_staged().await.unwrap();
    let apps = world.apps(Env::Production);
    world.fake.fail_next_deployment(&apps[5]);

    let run = world.deploy_production("v1.1.0").await;

    let message = run.message();
    run.assert_failed(
        Exit::Failed,
        &[
            "production's 12 apps: 1 failed (worker-5)",
            " and ",
            " more)",
            "production (12 apps): ",
            "staging (12 apps): 12 pinned to v1.1.0",
            "lists what each app runs",
        ],
    );
    assert!(
        message.len() < 1200,
        "{} characters: {message}",
        message.len()
    );
    let short = &second[..7];
    assert!(
        message.contains(&format!("pinned to v1.1.0 ({short})")),
        "{message}"
    );
}

#[tokio::test(start_paused = true)]
async fn a_coolify_that_cannot_cancel_says_which_deployments_may_still_run() {
    let world = World::with_apps(4).await.unwrap();
    let (first, _) = world.v1_0_live_and_v1_1_staged().await.unwrap();
    // Before 4.0.0-beta.436 Coolify has no cancel endpoint.
    world.fake.set_version("4.0.0-beta.430");
    let apps = world.apps(Env::Production);
    world.fake.fail_next_deployment(&apps[0]);
    builds_take(&world, &apps[2..], 60);

    let run = world.deploy_production_rolling_back("v1.1.0").await;

    run.assert_failed(
        Exit::Failed,
        &[
            "1 failed (web)",
            "3 still deploying (worker-1, worker-2, worker-3)",
            "rolled back to v1.0.0",
        ],
    );
    assert!(
        run.stderr
            .contains("could not be cancelled and may still run: POST /api/v1/deployments/"),
        "{}",
        run.stderr
    );
    // They may have changed: they go back too, once their deployments ended.
    assert_every_app_on(&world, &apps, &first);
}
