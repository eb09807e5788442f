//! Every path and method the client sends is an operation of Coolify's OpenAPI spec.
//!
//! The operations are kept in `tests/data/coolify-openapi-operations.txt` (source, version and
//! licence in `tests/data/README.md`), so the check is the same on every clone. Known spec error:
//! the spec documents `GET /deployments/applications/{uuid}` as returning applications; the
//! real shape is `{count, deployments}` (see `DeploymentPage`), so only paths and methods are
//! compared.

use std::time::Duration;

use wiremock::{Mock, MockServer};

use crate::calls::{ALL, client_with, quick_retries};

/// `(METHOD, /path/template)` of every operation of the spec.
fn operations() -> Vec<(&'static str, &'static str)> {
    include_str!("../data/coolify-openapi-operations.txt")
        .lines()
        .filter_map(|line| line.split_once(' '))
        .collect()
}

fn template_matches(template: &str, path: &str) -> bool {
    let template: Vec<&str> = template.trim_matches('/').split('/').collect();
    let path: Vec<&str> = path.trim_matches('/').split('/').collect();
    template.len() == path.len()
        && template
            .iter()
            .zip(&path)
            .all(|(expected, actual)| expected.starts_with('{') || expected == actual)
}

#[tokio::test]
async fn every_request_the_client_sends_is_in_the_spec() {
    let operations = operations();
    assert!(operations.len() > 200, "{} operations", operations.len());

    let server = MockServer::start().await;
    for call in ALL {
        Mock::given(wiremock::matchers::method(call.method()))
            .and(wiremock::matchers::path(call.path()))
            .respond_with(call.success())
            .mount(&server)
            .await;
    }
    let client = client_with(&server.uri(), quick_retries(), Duration::from_secs(10));
    for call in ALL {
        call.run(&client).await.unwrap();
    }
    let received = server.received_requests().await.unwrap();
    assert_eq!(received.len(), ALL.len());
    for request in received {
        let method = request.method.as_str().to_ascii_uppercase();
        let path = request
            .url
            .path()
            .strip_prefix("/api/v1")
            .unwrap()
            .to_owned();
        let found = operations
            .iter()
            .any(|(expected, template)| *expected == method && template_matches(template, &path));
        assert!(found, "{method} {path} is not in the OpenAPI spec");
    }
}

#[test]
fn the_spec_has_the_operations_of_the_release_flows() {
    let operations = operations();
    for operation in [
        ("POST", "/deploy"),
        ("GET", "/deployments/{uuid}"),
        ("PATCH", "/applications/{uuid}"),
    ] {
        assert!(operations.contains(&operation), "{operation:?}");
    }
    assert!(!operations.contains(&("DELETE", "/deploy")));
}

#[test]
fn templates_match_segment_by_segment() {
    assert!(template_matches("/deployments/{uuid}", "/deployments/abc"));
    assert!(!template_matches(
        "/deployments/{uuid}",
        "/deployments/abc/cancel"
    ));
    assert!(!template_matches("/deploy", "/deployments"));
}
