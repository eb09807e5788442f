//! `deploy_image_tag` against the fake Coolify: the wait for deployments in flight, the tag put
//! back after a refused deploy, and the races with other deploys (wiremock).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use coolify_client::{DeploymentStatus, Error, FollowOptions, ImageTag, PinKind, RetryPolicy};
use coolify_fake::{Ability, FakeApplication, FakeCoolify, Fault, FaultRule};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::calls::client_with;

const APP: &str = "vgsco4o4wc8w0ok8gwgk8w0o";

fn app() -> coolify_client::ApplicationUuid {
    APP.parse().unwrap()
}

const IMAGE: &str = "ghcr.io/acme/api";

fn tag(text: &str) -> ImageTag {
    text.parse().unwrap()
}

fn options() -> FollowOptions {
    FollowOptions::with_deadline(Duration::from_secs(600))
}

async fn image_fake() -> (FakeCoolify, coolify_client::ApplicationUuid) {
    let fake = FakeCoolify::start().await.unwrap();
    let app = fake.add_application(
        FakeApplication::new("api")
            .docker_image(IMAGE, "1.4.0")
            .pull_time(Duration::from_secs(20)),
    );
    fake.push_image(IMAGE, "1.5.0");
    (fake, app)
}

#[tokio::test(start_paused = true)]
async fn it_waits_for_the_deployment_in_flight_then_deploys_the_new_tag() {
    let (fake, app) = image_fake().await;
    let tags: Arc<Mutex<Vec<Option<String>>>> = Arc::default();
    let slot = Arc::clone(&tags);
    fake.on_deployment_finished(move |finished| {
        slot.lock()
            .unwrap()
            .push(finished.image_tag().map(str::to_owned));
    });
    let client = fake.client_builder().build().unwrap();
    let running = fake.trigger_deployment(&app, None).unwrap();

    let started = client
        .deploy_image_tag(&app, &tag("1.5.0"), &options())
        .await
        .unwrap();
    assert_ne!(started.deployment, running);
    assert_eq!(started.tag, tag("1.5.0"));
    assert_eq!(started.previous_tag, Some(tag("1.4.0")));
    let waited: Vec<_> = started
        .waited_for
        .iter()
        .map(|deployment| {
            (
                deployment.deployment_uuid.clone(),
                deployment.status.clone(),
            )
        })
        .collect();
    assert_eq!(waited, [(running, DeploymentStatus::Finished)]);
    // The tag was set only after the wait: the deployment in flight pulled the old one.
    client
        .follow(&started.deployment, &options(), |_| {})
        .await
        .unwrap();
    assert_eq!(
        *tags.lock().unwrap(),
        [Some("1.4.0".to_owned()), Some("1.5.0".to_owned())]
    );
    let patches: Vec<_> = fake
        .requests_for(&app)
        .into_iter()
        .filter(|request| request.method() == "PATCH")
        .map(|request| request.json().unwrap())
        .collect();
    assert_eq!(
        patches,
        [serde_json::json!({"docker_registry_image_tag": "1.5.0"})]
    );
}

#[tokio::test(start_paused = true)]
async fn a_wait_past_the_deadline_changes_nothing() {
    let (fake, app) = image_fake().await;
    let client = fake.client_builder().build().unwrap();
    let running = fake.trigger_deployment(&app, None).unwrap();
    let error = client
        .deploy_image_tag(
            &app,
            &tag("1.5.0"),
            &FollowOptions::with_deadline(Duration::from_secs(5)),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(&error, Error::DeadlineExceeded { deployment, .. } if *deployment == running),
        "{error:?}"
    );
    let shown = fake.application(&app).unwrap();
    assert_eq!(shown.docker_registry_image_tag.as_deref(), Some("1.4.0"));
    assert!(
        fake.requests_for(&app)
            .iter()
            .all(|request| request.method() == "GET")
    );
}

#[tokio::test(start_paused = true)]
async fn a_refused_deploy_puts_the_previous_tag_back() {
    let (fake, app) = image_fake().await;
    fake.inject(
        FaultRule::on_path("/api/v1/deploy", Fault::MissingAbility(Ability::Deploy)).method("POST"),
    );
    let client = fake.client_builder().build().unwrap();
    let error = client
        .deploy_image_tag(&app, &tag("1.5.0"), &options())
        .await
        .unwrap_err();
    let Error::PinRestored {
        pin,
        restored,
        source,
        ..
    } = &error
    else {
        panic!("expected PinRestored, got {error:?}");
    };
    assert_eq!(*pin, PinKind::ImageTag);
    assert_eq!(restored, "1.4.0");
    assert!(
        matches!(**source, Error::MissingAbility { .. }),
        "{source:?}"
    );
    assert!(error.proves_nothing_happened());
    assert_eq!(
        error.to_string(),
        "nothing was deployed and application api has the image tag 1.4.0 again, as before"
    );
    let shown = fake.application(&app).unwrap();
    assert_eq!(shown.docker_registry_image_tag.as_deref(), Some("1.4.0"));
    assert!(fake.deployments_of(&app).is_empty());
}

#[tokio::test(start_paused = true)]
async fn a_git_app_is_refused_before_anything_is_changed() {
    let fake = FakeCoolify::start().await.unwrap();
    let app = fake.add_application(FakeApplication::new("web"));
    let client = fake.client_builder().build().unwrap();
    let error = client
        .deploy_image_tag(&app, &tag("1.5.0"), &options())
        .await
        .unwrap_err();
    let text = error.to_string();
    assert!(
        matches!(&error, Error::InvalidInput { what: "application", value, .. } if value == "web"),
        "{error:?}"
    );
    assert!(text.contains("build pack nixpacks"), "{text}");
    assert_eq!(fake.requests().len(), 1, "only the application was read");
}

fn image_app_json() -> serde_json::Value {
    serde_json::json!({
        "uuid": APP,
        "build_pack": "dockerimage",
        "git_commit_sha": "HEAD",
        "docker_registry_image_name": IMAGE,
        "docker_registry_image_tag": null,
    })
}

fn already_queued() -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(serde_json::json!({"deployments": [{
        "message": "Deployment already queued for this commit.",
        "resource_uuid": APP,
        "deployment_uuid": "bogus000000000000000000",
    }]}))
}

fn page(deployments: serde_json::Value) -> ResponseTemplate {
    let count = deployments.as_array().map_or(0, Vec::len);
    ResponseTemplate::new(200)
        .set_body_json(serde_json::json!({"count": count, "deployments": deployments}))
}

async fn racing_server(deploy_answers: Vec<ResponseTemplate>) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(format!("/api/v1/applications/{APP}")))
        .respond_with(ResponseTemplate::new(200).set_body_json(image_app_json()))
        .mount(&server)
        .await;
    Mock::given(method("PATCH"))
        .and(path(format!("/api/v1/applications/{APP}")))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({"uuid": APP})))
        .mount(&server)
        .await;
    let list = format!("/api/v1/deployments/applications/{APP}");
    // Idle at first; after the first deploy another client's deployment is in flight.
    for (priority, answer) in [
        (1, page(serde_json::json!([]))),
        (
            2,
            page(
                serde_json::json!([{"deployment_uuid": "other00000000000000000", "status": "in_progress", "commit": "HEAD"}]),
            ),
        ),
    ] {
        Mock::given(method("GET"))
            .and(path(list.as_str()))
            .respond_with(answer)
            .up_to_n_times(1)
            .with_priority(priority)
            .mount(&server)
            .await;
    }
    Mock::given(method("GET"))
        .and(path(list.as_str()))
        .respond_with(page(serde_json::json!([])))
        .with_priority(3)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v1/deployments/other00000000000000000"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!(
            {"deployment_uuid": "other00000000000000000", "status": "finished", "commit": "HEAD"}
        )))
        .mount(&server)
        .await;
    let last = deploy_answers.len();
    for (index, answer) in deploy_answers.into_iter().enumerate() {
        let mock = Mock::given(method("POST"))
            .and(path("/api/v1/deploy"))
            .respond_with(answer)
            .with_priority(u8::try_from(index + 1).unwrap());
        let mock = if index + 1 == last {
            mock
        } else {
            mock.up_to_n_times(1)
        };
        mock.mount(&server).await;
    }
    server
}

#[tokio::test]
async fn a_deploy_that_raced_another_waits_for_it_and_deploys_once_more() {
    let queued = ResponseTemplate::new(200).set_body_json(serde_json::json!({"deployments": [{
        "message": "Application api deployment queued.",
        "resource_uuid": APP,
        "deployment_uuid": "mine000000000000000000",
    }]}));
    let server = racing_server(vec![already_queued(), queued]).await;
    let client = client_with(&server.uri(), RetryPolicy::none(), Duration::from_secs(10));
    let started = client
        .deploy_image_tag(&app(), &tag("1.5.0"), &options())
        .await
        .unwrap();
    assert_eq!(started.deployment.as_str(), "mine000000000000000000");
    assert_eq!(started.previous_tag, None, "null means latest");
    assert_eq!(started.waited_for.len(), 1);
    assert_eq!(
        started.waited_for[0].deployment_uuid.as_str(),
        "other00000000000000000"
    );
    let deploys = server
        .received_requests()
        .await
        .unwrap()
        .into_iter()
        .filter(|request| request.url.path() == "/api/v1/deploy")
        .count();
    assert_eq!(deploys, 2);
}

#[tokio::test]
async fn a_deploy_skipped_twice_is_a_clear_error() {
    let server = racing_server(vec![already_queued()]).await;
    let client = client_with(&server.uri(), RetryPolicy::none(), Duration::from_secs(10));
    let error = client
        .deploy_image_tag(&app(), &tag("1.5.0"), &options())
        .await
        .unwrap_err();
    assert!(
        matches!(&error, Error::ImageDeployBlocked { tag, .. } if tag == "1.5.0"),
        "{error:?}"
    );
    let text = error.to_string();
    assert!(
        text.contains("skipped the deploy of image tag 1.5.0 twice"),
        "{text}"
    );
}
