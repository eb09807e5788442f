//! The token never shows: every flow, failing or not, under GitHub Actions too.

use coolify_fake::{Fault, FaultRule};
use stagegate::deploy::{AutoRollback, ProductionOptions};
use stagegate::notes::NotesOptions;
use stagegate::{DryRun, Exit};
use stagegate_tests::{Env, World};

#[tokio::test(start_paused = true)]
async fn the_token_is_in_no_output_error_or_file() {
    let world = World::new().await.unwrap();
    let (github_output, summary) = world.enable_github_actions();

    // Everything that succeeds.
    world.ship("feat: greet users", "1.0.0").await.unwrap();
    world
        .repo
        .commit("src/app.txt", "feat: say goodbye")
        .unwrap();
    world.deploy_staging().await.value();
    world.release_version("1.1.0").await.value();
    let status = world
        .run(|s| async move { stagegate::status::status(&s).await })
        .await;
    assert_eq!(status.exit(), Exit::Done, "{}", status.stderr);
    let notes = world
        .run(|s| async move {
            stagegate::notes::notes(
                &s,
                &NotesOptions {
                    from: None,
                    to: "HEAD".into(),
                    output: None,
                },
            )
            .map(|report| report.notes)
        })
        .await;
    assert!(notes.value().contains("say goodbye"));
    let dry = world
        .deploy_production_with(ProductionOptions {
            dry_run: DryRun::Yes,
            ..ProductionOptions::tag("v1.1.0")
        })
        .await;
    assert_eq!(dry.exit(), Exit::Done);

    // Everything that fails.
    assert_eq!(world.deploy_production("v1.1").await.exit(), Exit::BadInput);
    world.fake.fail_next_deployment(&world.app(Env::Production));
    let rolled_back = world
        .deploy_production_with(ProductionOptions {
            auto_rollback: AutoRollback::On,
            ..ProductionOptions::tag("v1.1.0")
        })
        .await;
    rolled_back.assert_failed(Exit::Failed, &["rolled back to v1.0.0"]);
    assert!(
        rolled_back.stdout.contains("::error::"),
        "{}",
        rolled_back.stdout
    );
    world
        .fake
        .inject(FaultRule::always(Fault::Unauthenticated).times(50));
    assert_eq!(world.deploy_production("v1.1.0").await.exit(), Exit::Failed);
    assert_eq!(world.rollback(None).await.exit(), Exit::Failed);
    world.fake.clear_faults();
    assert_eq!(world.rollback(Some("v1.1.0")).await.exit(), Exit::Refused);
    assert_eq!(world.rollback(None).await.exit(), Exit::BadInput);

    let outputs = std::fs::read_to_string(&github_output).unwrap();
    assert!(outputs.contains("tag=v1.0.0"), "{outputs}");
    assert!(outputs.contains("rolled_back_to=v1.0.0"), "{outputs}");
    assert!(
        std::fs::read_to_string(&summary)
            .unwrap()
            .contains("v1.1.0")
    );
    assert!(!world.transcript().is_empty());
    world.assert_token_never_leaked();
}
