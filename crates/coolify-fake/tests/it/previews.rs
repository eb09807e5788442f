//! Pull-request previews: created by a webhook or a docker-tag deploy, deployed, served by the
//! proxy, removed.

use std::net::SocketAddr;
use std::time::Duration;

use coolify_client::{ApplicationUuid, DeploymentStatus, FollowOptions};
use coolify_fake::{FakeApplication, FakeCoolify, GitSource};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

use crate::raw::{http, send};

const HEAD_OF_PR: &str = "7777777777777777777777777777777777777777";
const BASE_HEAD: &str = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";

/// `POST /deploy` of the preview of `pull_request`.
async fn deploy_preview(
    fake: &FakeCoolify,
    app: &ApplicationUuid,
    pull_request: u64,
) -> crate::raw::Answer {
    let body = serde_json::json!({"uuid": app.as_str(), "pull_request_id": pull_request});
    send(fake, "POST", "/api/v1/deploy", Some(body)).await
}

async fn git_app(source: GitSource) -> (FakeCoolify, ApplicationUuid) {
    let fake = FakeCoolify::start().await.unwrap();
    let app = fake.add_application(
        FakeApplication::new("web")
            .fqdn(Some("https://web.example.test"))
            .branch_head(BASE_HEAD)
            .source(source),
    );
    (fake, app)
}

/// The deployment of the first entry of a `POST /deploy` answer.
fn queued(answer: &crate::raw::Answer) -> coolify_client::DeploymentUuid {
    answer.body["deployments"][0]["deployment_uuid"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap()
}

/// Follow a deployment to its end on the client, and return the commit it built.
async fn built(fake: &FakeCoolify, deployment: &coolify_client::DeploymentUuid) -> String {
    let client = fake.client_builder().build().unwrap();
    let done = client
        .follow(deployment, &FollowOptions::default(), |_| {})
        .await
        .unwrap();
    done.commit.unwrap()
}

#[tokio::test(start_paused = true)]
async fn a_git_application_has_a_preview_only_once_its_webhook_created_one() {
    let (fake, app) = git_app(GitSource::GithubApp).await;
    let missing = deploy_preview(&fake, &app, 7).await;
    assert_eq!(missing.status, 200);
    assert_eq!(
        missing.body,
        serde_json::json!({"deployments": [{"message": "Pull request 7 not found for this resource.", "resource_uuid": "web"}]})
    );
    // Previews off: the webhook does nothing.
    assert_eq!(fake.pull_request_opened(&app, 7, HEAD_OF_PR), None);
    assert!(fake.previews(&app).is_empty());
    let on = send(
        &fake,
        "PATCH",
        "/api/v1/applications/web",
        Some(serde_json::json!({"is_preview_deployments_enabled": true})),
    )
    .await;
    assert_eq!(on.status, 200);
    let settings = send(&fake, "GET", "/api/v1/applications/web", None).await;
    assert_eq!(
        settings.body["settings"]["is_preview_deployments_enabled"],
        true
    );
    assert_eq!(
        settings.body["preview_url_template"],
        "{{pr_id}}.{{domain}}"
    );
    let by_webhook = fake.pull_request_opened(&app, 7, HEAD_OF_PR).unwrap();
    let previews = fake.previews(&app);
    assert_eq!(previews.len(), 1);
    assert_eq!(previews[0].pull_request_id(), 7);
    assert_eq!(previews[0].url(), Some("https://7.web.example.test"));
    assert_eq!(previews[0].running(), None);
    assert_eq!(built(&fake, &by_webhook).await, HEAD_OF_PR);
    assert_eq!(fake.previews(&app)[0].running(), Some(HEAD_OF_PR));
    let deployment = send(
        &fake,
        "GET",
        &format!("/api/v1/deployments/{by_webhook}"),
        None,
    )
    .await;
    assert_eq!(deployment.body["pull_request_id"], 7);
    assert_eq!(deployment.body["git_type"], "github");
    assert_eq!(deployment.body["is_webhook"], true);

    // Now the API redeploys it: a GitHub App application fetches the pull request's head.
    let uuid = queued(&deploy_preview(&fake, &app, 7).await);
    assert_eq!(built(&fake, &uuid).await, HEAD_OF_PR);
    // The application itself is untouched.
    assert!(
        fake.deployments_of(&app)
            .iter()
            .all(|deployment| deployment.pull_request_id == Some(7))
    );
}

#[tokio::test(start_paused = true)]
async fn an_api_preview_of_a_deploy_key_application_builds_the_base_branch() {
    for source in [GitSource::DeployKey, GitSource::PlainGit] {
        let fake = FakeCoolify::start().await.unwrap();
        let app = fake.add_application(
            FakeApplication::new("web")
                .branch_head(BASE_HEAD)
                .source(source)
                .previews_enabled(),
        );
        let by_webhook = fake.pull_request_opened(&app, 7, HEAD_OF_PR).unwrap();
        assert_eq!(built(&fake, &by_webhook).await, HEAD_OF_PR, "{source:?}");
        let uuid = queued(&deploy_preview(&fake, &app, 7).await);
        assert_eq!(built(&fake, &uuid).await, BASE_HEAD, "{source:?}");
        assert_eq!(fake.previews(&app)[0].running(), Some(BASE_HEAD));
    }
}

#[tokio::test(start_paused = true)]
async fn a_docker_tag_deploy_creates_the_preview_of_an_image_application_and_pulls_its_tag() {
    let fake = FakeCoolify::start().await.unwrap();
    let app = fake.add_application(
        FakeApplication::new("api")
            .docker_image("ghcr.io/acme/api", "1.4.0")
            .fqdn(Some("http://api.example.test:8080/v1"))
            .preview_url_template("pr-{{pr_id}}.{{domain}}"),
    );
    fake.push_image("ghcr.io/acme/api", "sha-abc");
    let finished = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let seen = std::sync::Arc::clone(&finished);
    fake.on_deployment_finished(move |deployment| seen.lock().unwrap().push(deployment.clone()));
    let without_pr = send(
        &fake,
        "POST",
        "/api/v1/deploy",
        Some(serde_json::json!({"uuid": "api", "docker_tag": "sha-abc"})),
    )
    .await;
    assert_eq!(
        (without_pr.status, without_pr.body["message"].as_str()),
        (400, Some("docker_tag requires pull_request_id."))
    );
    let answer = send(
        &fake,
        "POST",
        "/api/v1/deploy",
        Some(serde_json::json!({"uuid": "api", "pull_request_id": 12, "docker_tag": "sha-abc"})),
    )
    .await;
    let entry = &answer.body["deployments"][0];
    assert_eq!(entry["message"], "Application api deployment queued.");
    let uuid: coolify_client::DeploymentUuid =
        entry["deployment_uuid"].as_str().unwrap().parse().unwrap();
    let preview = &fake.previews(&app)[0];
    assert_eq!(preview.url(), Some("http://pr-12.api.example.test:8080/v1"));
    assert_eq!(preview.docker_tag(), Some("sha-abc"));
    let row = send(&fake, "GET", &format!("/api/v1/deployments/{uuid}"), None).await;
    assert_eq!(row.body["pull_request_id"], 12);
    assert_eq!(row.body["docker_registry_image_tag"], "sha-abc");
    assert_eq!(row.body["commit"], "HEAD");
    let client = fake.client_builder().build().unwrap();
    client
        .follow(&uuid, &FollowOptions::default(), |_| {})
        .await
        .unwrap();
    assert_eq!(fake.previews(&app)[0].running(), Some("sha-abc"));
    let application = fake.application(&app).unwrap();
    assert_eq!(
        application.docker_registry_image_tag.as_deref(),
        Some("1.4.0")
    );
    assert_eq!(
        fake.images_of(&app),
        ["1.4.0"],
        "preview images are not kept"
    );
    let finished = finished.lock().unwrap().clone();
    assert_eq!(finished.len(), 1);
    assert_eq!(finished[0].pull_request_id(), Some(12));
    assert_eq!(finished[0].image_tag(), Some("sha-abc"));

    // A git application refuses a docker_tag in its entry, still with a 200.
    let git = fake.add_application(FakeApplication::new("web"));
    let refused = send(
        &fake,
        "POST",
        "/api/v1/deploy",
        Some(serde_json::json!({"uuid": git.as_str(), "pull_request_id": 12, "docker_tag": "x"})),
    )
    .await;
    assert_eq!(refused.status, 200);
    assert_eq!(
        refused.body["deployments"][0]["message"],
        "docker_tag can only be used with Docker Image applications."
    );
    assert!(refused.body["deployments"][0]["deployment_uuid"].is_null());
}

#[tokio::test(start_paused = true)]
async fn a_preview_and_its_application_build_at_the_same_time() {
    let (fake, app) = git_app(GitSource::GithubApp).await;
    fake.set_concurrent_builds(2);
    send(
        &fake,
        "PATCH",
        "/api/v1/applications/web",
        Some(serde_json::json!({"is_preview_deployments_enabled": true})),
    )
    .await;
    fake.pull_request_opened(&app, 7, HEAD_OF_PR).unwrap();
    fake.trigger_deployment(&app, None).unwrap();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let statuses: Vec<DeploymentStatus> = fake
        .deployments_of(&app)
        .into_iter()
        .map(|deployment| deployment.status)
        .collect();
    assert_eq!(
        statuses,
        [DeploymentStatus::InProgress, DeploymentStatus::InProgress]
    );
}

#[tokio::test(start_paused = true)]
async fn deleting_a_preview_removes_it_and_cancels_its_deployments() {
    let (fake, app) = git_app(GitSource::GithubApp).await;
    fake.add_application(FakeApplication::new("other"));
    let path = "/api/v1/applications/web/previews/7";
    let nothing = send(&fake, "DELETE", path, None).await;
    assert_eq!(
        (nothing.status, nothing.body["message"].as_str()),
        (404, Some("Preview not found."))
    );
    send(
        &fake,
        "PATCH",
        "/api/v1/applications/web",
        Some(serde_json::json!({"is_preview_deployments_enabled": true})),
    )
    .await;
    let running = fake.pull_request_opened(&app, 7, HEAD_OF_PR).unwrap();
    let deleted = send(&fake, "DELETE", path, None).await;
    assert_eq!(
        (deleted.status, deleted.body["message"].as_str()),
        (200, Some("Preview deletion request queued."))
    );
    assert!(fake.previews(&app).is_empty());
    let cancelled = send(
        &fake,
        "GET",
        &format!("/api/v1/deployments/{running}"),
        None,
    )
    .await;
    assert_eq!(cancelled.body["status"], "cancelled-by-user");
    for (path, status, message) in [
        (
            "/api/v1/applications/web/previews/zero",
            422,
            "Invalid pull_request_id.",
        ),
        (
            "/api/v1/applications/nosuchapp/previews/7",
            404,
            "Application not found.",
        ),
    ] {
        let answer = send(&fake, "DELETE", path, None).await;
        assert_eq!(
            (answer.status, answer.body["message"].as_str()),
            (status, Some(message)),
            "{path}"
        );
    }
    // The webhook's `closed` does the same.
    fake.pull_request_opened(&app, 8, HEAD_OF_PR).unwrap();
    assert!(fake.pull_request_closed(&app, 8));
    assert!(!fake.pull_request_closed(&app, 8));
    // Before 4.0.0-beta.474 the route does not exist; `write` is needed.
    fake.set_version("4.0.0-beta.473");
    assert_eq!(
        send(&fake, "DELETE", path, None).await.body["message"],
        "Not found."
    );
    fake.set_version("4.3.11");
    fake.set_abilities(&[coolify_fake::Ability::Read, coolify_fake::Ability::Deploy]);
    assert_eq!(send(&fake, "DELETE", path, None).await.status, 403);
}

#[tokio::test(start_paused = true)]
async fn the_preview_template_is_patched_from_4_3_0_on() {
    let (fake, _app) = git_app(GitSource::GithubApp).await;
    let body = serde_json::json!({"preview_url_template": "{{pr_id}}-preview.{{domain}}", "is_pr_deployments_public_enabled": true});
    fake.set_version("4.2.9");
    let refused = send(
        &fake,
        "PATCH",
        "/api/v1/applications/web",
        Some(body.clone()),
    )
    .await;
    assert_eq!(refused.status, 422);
    assert_eq!(
        refused.body["errors"]["preview_url_template"][0],
        "This field is not allowed."
    );
    fake.set_version("4.3.0");
    assert_eq!(
        send(&fake, "PATCH", "/api/v1/applications/web", Some(body))
            .await
            .status,
        200
    );
    let application = send(&fake, "GET", "/api/v1/applications/web", None).await;
    assert_eq!(
        application.body["preview_url_template"],
        "{{pr_id}}-preview.{{domain}}"
    );
    assert_eq!(
        application.body["settings"]["is_pr_deployments_public_enabled"],
        true
    );
}

/// A server standing for a container: answers every request with the `Host` it was sent.
async fn container(name: &'static str) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
        .await
        .unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((mut stream, _)) = listener.accept().await else {
                return;
            };
            tokio::spawn(async move {
                let mut buffer = vec![0_u8; 4096];
                let mut read = 0;
                while !buffer[..read]
                    .windows(4)
                    .any(|window| window == b"\r\n\r\n")
                {
                    match stream.read(&mut buffer[read..]).await {
                        Ok(0) | Err(_) => return,
                        Ok(count) => read += count,
                    }
                }
                let head = String::from_utf8_lossy(&buffer[..read]).to_string();
                let host = head
                    .lines()
                    .find_map(|line| line.strip_prefix("host: ").or(line.strip_prefix("Host: ")))
                    .unwrap_or_default()
                    .to_owned();
                let target = head.split(' ').nth(1).unwrap_or_default().to_owned();
                let body = serde_json::json!({"container": name, "host": host, "target": target})
                    .to_string();
                let response = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = stream.write_all(response.as_bytes()).await;
            });
        }
    });
    address
}

#[tokio::test(start_paused = true)]
async fn the_proxy_serves_a_preview_url_from_the_server_standing_for_its_container() {
    let fake = FakeCoolify::start().await.unwrap();
    let app = fake.add_application(
        FakeApplication::new("web")
            .fqdn(Some("http://web.example.test"))
            .previews_enabled(),
    );
    let through_proxy = http()
        .proxy(reqwest::Proxy::http(fake.proxy_url()).unwrap())
        .build()
        .unwrap();
    let get = |url: &'static str| {
        let client = through_proxy.clone();
        async move {
            let response = client.get(url).send().await.unwrap();
            (response.status().as_u16(), response.text().await.unwrap())
        }
    };
    let preview = "http://7.web.example.test/healthz?full=1";
    assert_eq!(get(preview).await, (404, "404 page not found".to_owned()));
    let deployment = fake.pull_request_opened(&app, 7, HEAD_OF_PR).unwrap();
    built(&fake, &deployment).await;
    assert_eq!(get(preview).await, (502, "Bad Gateway".to_owned()));
    fake.serve_preview_from(&app, 7, container("preview-7").await);
    let (status, body) = get(preview).await;
    assert_eq!(status, 200);
    let body: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        body,
        serde_json::json!({"container": "preview-7", "host": "7.web.example.test", "target": "/healthz?full=1"})
    );

    // The application's own domain, reached by resolving it to the proxy.
    fake.serve_application_from(&app, container("web").await);
    let resolved = http()
        .resolve("web.example.test", fake.proxy_address())
        .build()
        .unwrap();
    let own: serde_json::Value = resolved
        .get("http://web.example.test/")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(own["container"], "web");

    assert!(fake.pull_request_closed(&app, 7));
    assert_eq!(get(preview).await.0, 404);
}
