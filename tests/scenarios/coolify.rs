//! Coolify answering badly: each failure is typed, exit 1, says what each environment runs,
//! and a deploy is never repeated unless Coolify said nothing was queued.

use std::time::Duration;

use coolify_fake::{Ability, Fault, FaultRule};
use stagegate::Exit;
use stagegate_tests::{Env, World};

async fn world_with_a_commit() -> (World, String) {
    let world = World::new().await.unwrap();
    let commit = world
        .repo
        .commit("src/app.txt", "feat: greet users")
        .unwrap();
    (world, commit)
}

#[tokio::test(start_paused = true)]
async fn a_rejected_token_is_a_failure_naming_the_fix() {
    let (world, _) = world_with_a_commit().await;
    world.fake.inject(FaultRule::always(Fault::Unauthenticated));

    let run = world.deploy_staging().await;

    run.assert_failed(
        Exit::Failed,
        &[
            "deploy staging",
            "rejected the API token",
            "Unauthenticated.",
            "valid, unexpired token",
        ],
    );
    let staging = world.app(Env::Staging);
    assert!(
        run.writes_to(&staging).is_empty(),
        "{:?}",
        run.writes_to(&staging)
    );
    assert!(run.requests_to(&world.app(Env::Production)).is_empty());
    world.assert_token_never_leaked();
}

#[tokio::test(start_paused = true)]
async fn a_token_without_the_write_ability_stops_at_the_pin() {
    let (world, commit) = world_with_a_commit().await;
    world.fake.set_abilities(&[Ability::Read, Ability::Deploy]);

    let run = world.deploy_staging().await;

    run.assert_failed(
        Exit::Failed,
        &[
            &format!("deploy staging {}", &commit[..7]),
            "lacks the `write` ability",
            "Keys & Tokens",
            "staging runs no finished deployment",
            "Production was not touched",
            &format!("stagegate deploy staging --commit {commit}"),
        ],
    );
    let staging = world.app(Env::Staging);
    assert_eq!(run.pins_of(&staging), [commit], "the PATCH was tried once");
    assert!(
        run.deploys_of(&staging).is_empty(),
        "no deploy without a pin"
    );
    assert!(world.fake.deployments_of(&staging).is_empty());
}

#[tokio::test(start_paused = true)]
async fn a_disabled_api_is_a_failure_naming_the_setting() {
    let (world, _) = world_with_a_commit().await;
    world.fake.disable_api();

    let run = world.deploy_staging().await;

    run.assert_failed(
        Exit::Failed,
        &["deploy staging", "API is disabled.", "enable API access"],
    );
    assert!(run.writes_to(&world.app(Env::Staging)).is_empty());
}

#[tokio::test(start_paused = true)]
async fn a_rate_limited_deploy_waits_for_retry_after_then_succeeds_once() {
    let (world, commit) = world_with_a_commit().await;
    world.fake.inject(
        FaultRule::on_path(
            "/api/v1/deploy",
            Fault::RateLimited {
                retry_after: Duration::from_secs(3),
            },
        )
        .method("POST")
        .application(&world.app(Env::Staging))
        .times(1),
    );

    let run = world.deploy_staging().await;

    assert_eq!(run.exit(), Exit::Done, "{}", run.stderr);
    let staging = world.app(Env::Staging);
    assert_eq!(run.deploys_of(&staging).len(), 2, "one 429, one retry");
    assert_eq!(
        world.fake.deployments_of(&staging).len(),
        1,
        "one deployment queued"
    );
    assert_eq!(world.staging_health.commit(), commit);
}

#[tokio::test(start_paused = true)]
async fn a_proxy_html_502_on_the_pin_is_typed_and_not_retried() {
    let (world, commit) = world_with_a_commit().await;
    world.fake.inject(
        FaultRule::on_path("/api/v1/applications/staging-app", Fault::BadGatewayHtml)
            .method("PATCH"),
    );

    let run = world.deploy_staging().await;

    run.assert_failed(
        Exit::Failed,
        &[
            "deploy staging",
            "status 502",
            "not at a proxy error page",
            "stagegate deploy staging --commit",
        ],
    );
    let staging = world.app(Env::Staging);
    assert_eq!(run.pins_of(&staging), [commit], "a PATCH is never retried");
    assert!(run.deploys_of(&staging).is_empty());
}

#[tokio::test(start_paused = true)]
async fn a_502_on_a_read_is_retried() {
    let (world, _) = world_with_a_commit().await;
    world.fake.inject(
        FaultRule::on_path("/api/v1/deployments/applications/", Fault::BadGatewayHtml)
            .method("GET")
            .times(1),
    );

    let run = world.deploy_staging().await;

    assert_eq!(run.exit(), Exit::Done, "{}", run.stderr);
    assert_eq!(run.deploys_of(&world.app(Env::Staging)).len(), 1);
}

#[tokio::test(start_paused = true)]
async fn a_deploy_that_times_out_is_not_repeated() {
    let (world, commit) = world_with_a_commit().await;
    world.fake.inject(
        FaultRule::on_path("/api/v1/deploy", Fault::Delay(Duration::from_secs(45)))
            .method("POST")
            .application(&world.app(Env::Staging))
            .times(1),
    );

    let run = world.deploy_staging().await;

    run.assert_failed(
        Exit::Failed,
        &[
            &format!("deploy staging {}", &commit[..7]),
            "no response within",
            "app pinned to",
            "stagegate deploy staging --commit",
        ],
    );
    assert_eq!(
        run.deploys_of(&world.app(Env::Staging)).len(),
        1,
        "never retried"
    );
    assert!(
        run.requests_to(&world.app(Env::Production))
            .iter()
            .all(|r| r.method() == "GET")
    );
}

#[tokio::test(start_paused = true)]
async fn an_already_queued_deploy_joins_the_deployment_in_flight() {
    let (world, commit) = world_with_a_commit().await;
    let staging = world.app(Env::Staging);
    world
        .fake
        .next_deployment_takes(&staging, Duration::from_secs(5));
    let in_flight = world
        .fake
        .trigger_deployment(&staging, Some(&commit))
        .unwrap();

    let run = world.deploy_staging().await;

    assert_eq!(run.exit(), Exit::Done, "{}", run.stderr);
    let rollout = run.value().rollout.as_ref().unwrap();
    assert!(rollout.joined_existing);
    assert_eq!(rollout.deployment, in_flight.to_string());
    assert_eq!(run.deploys_of(&staging).len(), 1);
    assert_eq!(
        world.fake.deployments_of(&staging).len(),
        1,
        "nothing stacked"
    );
    assert!(run.stderr.contains("already queued"), "{}", run.stderr);
    assert_eq!(world.staging_health.commit(), commit);
}

#[tokio::test(start_paused = true)]
async fn a_token_without_the_deploy_ability_is_refused_before_the_pin() {
    let (world, commit) = world_with_a_commit().await;
    world.fake.set_abilities(&[Ability::Read, Ability::Write]);

    let run = world.deploy_staging().await;

    run.assert_failed(
        Exit::Failed,
        &[
            &format!("deploy staging {}", &commit[..7]),
            "nothing was changed",
            "lacks the `deploy` ability",
        ],
    );
    let staging = world.app(Env::Staging);
    assert!(run.pins_of(&staging).is_empty(), "no pin without deploy");
    assert!(run.deploys_of(&staging).is_empty());
    assert_eq!(
        world
            .fake
            .application(&staging)
            .unwrap()
            .git_commit_sha
            .as_deref(),
        Some("HEAD")
    );
}

#[tokio::test(start_paused = true)]
async fn a_token_losing_the_deploy_ability_after_the_check_gets_its_pin_put_back() {
    let world = World::new().await.unwrap();
    let (first, second) = {
        let first = world.ship("feat: greet users", "1.0.0").await.unwrap();
        let second = world
            .repo
            .commit("src/app.txt", "feat: say goodbye")
            .unwrap();
        world.deploy_staging().await.value();
        world.release_version("1.1.0").await.value();
        (first, second)
    };
    let production = world.app(Env::Production);
    // The check passes; the deploy itself is refused (as with a token edited meanwhile).
    world.fake.inject(
        FaultRule::on_path("/api/v1/deploy", Fault::MissingAbility(Ability::Deploy))
            .method("POST")
            .application(&production),
    );

    let run = world.deploy_production("v1.1.0").await;

    run.assert_failed(
        Exit::Failed,
        &[
            "lacks the `deploy` ability",
            &format!("application production-app is pinned to {first} again"),
            "Nothing was changed",
            "give the token the `read`, `write` and `deploy` abilities",
            "run `stagegate deploy production --tag v1.1.0`",
        ],
    );
    assert!(
        !run.message().contains("Fix the release"),
        "{}",
        run.message()
    );
    assert_eq!(run.pins_of(&production), [second, first.clone()]);
    assert_eq!(
        world
            .fake
            .application(&production)
            .unwrap()
            .git_commit_sha
            .as_deref(),
        Some(first.as_str())
    );
}

#[tokio::test(start_paused = true)]
async fn a_full_deployment_queue_puts_the_pin_back_and_names_what_is_in_the_queue() {
    let (world, commit) = world_with_a_commit().await;
    let staging = world.app(Env::Staging);
    let production = world.app(Env::Production);
    // Another app's deployment keeps the server's queue busy.
    world
        .fake
        .next_deployment_takes(&production, Duration::from_secs(3600));
    let busy = world.fake.trigger_deployment(&production, None).unwrap();
    world.fake.inject(
        FaultRule::on_path("/api/v1/deploy", Fault::QueueFull)
            .method("POST")
            .application(&staging),
    );

    let run = world.deploy_staging().await;

    run.assert_failed(
        Exit::Failed,
        &[
            &format!("deploy staging {}", &commit[..7]),
            "deployment queue for this application's server is full",
            "nothing was queued",
            "application staging-app is pinned to HEAD again",
            "Coolify's queue holds 1 deployment(s) now",
            busy.as_str(),
        ],
    );
    let message = run.message();
    assert!(!message.contains("rate limited"), "{message}");
    assert_eq!(run.pins_of(&staging), [commit, "HEAD".to_owned()]);
    assert!(world.fake.deployments_of(&staging).is_empty());
}

/// Coolify stops answering (or answers 502 for good) while a deployment is followed: the
/// command ends at the configured deadline, not minutes later.
async fn following_ends_at_the_deadline(fault: Fault) -> (Duration, String) {
    let world = World::new().await.unwrap();
    world
        .repo
        .commit("src/app.txt", "feat: greet users")
        .unwrap();
    let config = world
        .config()
        .replace("timeout = \"2m\"", "timeout = \"8s\"");
    world.write_file("deploy.toml", &config).unwrap();
    let staging = world.app(Env::Staging);
    world
        .fake
        .next_deployment_takes(&staging, Duration::from_secs(600));
    let started = tokio::time::Instant::now();
    let flow = world.deploy_staging();
    let breaker = async {
        // Once the deployment is queued, Coolify breaks for every read of deployments: the
        // poll of those in flight, and the read of each.
        while world.fake.deployments_of(&staging).is_empty() {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        world
            .fake
            .inject(FaultRule::on_path("/api/v1/deployments", fault).method("GET"));
    };
    let (run, ()) = tokio::join!(flow, breaker);
    let elapsed = started.elapsed();
    assert_eq!(run.exit(), Exit::Failed, "{}", run.stderr);
    (elapsed, run.message())
}

#[tokio::test(start_paused = true)]
async fn a_coolify_that_stops_answering_while_followed_ends_at_the_deploy_timeout() {
    let (elapsed, message) =
        following_ends_at_the_deadline(Fault::Delay(Duration::from_secs(3600))).await;

    assert!(
        message.contains("did not answer within the 8.0s deadline"),
        "{message}"
    );
    assert!(elapsed <= WITHIN, "{elapsed:?}: {message}");
}

/// The 8 s deadline, then at most the 5 s the description of what each environment runs may
/// take (its reads of deployments fail too).
const WITHIN: Duration = Duration::from_millis(13_500);

#[tokio::test(start_paused = true)]
async fn a_persistent_502_while_followed_ends_by_the_deploy_timeout() {
    let (elapsed, message) = following_ends_at_the_deadline(Fault::BadGatewayHtml).await;

    assert!(message.contains("status 502"), "{message}");
    assert!(elapsed <= WITHIN, "{elapsed:?}: {message}");
}

#[tokio::test(start_paused = true)]
async fn a_connection_coolify_closes_is_not_called_unreachable() {
    let (world, _) = world_with_a_commit().await;
    world.fake.inject(
        FaultRule::on_path("/api/v1/applications/staging-app", Fault::CloseConnection)
            .method("PATCH"),
    );

    let run = world.deploy_staging().await;

    run.assert_failed(
        Exit::Failed,
        &["connection to coolify closed before an answer arrived"],
    );
    assert!(
        !run.message().contains("could not reach"),
        "{}",
        run.message()
    );
}

#[tokio::test(start_paused = true)]
async fn a_proxy_page_echoing_the_token_does_not_put_it_in_any_output() {
    let (world, _) = world_with_a_commit().await;
    let (_, summary) = world.enable_github_actions();
    world.fake.inject(
        FaultRule::on_path("/api/v1/applications/staging-app", Fault::EchoingProxyError)
            .method("PATCH"),
    );

    let run = world.deploy_staging().await;

    run.assert_failed(
        Exit::Failed,
        &["status 502", "Authorization: Bearer [redacted]"],
    );
    assert!(
        std::fs::read_to_string(summary)
            .unwrap()
            .contains("[redacted]")
    );
    world.assert_token_never_leaked();
}
