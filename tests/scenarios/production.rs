//! `deploy production --tag TAG`: the tag policy, the staging gate, idempotence, in-flight
//! deployments, failures with what each environment runs, and the automatic rollback.

use std::time::Duration;

use stagegate::deploy::{Action, AutoRollback, ProductionOptions};
use stagegate::{DryRun, Exit};
use stagegate_tests::{Env, HealthMode, World};

#[tokio::test(start_paused = true)]
async fn a_tag_goes_to_production_and_staging_is_untouched() {
    let world = World::new().await.unwrap();
    let commit = world
        .repo
        .commit("src/app.txt", "feat: greet users")
        .unwrap();
    world.deploy_staging().await.value();
    world.release_version("1.0.0").await.value();

    let run = world.deploy_production("v1.0.0").await;

    assert_eq!(run.exit(), Exit::Done, "{}", run.stderr);
    let report = run.value();
    assert_eq!(report.action, Action::Deployed);
    assert_eq!(report.commit, commit);
    assert_eq!(report.tag.as_deref(), Some("v1.0.0"));
    let production = world.app(Env::Production);
    let staging = world.app(Env::Staging);
    assert_eq!(run.pins_of(&production), [commit.as_str()]);
    assert_eq!(run.deploys_of(&production).len(), 1);
    assert!(
        run.writes_to(&staging).is_empty(),
        "{:?}",
        run.writes_to(&staging)
    );
    // The gate relied on the release record of staging's verification.
    assert!(
        run.stderr.contains("staging gate: v1.0.0") && run.stderr.contains("verified on staging"),
        "{}",
        run.stderr
    );
    assert_eq!(world.production_health.commit(), commit);
    world.assert_token_never_leaked();
}

#[tokio::test(start_paused = true)]
async fn a_pre_release_tag_is_refused_before_anything_is_contacted() {
    let world = World::new().await.unwrap();
    world
        .repo
        .commit("src/app.txt", "feat: greet users")
        .unwrap();
    world.repo.tag_lightweight("v1.1.0-rc.1", "HEAD").unwrap();

    let run = world.deploy_production("v1.1.0-rc.1").await;

    run.assert_failed(
        Exit::BadInput,
        &[
            "deploy production v1.1.0-rc.1",
            "pre-release",
            "prereleases_to_production",
        ],
    );
    assert!(run.requests.is_empty(), "{:?}", run.requests);
    assert!(world.fake.requests().is_empty());
}

#[tokio::test(start_paused = true)]
async fn a_malformed_tag_is_refused_before_anything_is_contacted() {
    let world = World::new().await.unwrap();
    world
        .repo
        .commit("src/app.txt", "feat: greet users")
        .unwrap();
    world.repo.tag_lightweight("v1.2", "HEAD").unwrap();

    for tag in ["v1.2", "1.2.3", "latest"] {
        let run = world.deploy_production(tag).await;
        run.assert_failed(Exit::BadInput, &[tag, "release tags like v1.4.2"]);
        assert!(run.requests.is_empty(), "{tag}: {:?}", run.requests);
    }
    assert!(world.fake.requests().is_empty());
}

#[tokio::test(start_paused = true)]
async fn a_commit_never_deployed_to_staging_is_refused() {
    let world = World::new().await.unwrap();
    let commit = world
        .repo
        .commit("src/app.txt", "feat: greet users")
        .unwrap();
    world.repo.tag_lightweight("v1.0.0", "HEAD").unwrap();

    let run = world.deploy_production("v1.0.0").await;

    run.assert_failed(
        Exit::Refused,
        &[
            "staging gate",
            &commit,
            "v1.0.0",
            &format!("stagegate deploy staging --commit {commit}"),
        ],
    );
    let production = world.app(Env::Production);
    assert!(
        run.writes_to(&production).is_empty(),
        "{:?}",
        run.writes_to(&production)
    );
    assert!(run.writes_to(&world.app(Env::Staging)).is_empty());
    assert!(world.fake.deployments_of(&production).is_empty());
}

#[tokio::test(start_paused = true)]
async fn a_tag_already_live_is_a_no_op() {
    let world = World::new().await.unwrap();
    let commit = world.ship("feat: greet users", "1.0.0").await.unwrap();

    let run = world.deploy_production("v1.0.0").await;

    assert_eq!(run.exit(), Exit::Done, "{}", run.stderr);
    assert_eq!(run.value().action, Action::AlreadyLive);
    assert_eq!(run.value().commit, commit);
    let production = world.app(Env::Production);
    assert!(
        run.writes_to(&production).is_empty(),
        "{:?}",
        run.writes_to(&production)
    );
    assert!(run.writes_to(&world.app(Env::Staging)).is_empty());
    assert_eq!(world.fake.deployments_of(&production).len(), 1);
}

#[tokio::test(start_paused = true)]
async fn an_in_flight_production_deployment_is_waited_for_not_stacked() {
    let world = World::new().await.unwrap();
    let (first, second) = world.v1_0_live_and_v1_1_staged().await.unwrap();
    let production = world.app(Env::Production);
    // Someone redeploys v1.0.0 from Coolify's UI; it builds for a while.
    world
        .fake
        .next_deployment_takes(&production, Duration::from_secs(20));
    let in_flight = world
        .fake
        .trigger_deployment(&production, Some(&first))
        .unwrap();

    let run = world.deploy_production("v1.1.0").await;

    assert_eq!(run.exit(), Exit::Done, "{}", run.stderr);
    assert_eq!(run.value().commit, second);
    assert_eq!(run.deploys_of(&production).len(), 1);
    let waited = run
        .stderr
        .find(&format!("deployment {in_flight} is"))
        .expect(&run.stderr);
    let pinned = run.stderr.find("production: pinning").expect(&run.stderr);
    assert!(waited < pinned, "{}", run.stderr);
    let deployments = world.fake.deployments_of(&production);
    assert_eq!(deployments.len(), 3, "{deployments:?}");
    assert!(
        deployments
            .iter()
            .all(|d| d.status.to_string() == "finished"),
        "{deployments:?}"
    );
    assert_eq!(
        deployments[0].resolved_commit().map(String::from),
        Some(second.clone())
    );
    assert_eq!(deployments[1].deployment_uuid, in_flight);
    assert!(run.writes_to(&world.app(Env::Staging)).is_empty());
}

#[tokio::test(start_paused = true)]
async fn a_failed_deployment_says_what_each_environment_runs() {
    let world = World::new().await.unwrap();
    let (first, second) = world.v1_0_live_and_v1_1_staged().await.unwrap();
    let production = world.app(Env::Production);
    world.fake.fail_next_deployment(&production);

    let run = world.deploy_production("v1.1.0").await;

    run.assert_failed(
        Exit::Failed,
        &[
            "deploy production v1.1.0",
            "failed",
            &format!("production runs v1.0.0 ({})", &first[..7]),
            &format!("staging runs v1.1.0 ({})", &second[..7]),
            "stagegate rollback --to v1.0.0",
        ],
    );
    assert_eq!(run.pins_of(&production), [second]);
    assert_eq!(run.deploys_of(&production).len(), 1);
    assert!(run.writes_to(&world.app(Env::Staging)).is_empty());
    assert_eq!(world.production_health.commit(), first);
    world.assert_token_never_leaked();
}

#[tokio::test(start_paused = true)]
async fn a_probe_that_only_sees_the_old_commit_fails_at_its_deadline() {
    let world = World::new().await.unwrap();
    let (first, second) = world.v1_0_live_and_v1_1_staged().await.unwrap();
    world.production_health.set_mode(HealthMode::StaysOnOld);

    let run = world.deploy_production("v1.1.0").await;

    run.assert_failed(
        Exit::Failed,
        &[
            "deploy production v1.1.0",
            "probe",
            "deadline",
            "`/commit`",
            &format!("\"{first}\""),
            &format!("expected \"{second}\""),
            "another version is still answering",
        ],
    );
    assert!(
        run.stderr.contains("health"),
        "probe attempts are reported: {}",
        run.stderr
    );
    let production = world.app(Env::Production);
    assert_eq!(
        run.deploys_of(&production).len(),
        1,
        "a probe failure does not redeploy"
    );
    assert!(run.writes_to(&world.app(Env::Staging)).is_empty());
}

#[tokio::test(start_paused = true)]
async fn a_health_body_naming_the_wrong_environment_fails() {
    let world = World::new().await.unwrap();
    world.v1_0_live_and_v1_1_staged().await.unwrap();
    world
        .production_health
        .set_mode(HealthMode::WrongEnvironment);

    let run = world.deploy_production("v1.1.0").await;

    run.assert_failed(
        Exit::Failed,
        &[
            "deploy production v1.1.0",
            "`/environment`",
            "\"staging\"",
            "expected \"production\"",
        ],
    );
    assert!(run.writes_to(&world.app(Env::Staging)).is_empty());
}

#[tokio::test(start_paused = true)]
async fn auto_rollback_restores_the_previous_release_and_fails() {
    let world = World::new().await.unwrap();
    let (first, second) = world.v1_0_live_and_v1_1_staged().await.unwrap();
    let production = world.app(Env::Production);
    world.fake.fail_next_deployment(&production);

    let run = world
        .deploy_production_with(ProductionOptions {
            auto_rollback: AutoRollback::On,
            ..ProductionOptions::tag("v1.1.0")
        })
        .await;

    run.assert_failed(
        Exit::Failed,
        &[
            "deploy production v1.1.0",
            "failed",
            "rolled back to v1.0.0",
            &format!("production runs v1.0.0 ({})", &first[..7]),
            "v1.1.0 did not go live",
        ],
    );
    assert_eq!(run.pins_of(&production), [second, first.clone()]);
    assert_eq!(run.deploys_of(&production).len(), 2);
    assert!(run.writes_to(&world.app(Env::Staging)).is_empty());
    let latest = &world.fake.deployments_of(&production)[0];
    assert_eq!(latest.status.to_string(), "finished");
    assert_eq!(
        latest.resolved_commit().map(String::from),
        Some(first.clone())
    );
    assert_eq!(world.production_health.commit(), first);
}

#[tokio::test(start_paused = true)]
async fn an_older_tag_is_not_deployed_forward() {
    let world = World::new().await.unwrap();
    world.ship("feat: greet users", "1.0.0").await.unwrap();
    world.ship("feat: say goodbye", "1.1.0").await.unwrap();

    let run = world.deploy_production("v1.0.0").await;

    run.assert_failed(
        Exit::Refused,
        &[
            "v1.0.0 is older than v1.1.0",
            "stagegate rollback --to v1.0.0",
        ],
    );
    assert!(run.writes_to(&world.app(Env::Production)).is_empty());
}

#[tokio::test(start_paused = true)]
async fn dry_run_production_makes_no_write() {
    let world = World::new().await.unwrap();
    let (_, second) = world.v1_0_live_and_v1_1_staged().await.unwrap();

    let run = world
        .deploy_production_with(ProductionOptions {
            dry_run: DryRun::Yes,
            ..ProductionOptions::tag("v1.1.0")
        })
        .await;

    assert_eq!(run.exit(), Exit::Done, "{}", run.stderr);
    assert_eq!(run.value().action, Action::Planned);
    assert!(
        run.value()
            .planned
            .iter()
            .any(|step| step.contains(&second))
    );
    assert!(
        run.requests.iter().all(|request| request.method() == "GET"),
        "{:?}",
        run.requests
    );
    assert_eq!(
        world.fake.deployments_of(&world.app(Env::Production)).len(),
        1
    );
}

#[tokio::test(start_paused = true)]
async fn a_deployment_in_flight_past_the_deadline_refuses_the_deploy() {
    let world = World::new().await.unwrap();
    world.v1_0_live_and_v1_1_staged().await.unwrap();
    let production = world.app(Env::Production);
    world
        .fake
        .next_deployment_takes(&production, Duration::from_secs(3600));
    let stuck = world.fake.trigger_deployment(&production, None).unwrap();

    let run = world.deploy_production("v1.1.0").await;

    run.assert_failed(
        Exit::Refused,
        &[
            "deploy production v1.1.0",
            &format!("deployment {stuck} is still in flight after 2m"),
            "cancel it in Coolify",
        ],
    );
    assert!(
        run.writes_to(&production).is_empty(),
        "{:?}",
        run.writes_to(&production)
    );
}

#[tokio::test(start_paused = true)]
async fn coolify_failing_after_the_pin_leaves_a_message_naming_the_pin() {
    let world = World::new().await.unwrap();
    let (first, second) = world.v1_0_live_and_v1_1_staged().await.unwrap();
    world.fake.inject(
        coolify_fake::FaultRule::on_path("/api/v1/deploy", coolify_fake::Fault::BadGatewayHtml)
            .method("POST")
            .application(&world.app(Env::Production)),
    );

    let run = world.deploy_production("v1.1.0").await;

    run.assert_failed(
        Exit::Failed,
        &[
            "deploy production v1.1.0",
            "status 502",
            &format!(
                "production runs v1.0.0 ({}) (app pinned to {})",
                &first[..7],
                &second[..7]
            ),
            "not the release",
            "run `stagegate deploy production --tag v1.1.0` again",
        ],
    );
    let production = world.app(Env::Production);
    assert_eq!(
        run.deploys_of(&production).len(),
        1,
        "a 5xx deploy is never retried"
    );
    assert_eq!(world.production_health.commit(), first);
}

#[tokio::test(start_paused = true)]
async fn redeploying_an_unhealthy_live_release_that_fails_says_nothing_older_was_restored() {
    let world = World::new().await.unwrap();
    let commit = world.ship("feat: greet users", "1.0.0").await.unwrap();
    let production = world.app(Env::Production);
    // Production runs v1.0.0 but answers 500: the deploy goes ahead instead of a no-op,
    // and its build fails.
    world.production_health.set_mode(HealthMode::Fails);
    world.fake.fail_next_deployment(&production);

    let run = world
        .deploy_production_with(ProductionOptions {
            auto_rollback: AutoRollback::On,
            ..ProductionOptions::tag("v1.0.0")
        })
        .await;

    run.assert_failed(
        Exit::Failed,
        &[
            "deploy production v1.0.0",
            "failed",
            &format!("production runs v1.0.0 ({})", &commit[..7]),
            "nothing older to restore automatically",
            "stagegate rollback",
        ],
    );
    assert_eq!(run.pins_of(&production), [commit]);
    assert_eq!(run.deploys_of(&production).len(), 1);
    assert!(run.writes_to(&world.app(Env::Staging)).is_empty());
}

#[tokio::test(start_paused = true)]
async fn a_failed_pin_advises_running_again_not_fixing_the_release() {
    let world = World::new().await.unwrap();
    let (first, _) = world.v1_0_live_and_v1_1_staged().await.unwrap();
    world.fake.inject(
        coolify_fake::FaultRule::on_path(
            "/api/v1/applications/production-app",
            coolify_fake::Fault::BadGatewayHtml,
        )
        .method("PATCH"),
    );

    let run = world.deploy_production("v1.1.0").await;

    run.assert_failed(
        Exit::Failed,
        &[
            "deploy production v1.1.0",
            "status 502",
            &format!("production runs v1.0.0 ({})", &first[..7]),
            "Coolify failed for a moment, not the release",
            "run `stagegate deploy production --tag v1.1.0` again",
        ],
    );
    assert!(
        !run.message().contains("Fix the release"),
        "{}",
        run.message()
    );
    assert!(run.deploys_of(&world.app(Env::Production)).is_empty());
}

#[tokio::test(start_paused = true)]
async fn a_probe_deadline_reports_coolifys_deployment_and_what_the_health_endpoint_says() {
    let world = World::new().await.unwrap();
    let (first, second) = world.v1_0_live_and_v1_1_staged().await.unwrap();
    world.production_health.set_mode(HealthMode::StaysOnOld);

    let run = world.deploy_production("v1.1.0").await;

    run.assert_failed(
        Exit::Failed,
        &[
            &format!(
                "production's latest finished Coolify deployment is v1.1.0 ({})",
                &second[..7]
            ),
            &format!(
                "but its health endpoint still reports {} (v1.0.0)",
                &first[..7]
            ),
            "Fix the release",
        ],
    );
    assert!(
        !run.message().contains("production runs v1.1.0"),
        "{}",
        run.message()
    );
}

#[tokio::test(start_paused = true)]
async fn a_colleague_re_pinning_after_the_pin_is_named_not_blamed_on_coolify() {
    let world = World::new().await.unwrap();
    let (first, _) = world.v1_0_live_and_v1_1_staged().await.unwrap();
    let production = world.app(Env::Production);
    // Another run re-pins v1.0.0 between this run's pin and its deploy.
    world.fake.race_next_pin(&production, &first, false);

    let run = world.deploy_production("v1.1.0").await;

    run.assert_failed(
        Exit::Failed,
        &[
            "re-pinned to",
            &first,
            "by someone else",
            "Another deploy of this app ran at the same time",
        ],
    );
    let message = run.message();
    assert!(!message.contains("older than 4.1.0"), "{message}");
}

#[tokio::test(start_paused = true)]
async fn a_colleague_re_pinning_and_deploying_first_is_named_not_a_missing_uuid() {
    let world = World::new().await.unwrap();
    let (first, _) = world.v1_0_live_and_v1_1_staged().await.unwrap();
    let production = world.app(Env::Production);
    world
        .fake
        .next_deployment_takes(&production, Duration::from_secs(5));
    // Another run re-pins v1.0.0 and deploys it before this run's deploy arrives.
    world.fake.race_next_pin(&production, &first, true);

    let run = world.deploy_production("v1.1.0").await;

    run.assert_failed(Exit::Failed, &["re-pinned to", &first, "by someone else"]);
    let message = run.message();
    assert!(!message.contains("token's team"), "{message}");
}

#[tokio::test(start_paused = true)]
async fn a_probe_that_gets_no_answer_prints_durations_for_people() {
    let world = World::new().await.unwrap();
    world.v1_0_live_and_v1_1_staged().await.unwrap();
    world.production_health.set_mode(HealthMode::Hangs);

    let run = world.deploy_production("v1.1.0").await;

    run.assert_failed(Exit::Failed, &["no answer within 1.0s"]);
    let message = run.message();
    // No `995ms 578us 653ns`: no word is a number of micro- or nanoseconds.
    let sub_millisecond = message.split_whitespace().any(|word| {
        ["us", "µs", "ns"].iter().any(|unit| {
            word.strip_suffix(unit).is_some_and(|number| {
                !number.is_empty() && number.chars().all(|c| c.is_ascii_digit())
            })
        })
    });
    assert!(!sub_millisecond, "{message}");
}

#[tokio::test(start_paused = true)]
async fn a_tag_naming_the_commit_production_runs_is_a_no_op_not_a_downgrade() {
    let world = World::new().await.unwrap();
    let commit = world.ship("feat: greet users", "1.2.0").await.unwrap();
    // v1.2.1 is cut on the very same commit and deployed.
    world.repo.tag_lightweight("v1.2.1", "HEAD").unwrap();
    world.deploy_production("v1.2.1").await.value();

    let run = world.deploy_production("v1.2.0").await;

    assert_eq!(run.exit(), Exit::Done, "{}", run.stderr);
    assert_eq!(run.value().action, Action::AlreadyLive);
    assert_eq!(run.value().commit, commit);
    assert!(run.writes_to(&world.app(Env::Production)).is_empty());
}

#[tokio::test(start_paused = true)]
async fn joining_a_colleagues_deployment_of_the_same_commit_reports_joined_existing() {
    let world = World::new().await.unwrap();
    let (first, second) = world.v1_0_live_and_v1_1_staged().await.unwrap();
    let production = world.app(Env::Production);
    // A colleague's run of the same release is building when this one starts.
    world
        .fake
        .next_deployment_takes(&production, Duration::from_secs(10));
    let theirs = world
        .fake
        .trigger_deployment(&production, Some(&second))
        .unwrap();

    let run = world.deploy_production("v1.1.0").await;

    assert_eq!(run.exit(), Exit::Done, "{}", run.stderr);
    let report = run.value();
    assert_eq!(report.action, Action::Deployed);
    assert_eq!(
        report.previous.as_deref(),
        Some(format!("v1.0.0 ({})", &first[..7]).as_str())
    );
    let rollout = report.rollout.as_ref().expect("the joined deployment");
    assert!(rollout.joined_existing);
    assert_eq!(rollout.deployment, theirs.to_string());
    assert!(run.deploys_of(&production).is_empty(), "nothing stacked");
    let document = serde_json::to_value(report).unwrap();
    assert_eq!(document["action"], "deployed");
    assert_eq!(document["rollout"]["joined_existing"], true);
}

#[tokio::test(start_paused = true)]
async fn a_rolled_back_deploy_writes_the_failure_to_the_step_summary_and_outputs() {
    let world = World::new().await.unwrap();
    let (first, second) = world.v1_0_live_and_v1_1_staged().await.unwrap();
    let (github_output, summary) = world.enable_github_actions();
    let production = world.app(Env::Production);
    world.fake.fail_next_deployment(&production);

    let run = world
        .deploy_production_with(ProductionOptions {
            auto_rollback: AutoRollback::On,
            ..ProductionOptions::tag("v1.1.0")
        })
        .await;

    run.assert_failed(Exit::Failed, &["rolled back to v1.0.0"]);
    let summary = std::fs::read_to_string(summary).expect("a step summary");
    for expected in [
        "production deploy of v1.1.0",
        "failed",
        "what failed",
        &format!("production runs v1.0.0 ({})", &first[..7]),
        "stagegate rollback --to v1.0.0",
    ] {
        assert!(summary.contains(expected), "{expected:?} in:\n{summary}");
    }
    let outputs = std::fs::read_to_string(github_output).unwrap();
    for expected in [
        format!("commit={second}"),
        "tag=v1.1.0".to_owned(),
        "rolled_back_to=v1.0.0".to_owned(),
        "deployment=".to_owned(),
    ] {
        assert!(outputs.contains(&expected), "{expected:?} in:\n{outputs}");
    }
    world.assert_token_never_leaked();
}
