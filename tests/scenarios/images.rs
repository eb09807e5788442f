//! Docker-image apps: CI pushes one image per commit, staging deploys the commit's tag,
//! production gets exactly the tag staging verified, a rollback restores the previous tag,
//! and a tag the registry lacks changes nothing.

use stagegate::Exit;
use stagegate::deploy::{Action, AutoRollback, ProductionOptions, StagingOptions};
use stagegate_tests::{Env, FIRST_IMAGE_TAG, HealthMode, World};

/// The image tags `app` was set to during a run, in order.
fn tags_set(
    run: &stagegate_tests::Run<stagegate::deploy::DeployReport>,
    app: &coolify_client::ApplicationUuid,
) -> Vec<String> {
    run.requests_to(app)
        .into_iter()
        .filter(|request| request.method() == "PATCH")
        .filter_map(|request| {
            request.json()?["docker_registry_image_tag"]
                .as_str()
                .map(str::to_owned)
        })
        .collect()
}

#[tokio::test(start_paused = true)]
async fn one_image_goes_from_staging_to_production() {
    let world = World::with_images().await.unwrap();
    let commit = world
        .repo
        .commit("src/app.txt", "feat: greet users")
        .unwrap();
    world.push_image(&commit);
    let staging = world.app(Env::Staging);
    let production = world.app(Env::Production);
    let tag = format!("sha-{commit}");

    let staged = world.deploy_staging().await;

    assert_eq!(staged.exit(), Exit::Done, "{}", staged.stderr);
    assert_eq!(tags_set(&staged, &staging), [tag.as_str()]);
    assert!(
        staged.pins_of(&staging).is_empty(),
        "an image app is never pinned to a commit"
    );
    assert_eq!(staged.deploys_of(&staging).len(), 1);
    assert!(staged.requests_to(&production).is_empty());
    assert_eq!(world.staging_health.commit(), commit);
    let rollout = staged.value().rollout.clone().unwrap();
    assert_eq!(rollout.apps[0].image_tag.as_deref(), Some(tag.as_str()));

    world.release_version("1.0.0").await.value();
    let run = world.deploy_production("v1.0.0").await;

    assert_eq!(run.exit(), Exit::Done, "{}", run.stderr);
    assert_eq!(run.value().action, Action::Deployed);
    // Production runs exactly the tag staging verified.
    assert_eq!(tags_set(&run, &production), [tag.as_str()]);
    assert_eq!(world.image_tag(&production), Some(tag.clone()));
    assert!(run.writes_to(&staging).is_empty());
    assert!(
        run.stderr.contains(&format!("runs on staging's app {staging} as ")),
        "{}",
        run.stderr
    );
    assert_eq!(world.production_health.commit(), commit);

    // What an image app runs is read from its tag.
    let again = world.deploy_production("v1.0.0").await;
    assert_eq!(again.value().action, Action::AlreadyLive);
    let status = world
        .run(|s| async move { stagegate::status::status(&s).await })
        .await;
    let text = status.value().to_string();
    assert!(
        text.contains(&format!("image      ghcr.io/acme/api:{tag}")),
        "{text}"
    );
    assert!(
        text.contains(&format!("runs       v1.0.0 ({})", &commit[..7])),
        "{text}"
    );
    world.assert_token_never_leaked();
}

#[tokio::test(start_paused = true)]
async fn the_gate_needs_staging_on_the_commits_tag_now() {
    let world = World::with_images().await.unwrap();
    let first = world
        .repo
        .commit("src/app.txt", "feat: greet users")
        .unwrap();
    world.push_image(&first);
    world.deploy_staging().await.value();
    world.repo.tag_lightweight("v1.0.0", "HEAD").unwrap();
    let second = world
        .repo
        .commit("src/app.txt", "feat: say goodbye")
        .unwrap();
    world.push_image(&second);
    world.deploy_staging().await.value();

    // Staging finished deploying v1.0.0's image once, but runs another tag now.
    let run = world.deploy_production("v1.0.0").await;

    run.assert_failed(
        Exit::Refused,
        &[
            "staging gate: v1.0.0",
            &format!("is set to image tag sha-{second}, not sha-{first}"),
            &format!("stagegate deploy staging --commit {first}"),
        ],
    );
    assert!(run.writes_to(&world.app(Env::Production)).is_empty());
}

#[tokio::test(start_paused = true)]
async fn a_rollback_restores_the_previous_tag() {
    let world = World::with_images().await.unwrap();
    let first = world.ship("feat: greet users", "1.0.0").await.unwrap();
    world.ship("feat: say goodbye", "1.1.0").await.unwrap();
    let production = world.app(Env::Production);

    let run = world.rollback(None).await;

    assert_eq!(run.exit(), Exit::Done, "{}", run.stderr);
    assert_eq!(run.value().tag.as_deref(), Some("v1.0.0"));
    assert_eq!(tags_set(&run, &production), [format!("sha-{first}")]);
    assert_eq!(world.image_tag(&production), Some(format!("sha-{first}")));
    assert!(run.requests_to(&world.app(Env::Staging)).is_empty());
    assert_eq!(world.production_health.commit(), first);
}

#[tokio::test(start_paused = true)]
async fn a_failed_probe_with_auto_rollback_puts_the_previous_tag_back() {
    let world = World::with_images().await.unwrap();
    let (first, second) = world.v1_0_live_and_v1_1_staged().await.unwrap();
    let production = world.app(Env::Production);
    // The new container never takes over: the probe keeps seeing v1.0.0.
    world.production_health.set_mode(HealthMode::StaysOnOld);

    let run = world
        .deploy_production_with(ProductionOptions {
            auto_rollback: AutoRollback::On,
            ..ProductionOptions::tag("v1.1.0")
        })
        .await;

    run.assert_failed(
        Exit::Failed,
        &[
            "rolled back to v1.0.0",
            &format!(
                "production's latest finished Coolify deployment is v1.0.0 ({})",
                &first[..7]
            ),
        ],
    );
    assert_eq!(
        tags_set(&run, &production),
        [format!("sha-{second}"), format!("sha-{first}")]
    );
    assert_eq!(world.image_tag(&production), Some(format!("sha-{first}")));
    assert_eq!(world.production_health.commit(), first);
}

#[tokio::test(start_paused = true)]
async fn a_failed_image_deployment_puts_the_previous_tag_back_without_a_redeploy() {
    let world = World::with_images().await.unwrap();
    let (first, second) = world.v1_0_live_and_v1_1_staged().await.unwrap();
    let production = world.app(Env::Production);
    world.fake.fail_next_deployment(&production);

    let run = world.deploy_production("v1.1.0").await;

    run.assert_failed(
        Exit::Failed,
        &[
            &format!("Coolify could not start ghcr.io/acme/api:sha-{second}"),
            &format!("production is set to image tag sha-{first} again and answered healthy just now: nothing changed"),
        ],
    );
    assert_eq!(run.deploys_of(&production).len(), 1);
    assert_eq!(world.image_tag(&production), Some(format!("sha-{first}")));
}

#[tokio::test(start_paused = true)]
async fn a_tag_the_registry_lacks_changes_nothing_in_production() {
    let world = World::with_images_tagged("{version}").await.unwrap();
    let first = world.ship("feat: greet users", "1.0.0").await.unwrap();
    let second = world
        .repo
        .commit("src/app.txt", "feat: say goodbye")
        .unwrap();
    // CI pushed the commit's image, but not the release's tag yet.
    world.push_image(&second);
    world.deploy_staging().await.value();
    world.release_version("1.1.0").await.value();
    let production = world.app(Env::Production);

    let run = world
        .deploy_production_with(ProductionOptions {
            auto_rollback: AutoRollback::On,
            ..ProductionOptions::tag("v1.1.0")
        })
        .await;

    run.assert_failed(
        Exit::Failed,
        &[
            "Coolify could not start ghcr.io/acme/api:1.1.0 on production's",
            "the registry may not have it",
            &format!("production runs v1.0.0 ({})", &first[..7]),
            "production is set to image tag 1.0.0 again and answered healthy just now: nothing changed",
            "Push the image, then run `stagegate deploy production --tag v1.1.0 --auto-rollback`",
        ],
    );
    // The tag was put back without a second deployment: the old container kept running.
    assert_eq!(tags_set(&run, &production), ["1.1.0", "1.0.0"]);
    assert_eq!(run.deploys_of(&production).len(), 1);
    assert_eq!(world.image_tag(&production), Some("1.0.0".to_owned()));
    assert_eq!(world.production_health.commit(), first);
    assert!(run.writes_to(&world.app(Env::Staging)).is_empty());

    // Once CI pushes the tag, the same command works.
    world.push_image_tag("1.1.0", &second);
    let retry = world.deploy_production("v1.1.0").await;
    assert_eq!(retry.exit(), Exit::Done, "{}", retry.stderr);
    assert_eq!(world.production_health.commit(), second);
}

#[tokio::test(start_paused = true)]
async fn a_staging_image_that_was_never_pushed_is_named() {
    let world = World::with_images().await.unwrap();
    let commit = world
        .repo
        .commit("src/app.txt", "feat: greet users")
        .unwrap();
    // A token that may read deployment logs: the message quotes Coolify's line.
    world.fake.set_abilities(&[
        coolify_fake::Ability::Read,
        coolify_fake::Ability::ReadSensitive,
        coolify_fake::Ability::Write,
        coolify_fake::Ability::Deploy,
    ]);

    let run = world.deploy_staging().await;

    run.assert_failed(
        Exit::Failed,
        &[
            &format!("Coolify could not start ghcr.io/acme/api:sha-{commit}"),
            &format!("(the registry may not have it: Failed to start container: Error response from daemon: manifest for ghcr.io/acme/api:sha-{commit} not found: manifest unknown"),
            &format!("staging is set to image tag {FIRST_IMAGE_TAG} again, as before this deploy"),
            &format!("Production was not touched. Push the image, then run `stagegate deploy staging --commit {commit}`"),
        ],
    );
    assert_eq!(
        world.image_tag(&world.app(Env::Staging)),
        Some(FIRST_IMAGE_TAG.to_owned())
    );
}

#[tokio::test(start_paused = true)]
async fn a_deployment_already_in_flight_for_the_image_app_is_waited_for() {
    let world = World::with_images().await.unwrap();
    let commit = world
        .repo
        .commit("src/app.txt", "feat: greet users")
        .unwrap();
    world.push_image(&commit);
    let staging = world.app(Env::Staging);
    // Someone redeploys the app in Coolify's UI: it deploys HEAD, as every image deploy does.
    let in_flight = world.fake.trigger_deployment(&staging, None).unwrap();

    let run = world
        .deploy_staging_with(StagingOptions::revision(commit.clone()))
        .await;

    assert_eq!(run.exit(), Exit::Done, "{}", run.stderr);
    assert!(
        run.stderr.contains(&format!(
            "waited for deployment {in_flight} of app {staging}"
        )),
        "{}",
        run.stderr
    );
    let deployments = world.fake.deployments_of(&staging);
    assert_eq!(deployments.len(), 2);
    assert!(
        deployments
            .iter()
            .all(|deployment| deployment.status.to_string() == "finished")
    );
    assert_eq!(world.image_tag(&staging), Some(format!("sha-{commit}")));
    assert_eq!(world.staging_health.commit(), commit);
}

#[tokio::test(start_paused = true)]
async fn status_prices_each_rollback_candidate_of_an_image_app() {
    let world = World::with_images().await.unwrap();
    let first = world.ship("feat: greet users", "1.0.0").await.unwrap();
    let second = world.ship("feat: say goodbye", "1.1.0").await.unwrap();
    world.ship("feat: wave", "1.2.0").await.unwrap();
    let production = world.app(Env::Production);
    assert!(
        world
            .fake
            .remove_image(&production, &format!("sha-{first}"))
    );

    let run = world
        .run(|s| async move { stagegate::status::status(&s).await })
        .await;

    let report = run.value();
    let candidates: Vec<(&str, String)> = report
        .rollback_candidates
        .iter()
        .map(|candidate| (candidate.tag.as_str(), candidate.apps[0].cost.to_string()))
        .collect();
    assert_eq!(
        candidates,
        [
            ("v1.1.0", "restart (image kept)".to_owned()),
            ("v1.0.0", "pull (image removed from the server)".to_owned()),
        ]
    );
    assert_eq!(
        report.rollback_candidates[0].apps[0].image,
        format!("sha-{second}")
    );
}

#[tokio::test(start_paused = true)]
async fn a_missing_image_with_a_previous_release_that_does_not_answer_says_so() {
    let world = World::with_images_tagged("{version}").await.unwrap();
    world.ship("feat: greet users", "1.0.0").await.unwrap();
    let second = world
        .repo
        .commit("src/app.txt", "feat: say goodbye")
        .unwrap();
    world.push_image(&second);
    world.deploy_staging().await.value();
    world.release_version("1.1.0").await.value();
    world.production_health.set_mode(HealthMode::Fails);

    let run = world.deploy_production("v1.1.0").await;

    run.assert_failed(
        Exit::Failed,
        &[
            "Coolify could not start ghcr.io/acme/api:1.1.0",
            "production is set to image tag 1.0.0 again, but its health endpoint did not prove the previous release just now",
            "Find out why production's production-app does not answer (`stagegate status`",
            "then run `stagegate deploy production --tag v1.1.0`",
        ],
    );
    assert_eq!(
        world.image_tag(&world.app(Env::Production)),
        Some("1.0.0".to_owned())
    );
}

#[tokio::test(start_paused = true)]
async fn an_image_in_the_config_of_a_git_app_is_refused_before_any_write() {
    let world = World::new().await.unwrap();
    let config = world.config().replace(
        "[environments.production]",
        "image = \"ghcr.io/acme/api\"\n\n[environments.production]",
    );
    world
        .repo
        .commit_file(
            "deploy.toml",
            &config,
            "chore: the staging app runs an image",
        )
        .unwrap();

    let run = world.deploy_staging().await;

    run.assert_failed(
        Exit::BadInput,
        &[
            "staging's app staging-app builds from git in Coolify, but",
            "gives it `image = \"ghcr.io/acme/api\"`",
            "nothing was changed",
        ],
    );
    assert!(run.writes_to(&world.app(Env::Staging)).is_empty());

    // And the other way round: an image app needs `image`.
    let world = World::with_images().await.unwrap();
    // Staging's `image` goes; production keeps its own.
    let config = world
        .config()
        .replacen("image = \"ghcr.io/acme/api\"\n", "", 1);
    world
        .repo
        .commit_file("deploy.toml", &config, "chore: forget the image")
        .unwrap();
    let run = world.deploy_staging().await;
    run.assert_failed(
        Exit::BadInput,
        &["is a Docker-image application in Coolify (image ghcr.io/acme/api): set `image = \"ghcr.io/acme/api\"`"],
    );
    assert!(run.writes_to(&world.app(Env::Staging)).is_empty());
}
