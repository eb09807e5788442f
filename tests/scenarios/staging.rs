//! `deploy staging`.

use stagegate::DryRun;
use stagegate::Exit;
use stagegate::deploy::{Action, StagingOptions};
use stagegate_tests::{Env, HealthMode, World};

#[tokio::test(start_paused = true)]
async fn a_feature_push_goes_to_staging_only() {
    let world = World::new().await.unwrap();
    let commit = world
        .repo
        .commit("src/app.txt", "feat: greet users by name")
        .unwrap();

    let run = world.deploy_staging().await;

    assert_eq!(run.exit(), Exit::Done);
    let report = run.value();
    assert_eq!(report.commit, commit);
    assert_eq!(report.action, Action::Deployed);
    let text = report.to_string();
    assert!(text.contains(&commit[..7]), "{text}");
    let staging = world.app(Env::Staging);
    assert_eq!(run.pins_of(&staging), [commit.as_str()]);
    assert_eq!(run.deploys_of(&staging).len(), 1);
    assert!(
        run.requests_to(&world.app(Env::Production)).is_empty(),
        "production got {:?}",
        run.requests_to(&world.app(Env::Production))
    );
    assert_eq!(world.staging_health.commit(), commit);
    assert_eq!(world.production_health.hits(), 0);
    world.assert_token_never_leaked();
}

#[tokio::test(start_paused = true)]
async fn dry_run_staging_reads_but_writes_nothing() {
    let world = World::new().await.unwrap();
    let commit = world.repo.commit("src/app.txt", "fix: trim names").unwrap();

    let run = world
        .deploy_staging_with(StagingOptions {
            commit: "HEAD".into(),
            dry_run: DryRun::Yes,
        })
        .await;

    assert_eq!(run.exit(), Exit::Done);
    let report = run.value();
    assert_eq!(report.action, Action::Planned);
    let planned = report.planned.join("\n");
    assert!(
        planned.contains(&format!("\"git_commit_sha\": \"{commit}\"")),
        "{planned}"
    );
    assert!(planned.contains("POST /api/v1/deploy"), "{planned}");
    assert!(!run.requests.is_empty(), "a dry run still reads");
    assert!(
        run.requests.iter().all(|request| request.method() == "GET"),
        "{:?}",
        run.requests
    );
    assert!(
        world
            .fake
            .deployments_of(&world.app(Env::Staging))
            .is_empty()
    );
}

#[tokio::test(start_paused = true)]
async fn an_unknown_revision_is_bad_input_and_contacts_nothing() {
    let world = World::new().await.unwrap();

    let run = world
        .deploy_staging_with(StagingOptions::revision("no-such-branch"))
        .await;

    run.assert_failed(Exit::BadInput, &["deploy staging", "no-such-branch"]);
    assert!(run.requests.is_empty(), "{:?}", run.requests);
}

#[tokio::test(start_paused = true)]
async fn a_staging_probe_that_sees_the_old_commit_reports_both_facts_for_staging() {
    let world = World::new().await.unwrap();
    let first = world
        .repo
        .commit("src/app.txt", "feat: greet users")
        .unwrap();
    world.deploy_staging().await.value();
    let second = world
        .repo
        .commit("src/app.txt", "feat: say goodbye")
        .unwrap();
    world.staging_health.set_mode(HealthMode::StaysOnOld);

    let run = world.deploy_staging().await;

    run.assert_failed(
        Exit::Failed,
        &[
            &format!(
                "staging's latest finished Coolify deployment is {}",
                &second[..7]
            ),
            &format!("but its health endpoint still reports {}", &first[..7]),
            "production runs no finished deployment",
        ],
    );
}
