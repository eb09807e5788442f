//! `deploy_commit` after a refused deploy: the pin is put back, or the error says it is not.

use coolify_client::{CommitSha, Error, ForceRebuild};
use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::calls::{APP, app, client_with, quick_retries};

const COMMIT: &str = "4f2a9c1e0b7d3a5f6c8e9d0a1b2c3d4e5f6a7b8c";

async fn refusing_deploy(restore: ResponseTemplate) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(format!("/api/v1/applications/{APP}")))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({ "uuid": APP, "git_commit_sha": "HEAD" })),
        )
        .expect(1)
        .mount(&server)
        .await;
    // The pin succeeds; the second PATCH (putting the pin back) answers `restore`.
    Mock::given(method("PATCH"))
        .and(path(format!("/api/v1/applications/{APP}")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({ "uuid": APP })))
        .up_to_n_times(1)
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("PATCH"))
        .and(path(format!("/api/v1/applications/{APP}")))
        .respond_with(restore)
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/v1/deploy"))
        .respond_with(
            ResponseTemplate::new(403)
                .set_body_json(json!({ "message": "Missing required permissions: deploy" })),
        )
        .expect(1)
        .mount(&server)
        .await;
    server
}

#[tokio::test]
async fn a_refused_deploy_puts_the_pin_back() {
    let server =
        refusing_deploy(ResponseTemplate::new(200).set_body_json(json!({ "uuid": APP }))).await;
    let client = client_with(
        &server.uri(),
        quick_retries(),
        std::time::Duration::from_secs(5),
    );
    let commit: CommitSha = COMMIT.parse().unwrap();

    let error = client
        .deploy_commit(&app(), &commit, ForceRebuild::No)
        .await
        .unwrap_err();

    assert!(
        matches!(error, Error::PinRestored { ref restored, .. } if restored == "HEAD"),
        "{error:?}"
    );
}

#[tokio::test]
async fn a_pin_that_cannot_be_put_back_is_reported_with_what_it_is_pinned_to() {
    let server =
        refusing_deploy(ResponseTemplate::new(502).set_body_string("<html>bad gateway</html>"))
            .await;
    let client = client_with(
        &server.uri(),
        quick_retries(),
        std::time::Duration::from_secs(5),
    );
    let commit: CommitSha = COMMIT.parse().unwrap();

    let error = client
        .deploy_commit(&app(), &commit, ForceRebuild::No)
        .await
        .unwrap_err();

    let Error::PinLeft {
        pin,
        pinned,
        previous,
        ..
    } = &error
    else {
        panic!("expected PinLeft, got {error:?}");
    };
    assert_eq!(pinned, commit.as_str());
    assert_eq!(*pin, coolify_client::PinKind::Commit);
    assert_eq!(previous, "HEAD");
    let text = error.to_string();
    assert!(
        text.contains(&format!("still pinned to {COMMIT}")),
        "{text}"
    );
    assert!(text.contains("set its git commit back to HEAD"), "{text}");
    assert!(
        error.is_token_problem(),
        "the deploy's own cause still classifies the error"
    );
}
