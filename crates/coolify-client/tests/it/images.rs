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
