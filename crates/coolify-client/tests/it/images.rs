//! Rollback images against wiremock: the 4.3.0 answer, the catch-all 404 of older servers, and
//! an unknown application.

use std::time::Duration;

use coolify_client::{ApplicationUuid, Error, ImageAvailability, RetryPolicy, UnknownImages};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::calls::client_with;

const APP: &str = "vgsco4o4wc8w0ok8gwgk8w0o";

async fn answering(status: u16, body: serde_json::Value) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(format!("/api/v1/applications/{APP}/rollback-images")))
        .respond_with(ResponseTemplate::new(status).set_body_json(body))
        .expect(1)
        .mount(&server)
        .await;
    server
}

fn app() -> ApplicationUuid {
    APP.parse().unwrap()
}

#[tokio::test]
async fn rollback_images_tell_kept_from_removed() {
    let server = answering(
        200,
        serde_json::json!({
            "current": null,
            "images": [
                {"tag": "4f2a9c1e0b7d3a5f6c8e9d0a1b2c3d4e5f6a7b8c", "created_at": "2026-08-22 17:22:50 +0200 CEST", "is_current": false},
                {"tag": "HEAD", "created_at": "2026-08-21 09:00:00 +0200 CEST", "is_current": 0},
            ],
        }),
    )
    .await;
    let client = client_with(&server.uri(), RetryPolicy::none(), Duration::from_secs(10));
    let images = client.rollback_images(&app()).await.unwrap();
    assert!(images.is_supported());
    assert_eq!(images.current, None);
    assert_eq!(images.images.len(), 2);
    assert_eq!(
        images.images[0].created_at.as_deref(),
        Some("2026-08-22 17:22:50 +0200 CEST")
    );
    assert_eq!(
        images.availability("4F2A9C1E0B7D3A5F6C8E9D0A1B2C3D4E5F6A7B8C"),
        ImageAvailability::Kept
    );
    assert_eq!(
        images.availability("0123456789abcdef0123456789abcdef01234567"),
        ImageAvailability::Removed
    );
    server.verify().await;
}

#[tokio::test]
async fn an_empty_list_is_unknown_because_the_server_may_be_unreachable() {
    let server = answering(200, serde_json::json!({"current": null, "images": []})).await;
    let client = client_with(&server.uri(), RetryPolicy::none(), Duration::from_secs(10));
    let images = client.rollback_images(&app()).await.unwrap();
    match images.availability("1.5.0") {
        ImageAvailability::Unknown { reason } => {
            assert_eq!(reason, UnknownImages::NoneListed);
            assert!(reason.to_string().contains("unreachable"), "{reason}");
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_server_before_4_3_answers_the_catch_all_404_which_means_unknown() {
    let server = answering(
        404,
        serde_json::json!({"message": "Not found.", "docs": "https://coolify.io/docs"}),
    )
    .await;
    let client = client_with(&server.uri(), RetryPolicy::none(), Duration::from_secs(10));
    let images = client.rollback_images(&app()).await.unwrap();
    assert!(!images.is_supported());
    match images.availability("1.5.0") {
        ImageAvailability::Unknown { reason } => {
            assert_eq!(reason, UnknownImages::Unsupported);
            assert_eq!(
                reason.to_string(),
                "Coolify before 4.3.0 has no rollback-images endpoint"
            );
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn an_unknown_application_stays_an_error() {
    let server = answering(
        404,
        serde_json::json!({"message": "Application not found."}),
    )
    .await;
    let client = client_with(&server.uri(), RetryPolicy::none(), Duration::from_secs(10));
    let error = client.rollback_images(&app()).await.unwrap_err();
    assert!(matches!(error, Error::NotFound { .. }), "{error:?}");
    assert!(error.to_string().contains(APP), "{error}");
}

mod deploy_image_tag {
    use std::sync::{Arc, Mutex};
    use std::time::Duration;

    use coolify_client::{DeploymentStatus, Error, FollowOptions, ImageTag, PinKind, RetryPolicy};
    use coolify_fake::{Ability, FakeApplication, FakeCoolify, Fault, FaultRule};
    use wiremock::matchers::{method, path};
    use wiremock::{Mock, MockServer, ResponseTemplate};

    use super::{APP, app};
    use crate::calls::client_with;

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
            FaultRule::on_path("/api/v1/deploy", Fault::MissingAbility(Ability::Deploy))
                .method("POST"),
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
            .respond_with(
                ResponseTemplate::new(200).set_body_json(serde_json::json!({"uuid": APP})),
            )
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
}
