//! The release operations against the fake Coolify: what each one sends, request by request.

use std::time::Duration;

use coolify_client::{
    ApplicationPatch, Client, CommitSha, DeploymentOrigin, DeploymentStatus, Error, FollowEvent,
    FollowOptions, ForceRebuild, ImageTag,
};
use coolify_fake::{FakeApplication, FakeCoolify};

const COMMIT: &str = "4f2a9c1e0b7d3a5f6c8e9d0a1b2c3d4e5f6a7b8c";

fn commit() -> CommitSha {
    COMMIT.parse().unwrap()
}

/// `METHOD path` of every request the fake received for `application`.
fn sent(fake: &FakeCoolify, application: &coolify_client::ApplicationUuid) -> Vec<String> {
    fake.requests_for(application)
        .into_iter()
        .map(|request| format!("{} {}", request.method(), request.path()))
        .collect()
}

#[tokio::test(start_paused = true)]
async fn deploy_commit_then_follow_reads_the_application_once_and_deploys_once() {
    let fake = FakeCoolify::start().await.unwrap();
    let app = fake.add_application(FakeApplication::new("vgsco4o4wc8w0ok8gwgk8w0o"));
    let client = Client::builder(fake.base_url(), fake.token())
        .build()
        .unwrap();

    let started = client
        .deploy_commit(&app, &commit(), ForceRebuild::No)
        .await
        .unwrap();
    assert_eq!(started.origin, DeploymentOrigin::Queued);
    assert_eq!(
        sent(&fake, &app),
        [
            format!("GET /api/v1/applications/{app}"),
            format!("PATCH /api/v1/applications/{app}"),
            "POST /api/v1/deploy".to_owned(),
        ]
    );

    let mut statuses = Vec::new();
    let finished = client
        .follow(
            &started.deployment,
            &FollowOptions::with_deadline(Duration::from_secs(600)),
            |event| {
                if let FollowEvent::Status { status, .. } = event {
                    statuses.push(status.to_string());
                }
            },
        )
        .await
        .unwrap();
    assert_eq!(finished.resolved_commit(), Some(commit()));
    assert_eq!(statuses.last().map(String::as_str), Some("finished"));

    let mut pages = client.deployment_pages(&app, 20).unwrap();
    let newest = pages.next().await.expect("one page").unwrap();
    assert_eq!(newest[0].deployment_uuid, started.deployment);
}

#[tokio::test(start_paused = true)]
async fn deploy_image_tag_reads_the_application_and_its_deployments_once_each() {
    let fake = FakeCoolify::start().await.unwrap();
    let app =
        fake.add_application(FakeApplication::new("api").docker_image("ghcr.io/acme/api", "1.4.0"));
    fake.push_image("ghcr.io/acme/api", "1.5.0");
    let client = fake.client_builder().build().unwrap();

    let tag: ImageTag = "1.5.0".parse().unwrap();
    let options = FollowOptions::with_deadline(Duration::from_secs(600));
    let started = client.deploy_image_tag(&app, &tag, &options).await.unwrap();
    assert_eq!(
        started.previous_tag.as_ref().map(ImageTag::as_str),
        Some("1.4.0")
    );
    let requests = sent(&fake, &app);
    assert_eq!(
        requests
            .iter()
            .map(|request| request
                .split_once('?')
                .map_or(request.as_str(), |(path, _)| path))
            .collect::<Vec<_>>(),
        [
            format!("GET /api/v1/applications/{app}").as_str(),
            format!("GET /api/v1/deployments/applications/{app}").as_str(),
            format!("PATCH /api/v1/applications/{app}").as_str(),
            "POST /api/v1/deploy",
        ]
    );
    client
        .follow(&started.deployment, &options, |_| {})
        .await
        .unwrap();
    let application = client.application(&app).await.unwrap();
    assert_eq!(
        application.docker_registry_image_tag.as_deref(),
        Some("1.5.0")
    );
}

#[tokio::test(start_paused = true)]
async fn a_failed_deployment_waited_for_is_not_read_again() {
    let fake = FakeCoolify::start().await.unwrap();
    let app =
        fake.add_application(FakeApplication::new("api").docker_image("ghcr.io/acme/api", "1.4.0"));
    fake.push_image("ghcr.io/acme/api", "1.5.0");
    let client = fake.client_builder().build().unwrap();
    fake.fail_next_deployment(&app);
    let running = fake.trigger_deployment(&app, None).unwrap();

    let tag: ImageTag = "1.5.0".parse().unwrap();
    let options = FollowOptions::with_deadline(Duration::from_secs(600));
    let started = client.deploy_image_tag(&app, &tag, &options).await.unwrap();
    assert_eq!(started.waited_for.len(), 1);
    assert_eq!(started.waited_for[0].status, DeploymentStatus::Failed);
    // The poll that saw the failure is the last read of that deployment: then the list, the
    // tag and the deploy.
    let after_last_poll: Vec<String> = sent(&fake, &app)
        .into_iter()
        .rev()
        .take_while(|request| !request.ends_with(running.as_str()))
        .map(|request| request.split('?').next().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(
        after_last_poll,
        [
            "POST /api/v1/deploy".to_owned(),
            format!("PATCH /api/v1/applications/{app}"),
            format!("GET /api/v1/deployments/applications/{app}"),
        ]
    );
}

#[tokio::test(start_paused = true)]
async fn current_deployments_is_one_request_when_both_are_on_the_first_page() {
    let fake = FakeCoolify::start().await.unwrap();
    let app = fake.add_application(FakeApplication::new("live-app"));
    let client = fake.client_builder().build().unwrap();
    for index in 0..3 {
        fake.seed_deployment(&app, &format!("{index:07}"), DeploymentStatus::Finished);
    }
    fake.seed_deployment(&app, "aaaaaaa", DeploymentStatus::Queued);

    let current = client.current_deployments(&app).await.unwrap();
    assert_eq!(
        current.finished.and_then(|deployment| deployment.commit),
        Some("0000002".to_owned())
    );
    assert_eq!(
        current.in_flight.map(|deployment| deployment.status),
        Some(DeploymentStatus::Queued)
    );
    assert_eq!(fake.requests_for(&app).len(), 1);
    // The two lookups it replaces read the same page twice.
    client.latest_finished_deployment(&app).await.unwrap();
    client.in_flight_deployment(&app).await.unwrap();
    assert_eq!(fake.requests_for(&app).len(), 3);
}

#[tokio::test(start_paused = true)]
async fn another_commit_built_is_explained_by_the_pin() {
    let fake = FakeCoolify::start().await.unwrap();
    let app = fake.add_application(FakeApplication::new("explained"));
    let client = fake.client_builder().build().unwrap();
    client
        .update_application(&app, &ApplicationPatch::new().git_commit_sha(COMMIT))
        .await
        .unwrap();
    let ignored = client.explain_other_commit(&app, &commit()).await;
    assert!(matches!(ignored, Error::PinIgnored { .. }), "{ignored:?}");

    let other = "0123456789abcdef0123456789abcdef01234567";
    client
        .update_application(&app, &ApplicationPatch::new().git_commit_sha(other))
        .await
        .unwrap();
    let repinned = client.explain_other_commit(&app, &commit()).await;
    assert!(
        matches!(&repinned, Error::PinChanged { found, .. } if found == other),
        "{repinned:?}"
    );

    let unknown = "unknown0000000000000001".parse().unwrap();
    let unexplained = client.explain_other_commit(&unknown, &commit()).await;
    assert!(
        matches!(&unexplained, Error::OtherCommitUnexplained { source, .. } if matches!(**source, Error::NotFound { .. })),
        "{unexplained:?}"
    );
    assert!(!unexplained.is_transient());
}

#[tokio::test(start_paused = true)]
async fn deploys_to_an_application_already_read_do_not_read_it_again() {
    let fake = FakeCoolify::start().await.unwrap();
    let git = fake.add_application(FakeApplication::new("git-app"));
    let image = fake.add_application(
        FakeApplication::new("image-app").docker_image("ghcr.io/acme/api", "1.4.0"),
    );
    fake.push_image("ghcr.io/acme/api", "1.5.0");
    let client = fake.client_builder().build().unwrap();

    let read = client.application(&git).await.unwrap();
    let started = client
        .deploy_commit_to(&read, &commit(), ForceRebuild::No)
        .await
        .unwrap();
    assert_eq!(started.origin, DeploymentOrigin::Queued);
    assert_eq!(
        sent(&fake, &git),
        [
            format!("GET /api/v1/applications/{git}"),
            format!("PATCH /api/v1/applications/{git}"),
            "POST /api/v1/deploy".to_owned(),
        ]
    );

    let read = client.application(&image).await.unwrap();
    let tag: ImageTag = "1.5.0".parse().unwrap();
    let options = FollowOptions::with_deadline(Duration::from_secs(600));
    let started = client
        .deploy_image_tag_to(&read, &tag, &options)
        .await
        .unwrap();
    assert_eq!(
        started.previous_tag.as_ref().map(ImageTag::as_str),
        Some("1.4.0")
    );
    assert_eq!(
        sent(&fake, &image),
        [
            format!("GET /api/v1/applications/{image}"),
            format!("GET /api/v1/deployments/applications/{image}"),
            format!("PATCH /api/v1/applications/{image}"),
            "POST /api/v1/deploy".to_owned(),
        ]
    );
    // A git application is refused before anything is changed.
    let git_read = client.application(&git).await.unwrap();
    let refused = client
        .deploy_image_tag_to(&git_read, &tag, &options)
        .await
        .unwrap_err();
    assert!(matches!(refused, Error::InvalidInput { .. }), "{refused:?}");
}
