//! The release record: "verified" is what stagegate recorded when it happened, and every path
//! a user could take around the staging gate and `rollback` reads it.

use std::time::Duration;

use release_record::{Gate, GateKind, Outcome};
use stagegate::deploy::{Action, AutoRollback, GateCheck, ProductionOptions};
use stagegate::history::{HistoryFormat, HistoryOptions};
use stagegate::rollback::{Force, RollbackOptions};
use stagegate::{EnvironmentName, Exit};
use stagegate_tests::{Env, HealthMode, World};

/// The outcomes the fake GitHub holds for `environment`, oldest first.
fn recorded(world: &World, environment: &str) -> Vec<(String, String)> {
    world
        .github
        .deployments()
        .into_iter()
        .filter(|deployment| deployment.environment == environment)
        .map(|deployment| {
            let last = deployment
                .statuses
                .iter()
                .rev()
                .find(|status| status.state != "in_progress")
                .map(|status| status.description.to_owned())
                .unwrap_or_default();
            (deployment.sha.clone(), last)
        })
        .collect()
}

#[tokio::test(start_paused = true)]
async fn a_hand_made_tag_of_a_commit_that_failed_on_staging_is_refused() {
    let world = World::new().await.unwrap();
    world.ship("feat: greet users", "1.0.0").await.unwrap();
    let bad = world
        .repo
        .commit("src/app.txt", "feat: answer 503")
        .unwrap();
    world
        .health(Env::Staging)
        .set_mode(HealthMode::NewVersionUnavailable);
    world
        .deploy_staging()
        .await
        .assert_failed(Exit::Failed, &["Production was not touched"]);
    // The failure is recorded, with the commit.
    let staging = recorded(&world, "staging");
    let (sha, description) = staging.last().unwrap();
    assert_eq!(sha, &bad);
    assert!(
        description.starts_with("failed_verification"),
        "{description}"
    );

    // A release refuses it.
    let release = world.release_version("1.1.0").await;
    release.assert_failed(Exit::Refused, &["failed verification on staging"]);
    assert_eq!(world.repo.tags(), ["v1.0.0"]);

    // The user tags it by hand and deploys it: the gate reads the record, not Coolify.
    world.repo.tag_lightweight("v1.1.0", "HEAD").unwrap();
    let run = world
        .deploy_production_with(ProductionOptions {
            auto_rollback: AutoRollback::On,
            ..ProductionOptions::tag("v1.1.0")
        })
        .await;

    run.assert_failed(
        Exit::Refused,
        &[
            &format!("staging gate: v1.1.0 ({})", &bad[..7]),
            "failed verification on staging at",
            "deploy a fix to staging",
        ],
    );
    assert!(run.writes_to(&world.app(Env::Production)).is_empty());
    world.assert_token_never_leaked();
}

/// A commit fails on staging; a later run of it is interrupted before its verdict (or its
/// verdict is never written), and staging answers with the commit by then. The recorded
/// failure stands: no live check gets it past the gate.
#[tokio::test(start_paused = true)]
async fn a_failure_on_staging_stands_after_a_later_run_without_a_verdict() {
    let world = World::new().await.unwrap();
    world.ship("feat: greet users", "1.0.0").await.unwrap();
    let bad = world
        .repo
        .commit("src/app.txt", "feat: answer 503")
        .unwrap();
    world
        .health(Env::Staging)
        .set_mode(HealthMode::NewVersionUnavailable);
    world
        .deploy_staging()
        .await
        .assert_failed(Exit::Failed, &["Production was not touched"]);
    // A second run of the commit, interrupted: cancelled, and one left without a verdict.
    let recorder = release_record::Recorder::builder(
        world.github.repository().parse().unwrap(),
        world.github.token().into(),
    )
    .api_url(world.github.api_url())
    .build()
    .unwrap();
    let again = release_record::Start::new(
        release_record::Environment::persistent("staging").unwrap(),
        bad.parse().unwrap(),
        release_record::RanBy::local("ann", "laptop"),
    )
    .app(release_record::App::new(
        world.app(Env::Staging),
        "staging-app",
    ));
    tokio::time::advance(Duration::from_secs(60)).await;
    let interrupted = recorder.start(&again).await.unwrap();
    interrupted
        .settle(&release_record::Settlement::cancelled("interrupted"))
        .await
        .unwrap();
    recorder.start(&again).await.unwrap();
    // Staging now answers with the commit: a live check alone would pass.
    world.health(Env::Staging).set_mode(HealthMode::Follows);
    world.health(Env::Staging).serve(&bad);

    world.repo.tag_lightweight("v1.1.0", "HEAD").unwrap();
    let run = world.deploy_production("v1.1.0").await;

    run.assert_failed(
        Exit::Refused,
        &[
            &format!("staging gate: v1.1.0 ({})", &bad[..7]),
            "failed verification on staging at",
        ],
    );
    assert!(run.writes_to(&world.app(Env::Production)).is_empty());
}

#[tokio::test(start_paused = true)]
async fn a_later_failure_of_the_same_commit_wins_over_its_verification() {
    let world = World::new().await.unwrap();
    let commit = world
        .repo
        .commit("src/app.txt", "feat: greet users")
        .unwrap();
    world.deploy_staging().await.value();
    world.repo.tag_lightweight("v1.0.0", "HEAD").unwrap();
    // The same commit deployed again, and this time its health check fails.
    world.health(Env::Staging).set_mode(HealthMode::Fails);
    world
        .deploy_staging()
        .await
        .assert_failed(Exit::Failed, &["Production was not touched"]);

    let run = world.deploy_production("v1.0.0").await;

    run.assert_failed(
        Exit::Refused,
        &[
            &format!("staging gate: v1.0.0 ({})", &commit[..7]),
            "failed verification on staging",
        ],
    );
}

#[tokio::test(start_paused = true)]
async fn rollback_skips_a_release_that_failed_in_production() {
    let world = World::new().await.unwrap();
    world.ship("feat: greet users", "1.0.0").await.unwrap();
    // v1.1.0 passes staging, then answers 503 in production and is rolled back.
    world
        .repo
        .commit("src/app.txt", "feat: say goodbye")
        .unwrap();
    world.deploy_staging().await.value();
    world.release_version("1.1.0").await.value();
    world
        .health(Env::Production)
        .set_mode(HealthMode::NewVersionUnavailable);
    let failed = world
        .deploy_production_with(ProductionOptions {
            auto_rollback: AutoRollback::On,
            ..ProductionOptions::tag("v1.1.0")
        })
        .await;
    failed.assert_failed(Exit::Failed, &["rolled back to v1.0.0"]);
    world.health(Env::Production).set_mode(HealthMode::Follows);
    let production = recorded(&world, "production");
    assert!(
        production
            .iter()
            .any(|(_, description)| description.starts_with("rolled_back")),
        "{production:?}"
    );
    // v1.2.0 fixes it.
    world
        .ship("fix: say goodbye politely", "1.2.0")
        .await
        .unwrap();

    // `status` marks v1.1.0, and `rollback` passes over it to v1.0.0.
    let status = world
        .run(|session| async move { stagegate::status::status(&session).await })
        .await;
    let text = status.value().to_string();
    assert!(
        text.contains("v1.1.0") && text.contains("rolled back to v1.0.0 (rollback skips it)"),
        "{text}"
    );
    let plan = world
        .run(|session| async move {
            stagegate::rollback::rollback(
                &session,
                &RollbackOptions {
                    dry_run: stagegate::DryRun::Yes,
                    ..RollbackOptions::default()
                },
            )
            .await
        })
        .await;
    assert_eq!(plan.value().tag.as_deref(), Some("v1.0.0"));
    assert!(
        plan.stderr
            .contains("skipping v1.1.0: failed in production"),
        "{}",
        plan.stderr
    );

    // Naming it is refused, unless forced.
    let named = world.rollback(Some("v1.1.0")).await;
    named.assert_failed(
        Exit::Refused,
        &[
            "v1.1.0 failed in production",
            "rollback --to v1.1.0 --force",
        ],
    );
    let forced = rollback_plan(&world, Some("v1.1.0"), Force::Yes).await;
    assert_eq!(
        forced.value().tag.as_deref(),
        Some("v1.1.0"),
        "{}",
        forced.stderr
    );
    assert!(
        forced.stderr.contains("--force: rolling back to v1.1.0"),
        "{}",
        forced.stderr
    );

    // The real rollback takes v1.0.0, and production serves it.
    let back = world.rollback(None).await;
    assert_eq!(back.exit(), Exit::Done, "{}", back.stderr);
    assert_eq!(back.value().tag.as_deref(), Some("v1.0.0"));
    let v1_0 = world
        .repo
        .git()
        .revparse_single("v1.0.0")
        .unwrap()
        .peel_to_commit()
        .unwrap()
        .id()
        .to_string();
    assert_eq!(world.health(Env::Production).commit(), v1_0);
    world.assert_token_never_leaked();
}

#[tokio::test(start_paused = true)]
async fn a_hotfix_verified_earlier_is_released_though_staging_moved_on() {
    let world = World::new().await.unwrap();
    world.ship("feat: greet users", "1.0.0").await.unwrap();
    // The hotfix branch, deployed to staging and verified.
    world.repo.branch_from("hotfix", "v1.0.0").unwrap();
    world.repo.switch("hotfix").unwrap();
    let hotfix = world
        .repo
        .commit("src/app.txt", "fix: greet politely")
        .unwrap();
    world.deploy_staging().await.value();
    // A teammate's merge to main goes to staging meanwhile.
    world.repo.switch("main").unwrap();
    let merged = world.repo.commit("src/other.txt", "feat: more").unwrap();
    world.deploy_staging().await.value();
    assert_eq!(world.staging_health.commit(), merged);

    world.repo.switch("hotfix").unwrap();
    let release = world.release_version("patch").await;

    assert_eq!(release.exit(), Exit::Done, "{}", release.stderr);
    let report = release.value();
    assert_eq!(report.tag, "v1.0.1");
    assert_eq!(report.commit, hotfix);
    let message = world.repo.tag_message("v1.0.1").unwrap();
    assert!(
        message.contains(&format!(
            "v1.0.1 ({}) was verified on staging",
            &hotfix[..7]
        )),
        "{message}"
    );
    // GitHub's auto_inactive marked the hotfix's staging run inactive; it still reads verified.
    let runs = world
        .github
        .deployments()
        .into_iter()
        .filter(|deployment| deployment.sha == hotfix && deployment.environment == "staging")
        .collect::<Vec<_>>();
    assert!(
        runs.iter()
            .any(|run| run.statuses.iter().any(|status| status.state == "inactive")),
        "{runs:?}"
    );
    let deploy = world.deploy_production("v1.0.1").await;
    assert_eq!(deploy.exit(), Exit::Done, "{}", deploy.stderr);
}

#[tokio::test(start_paused = true)]
async fn a_record_that_cannot_be_written_never_changes_the_outcome() {
    let world = World::new().await.unwrap();
    world
        .repo
        .commit("src/app.txt", "feat: greet users")
        .unwrap();
    world
        .github
        .set_permission(stagegate_tests::Permission::Read);

    let run = world.deploy_staging().await;

    assert_eq!(run.exit(), Exit::Done, "{}", run.stderr);
    assert_eq!(run.value().action, Action::Deployed);
    assert!(
        run.stderr
            .contains("the release record could not be written")
            && run.stderr.contains("deployments: write")
            && run.stderr.contains("the deployment's outcome stands"),
        "{}",
        run.stderr
    );

    // A failed deploy stays a failure, with the same note.
    world.health(Env::Staging).set_mode(HealthMode::Fails);
    world.repo.commit("src/app.txt", "feat: break").unwrap();
    let failed = world.deploy_staging().await;
    failed.assert_failed(Exit::Failed, &["Production was not touched"]);
    assert!(
        failed.stderr.contains("could not be written"),
        "{}",
        failed.stderr
    );
    world.assert_token_never_leaked();
}

#[tokio::test(start_paused = true)]
async fn without_a_record_the_gate_checks_live_and_says_so() {
    let world = World::new().await.unwrap();
    world.forget_github();
    world
        .repo
        .commit("src/app.txt", "feat: greet users")
        .unwrap();
    world.deploy_staging().await.value();
    world.repo.tag_lightweight("v1.0.0", "HEAD").unwrap();

    let run = world.deploy_production("v1.0.0").await;

    assert_eq!(run.exit(), Exit::Done, "{}", run.stderr);
    assert!(
        run.stderr.contains("checked live (no release record:"),
        "{}",
        run.stderr
    );
    assert!(world.github.deployments().is_empty());

    // Staging answering for another version fails the live check: never "it finished".
    world.repo.commit("src/app.txt", "feat: more").unwrap();
    world.health(Env::Staging).set_mode(HealthMode::StaysOnOld);
    world
        .deploy_staging()
        .await
        .assert_failed(Exit::Failed, &["Production was not touched"]);
    world.repo.tag_lightweight("v1.1.0", "HEAD").unwrap();
    let refused = world.deploy_production("v1.1.0").await;
    refused.assert_failed(
        Exit::Refused,
        &[
            "is not verified on staging (no release record",
            "health endpoint does not report",
        ],
    );
}

/// Two runs write to the record at the same moment (staging deploys the next commit while
/// production takes v1.1.0): each run's statuses land on its own deployment, and both read back
/// verified.
#[tokio::test(start_paused = true)]
async fn two_runs_recording_at_once_leave_both_records() {
    let world = World::new().await.unwrap();
    let (_, released) = world.v1_0_live_and_v1_1_staged().await.unwrap();
    let next = world
        .repo
        .commit("src/app.txt", "feat: say hello again")
        .unwrap();
    let before = world.github.deployments().len();

    let (staging, production) =
        tokio::join!(world.deploy_staging(), world.deploy_production("v1.1.0"));

    assert_eq!(staging.exit(), Exit::Done, "{}", staging.stderr);
    assert_eq!(production.exit(), Exit::Done, "{}", production.stderr);
    let added: Vec<_> = world
        .github
        .deployments()
        .into_iter()
        .skip(before)
        .collect();
    assert_eq!(added.len(), 2, "{added:?}");
    for (environment, commit, app) in [
        ("staging", &next, world.app(Env::Staging)),
        ("production", &released, world.app(Env::Production)),
    ] {
        let run = added
            .iter()
            .find(|deployment| deployment.environment == environment)
            .unwrap_or_else(|| panic!("no {environment} run in {added:?}"));
        assert_eq!(&run.sha, commit, "{run:?}");
        let descriptions: Vec<&str> = run
            .statuses
            .iter()
            .map(|status| status.description.as_str())
            .collect();
        // Started, deploying, deployed, verified: all of this run's app, none of the other's.
        assert_eq!(descriptions.len(), 4, "{descriptions:?}");
        assert!(
            descriptions[3].starts_with(&format!("verified: {app} answers {}", &commit[..7])),
            "{descriptions:?}"
        );
        for description in &descriptions[1..3] {
            assert!(
                description.contains(&format!("app={app}")),
                "{descriptions:?}"
            );
        }
    }
    // Both read back as verified: the next commit is releasable, v1.1.0 is production's.
    let release = world.release_version("1.2.0").await;
    assert!(
        release.stderr.contains("verified on staging"),
        "{}",
        release.stderr
    );
}

/// `history production` of the last 30 days, as `format`.
async fn production_history(
    world: &World,
    format: HistoryFormat,
) -> stagegate_tests::Run<stagegate::history::HistoryReport> {
    world
        .run(|session| async move {
            stagegate::history::history(
                &session,
                &HistoryOptions {
                    environment: Some(EnvironmentName::Production),
                    ..HistoryOptions::default()
                },
                format,
            )
            .await
        })
        .await
}

#[tokio::test(start_paused = true)]
async fn history_reports_each_run_and_the_delivery_metrics() {
    let world = World::new().await.unwrap();
    world.ship("feat: greet users", "1.0.0").await.unwrap();
    tokio::time::advance(Duration::from_secs(3600)).await;
    world
        .repo
        .commit("src/app.txt", "feat: say goodbye")
        .unwrap();
    world.deploy_staging().await.value();
    world.release_version("1.1.0").await.value();
    world
        .health(Env::Production)
        .set_mode(HealthMode::NewVersionUnavailable);
    world
        .deploy_production_with(ProductionOptions {
            auto_rollback: AutoRollback::On,
            ..ProductionOptions::tag("v1.1.0")
        })
        .await
        .assert_failed(Exit::Failed, &["rolled back to v1.0.0"]);

    let run = production_history(&world, HistoryFormat::Text).await;

    let report = run.value();
    // Newest first: the restore, the failed v1.1.0, v1.0.0.
    let outcomes: Vec<(Option<&str>, &str, Outcome)> = report
        .runs
        .iter()
        .map(|run| (run.tag.as_deref(), run.purpose, run.outcome))
        .collect();
    assert_eq!(
        outcomes,
        [
            (Some("v1.0.0"), "restore", Outcome::Verified),
            (Some("v1.1.0"), "release", Outcome::RolledBack),
            (Some("v1.0.0"), "release", Outcome::Verified),
        ]
    );
    assert_eq!(report.runs[1].rolled_back_to.as_deref(), Some("v1.0.0"));
    // Each release records the staging gate it passed, and on what; a restore passes none.
    let gates: Vec<Option<GateKind>> = report
        .runs
        .iter()
        .map(|run| run.gate.as_ref().map(Gate::kind))
        .collect();
    assert_eq!(
        gates,
        [None, Some(GateKind::Recorded), Some(GateKind::Recorded)]
    );
    let detail = report.runs[1].gate.as_ref().unwrap().detail();
    assert!(detail.starts_with("verified on staging "), "{detail}");
    assert_eq!(report.metrics.releases_without_staging_gate, 0);
    let metrics = &report.metrics;
    // Two production releases (the restore is not one), one of which failed.
    assert_eq!(metrics.production_releases, 2);
    assert_eq!(metrics.failed_releases, 1);
    assert_eq!(metrics.change_failure_rate, Some(0.5));
    assert!((metrics.deployment_frequency_per_week - 2.0 * 7.0 / 30.0).abs() < 1e-9);
    assert_eq!(metrics.lead_time.map(|lead| lead.count), Some(1));
    // Lead time: from v1.0.0's first commit (the first release: the root) to its verification.
    let git = world.repo.git();
    let mut walk = git.revwalk().unwrap();
    walk.push(
        git.revparse_single("v1.0.0")
            .unwrap()
            .peel_to_commit()
            .unwrap()
            .id(),
    )
    .unwrap();
    let first = walk
        .map(|commit| git.find_commit(commit.unwrap()).unwrap().time().seconds())
        .min()
        .unwrap();
    let verified = release_record::coolify_client::Timestamp::from_text(
        report.runs[2].settled_at.clone().unwrap(),
    )
    .system_time()
    .unwrap()
    .duration_since(std::time::UNIX_EPOCH)
    .unwrap()
    .as_secs();
    let lead = u64::try_from(i64::try_from(verified).unwrap() - first).unwrap();
    assert_eq!(
        metrics.lead_time,
        Some(stagegate::history::Spread {
            count: 1,
            median_seconds: lead,
            p90_seconds: lead
        })
    );
    // Time to restore: from v1.1.0's recorded failure to the verified redeploy of v1.0.0, on
    // the paused clock and GitHub's whole seconds: 3 s (the redeploy's queue, build and
    // switch-over, and its probe's passes a second apart).
    assert_eq!(
        metrics.time_to_restore,
        Some(stagegate::history::Spread {
            count: 1,
            median_seconds: 3,
            p90_seconds: 3
        })
    );
    let text = report.to_string();
    for expected in [
        "change failure rate: 50% (1 of 2 production releases)",
        "time to restore",
        "earlier releases are not in it",
    ] {
        assert!(text.contains(expected), "{expected:?} in {text}");
    }
}

/// `--skip-staging-gate` is the escape hatch for an emergency: the release goes out, and the
/// record, `history` and its metrics say that it went out without proof from staging.
#[tokio::test(start_paused = true)]
async fn a_release_that_skipped_the_staging_gate_says_so_in_the_record_and_history() {
    let world = World::new().await.unwrap();
    world.ship("feat: greet users", "1.0.0").await.unwrap();
    world
        .repo
        .commit("src/app.txt", "fix: the outage, in a hurry")
        .unwrap();
    world.repo.tag_lightweight("v1.0.1", "HEAD").unwrap();
    world
        .deploy_production_with(ProductionOptions {
            gate: GateCheck::Skip,
            ..ProductionOptions::tag("v1.0.1")
        })
        .await
        .value();

    let payloads: Vec<serde_json::Value> = world
        .github
        .deployments()
        .into_iter()
        .filter(|deployment| deployment.environment == "production")
        .map(|deployment| deployment.payload["gate"].clone())
        .collect();
    assert_eq!(payloads[1]["kind"], "skipped");
    assert_eq!(payloads[1]["detail"], "--skip-staging-gate");
    assert_eq!(payloads[0]["kind"], "recorded");

    let run = production_history(&world, HistoryFormat::Markdown).await;
    let report = run.value();
    assert_eq!(report.metrics.production_releases, 2);
    assert_eq!(report.metrics.releases_without_staging_gate, 1);
    let markdown = report.to_string();
    for expected in [
        "`v1.0.1 (",
        "(staging gate skipped: --skip-staging-gate)",
        "| staging gate skipped | 1 of 2 production releases went out without proof that staging ran them |",
    ] {
        assert!(markdown.contains(expected), "{expected:?} in {markdown}");
    }
    let json = serde_json::to_value(report).unwrap();
    assert_eq!(json["runs"][0]["gate"]["kind"], "skipped");
    assert_eq!(json["metrics"]["releases_without_staging_gate"], 1);
}

/// `rollback` with these options, as a dry run.
async fn rollback_plan(
    world: &World,
    to: Option<&str>,
    force: Force,
) -> stagegate_tests::Run<stagegate::deploy::DeployReport> {
    let options = RollbackOptions {
        to: to.map(str::to_owned),
        force,
        dry_run: stagegate::DryRun::Yes,
    };
    world
        .run(|session| async move { stagegate::rollback::rollback(&session, &options).await })
        .await
}

/// Rollback goes back only to a release the record vouches for: a tag made by hand on a
/// commit that never ran anywhere is passed over (and refused by name unless forced), another
/// tag of the commit production runs is no way back, and a record that cannot be read
/// refuses unless forced.
#[tokio::test(start_paused = true)]
async fn rollback_goes_back_only_to_a_release_the_record_vouches_for() {
    let world = World::new().await.unwrap();
    world.ship("feat: greet users", "1.0.0").await.unwrap();
    world
        .repo
        .commit("src/app.txt", "feat: never deployed")
        .unwrap();
    world.repo.tag_lightweight("v1.0.5", "HEAD").unwrap();
    world.ship("feat: say goodbye", "1.1.0").await.unwrap();
    world.repo.tag_lightweight("v1.0.9", "v1.1.0").unwrap();

    let plan = rollback_plan(&world, None, Force::No).await;
    assert_eq!(
        plan.value().tag.as_deref(),
        Some("v1.0.0"),
        "{}",
        plan.stderr
    );
    for skipped in [
        "skipping v1.0.9: the commit production runs",
        "skipping v1.0.5: has no record of running in production or of a verification on staging",
    ] {
        assert!(
            plan.stderr.contains(skipped),
            "{skipped:?} in {}",
            plan.stderr
        );
    }

    let named = rollback_plan(&world, Some("v1.0.5"), Force::No).await;
    named.assert_failed(
        Exit::Refused,
        &[
            "v1.0.5 has no record of running in production",
            "rollback --to v1.0.5 --force",
        ],
    );
    let forced = rollback_plan(&world, Some("v1.0.5"), Force::Yes).await;
    assert_eq!(forced.value().tag.as_deref(), Some("v1.0.5"));
    assert!(
        forced.stderr.contains("--force: rolling back to v1.0.5"),
        "{}",
        forced.stderr
    );

    // GitHub answers every read with a 500: no guessing.
    world
        .github
        .fail(github_fake::FaultRule::always(github_fake::Fault::Status {
            status: 500,
            body: r#"{"message":"Server Error"}"#.to_owned(),
        }));
    let blind = rollback_plan(&world, None, Force::No).await;
    blind.assert_failed(
        Exit::Refused,
        &[
            "the release record could not be read",
            "rollback --to TAG --force",
        ],
    );
    let forced = rollback_plan(&world, Some("v1.0.0"), Force::Yes).await;
    assert_eq!(
        forced.value().tag.as_deref(),
        Some("v1.0.0"),
        "{}",
        forced.stderr
    );
    assert!(
        forced
            .stderr
            .contains("--force: the release record could not be read"),
        "{}",
        forced.stderr
    );
}
