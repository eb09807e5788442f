//! Docker-image applications, the images kept on the server, container status and deploys of
//! several applications in one call, on a paused clock.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use coolify_client::{
    ApplicationPatch, CommitSha, ContainerStatus, DeployOutcome, DeploymentStatus, Error,
    FollowOptions, ForceRebuild, ImageAvailability, ImageTag,
};
use coolify_fake::{Ability, FakeApplication, FakeCoolify, FinishedDeployment};
use tokio::time::Instant;

const IMAGE: &str = "ghcr.io/acme/api";
const COMMIT_A: &str = "1111111111111111111111111111111111111111";
const COMMIT_B: &str = "2222222222222222222222222222222222222222";

fn raw_client() -> reqwest::Client {
    // The workspace builds reqwest without a default TLS provider; this raw client needs one.
    let tls = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(rustls::RootCertStore::empty())
    .with_no_client_auth();
    reqwest::Client::builder()
        .tls_backend_preconfigured(tls)
        .build()
        .unwrap()
}

async fn raw_deploy(fake: &FakeCoolify, uuids: &str) -> (u16, serde_json::Value) {
    let response = raw_client()
        .post(format!("{}/api/v1/deploy?uuid={uuids}", fake.base_url()))
        .bearer_auth(coolify_fake::DEFAULT_TOKEN)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

fn tag(text: &str) -> ImageTag {
    text.parse().unwrap()
}

fn recording(fake: &FakeCoolify) -> Arc<Mutex<Vec<FinishedDeployment>>> {
    let seen: Arc<Mutex<Vec<FinishedDeployment>>> = Arc::default();
    let slot = Arc::clone(&seen);
    fake.on_deployment_finished(move |finished| slot.lock().unwrap().push(finished.clone()));
    seen
}

#[tokio::test(start_paused = true)]
async fn an_image_app_pulls_the_tag_it_has_when_its_deployment_starts() {
    let fake = FakeCoolify::start().await.unwrap();
    fake.set_abilities(&[
        Ability::Read,
        Ability::ReadSensitive,
        Ability::Write,
        Ability::Deploy,
    ]);
    let app = fake.add_application(
        FakeApplication::new("api")
            .docker_image(IMAGE, "1.4.0")
            .queue_time(Duration::from_secs(1))
            .pull_time(Duration::from_secs(4))
            .build_time(Duration::from_secs(300)),
    );
    fake.push_image(IMAGE, "1.5.0");
    let seen = recording(&fake);
    let client = fake.client_builder().build().unwrap();

    let shown = client.application(&app).await.unwrap();
    assert!(shown.is_image_app());
    assert_eq!(shown.git_commit_sha.as_deref(), Some("HEAD"));
    assert_eq!(shown.docker_registry_image_name.as_deref(), Some(IMAGE));
    assert_eq!(shown.docker_registry_image_tag.as_deref(), Some("1.4.0"));

    let DeployOutcome::Queued(deployment) = client.deploy(&app, ForceRebuild::No).await.unwrap()
    else {
        panic!("queues");
    };
    // Set while queued: the job reads the tag when it starts.
    client
        .update_application(
            &app,
            &ApplicationPatch::new().docker_registry_image_tag(&tag("1.5.0")),
        )
        .await
        .unwrap();
    let started = Instant::now();
    let done = client
        .follow(&deployment, &FollowOptions::default(), |_| {})
        .await
        .unwrap();
    assert!(
        Instant::now() - started < Duration::from_secs(10),
        "a pull, not a build"
    );
    assert_eq!(done.commit.as_deref(), Some("HEAD"));
    assert_eq!(done.resolved_commit(), None);
    let finished = seen.lock().unwrap().clone();
    assert_eq!(finished.len(), 1);
    assert_eq!(finished[0].commit(), "HEAD");
    assert_eq!(finished[0].image_tag(), Some("1.5.0"));
    assert_eq!(fake.images_of(&app), ["1.5.0", "1.4.0"]);
    assert!(done.logs.unwrap().contains("ghcr.io/acme/api:1.5.0"));
}

#[tokio::test(start_paused = true)]
async fn a_tag_the_registry_lacks_fails_and_the_old_container_keeps_running() {
    let fake = FakeCoolify::start().await.unwrap();
    fake.set_abilities(&[
        Ability::Read,
        Ability::ReadSensitive,
        Ability::Write,
        Ability::Deploy,
    ]);
    let app = fake.add_application(FakeApplication::new("api").docker_image(IMAGE, "1.4.0"));
    let seen = recording(&fake);
    let client = fake.client_builder().build().unwrap();
    client
        .update_application(
            &app,
            &ApplicationPatch::new().docker_registry_image_tag(&tag("9.9.9")),
        )
        .await
        .unwrap();
    let DeployOutcome::Queued(deployment) = client.deploy(&app, ForceRebuild::No).await.unwrap()
    else {
        panic!("queues");
    };
    let error = client
        .follow(&deployment, &FollowOptions::default(), |_| {})
        .await
        .unwrap_err();
    assert!(matches!(error, Error::DeploymentFailed { .. }), "{error:?}");
    let logs = client.deployment(&deployment).await.unwrap().logs.unwrap();
    assert!(logs.contains("Failed to start container"), "{logs}");
    assert!(logs.contains("manifest unknown"), "{logs}");
    assert!(seen.lock().unwrap().is_empty());
    assert_eq!(fake.images_of(&app), ["1.4.0"]);
    assert!(
        client
            .application(&app)
            .await
            .unwrap()
            .container_status()
            .is_running_ok()
    );
}

#[tokio::test(start_paused = true)]
async fn any_deployment_in_flight_dedupes_an_image_app_even_after_a_tag_change() {
    let fake = FakeCoolify::start().await.unwrap();
    let app = fake.add_application(FakeApplication::new("api").docker_image(IMAGE, "1.4.0"));
    fake.push_image(IMAGE, "1.5.0");
    let client = fake.client_builder().build().unwrap();
    let first = fake.trigger_deployment(&app, Some(COMMIT_A)).unwrap();
    assert_eq!(
        client.deployment(&first).await.unwrap().commit.as_deref(),
        Some("HEAD")
    );
    client
        .update_application(
            &app,
            &ApplicationPatch::new().docker_registry_image_tag(&tag("1.5.0")),
        )
        .await
        .unwrap();
    let (status, body) = raw_deploy(&fake, app.as_str()).await;
    assert_eq!(status, 200);
    let entry = &body["deployments"][0];
    assert_eq!(
        entry["message"],
        "Deployment already queued for this commit."
    );
    let bogus: coolify_client::DeploymentUuid =
        entry["deployment_uuid"].as_str().unwrap().parse().unwrap();
    assert_ne!(bogus, first);
    assert!(matches!(
        client.deployment(&bogus).await.unwrap_err(),
        Error::NotFound { .. }
    ));
    assert_eq!(fake.deployments_of(&app).len(), 1);
}

#[tokio::test(start_paused = true)]
async fn patching_an_image_name_or_tag_is_validated_like_coolify() {
    let fake = FakeCoolify::start().await.unwrap();
    let app = fake.add_application(FakeApplication::new("api").docker_image(IMAGE, "1.4.0"));
    let patch = |body: serde_json::Value| {
        raw_client()
            .patch(format!("{}/api/v1/applications/{app}", fake.base_url()))
            .bearer_auth(coolify_fake::DEFAULT_TOKEN)
            .json(&body)
            .send()
    };
    let response = patch(serde_json::json!({"docker_registry_image_name": "ghcr.io/acme/api:1.5"}))
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 422);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(
        body["errors"]["docker_registry_image_name"][0],
        "The docker registry image name field format is invalid."
    );
    let response = patch(serde_json::json!({"docker_registry_image_tag": "-bad"}))
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 422);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(
        body["errors"]["docker_registry_image_tag"][0],
        "The docker registry image tag field format is invalid."
    );
    let response = patch(serde_json::json!({"docker_registry_image_name": "ghcr.io/acme/worker"}))
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let shown = fake.application(&app).unwrap();
    assert_eq!(
        shown.docker_registry_image_name.as_deref(),
        Some("ghcr.io/acme/worker")
    );
    assert_eq!(shown.docker_registry_image_tag.as_deref(), Some("1.4.0"));
}

#[tokio::test(start_paused = true)]
async fn a_git_app_keeps_its_built_images_and_a_kept_one_only_restarts() {
    let fake = FakeCoolify::start().await.unwrap();
    fake.set_abilities(&[
        Ability::Read,
        Ability::ReadSensitive,
        Ability::Write,
        Ability::Deploy,
    ]);
    let app = fake.add_application(
        FakeApplication::new("web")
            .queue_time(Duration::from_secs(1))
            .build_time(Duration::from_secs(120))
            .restart_time(Duration::from_secs(3)),
    );
    let client = fake.client_builder().build().unwrap();
    let options = FollowOptions::with_deadline(Duration::from_secs(600));
    let mut durations = Vec::new();
    for commit in [COMMIT_A, COMMIT_B, COMMIT_A] {
        let commit: CommitSha = commit.parse().unwrap();
        let started = client
            .deploy_commit(&app, &commit, ForceRebuild::No)
            .await
            .unwrap();
        let began = Instant::now();
        let done = client
            .follow(&started.deployment, &options, |_| {})
            .await
            .unwrap();
        durations.push((Instant::now() - began, done.logs.unwrap()));
    }
    assert!(durations[0].0 >= Duration::from_secs(120));
    assert!(durations[1].0 >= Duration::from_secs(120));
    assert!(
        durations[2].0 < Duration::from_secs(10),
        "{:?}",
        durations[2].0
    );
    assert!(
        durations[2].1.contains("Build step skipped"),
        "{}",
        durations[2].1
    );
    assert!(!durations[0].1.contains("Build step skipped"));
    // The rebuilt A replaced its image: newest first.
    assert_eq!(fake.images_of(&app), [COMMIT_A, COMMIT_B]);

    let images = client.rollback_images(&app).await.unwrap();
    assert_eq!(images.current, None);
    let tags: Vec<&str> = images
        .images
        .iter()
        .map(|image| image.tag.as_str())
        .collect();
    assert_eq!(tags, [COMMIT_A, COMMIT_B]);
    let created = images.images[0].created_at.clone().unwrap();
    assert!(
        created.starts_with("2026-08-01 12:") && created.ends_with(" +0000 UTC"),
        "{created}"
    );
    assert_eq!(images.availability(COMMIT_B), ImageAvailability::Kept);

    // A cleanup keeping 0 images still leaves the running one (docker rmi cannot remove it).
    assert_eq!(fake.cleanup_images(&app, 0), [COMMIT_B]);
    assert_eq!(fake.images_of(&app), [COMMIT_A]);
    let images = client.rollback_images(&app).await.unwrap();
    assert_eq!(images.availability(COMMIT_B), ImageAvailability::Removed);
    assert!(fake.remove_image(&app, COMMIT_A));
    assert!(!fake.remove_image(&app, COMMIT_A));
    let images = client.rollback_images(&app).await.unwrap();
    assert!(matches!(
        images.availability(COMMIT_A),
        ImageAvailability::Unknown { .. }
    ));
}

#[tokio::test(start_paused = true)]
async fn cleanup_keeps_the_newest_and_a_server_before_4_3_has_no_rollback_images() {
    let fake = FakeCoolify::start().await.unwrap();
    let app = fake.add_application(FakeApplication::new("api").docker_image(IMAGE, "1.0.0"));
    let client = fake.client_builder().build().unwrap();
    let options = FollowOptions::with_deadline(Duration::from_secs(600));
    for version in ["1.1.0", "1.2.0", "1.3.0"] {
        fake.push_image(IMAGE, version);
        let started = client
            .deploy_image_tag(&app, &tag(version), &options)
            .await
            .unwrap();
        client
            .follow(&started.deployment, &options, |_| {})
            .await
            .unwrap();
    }
    assert_eq!(fake.images_of(&app), ["1.3.0", "1.2.0", "1.1.0", "1.0.0"]);
    assert_eq!(fake.cleanup_images(&app, 2), ["1.0.0", "1.1.0"]);
    assert_eq!(fake.images_of(&app), ["1.3.0", "1.2.0"]);

    fake.set_version("4.2.5");
    let images = client.rollback_images(&app).await.unwrap();
    assert!(!images.is_supported());
    assert!(matches!(
        images.availability("1.3.0"),
        ImageAvailability::Unknown { .. }
    ));
    fake.set_version("4.3.0");
    assert!(client.rollback_images(&app).await.unwrap().is_supported());
    let unknown = "nosuchapp".parse().unwrap();
    let error = client.rollback_images(&unknown).await.unwrap_err();
    assert!(matches!(error, Error::NotFound { .. }), "{error:?}");
}

#[tokio::test(start_paused = true)]
async fn a_container_can_crash_after_its_deployment_finishes() {
    let fake = FakeCoolify::start().await.unwrap();
    let app = fake.add_application(FakeApplication::new("worker").docker_image(IMAGE, "1.0.0"));
    fake.push_image(IMAGE, "1.1.0");
    let client = fake.client_builder().build().unwrap();
    assert!(
        client
            .application(&app)
            .await
            .unwrap()
            .container_status()
            .is_running_ok()
    );
    fake.crash_after_next_deployment(&app);
    let options = FollowOptions::with_deadline(Duration::from_secs(600));
    let started = client
        .deploy_image_tag(&app, &tag("1.1.0"), &options)
        .await
        .unwrap();
    let done = client
        .follow(&started.deployment, &options, |_| {})
        .await
        .unwrap();
    assert_eq!(done.status, DeploymentStatus::Finished);
    let status = client.application(&app).await.unwrap().container_status();
    assert_eq!(
        status,
        ContainerStatus::Degraded {
            health: coolify_client::ContainerHealth::Unhealthy
        }
    );
    assert!(status.is_failing());
    fake.set_container_status(&app, "restarting:unknown");
    assert_eq!(
        client.application(&app).await.unwrap().container_status(),
        ContainerStatus::Restarting
    );

    fake.set_container_status(&app, "exited:unhealthy");
    assert_eq!(
        client.application(&app).await.unwrap().container_status(),
        ContainerStatus::Exited
    );
    // The next good deployment runs again.
    fake.push_image(IMAGE, "1.1.1");
    let started = client
        .deploy_image_tag(&app, &tag("1.1.1"), &options)
        .await
        .unwrap();
    client
        .follow(&started.deployment, &options, |_| {})
        .await
        .unwrap();
    assert!(
        client
            .application(&app)
            .await
            .unwrap()
            .container_status()
            .is_running_ok()
    );
}

#[tokio::test(start_paused = true)]
async fn deploy_with_several_uuids_answers_for_those_it_found_in_order() {
    let fake = FakeCoolify::start().await.unwrap();
    let api = fake.add_application(FakeApplication::new("api").name("API"));
    let worker = fake.add_application(FakeApplication::new("worker").name("Worker"));
    let (status, body) = raw_deploy(&fake, "worker,nosuch,api").await;
    assert_eq!(status, 200);
    let entries = body["deployments"].as_array().unwrap();
    let resources: Vec<&str> = entries
        .iter()
        .map(|entry| entry["resource_uuid"].as_str().unwrap())
        .collect();
    assert_eq!(resources, [worker.as_str(), api.as_str()]);
    assert_eq!(
        entries[0]["message"],
        "Application Worker deployment queued."
    );
    assert_eq!(fake.deployments_of(&api).len(), 1);
    assert_eq!(fake.deployments_of(&worker).len(), 1);
    // Not trimmed, as in Coolify: " api" is no uuid.
    let response = raw_client()
        .post(format!("{}/api/v1/deploy", fake.base_url()))
        .bearer_auth(coolify_fake::DEFAULT_TOKEN)
        .json(&serde_json::json!({"uuid": "nosuch, api"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 404);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["message"], "No resources found.");
}
