//! The fake Coolify itself, and the high-level operations against it on a paused clock.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use coolify_client::{
    ApplicationPatch, AutoDeploy, CommitSha, DeployOutcome, DeploymentOrigin, DeploymentStatus,
    EnvVarInput, Error, FollowEvent, FollowOptions, ForceRebuild,
};
use coolify_fake::{Ability, FakeApplication, FakeCoolify, Fault, FaultRule};
use tokio::time::Instant;

const COMMIT_A: &str = "1111111111111111111111111111111111111111";
const COMMIT_B: &str = "2222222222222222222222222222222222222222";

fn sha(text: &str) -> CommitSha {
    text.parse().unwrap()
}

async fn fake_with_app(build_time: Duration) -> (FakeCoolify, coolify_client::ApplicationUuid) {
    let fake = FakeCoolify::start().await.unwrap();
    let app = fake.add_application(FakeApplication::new("prod").build_time(build_time));
    (fake, app)
}

#[tokio::test(start_paused = true)]
async fn deploy_and_follow_ends_within_one_poll_interval_of_the_fake_finishing() {
    let (fake, app) = fake_with_app(Duration::from_secs(97)).await;
    let finished_at: Arc<Mutex<Option<(Instant, String)>>> = Arc::default();
    let hook_slot = Arc::clone(&finished_at);
    fake.on_deployment_finished(move |finished| {
        *hook_slot.lock().unwrap() = Some((Instant::now(), finished.commit().to_owned()));
    });
    let client = fake.client_builder().build().unwrap();
    let started_at = Instant::now();
    let started = client
        .deploy_commit(&app, &sha(COMMIT_A), ForceRebuild::No)
        .await
        .unwrap();
    assert_eq!(started.origin, DeploymentOrigin::Queued);
    let mut events = Vec::new();
    let options = FollowOptions::default();
    let done = client
        .follow(&started.deployment, &options, |event| {
            events.push(event.clone())
        })
        .await
        .unwrap();
    let (fake_finished, hook_commit) = finished_at.lock().unwrap().clone().expect("hook ran");
    let lag = Instant::now() - fake_finished;
    assert!(
        lag <= options.poll.max(),
        "follow ended {lag:?} after the deployment finished"
    );
    assert_eq!(hook_commit, COMMIT_A);
    assert_eq!(done.resolved_commit(), Some(sha(COMMIT_A)));
    let statuses: Vec<_> = events
        .iter()
        .filter_map(|event| match event {
            FollowEvent::Status { status, .. } => Some(status.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(
        statuses,
        [
            DeploymentStatus::Queued,
            DeploymentStatus::InProgress,
            DeploymentStatus::Finished
        ]
    );
    assert!(events.contains(&FollowEvent::Commit {
        commit: sha(COMMIT_A)
    }));
    let polls = fake.requests_for_path("/api/v1/deployments/").len();
    let seconds = (Instant::now() - started_at).as_secs_f64();
    assert!(
        polls as f64 / seconds <= 2.0,
        "{polls} polls in {seconds} s"
    );
}

#[tokio::test(start_paused = true)]
async fn a_second_deploy_of_the_same_commit_joins_the_one_in_flight() {
    let (fake, app) = fake_with_app(Duration::from_secs(30)).await;
    let client = fake.client_builder().build().unwrap();
    let first = client
        .deploy_commit(&app, &sha(COMMIT_A), ForceRebuild::No)
        .await
        .unwrap();
    let raw = client.deploy(&app, ForceRebuild::No).await.unwrap();
    assert_eq!(raw, DeployOutcome::AlreadyQueued);
    let second = client
        .deploy_commit(&app, &sha(COMMIT_A), ForceRebuild::No)
        .await
        .unwrap();
    assert_eq!(second.deployment, first.deployment);
    assert_eq!(second.origin, DeploymentOrigin::AlreadyQueued);
    assert_eq!(fake.deployments_of(&app).len(), 1);
    let forced = client
        .deploy_commit(&app, &sha(COMMIT_A), ForceRebuild::Yes)
        .await
        .unwrap();
    assert_ne!(
        forced.deployment, first.deployment,
        "force bypasses the dedupe"
    );
}

#[tokio::test(start_paused = true)]
async fn the_dedupe_answer_carries_a_uuid_that_does_not_exist() {
    let (fake, app) = fake_with_app(Duration::from_secs(30)).await;
    let client = fake.client_builder().build().unwrap();
    let DeployOutcome::Queued(real) = client.deploy(&app, ForceRebuild::No).await.unwrap() else {
        panic!("the first deploy queues")
    };
    let raw = crate::raw::http()
        .build()
        .unwrap()
        .post(format!("{}/api/v1/deploy", fake.base_url()))
        .bearer_auth(coolify_fake::DEFAULT_TOKEN)
        .json(&serde_json::json!({"uuid": app.as_str(), "force": false}))
        .send()
        .await
        .unwrap();
    let body: serde_json::Value = raw.json().await.unwrap();
    let entry = &body["deployments"][0];
    assert_eq!(
        entry["message"],
        "Deployment already queued for this commit."
    );
    let bogus: coolify_client::DeploymentUuid =
        entry["deployment_uuid"].as_str().unwrap().parse().unwrap();
    assert_ne!(bogus, real);
    let error = client.deployment(&bogus).await.unwrap_err();
    assert!(matches!(error, Error::NotFound { .. }), "{error:?}");
    assert_eq!(fake.deployments_of(&app).len(), 1);
}

#[tokio::test(start_paused = true)]
async fn the_pin_persists_for_later_deploys() {
    let (fake, app) = fake_with_app(Duration::from_secs(5)).await;
    let client = fake.client_builder().build().unwrap();
    let started = client
        .deploy_commit(&app, &sha(COMMIT_A), ForceRebuild::No)
        .await
        .unwrap();
    client
        .follow(&started.deployment, &FollowOptions::default(), |_| {})
        .await
        .unwrap();
    assert_eq!(
        client.application(&app).await.unwrap().pinned_commit(),
        Some(COMMIT_A)
    );
    let pushed = fake.trigger_deployment(&app, None).unwrap();
    let later = client
        .follow(&pushed, &FollowOptions::default(), |_| {})
        .await
        .unwrap();
    assert_eq!(later.resolved_commit(), Some(sha(COMMIT_A)));
}

#[tokio::test(start_paused = true)]
async fn another_commit_built_is_explained_by_a_re_pin_or_by_a_server_that_ignores_pins() {
    let (fake, app) = fake_with_app(Duration::from_secs(5)).await;
    let client = fake.client_builder().build().unwrap();
    client
        .update_application(&app, &ApplicationPatch::new().git_commit_sha(COMMIT_A))
        .await
        .unwrap();
    // Still pinned to what was deployed: the server ignored the pin.
    let ignored = client.explain_other_commit(&app, &sha(COMMIT_A)).await;
    assert!(
        matches!(&ignored, Error::PinIgnored { application, pinned } if *application == app && *pinned == sha(COMMIT_A)),
        "{ignored:?}"
    );
    assert_eq!(
        ignored.to_string(),
        format!(
            "app {app} is still pinned to 1111111: the Coolify server ignores pinned commits (versions before 4.1.0 do); upgrade Coolify"
        )
    );
    // Pinned to another commit since: someone re-pinned it.
    let repinned = client.explain_other_commit(&app, &sha(COMMIT_B)).await;
    assert!(
        matches!(&repinned, Error::PinChanged { expected, found, .. } if *expected == sha(COMMIT_B) && found == COMMIT_A),
        "{repinned:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn a_bulk_upsert_with_a_key_coolify_refuses_sends_nothing() {
    let (fake, app) = fake_with_app(Duration::from_secs(5)).await;
    let client = fake.client_builder().build().unwrap();
    let error = client
        .upsert_env_vars(
            &app,
            &[
                EnvVarInput::new("GOOD", "1"),
                EnvVarInput::new("BAD KEY", "2"),
            ],
        )
        .await
        .unwrap_err();
    assert!(
        matches!(&error, Error::InvalidInput { value, .. } if value == "BAD KEY"),
        "{error:?}"
    );
    assert!(fake.requests_for_path("/envs").is_empty());
    assert!(fake.env_vars_of(&app).is_empty());
}

#[tokio::test(start_paused = true)]
async fn a_failed_deployment_is_an_error_naming_deployment_and_commit() {
    let (fake, app) = fake_with_app(Duration::from_secs(20)).await;
    fake.fail_next_deployment(&app);
    let client = fake.client_builder().build().unwrap();
    let started = client
        .deploy_commit(&app, &sha(COMMIT_B), ForceRebuild::No)
        .await
        .unwrap();
    let error = client
        .follow(&started.deployment, &FollowOptions::default(), |_| {})
        .await
        .unwrap_err();
    assert!(
        matches!(&error, Error::DeploymentFailed { commit: Some(commit), .. } if commit.as_str() == COMMIT_B),
        "{error:?}"
    );
    assert!(error.to_string().contains(started.deployment.as_str()));
}

#[tokio::test(start_paused = true)]
async fn follow_stops_at_its_deadline() {
    let (fake, app) = fake_with_app(Duration::from_secs(600)).await;
    let client = fake.client_builder().build().unwrap();
    let started = client
        .deploy_commit(&app, &sha(COMMIT_A), ForceRebuild::No)
        .await
        .unwrap();
    let begin = Instant::now();
    let options = FollowOptions::with_deadline(Duration::from_secs(60));
    let error = client
        .follow(&started.deployment, &options, |_| {})
        .await
        .unwrap_err();
    assert!(
        matches!(
            error,
            Error::DeadlineExceeded {
                last_status: DeploymentStatus::InProgress,
                ..
            }
        ),
        "{error:?}"
    );
    let waited = Instant::now() - begin;
    assert!(
        waited >= Duration::from_secs(60) && waited <= Duration::from_secs(62),
        "{waited:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn scripted_durations_and_cancellation() {
    let (fake, app) = fake_with_app(Duration::from_secs(600)).await;
    fake.next_deployment_takes(&app, Duration::from_secs(3));
    let client = fake.client_builder().build().unwrap();
    let quick = client
        .deploy_commit(&app, &sha(COMMIT_A), ForceRebuild::No)
        .await
        .unwrap();
    let begin = Instant::now();
    client
        .follow(&quick.deployment, &FollowOptions::default(), |_| {})
        .await
        .unwrap();
    assert!(Instant::now() - begin <= Duration::from_secs(6));
    let slow = client
        .deploy_commit(&app, &sha(COMMIT_B), ForceRebuild::No)
        .await
        .unwrap();
    client.cancel_deployment(&slow.deployment).await.unwrap();
    let error = client
        .follow(&slow.deployment, &FollowOptions::default(), |_| {})
        .await
        .unwrap_err();
    assert!(
        matches!(error, Error::DeploymentCancelled { .. }),
        "{error:?}"
    );
    let again = client
        .cancel_deployment(&slow.deployment)
        .await
        .unwrap_err();
    assert!(
        matches!(
            again,
            Error::NotCancellable {
                status: DeploymentStatus::CancelledByUser,
                ..
            }
        ),
        "{again:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn lookups_read_seeded_history() {
    let (fake, app) = fake_with_app(Duration::from_secs(30)).await;
    fake.seed_deployment(&app, COMMIT_A, DeploymentStatus::Finished);
    fake.seed_deployment(&app, COMMIT_B, DeploymentStatus::Failed);
    let client = fake.client_builder().build().unwrap();
    let latest = client
        .latest_finished_deployment(&app)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(latest.resolved_commit(), Some(sha(COMMIT_A)));
    let by_commit = client
        .find_deployment_by_commit(&app, &sha(COMMIT_B))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(by_commit.status, DeploymentStatus::Failed);
    assert!(
        client
            .find_finished_deployment_of_commit(&app, &sha(COMMIT_B))
            .await
            .unwrap()
            .is_none()
    );
    assert!(client.in_flight_deployment(&app).await.unwrap().is_none());
    let pushed = fake.trigger_deployment(&app, Some(COMMIT_B)).unwrap();
    let in_flight = client.in_flight_deployment(&app).await.unwrap().unwrap();
    assert_eq!(in_flight.deployment_uuid, pushed);
}

#[tokio::test(start_paused = true)]
async fn lookups_page_through_more_than_one_page() {
    let (fake, app) = fake_with_app(Duration::from_secs(30)).await;
    fake.seed_deployment(&app, COMMIT_A, DeploymentStatus::Finished);
    for _ in 0..30 {
        fake.seed_deployment(&app, COMMIT_B, DeploymentStatus::Failed);
    }
    let client = fake.client_builder().build().unwrap();
    let latest = client
        .latest_finished_deployment(&app)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(latest.resolved_commit(), Some(sha(COMMIT_A)));
    let pages = fake.requests_for_path("/deployments/applications/");
    assert_eq!(pages.len(), 2);
    assert_eq!(pages[1].query(), Some("skip=25&take=25"));
}

#[tokio::test(start_paused = true)]
async fn application_settings_round_trip() {
    let fake = FakeCoolify::start().await.unwrap();
    let app = fake.add_application(FakeApplication::new("staging").git_branch("develop"));
    let client = fake.client_builder().build().unwrap();
    let patch = ApplicationPatch::new()
        .git_branch("main")
        .auto_deploy(AutoDeploy::Disabled);
    client.update_application(&app, &patch).await.unwrap();
    let read = client.application(&app).await.unwrap();
    assert_eq!(read.git_branch.as_deref(), Some("main"));
    assert_eq!(read.is_auto_deploy_enabled(), Some(false));
    assert!(
        !read.extra.contains_key("manual_webhook_secret_github"),
        "hidden without read:sensitive"
    );
    let bad = client
        .update_application(&app, &ApplicationPatch::new().git_branch("a..b"))
        .await
        .unwrap_err();
    assert!(matches!(bad, Error::Api { status: 422, .. }), "{bad:?}");
    let patches = fake
        .requests_for(&app)
        .into_iter()
        .filter(|request| request.method() == "PATCH")
        .count();
    assert_eq!(patches, 2);
}

#[tokio::test(start_paused = true)]
async fn env_vars_get_preview_copies_and_hide_values_without_read_sensitive() {
    let fake = FakeCoolify::start().await.unwrap();
    let app = fake.add_application(FakeApplication::new("staging"));
    let client = fake.client_builder().build().unwrap();
    client
        .create_env_var(&app, &EnvVarInput::new("LOG_LEVEL", "DEBUG"))
        .await
        .unwrap();
    let duplicate = client
        .create_env_var(&app, &EnvVarInput::new("LOG_LEVEL", "x"))
        .await
        .unwrap_err();
    assert!(
        matches!(duplicate, Error::Api { status: 409, .. }),
        "{duplicate:?}"
    );
    let listed = client.env_vars(&app).await.unwrap();
    assert_eq!(listed.len(), 2);
    assert_eq!((listed[0].is_preview, listed[1].is_preview), (false, true));
    assert!(listed.iter().all(|variable| variable.value.is_none()));

    let mut literal = EnvVarInput::updating(&listed[0], "INFO");
    literal.is_literal = true;
    client.update_env_var(&app, &literal).await.unwrap();
    client
        .upsert_env_vars(
            &app,
            &[
                EnvVarInput::new("ENVIRONMENT", "staging"),
                EnvVarInput::new("LOG_LEVEL", "WARN"),
            ],
        )
        .await
        .unwrap();
    fake.set_abilities(&[
        Ability::Read,
        Ability::ReadSensitive,
        Ability::Write,
        Ability::Deploy,
    ]);
    let visible = client.env_vars(&app).await.unwrap();
    let log_level = visible
        .iter()
        .find(|variable| variable.key == "LOG_LEVEL" && !variable.is_preview)
        .unwrap();
    assert_eq!(log_level.value.as_deref(), Some("WARN"));
    assert!(
        !log_level.is_literal,
        "a PATCH without is_literal resets it, as Coolify does"
    );
    assert_eq!(visible.len(), 4);

    let preview = visible
        .iter()
        .find(|variable| variable.key == "ENVIRONMENT" && variable.is_preview)
        .unwrap();
    client.delete_env_var(&app, &preview.uuid).await.unwrap();
    assert_eq!(fake.env_vars_of(&app).len(), 3);
    let missing = client
        .delete_env_var(&app, &preview.uuid)
        .await
        .unwrap_err();
    assert!(matches!(missing, Error::NotFound { .. }), "{missing:?}");
}

#[tokio::test(start_paused = true)]
async fn the_fake_checks_token_abilities_and_the_api_switch() {
    let (fake, app) = fake_with_app(Duration::from_secs(5)).await;
    let wrong = coolify_client::Client::builder(fake.base_url(), "9|wrong".to_owned().into())
        .build()
        .unwrap();
    assert!(matches!(
        wrong.version().await.unwrap_err(),
        Error::Unauthenticated { .. }
    ));

    let client = fake.client_builder().build().unwrap();
    assert_eq!(client.version().await.unwrap(), "4.3.11");
    fake.set_abilities(&[Ability::Read]);
    let denied = client.deploy(&app, ForceRebuild::No).await.unwrap_err();
    assert!(
        matches!(&denied, Error::MissingAbility { ability, .. } if ability == "deploy"),
        "{denied:?}"
    );
    fake.disable_api();
    assert!(matches!(
        client.version().await.unwrap_err(),
        Error::ApiDisabled { .. }
    ));
    fake.enable_api();
    assert!(client.version().await.is_ok());
}

#[tokio::test(start_paused = true)]
async fn injected_faults_reach_the_client_as_typed_errors() {
    let (fake, app) = fake_with_app(Duration::from_secs(5)).await;
    let client = fake
        .client_builder()
        .request_timeout(Duration::from_secs(5))
        .build()
        .unwrap();

    fake.inject(
        FaultRule::on_path(
            "/deploy",
            Fault::RateLimited {
                retry_after: Duration::from_secs(60),
            },
        )
        .method("POST")
        .times(1),
    );
    let begin = Instant::now();
    assert!(matches!(
        client.deploy(&app, ForceRebuild::No).await.unwrap(),
        DeployOutcome::Queued(_)
    ));
    assert!(
        Instant::now() - begin >= Duration::from_secs(60),
        "Retry-After honoured"
    );
    assert_eq!(fake.requests_for_path("/api/v1/deploy").len(), 2);

    fake.inject(FaultRule::on_path("/version", Fault::BadGatewayHtml));
    let html = client.version().await.unwrap_err();
    assert!(
        matches!(html, Error::UnexpectedBody { status: 502, .. }),
        "{html:?}"
    );
    fake.clear_faults();

    fake.inject(FaultRule::on_path("/version", Fault::Delay(Duration::from_secs(30))).times(1));
    let slow = coolify_client::Client::builder(fake.base_url(), fake.token())
        .request_timeout(Duration::from_secs(5))
        .retry_policy(coolify_client::RetryPolicy::none())
        .build()
        .unwrap();
    assert!(matches!(
        slow.version().await.unwrap_err(),
        Error::Timeout { .. }
    ));

    fake.inject(
        FaultRule::always(Fault::MissingAbility(Ability::Write))
            .method("PATCH")
            .times(1),
    );
    let error = client
        .deploy_commit(&app, &sha(COMMIT_A), ForceRebuild::No)
        .await
        .unwrap_err();
    assert!(
        matches!(&error, Error::MissingAbility { ability, .. } if ability == "write"),
        "{error:?}"
    );
    assert_eq!(
        fake.requests_for_path("/api/v1/deploy").len(),
        2,
        "no deploy after a failed pin"
    );
}

#[tokio::test(start_paused = true)]
async fn requests_are_recorded_per_application() {
    let fake = FakeCoolify::start().await.unwrap();
    let staging = fake.add_application(FakeApplication::new("staging"));
    let production = fake.add_application(FakeApplication::new("production"));
    let client = fake.client_builder().build().unwrap();
    let started = client
        .deploy_commit(&production, &sha(COMMIT_A), ForceRebuild::No)
        .await
        .unwrap();
    client
        .follow(&started.deployment, &FollowOptions::default(), |_| {})
        .await
        .unwrap();
    assert!(fake.requests_for(&staging).is_empty());
    let production_requests = fake.requests_for(&production);
    // The pin it had is read first, to put it back should the deploy be refused.
    assert_eq!(production_requests[0].method(), "GET");
    assert_eq!(production_requests[1].method(), "PATCH");
    assert_eq!(
        production_requests[1].json().unwrap()["git_commit_sha"],
        COMMIT_A
    );
    assert_eq!(production_requests[2].path(), "/api/v1/deploy");
    assert!(
        production_requests[3..]
            .iter()
            .all(|request| request.method() == "GET")
    );
}

#[tokio::test]
async fn the_application_list_and_the_projects_describe_where_each_app_lives() {
    let fake = FakeCoolify::start().await.unwrap();
    fake.add_application(
        FakeApplication::new("api-stg")
            .name("api")
            .git_repository("git@github.com:acme/api.git")
            .fqdn(Some("https://stg.example.com,https://stg2.example.com"))
            .health_check_path("/healthz")
            .environment("API", "staging"),
    );
    fake.add_application(
        FakeApplication::new("api-prod")
            .name("api")
            .git_repository("https://github.com/acme/api")
            .fqdn(None)
            .environment("API", "production"),
    );
    let client = fake.client_builder().build().unwrap();

    let applications = client.applications().await.unwrap();
    let names = client.environment_names().await.unwrap();

    assert_eq!(applications.len(), 2);
    let staging = applications
        .iter()
        .find(|app| app.uuid.as_str() == "api-stg")
        .unwrap();
    assert_eq!(
        staging.domains(),
        ["https://stg.example.com", "https://stg2.example.com"]
    );
    assert_eq!(staging.health_check_path.as_deref(), Some("/healthz"));
    assert_eq!(staging.health_check_enabled, Some(true));
    let production = applications
        .iter()
        .find(|app| app.uuid.as_str() == "api-prod")
        .unwrap();
    assert!(production.domains().is_empty());
    assert_eq!(
        production.health_check_path.as_deref(),
        Some("/"),
        "Coolify's default"
    );
    let environment =
        |app: &coolify_client::Application| names.get(&app.environment_id.unwrap()).cloned();
    assert_eq!(environment(staging).as_deref(), Some("staging"));
    assert_eq!(environment(production).as_deref(), Some("production"));
    assert_eq!(
        coolify_client::RepositoryId::parse(staging.git_repository.as_deref().unwrap()),
        coolify_client::RepositoryId::parse(production.git_repository.as_deref().unwrap()),
    );
    let projects = client.projects().await.unwrap();
    assert_eq!(projects.len(), 1);
    assert_eq!(projects[0].name.as_deref(), Some("API"));
    assert!(
        matches!(
            client.project(&"nope".parse().unwrap()).await,
            Err(Error::NotFound { .. })
        ),
        "an unknown project is 404"
    );
}
