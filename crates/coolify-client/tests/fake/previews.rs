//! Pull-request previews: deploying, removing, finding their deployments, and their URL.

use std::time::Duration;

use coolify_client::{
    ApplicationPatch, CommitSha, Error, FollowOptions, ForceRebuild, PreviewDeployments,
    PreviewOutcome, PreviewRemoval, PullRequestId,
};
use coolify_fake::{FakeApplication, FakeCoolify, GitSource};
use wiremock::matchers::{body_json, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::calls::{APP, DEPLOYMENT, app, client_with, quick_retries};

const HEAD_OF_PR: &str = "7777777777777777777777777777777777777777";
const BASE_HEAD: &str = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";

fn pr(number: u64) -> PullRequestId {
    PullRequestId::new(number).unwrap()
}

/// `deploy_preview` against one `POST /deploy` answering `entry`, with the body it must send.
async fn deploy_answering(
    sent: serde_json::Value,
    entry: serde_json::Value,
) -> Result<PreviewOutcome, Error> {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/v1/deploy"))
        .and(body_json(sent))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(serde_json::json!({ "deployments": [entry] })),
        )
        .expect(1)
        .mount(&server)
        .await;
    let client = client_with(&server.uri(), quick_retries(), Duration::from_secs(10));
    let tag = "sha-4f2a9c1".parse().unwrap();
    let outcome = client
        .deploy_preview(&app(), pr(42), Some(&tag), ForceRebuild::No)
        .await;
    server.verify().await;
    outcome
}

#[tokio::test]
async fn a_preview_deploy_sends_the_pull_request_and_tag_and_types_each_answer() {
    let sent = serde_json::json!({"uuid": APP, "pull_request_id": 42, "docker_tag": "sha-4f2a9c1", "force": false});
    let queued = deploy_answering(
        sent.clone(),
        serde_json::json!({"message": "Application api deployment queued.", "resource_uuid": APP, "deployment_uuid": DEPLOYMENT}),
    )
    .await
    .unwrap();
    assert_eq!(queued, PreviewOutcome::Queued(DEPLOYMENT.parse().unwrap()));
    let missing = deploy_answering(
        sent.clone(),
        serde_json::json!({"message": "Pull request 42 not found for this resource.", "resource_uuid": APP}),
    )
    .await
    .unwrap();
    assert_eq!(missing, PreviewOutcome::NoPreview);
    let already = deploy_answering(
        sent.clone(),
        serde_json::json!({"message": "Deployment already queued for this commit.", "resource_uuid": APP, "deployment_uuid": "bogus0000000000000000001"}),
    )
    .await
    .unwrap();
    assert_eq!(already, PreviewOutcome::AlreadyQueued);
    let refused = deploy_answering(
        sent,
        serde_json::json!({"message": "docker_tag can only be used with Docker Image applications.", "resource_uuid": APP}),
    )
    .await
    .unwrap_err();
    assert!(
        matches!(&refused, Error::DeployRejected { message, .. } if message.contains("Docker Image")),
        "{refused:?}"
    );
}

async fn delete_answering(answer: ResponseTemplate) -> Result<PreviewRemoval, Error> {
    let server = MockServer::start().await;
    Mock::given(method("DELETE"))
        .and(path(format!("/api/v1/applications/{APP}/previews/42")))
        .respond_with(answer)
        .expect(1)
        .mount(&server)
        .await;
    let client = client_with(&server.uri(), quick_retries(), Duration::from_secs(10));
    let outcome = client.delete_preview(&app(), pr(42)).await;
    server.verify().await;
    outcome
}

#[tokio::test]
async fn removing_a_preview_that_is_not_there_is_not_an_error() {
    let message = |status: u16, text: &str| {
        ResponseTemplate::new(status).set_body_json(serde_json::json!({ "message": text }))
    };
    assert_eq!(
        delete_answering(message(200, "Preview deletion request queued."))
            .await
            .unwrap(),
        PreviewRemoval::Removed
    );
    assert_eq!(
        delete_answering(message(404, "Preview not found."))
            .await
            .unwrap(),
        PreviewRemoval::NoPreview
    );
    let unknown = delete_answering(message(404, "Application not found."))
        .await
        .unwrap_err();
    assert!(matches!(unknown, Error::NotFound { .. }), "{unknown:?}");
    let denied = delete_answering(message(403, "Missing required permissions: write"))
        .await
        .unwrap_err();
    assert!(matches!(denied, Error::MissingAbility { .. }), "{denied:?}");
}

#[tokio::test]
async fn preview_deployments_are_found_by_pull_request_and_commit_and_the_app_lookups_skip_them() {
    let commit = "0123456789abcdef0123456789abcdef01234567";
    let row = |uuid: &str, pull_request: u64, status: &str, commit: &str| serde_json::json!({"deployment_uuid": uuid, "pull_request_id": pull_request, "status": status, "commit": commit});
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(format!("/api/v1/deployments/applications/{APP}")))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
            "count": 4,
            "deployments": [
                row("pr42new00000000000000001", 42, "in_progress", HEAD_OF_PR),
                row("pr42old00000000000000001", 42, "finished", commit),
                row("pr7done00000000000000001", 7, "finished", commit),
                row("mainapp00000000000000001", 0, "finished", commit),
            ],
        })))
        .mount(&server)
        .await;
    let client = client_with(&server.uri(), quick_retries(), Duration::from_secs(10));
    let sha: CommitSha = commit.parse().unwrap();
    let found = client
        .find_preview_deployment(&app(), pr(42), &sha)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.deployment_uuid.as_str(), "pr42old00000000000000001");
    assert_eq!(found.pull_request(), Some(pr(42)));
    let latest = client
        .latest_preview_deployment(&app(), pr(7))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(latest.deployment_uuid.as_str(), "pr7done00000000000000001");
    assert_eq!(
        client
            .find_preview_deployment(&app(), pr(8), &sha)
            .await
            .unwrap(),
        None
    );
    // The application's own lookups never take a preview's deployment.
    let own = client
        .find_finished_deployment_of_commit(&app(), &sha)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(own.deployment_uuid.as_str(), "mainapp00000000000000001");
    assert!(!own.is_preview());
    assert_eq!(
        client.in_flight_deployment(&app()).await.unwrap(),
        None,
        "a preview running is not the application running"
    );
}

#[tokio::test(start_paused = true)]
async fn an_image_preview_is_created_by_its_deploy_and_its_url_is_coolifys() {
    let fake = FakeCoolify::start().await.unwrap();
    let app = fake.add_application(
        FakeApplication::new("api")
            .docker_image("ghcr.io/acme/api", "1.4.0")
            .fqdn(Some("https://api.example.com,https://www.example.com")),
    );
    fake.push_image("ghcr.io/acme/api", "sha-4f2a9c1");
    let client = fake.client_builder().build().unwrap();
    let tag = "sha-4f2a9c1".parse().unwrap();
    let PreviewOutcome::Queued(deployment) = client
        .deploy_preview(&app, pr(42), Some(&tag), ForceRebuild::No)
        .await
        .unwrap()
    else {
        panic!("queued")
    };
    let finished = client
        .follow(&deployment, &FollowOptions::default(), |_| {})
        .await
        .unwrap();
    assert_eq!(finished.pull_request(), Some(pr(42)));
    assert_eq!(
        finished.docker_registry_image_tag.as_deref(),
        Some("sha-4f2a9c1")
    );
    let application = client.application(&app).await.unwrap();
    let url = application.preview_url(pr(42)).unwrap();
    assert_eq!(
        Some(url.as_str().trim_end_matches('/')),
        fake.previews(&app)[0].url()
    );
    assert_eq!(
        client.delete_preview(&app, pr(42)).await.unwrap(),
        PreviewRemoval::Removed
    );
    assert_eq!(
        client.delete_preview(&app, pr(42)).await.unwrap(),
        PreviewRemoval::NoPreview
    );
}

#[tokio::test(start_paused = true)]
async fn a_git_preview_exists_once_its_webhook_ran_and_an_api_redeploy_of_a_deploy_key_app_builds_the_base()
 {
    let fake = FakeCoolify::start().await.unwrap();
    let app = fake.add_application(
        FakeApplication::new("web")
            .branch_head(BASE_HEAD)
            .source(GitSource::DeployKey)
            .preview_url_template("{{random}}.{{domain}}"),
    );
    let client = fake.client_builder().build().unwrap();
    assert_eq!(
        client
            .deploy_preview(&app, pr(7), None, ForceRebuild::No)
            .await
            .unwrap(),
        PreviewOutcome::NoPreview
    );
    let application = client.application(&app).await.unwrap();
    assert_eq!(application.previews_enabled(), Some(false));
    assert!(matches!(
        application.preview_url(pr(7)),
        Err(Error::PreviewUrl { .. })
    ));
    client
        .update_application(
            &app,
            &ApplicationPatch::new()
                .preview_deployments(PreviewDeployments::Enabled)
                .preview_url_template("pr-{{pr_id}}.{{domain}}"),
        )
        .await
        .unwrap();
    let application = client.application(&app).await.unwrap();
    assert_eq!(application.previews_enabled(), Some(true));
    assert_eq!(
        application.preview_url(pr(7)).unwrap().as_str(),
        "https://pr-7.web.example.test/"
    );
    fake.pull_request_opened(&app, 7, HEAD_OF_PR).unwrap();
    let head: CommitSha = HEAD_OF_PR.parse().unwrap();
    let by_webhook = client
        .find_preview_deployment(&app, pr(7), &head)
        .await
        .unwrap()
        .unwrap();
    client
        .follow(
            &by_webhook.deployment_uuid,
            &FollowOptions::default(),
            |_| {},
        )
        .await
        .unwrap();
    let PreviewOutcome::Queued(redeploy) = client
        .deploy_preview(&app, pr(7), None, ForceRebuild::No)
        .await
        .unwrap()
    else {
        panic!("queued")
    };
    let built = client
        .follow(&redeploy, &FollowOptions::default(), |_| {})
        .await
        .unwrap();
    assert_eq!(
        built.resolved_commit(),
        Some(BASE_HEAD.parse().unwrap()),
        "the base branch, not the pull request"
    );
}
