//! `rollback [--to TAG]`: production only, never forward.

use stagegate::Exit;
use stagegate::deploy::Action;
use stagegate_tests::{Env, World};

#[tokio::test(start_paused = true)]
async fn rollback_goes_back_one_release_by_default() {
    let world = World::new().await.unwrap();
    let first = world.ship("feat: greet users", "1.0.0").await.unwrap();
    world.ship("feat: say goodbye", "1.1.0").await.unwrap();

    let run = world.rollback(None).await;

    assert_eq!(run.exit(), Exit::Done, "{}", run.stderr);
    let report = run.value();
    assert_eq!(report.action, Action::Deployed);
    assert_eq!(report.tag.as_deref(), Some("v1.0.0"));
    assert_eq!(report.commit, first);
    let production = world.app(Env::Production);
    assert_eq!(run.pins_of(&production), [first.as_str()]);
    assert_eq!(run.deploys_of(&production).len(), 1);
    assert!(
        run.requests_to(&world.app(Env::Staging)).is_empty(),
        "{:?}",
        run.requests
    );
    assert_eq!(world.production_health.commit(), first);
    assert_eq!(
        world.repo.tags(),
        ["v1.0.0", "v1.1.0"],
        "tags are never moved or made"
    );
}

#[tokio::test(start_paused = true)]
async fn rollback_to_a_named_release() {
    let world = World::new().await.unwrap();
    let first = world.ship("feat: greet users", "1.0.0").await.unwrap();
    world.ship("feat: say goodbye", "1.1.0").await.unwrap();
    world.ship("feat: wave", "1.2.0").await.unwrap();

    let run = world.rollback(Some("v1.0.0")).await;

    assert_eq!(run.exit(), Exit::Done, "{}", run.stderr);
    assert_eq!(run.value().commit, first);
    assert_eq!(run.pins_of(&world.app(Env::Production)), [first.as_str()]);
    assert!(run.requests_to(&world.app(Env::Staging)).is_empty());
    assert_eq!(world.production_health.commit(), first);
}

#[tokio::test(start_paused = true)]
async fn rollback_to_a_newer_release_is_refused() {
    let world = World::new().await.unwrap();
    world.ship("feat: greet users", "1.0.0").await.unwrap();
    world
        .repo
        .commit("src/app.txt", "feat: say goodbye")
        .unwrap();
    world.deploy_staging().await.value();
    world.release_version("1.1.0").await.value();

    let run = world.rollback(Some("v1.1.0")).await;

    run.assert_failed(
        Exit::Refused,
        &[
            "v1.1.0 is newer than v1.0.0",
            "stagegate deploy production --tag v1.1.0",
        ],
    );
    assert!(run.writes_to(&world.app(Env::Production)).is_empty());
    assert!(run.writes_to(&world.app(Env::Staging)).is_empty());
}

#[tokio::test(start_paused = true)]
async fn rollback_to_something_that_is_not_a_release_tag_is_bad_input() {
    let world = World::new().await.unwrap();
    world.ship("feat: greet users", "1.0.0").await.unwrap();

    let run = world.rollback(Some("main")).await;

    run.assert_failed(
        Exit::BadInput,
        &["rollback to main", "release tags like v1.4.2"],
    );
    assert!(run.requests.is_empty());
}

#[tokio::test(start_paused = true)]
async fn dry_run_rollback_makes_no_write() {
    let world = World::new().await.unwrap();
    let first = world.ship("feat: greet users", "1.0.0").await.unwrap();
    let second = world.ship("feat: say goodbye", "1.1.0").await.unwrap();

    let run = world
        .run(|session| async move {
            let options = stagegate::rollback::RollbackOptions {
                dry_run: stagegate::DryRun::Yes,
                ..Default::default()
            };
            stagegate::rollback::rollback(&session, &options).await
        })
        .await;

    assert_eq!(run.exit(), Exit::Done, "{}", run.stderr);
    assert_eq!(run.value().action, Action::Planned);
    assert_eq!(run.value().commit, first);
    assert!(
        run.requests.iter().all(|request| request.method() == "GET"),
        "{:?}",
        run.requests
    );
    assert_eq!(world.production_health.commit(), second);
}

/// `rollback --dry-run`.
async fn plan_rollback(world: &World) -> stagegate_tests::Run<stagegate::deploy::DeployReport> {
    let options = stagegate::rollback::RollbackOptions {
        dry_run: stagegate::DryRun::Yes,
        ..Default::default()
    };
    world
        .run(|session| async move { stagegate::rollback::rollback(&session, &options).await })
        .await
}

#[tokio::test(start_paused = true)]
async fn a_planned_rollback_says_whether_it_restarts_or_rebuilds() {
    use stagegate::deploy::Cost;
    let world = World::new().await.unwrap();
    let first = world.ship("feat: greet users", "1.0.0").await.unwrap();
    world.ship("feat: say goodbye", "1.1.0").await.unwrap();
    let production = world.app(Env::Production);

    let kept = plan_rollback(&world).await;
    let report = kept.value();
    assert_eq!(report.action, Action::Planned);
    assert_eq!(report.costs.len(), 1);
    assert_eq!(report.costs[0].image, first);
    assert_eq!(report.costs[0].cost, Cost::Restart);
    assert!(
        report.to_string().contains("cost: restart (image kept)"),
        "{report}"
    );
    assert!(kept.writes_to(&production).is_empty());

    // A Docker cleanup removed v1.0.0's image: going back builds it again.
    assert!(world.fake.remove_image(&production, &first));
    let removed = plan_rollback(&world).await;
    assert_eq!(removed.value().costs[0].cost, Cost::Rebuild);
    let status = world
        .run(|s| async move { stagegate::status::status(&s).await })
        .await;
    let text = status.value().to_string();
    assert!(
        text.contains(&format!(
            "rollback candidates:\n  v1.0.0 ({}): rebuild (image removed)",
            &first[..7]
        )),
        "{text}"
    );

    // Before 4.3.0 Coolify cannot tell.
    world.fake.set_version("4.2.9");
    let unknown = plan_rollback(&world).await;
    assert!(
        unknown
            .value()
            .to_string()
            .contains("cost: unknown (Coolify before 4.3.0)"),
        "{}",
        unknown.value()
    );
}
