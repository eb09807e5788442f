//! Cancelling a deployment: each answer Coolify's versions give, typed.

use std::time::Duration;

use coolify_client::{CancelOutcome, DeployOutcome, DeploymentStatus, Error, ForceRebuild};
use coolify_fake::{FakeApplication, FakeCoolify};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::calls::{DEPLOYMENT, client_with, quick_retries};

const CANCEL: &str = "/api/v1/deployments/dpl0000000000000000000001/cancel";

async fn cancelled_with(answer: ResponseTemplate) -> Result<CancelOutcome, Error> {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(CANCEL))
        .respond_with(answer)
        .expect(1)
        .mount(&server)
        .await;
    let client = client_with(&server.uri(), quick_retries(), Duration::from_secs(10));
    let outcome = client.cancel_deployment(&DEPLOYMENT.parse().unwrap()).await;
    server.verify().await;
    outcome
}

fn json(status: u16, message: &str) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_json(serde_json::json!({ "message": message }))
}

#[tokio::test]
async fn each_answer_of_the_cancel_endpoint_is_typed() {
    assert_eq!(
        cancelled_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
            "message": "Deployment cancelled successfully.", "deployment_uuid": DEPLOYMENT, "status": "cancelled-by-user"
        })))
        .await
        .unwrap(),
        CancelOutcome::Cancelled
    );
    let ended = cancelled_with(json(
        400,
        "Deployment cannot be cancelled. Current status: finished",
    ))
    .await
    .unwrap_err();
    assert!(
        matches!(&ended, Error::NotCancellable { status: DeploymentStatus::Finished, deployment } if deployment.as_str() == DEPLOYMENT),
        "{ended:?}"
    );
    assert_eq!(
        ended.to_string(),
        format!("deployment {DEPLOYMENT} cannot be cancelled: it already ended as finished")
    );
    let old = cancelled_with(ResponseTemplate::new(404).set_body_json(
        serde_json::json!({"message": "Not found.", "docs": "https://coolify.io/docs"}),
    ))
    .await
    .unwrap_err();
    assert!(matches!(old, Error::CancelUnsupported { .. }), "{old:?}");
    assert!(old.to_string().contains("4.0.0-beta.436"), "{old}");
    let unknown = cancelled_with(json(404, "Deployment not found."))
        .await
        .unwrap_err();
    assert!(matches!(unknown, Error::NotFound { .. }), "{unknown:?}");
    let ability = cancelled_with(json(403, "Missing required permissions: deploy"))
        .await
        .unwrap_err();
    assert!(
        matches!(&ability, Error::MissingAbility { ability, .. } if ability == "deploy"),
        "{ability:?}"
    );
    let team = cancelled_with(json(
        403,
        "You do not have permission to cancel this deployment.",
    ))
    .await
    .unwrap_err();
    assert_eq!(team.status(), Some(403));
}

/// A `500` from cancel, then the deployment read again with `status`.
async fn server_error_then(status: &str) -> (Result<CancelOutcome, Error>, MockServer) {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(CANCEL))
        .respond_with(json(
            500,
            "Failed to cancel deployment: Undefined variable $application",
        ))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("/api/v1/deployments/{DEPLOYMENT}")))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(
                serde_json::json!({"deployment_uuid": DEPLOYMENT, "status": status}),
            ),
        )
        .expect(1)
        .mount(&server)
        .await;
    let client = client_with(&server.uri(), quick_retries(), Duration::from_secs(10));
    let outcome = client.cancel_deployment(&DEPLOYMENT.parse().unwrap()).await;
    (outcome, server)
}

#[tokio::test]
async fn a_500_is_checked_by_reading_the_deployment_again_and_never_resent() {
    let (outcome, server) = server_error_then("cancelled-by-user").await;
    assert_eq!(
        outcome.unwrap(),
        CancelOutcome::CancelledDespiteError {
            message: "Failed to cancel deployment: Undefined variable $application".to_owned()
        }
    );
    server.verify().await;
    let (outcome, server) = server_error_then("in_progress").await;
    assert_eq!(outcome.unwrap_err().status(), Some(500));
    server.verify().await;
}

#[tokio::test(start_paused = true)]
async fn against_the_fake_every_version_gives_its_answer() {
    for (version, expected) in [
        ("4.3.11", Some(CancelOutcome::Cancelled)),
        (
            "4.3.6",
            Some(CancelOutcome::CancelledDespiteError {
                message: "Failed to cancel deployment: Undefined variable $application".to_owned(),
            }),
        ),
        ("4.0.0", Some(CancelOutcome::Cancelled)),
        ("4.0.0-beta.420", None),
    ] {
        let fake = FakeCoolify::start().await.unwrap();
        fake.set_version(version);
        let app = fake.add_application(FakeApplication::new("web"));
        let client = fake.client_builder().build().unwrap();
        let DeployOutcome::Queued(deployment) =
            client.deploy(&app, ForceRebuild::No).await.unwrap()
        else {
            panic!("queued")
        };
        let outcome = client.cancel_deployment(&deployment).await;
        match expected {
            Some(expected) => assert_eq!(outcome.unwrap(), expected, "{version}"),
            None => assert!(
                matches!(outcome, Err(Error::CancelUnsupported { .. })),
                "{version}: {outcome:?}"
            ),
        }
    }
}
