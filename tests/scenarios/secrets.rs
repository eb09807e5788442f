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

/// A probe header value is a secret because it is one, whatever text carries it: here the team
/// also put it in the health URL's query. The release record GitHub keeps never gets it.
#[tokio::test(start_paused = true)]
async fn a_probe_header_value_is_never_written_to_the_release_record() {
    const SIGNATURE: &str = "sig-7f3a9c-probe-header-value";
    let world = World::new().await.unwrap();
    world
        .repo
        .commit("src/app.txt", "feat: greet users")
        .unwrap();
    let staging_url = world.health(Env::Staging).url().to_owned();
    let config = world
        .config()
        .replace(
            "success_threshold = 2\n",
            &format!("success_threshold = 2\nheaders = {{ X-Signature = \"{SIGNATURE}\" }}\n"),
        )
        .replace(
            &format!("health_url = \"{staging_url}\""),
            &format!("health_url = \"{staging_url}?signature={SIGNATURE}\""),
        );
    world.write_file("deploy.toml", &config).unwrap();
    world
        .repo
        .commit_all("chore: sign the health check")
        .unwrap();

    let run = world.deploy_staging().await;

    assert_eq!(run.exit(), Exit::Done, "{}", run.stderr);
    let sent: String = world
        .github
        .requests()
        .iter()
        .filter_map(|request| request.json())
        .map(|body| body.to_string())
        .collect();
    assert!(sent.contains("signature=[redacted]"), "{sent}");
    assert!(!sent.contains(SIGNATURE), "{sent}");
    assert!(!run.stderr.contains(SIGNATURE) && !run.stdout.contains(SIGNATURE));
    // The redacted record still reads back: the gate relies on it.
    let release = world.release_version("1.0.0").await;
    assert!(
        release.stderr.contains("verified on staging"),
        "{}",
        release.stderr
    );
}
