//! Every endpoint against wiremock: success, 4xx JSON, 5xx HTML, unknown status, redirects; and
//! timeouts on the paused clock against a scripted server on the test's runtime.

use std::time::Duration;

use coolify_client::{DeploymentStatus, Error, RetryPolicy};
use tokio::time::Instant;
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::calls::{ALL, Call, DEPLOYMENT, TOKEN, assert_no_token, client_with, quick_retries};
use crate::server::{Reply, ScriptedServer};

async fn server_with(call: Call, response: ResponseTemplate, expected: u64) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method(call.method()))
        .and(path(call.path()))
        .respond_with(response)
        .expect(expected)
        .named(format!("{call:?}"))
        .mount(&server)
        .await;
    server
}

#[tokio::test]
async fn every_endpoint_parses_its_success_body_and_sends_token_and_accept() {
    for call in ALL {
        let server = MockServer::start().await;
        Mock::given(method(call.method()))
            .and(path(call.path()))
            .and(header("authorization", format!("Bearer {TOKEN}").as_str()))
            .and(header("accept", "application/json"))
            .respond_with(call.success())
            .expect(1)
            .named(format!("{call:?}"))
            .mount(&server)
            .await;
        let client = client_with(&server.uri(), RetryPolicy::none(), Duration::from_secs(10));
        call.run(&client)
            .await
            .unwrap_or_else(|error| panic!("{call:?}: {error}"));
        server.verify().await;
    }
}

#[tokio::test]
async fn every_endpoint_maps_a_json_404_to_not_found_naming_the_uuid() {
    for call in ALL {
        let body = serde_json::json!({"message": "Not found."});
        let server = server_with(call, ResponseTemplate::new(404).set_body_json(body), 1).await;
        let client = client_with(&server.uri(), quick_retries(), Duration::from_secs(10));
        let error = call.run(&client).await.expect_err("404 must fail");
        if call == Call::Cancel {
            // Coolify's catch-all 404 on this path: a version without the endpoint.
            assert!(
                matches!(error, Error::CancelUnsupported { .. }),
                "{call:?}: {error:?}"
            );
        } else {
            assert!(
                matches!(error, Error::NotFound { .. }),
                "{call:?}: {error:?}"
            );
        }
        let message = error.to_string();
        assert!(message.starts_with(call.method()), "{call:?}: {message}");
        if !matches!(call, Call::Version | Call::InFlight) {
            assert!(
                message.contains("app000") || message.contains("dpl000"),
                "{call:?}: {message}"
            );
        }
        assert_no_token(&error);
        server.verify().await;
    }
}

#[tokio::test]
async fn every_endpoint_keeps_the_status_of_an_html_502_and_only_gets_are_retried() {
    for call in ALL {
        let html = ResponseTemplate::new(502)
            .insert_header("content-type", "text/html")
            .set_body_string("<html><body><h1>502 Bad Gateway</h1></body></html>");
        let expected = if call.is_idempotent() { 3 } else { 1 };
        let server = server_with(call, html, expected).await;
        let client = client_with(&server.uri(), quick_retries(), Duration::from_secs(10));
        let error = call.run(&client).await.expect_err("502 must fail");
        assert!(
            matches!(error, Error::UnexpectedBody { status: 502, .. }),
            "{call:?}: {error:?}"
        );
        assert!(
            error.to_string().contains("502 Bad Gateway"),
            "{call:?}: {error}"
        );
        assert_eq!(error.status(), Some(502));
        server.verify().await;
    }
}

/// A loopback server on the test's runtime whose only answer is `call`'s success after 5 s of
/// tokio time: with the paused clock, the client's 200 ms timeout fires without a real wait.
async fn slow_server(call: Call) -> ScriptedServer {
    let (status, body) = call.success_body();
    ScriptedServer::start(vec![
        Reply::json(status, &body).delayed(Duration::from_secs(5)),
    ])
    .await
}

/// The request lines `server` received, checked to be `call`'s.
fn requests_of(server: &ScriptedServer, call: Call) -> usize {
    let requests = server.requests();
    let expected = format!("{} {}", call.method(), call.path());
    assert!(
        requests.iter().all(|line| line.starts_with(&expected)),
        "{call:?}: {requests:?}"
    );
    requests.len()
}

#[tokio::test(start_paused = true)]
async fn every_endpoint_times_out_without_a_blind_replay() {
    for call in ALL {
        let server = slow_server(call).await;
        let client = client_with(
            &server.uri(),
            RetryPolicy::none(),
            Duration::from_millis(200),
        );
        let started = Instant::now();
        let error = call.run(&client).await.expect_err("must time out");
        assert!(
            matches!(error, Error::Timeout { after, .. } if after == Duration::from_millis(200)),
            "{call:?}: {error:?}"
        );
        assert_eq!(started.elapsed(), Duration::from_millis(200), "{call:?}");
        assert_eq!(requests_of(&server, call), 1, "{call:?}");
    }
}

#[tokio::test(start_paused = true)]
async fn writes_are_not_replayed_after_a_timeout_even_with_retries_enabled() {
    for call in ALL.into_iter().filter(|call| !call.is_idempotent()) {
        let server = slow_server(call).await;
        let client = client_with(&server.uri(), quick_retries(), Duration::from_millis(200));
        let error = call.run(&client).await.expect_err("must time out");
        assert!(
            matches!(error, Error::Timeout { .. }),
            "{call:?}: {error:?}"
        );
        // Long after the retry policy's delays, still one request.
        tokio::time::sleep(Duration::from_secs(1)).await;
        assert_eq!(requests_of(&server, call), 1, "{call:?}");
    }
}

#[tokio::test]
async fn validation_errors_keep_message_and_fields_as_string_or_list() {
    let body = serde_json::json!({
        "message": "Validation failed.",
        "errors": {"git_branch": ["The git branch format is invalid."], "domains": "Domain taken."}
    });
    let server = server_with(
        Call::PatchApplication,
        ResponseTemplate::new(422).set_body_json(body),
        1,
    )
    .await;
    let client = client_with(&server.uri(), quick_retries(), Duration::from_secs(10));
    let error = Call::PatchApplication.run(&client).await.unwrap_err();
    let Error::Api {
        status,
        message,
        errors,
        ..
    } = &error
    else {
        panic!("{error:?}")
    };
    assert_eq!((*status, message.as_str()), (422, "Validation failed."));
    assert!(
        errors.contains(&"git_branch: The git branch format is invalid.".to_owned()),
        "{errors:?}"
    );
    assert!(
        errors.contains(&"domains: Domain taken.".to_owned()),
        "{errors:?}"
    );
}

#[tokio::test]
async fn auth_failures_are_typed() {
    let cases = [
        (
            401,
            serde_json::json!({"message": "Unauthenticated."}),
            "unauthenticated",
        ),
        (
            403,
            serde_json::json!({"message": "Missing required permissions: deploy"}),
            "ability",
        ),
        (
            403,
            serde_json::json!({"success": true, "message": "API is disabled."}),
            "disabled",
        ),
        (
            403,
            serde_json::json!({"success": true, "message": "You are not allowed to access the API."}),
            "disabled",
        ),
    ];
    for (status, body, kind) in cases {
        let server = server_with(
            Call::Deploy,
            ResponseTemplate::new(status).set_body_json(body),
            1,
        )
        .await;
        let client = client_with(&server.uri(), quick_retries(), Duration::from_secs(10));
        let error = Call::Deploy.run(&client).await.unwrap_err();
        let matched = match kind {
            "unauthenticated" => matches!(error, Error::Unauthenticated { .. }),
            "ability" => {
                matches!(&error, Error::MissingAbility { ability, .. } if ability == "deploy")
            }
            _ => matches!(error, Error::ApiDisabled { .. }),
        };
        assert!(matched, "{kind}: {error:?}");
        assert!(
            error.to_string().contains("app0000000000000000000001"),
            "{error}"
        );
        assert_no_token(&error);
        server.verify().await;
    }
}

#[tokio::test]
async fn unknown_status_strings_are_kept() {
    let mut body = serde_json::json!({"deployment_uuid": DEPLOYMENT, "status": "paused-by-admin", "brand_new": {"x": 1}});
    body["commit"] = serde_json::Value::Null;
    let server = server_with(
        Call::Deployment,
        ResponseTemplate::new(200).set_body_json(body),
        1,
    )
    .await;
    let client = client_with(&server.uri(), RetryPolicy::none(), Duration::from_secs(10));
    let deployment = client
        .deployment(&DEPLOYMENT.parse().unwrap())
        .await
        .unwrap();
    assert_eq!(
        deployment.status,
        DeploymentStatus::Other("paused-by-admin".to_owned())
    );
    assert!(!deployment.status.is_terminal());
    server.verify().await;
}

#[tokio::test]
async fn a_2xx_body_of_the_wrong_shape_is_an_unexpected_body() {
    let server = server_with(
        Call::Deployment,
        ResponseTemplate::new(200).set_body_string("<html>login</html>"),
        1,
    )
    .await;
    let client = client_with(&server.uri(), RetryPolicy::none(), Duration::from_secs(10));
    let error = client
        .deployment(&DEPLOYMENT.parse().unwrap())
        .await
        .unwrap_err();
    assert!(
        matches!(error, Error::UnexpectedBody { status: 200, .. }),
        "{error:?}"
    );
}

#[tokio::test]
async fn deploy_entries_without_a_deployment_are_rejections() {
    let body = serde_json::json!({"deployments": [{"message": "Unauthorized to deploy this application.", "resource_uuid": crate::calls::APP}]});
    let server = server_with(
        Call::Deploy,
        ResponseTemplate::new(200).set_body_json(body),
        1,
    )
    .await;
    let client = client_with(&server.uri(), quick_retries(), Duration::from_secs(10));
    let error = Call::Deploy.run(&client).await.unwrap_err();
    assert!(
        matches!(&error, Error::DeployRejected { message, .. } if message == "Unauthorized to deploy this application."),
        "{error:?}"
    );
}

#[tokio::test]
async fn already_queued_drops_the_bogus_uuid() {
    let body = serde_json::json!({"deployments": [{"deployment_uuid": "bogusfresh00000000000000", "message": "Deployment already queued for this commit.", "resource_uuid": crate::calls::APP}]});
    let server = server_with(
        Call::Deploy,
        ResponseTemplate::new(200).set_body_json(body),
        1,
    )
    .await;
    let client = client_with(&server.uri(), quick_retries(), Duration::from_secs(10));
    let outcome = client
        .deploy(&crate::calls::app(), coolify_client::ForceRebuild::No)
        .await
        .unwrap();
    assert_eq!(outcome, coolify_client::DeployOutcome::AlreadyQueued);
}

#[tokio::test]
async fn redirects_are_not_followed_and_the_token_stays_home() {
    let elsewhere = MockServer::start().await;
    Mock::given(wiremock::matchers::any())
        .respond_with(ResponseTemplate::new(200).set_body_string("4.3.11"))
        .expect(0)
        .mount(&elsewhere)
        .await;
    let home = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/v1/version"))
        .respond_with(
            ResponseTemplate::new(302)
                .insert_header("location", format!("{}/api/v1/version", elsewhere.uri())),
        )
        .expect(1)
        .mount(&home)
        .await;
    let client = client_with(&home.uri(), quick_retries(), Duration::from_secs(10));
    let error = client.version().await.unwrap_err();
    assert!(
        matches!(&error, Error::Redirected { status: 302, location, .. } if location.starts_with(&elsewhere.uri())),
        "{error:?}"
    );
    assert_no_token(&error);
    home.verify().await;
    elsewhere.verify().await;
}

#[tokio::test]
async fn transport_errors_name_the_endpoint_and_not_the_token() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let uri = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let client = client_with(&uri, RetryPolicy::none(), Duration::from_secs(5));
    let error = client
        .deployment(&DEPLOYMENT.parse().unwrap())
        .await
        .unwrap_err();
    assert!(matches!(error, Error::Transport { .. }), "{error:?}");
    assert!(
        error
            .to_string()
            .contains(&format!("GET /api/v1/deployments/{DEPLOYMENT}")),
        "{error}"
    );
    assert_no_token(&error);
    // Each error of the chain prints its own message; none repeats its cause.
    let mut chain = Vec::new();
    let mut cause: Option<&dyn std::error::Error> = Some(&error);
    while let Some(current) = cause {
        chain.push(current.to_string());
        cause = current.source();
    }
    assert!(chain.len() >= 2, "{chain:?}");
    for pair in chain.windows(2) {
        assert!(!pair[0].contains(&pair[1]), "{chain:?}");
    }
}

#[tokio::test]
async fn the_application_list_and_a_project_parse_in_coolifys_shapes() {
    let server = MockServer::start().await;
    let applications = serde_json::json!([
        {"uuid": "app000a", "name": "api", "git_repository": "acme/api", "fqdn": "https://a.example.com,https://b.example.com", "health_check_path": "/healthz", "health_check_enabled": true, "environment_id": 3, "some_future_field": 1},
        {"uuid": "app000b", "name": "web", "git_repository": "git@github.com:acme/web.git", "fqdn": null, "environment_id": null}
    ]);
    Mock::given(method("GET"))
        .and(path("/api/v1/applications"))
        .respond_with(ResponseTemplate::new(200).set_body_json(applications))
        .expect(1)
        .mount(&server)
        .await;
    let project = serde_json::json!({"uuid": "prj1", "name": "API", "environments": [{"id": 3, "name": "staging", "uuid": "env3"}]});
    Mock::given(method("GET"))
        .and(path("/api/v1/projects/prj1"))
        .respond_with(ResponseTemplate::new(200).set_body_json(project))
        .expect(1)
        .mount(&server)
        .await;
    let client = client_with(&server.uri(), RetryPolicy::none(), Duration::from_secs(10));

    let listed = client.applications().await.unwrap();
    assert_eq!(listed.len(), 2);
    assert_eq!(
        listed[0].domains(),
        ["https://a.example.com", "https://b.example.com"]
    );
    assert_eq!(listed[0].environment_id, Some(3));
    assert!(listed[1].domains().is_empty());
    let project = client.project(&"prj1".parse().unwrap()).await.unwrap();
    assert_eq!(project.environments[0].id, 3);
    assert_eq!(project.environments[0].name, "staging");
    let refused = "../x".parse::<coolify_client::ProjectUuid>().unwrap_err();
    assert!(matches!(refused, Error::InvalidInput { .. }), "{refused:?}");
    server.verify().await;
}

#[tokio::test]
async fn a_callers_http_client_sends_the_requests() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/v1/version"))
        .and(header("x-caller", "own-client"))
        .and(header("authorization", format!("Bearer {TOKEN}").as_str()))
        .and(header("accept", "application/json"))
        .respond_with(ResponseTemplate::new(200).set_body_string("4.3.11"))
        .expect(1)
        .mount(&server)
        .await;
    use coolify_client::reqwest;
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert("x-caller", "own-client".parse().unwrap());
    let own = reqwest::Client::builder()
        .default_headers(headers)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let client = coolify_client::Client::builder(server.uri(), TOKEN.to_owned().into())
        .http_client(own)
        .build()
        .unwrap();
    assert_eq!(client.version().await.unwrap(), "4.3.11");
    server.verify().await;
}
