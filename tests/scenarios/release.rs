//! `release`: the staging gate on HEAD, the version, the notes and the annotated tag.

use stagegate::Exit;
use stagegate::release::ReleaseOptions;
use stagegate_tests::{Env, World};

#[tokio::test(start_paused = true)]
async fn a_release_after_staging_validation_tags_head_with_its_notes() {
    let world = World::new().await.unwrap();
    let commit = world
        .repo
        .commit("src/app.txt", "feat: greet users by name")
        .unwrap();
    world
        .repo
        .commit("src/app.txt", "fix: keep greetings short")
        .unwrap();
    let head = world.repo.resolve("HEAD").unwrap();
    world.deploy_staging().await.value();

    let run = world.release_with(ReleaseOptions::default()).await;

    assert_eq!(run.exit(), Exit::Done, "{}", run.stderr);
    let report = run.value();
    assert_eq!(
        report.tag, "v0.1.0",
        "a feat from nothing is a minor release"
    );
    assert_eq!(report.commit, head);
    assert_ne!(report.commit, commit);
    assert!(
        report.notes.contains("greet users by name"),
        "{}",
        report.notes
    );
    assert!(
        report.notes.contains("keep greetings short"),
        "{}",
        report.notes
    );
    let message = world.repo.tag_message("v0.1.0").expect("an annotated tag");
    assert_eq!(message.trim_end(), report.notes.trim_end());
    assert_eq!(world.repo.resolve("v0.1.0").unwrap(), head);
    // The gate relied on the record of staging's verification, and the tag says so; a release
    // writes nothing to Coolify and leaves production alone.
    assert!(
        report.notes.contains("was verified on staging"),
        "{}",
        report.notes
    );
    assert!(
        run.requests.iter().all(|request| request.method() == "GET"),
        "{:?}",
        run.requests
    );
    assert!(run.requests_to(&world.app(Env::Production)).is_empty());
    world.assert_token_never_leaked();
}

#[tokio::test(start_paused = true)]
async fn a_release_of_a_commit_not_live_on_staging_is_refused() {
    let world = World::new().await.unwrap();
    world
        .repo
        .commit("src/app.txt", "feat: greet users")
        .unwrap();
    world.deploy_staging().await.value();
    let head = world
        .repo
        .commit("src/app.txt", "feat: say goodbye")
        .unwrap();

    let run = world.release_with(ReleaseOptions::default()).await;

    run.assert_failed(
        Exit::Refused,
        &[
            "release",
            &head[..7],
            "is not verified on staging",
            "stagegate deploy staging",
        ],
    );
    assert!(world.repo.tags().is_empty());
}

#[tokio::test(start_paused = true)]
async fn a_hotfix_branch_releases_a_patch_with_only_the_hotfix_in_its_notes() {
    let world = World::new().await.unwrap();
    world.ship("feat: greet users", "1.0.0").await.unwrap();
    world.ship("feat: say goodbye", "1.1.0").await.unwrap();
    world.repo.branch_from("hotfix/1.0", "v1.0.0").unwrap();
    let fix = world
        .repo
        .commit("src/fix.txt", "fix: stop crashing on empty names")
        .unwrap();
    world.deploy_staging().await.value();

    let run = world.release_with(ReleaseOptions::default()).await;

    assert_eq!(run.exit(), Exit::Done, "{}", run.stderr);
    let report = run.value();
    assert_eq!(report.tag, "v1.0.1");
    assert_eq!(report.previous.as_deref(), Some("v1.0.0"));
    assert_eq!(report.commit, fix);
    assert!(
        report.notes.contains("stop crashing on empty names"),
        "{}",
        report.notes
    );
    assert!(!report.notes.contains("say goodbye"), "{}", report.notes);
    assert!(!report.notes.contains("greet users"), "{}", report.notes);
    assert_eq!(
        world.repo.tag_message("v1.0.1").unwrap().trim_end(),
        report.notes.trim_end()
    );
}

#[tokio::test(start_paused = true)]
async fn a_dirty_work_tree_is_not_released() {
    let world = World::new().await.unwrap();
    world
        .repo
        .commit("src/app.txt", "feat: greet users")
        .unwrap();
    world.deploy_staging().await.value();
    world
        .write_file("src/app.txt", "edited but not committed\n")
        .unwrap();

    let run = world.release_with(ReleaseOptions::default()).await;

    run.assert_failed(
        Exit::Refused,
        &["release", "uncommitted changes", "src/app.txt"],
    );
    assert!(world.repo.tags().is_empty());
    assert!(run.requests.is_empty(), "{:?}", run.requests);
}

#[tokio::test(start_paused = true)]
async fn an_existing_or_older_version_is_not_released() {
    let world = World::new().await.unwrap();
    world.ship("feat: greet users", "1.0.0").await.unwrap();
    world.repo.commit("src/app.txt", "fix: trim names").unwrap();
    world.deploy_staging().await.value();

    let existing = world.release_version("1.0.0").await;
    existing.assert_failed(Exit::BadInput, &["release", "v1.0.0"]);
    let older = world.release_version("0.9.0").await;
    older.assert_failed(Exit::BadInput, &["release", "0.9.0", "v1.0.0"]);

    assert_eq!(world.repo.tags(), ["v1.0.0"]);
    assert!(
        existing
            .requests
            .iter()
            .chain(&older.requests)
            .all(|r| r.method() == "GET")
    );
    let next = world.release_version("1.0.1").await;
    assert_eq!(next.value().tag, "v1.0.1");
}

#[tokio::test(start_paused = true)]
async fn dry_run_release_makes_no_tag() {
    let world = World::new().await.unwrap();
    world
        .repo
        .commit("src/app.txt", "feat: greet users")
        .unwrap();
    world.deploy_staging().await.value();

    let run = world
        .release_with(ReleaseOptions {
            dry_run: stagegate::DryRun::Yes,
            ..ReleaseOptions::default()
        })
        .await;

    assert_eq!(run.exit(), Exit::Done, "{}", run.stderr);
    assert_eq!(run.value().tag, "v0.1.0");
    assert!(run.value().dry_run);
    assert!(
        run.stderr.contains("would create annotated tag v0.1.0"),
        "{}",
        run.stderr
    );
    assert!(world.repo.tags().is_empty());
    assert!(run.requests.iter().all(|request| request.method() == "GET"));
}

#[tokio::test(start_paused = true)]
async fn release_with_deploy_goes_on_to_production() {
    let world = World::new().await.unwrap();
    let commit = world
        .repo
        .commit("src/app.txt", "feat: greet users")
        .unwrap();
    world.deploy_staging().await.value();

    let run = world
        .release_with(ReleaseOptions {
            level: "1.0.0".parse().unwrap(),
            then: stagegate::release::Then::DeployProduction,
            ..ReleaseOptions::default()
        })
        .await;

    assert_eq!(run.exit(), Exit::Done, "{}", run.stderr);
    let deployed = run.value().deploy.as_ref().expect("a production deploy");
    assert_eq!(deployed.tag.as_deref(), Some("v1.0.0"));
    let production = world.app(Env::Production);
    assert_eq!(run.pins_of(&production), [commit.as_str()]);
    assert!(run.writes_to(&world.app(Env::Staging)).is_empty());
    assert_eq!(world.production_health.commit(), commit);
}
