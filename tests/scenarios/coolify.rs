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
            .all(|r| r.method == "GET")
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
