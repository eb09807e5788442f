//! Plain answers from wiremock: headers sent, fatal statuses, bodies, Retry-After, evidence.

use std::time::Duration;

use health_probe::{Assertion, BODY_EXCERPT_BYTES, Failure, ProbeSpec, Prober, Stop, Verdict};
use serde_json::json;
use wiremock::{
    Mock, MockServer, ResponseTemplate,
    matchers::{header, method, path},
};

use crate::fast_spec;

async fn healthz(server: &MockServer) -> url::Url {
    format!("{}/healthz", server.uri()).parse().unwrap()
}

#[tokio::test]
async fn two_passes_with_the_spec_headers_are_healthy() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/healthz"))
        .and(header("authorization", "Bearer probe-secret"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({ "commit": "new" })))
        .expect(2)
        .mount(&server)
        .await;
    let spec = fast_spec(healthz(&server).await)
        .header("Authorization", "Bearer probe-secret")
        .build()
        .unwrap();

    let outcome = Prober::new().unwrap().probe(&spec).await;

    assert!(outcome.is_healthy(), "{outcome:#?}");
    assert_eq!(outcome.attempts.len(), 2);
    assert_eq!(outcome.attempts[0].status, Some(200));
}

#[tokio::test]
async fn a_fatal_status_stops_after_one_request() {
    let server = MockServer::start().await;
    Mock::given(path("/healthz"))
        .respond_with(ResponseTemplate::new(404).set_body_string("404 page not found"))
        .expect(1)
        .mount(&server)
        .await;

    let outcome = Prober::new()
        .unwrap()
        .probe(&fast_spec(healthz(&server).await).build().unwrap())
        .await;

    assert_eq!(
        outcome.verdict,
        Verdict::Unhealthy {
            reason: Failure::Status { status: 404 },
            stopped_by: Stop::FatalStatus
        }
    );
    assert_eq!(
        outcome.attempts[0].body_excerpt.as_deref(),
        Some("404 page not found")
    );
}

#[tokio::test]
async fn a_non_json_body_fails_a_json_assertion_with_an_excerpt() {
    let server = MockServer::start().await;
    Mock::given(path("/healthz"))
        .respond_with(
            ResponseTemplate::new(200).set_body_string("<html><body>Bad gateway</body></html>"),
        )
        .expect(2)
        .mount(&server)
        .await;
    let spec = fast_spec(healthz(&server).await)
        .failure_threshold(2)
        .build()
        .unwrap();

    let outcome = Prober::new().unwrap().probe(&spec).await;

    let Verdict::Unhealthy {
        reason: Failure::NotJson { .. },
        stopped_by: Stop::FailureThreshold,
    } = &outcome.verdict
    else {
        panic!("{outcome:#?}")
    };
    assert!(
        outcome.attempts[1]
            .body_excerpt
            .as_deref()
            .unwrap()
            .contains("Bad gateway")
    );
}

#[tokio::test]
async fn a_body_larger_than_the_excerpt_is_asserted_whole_and_cut_in_evidence() {
    let server = MockServer::start().await;
    let padding = "x".repeat(10 * BODY_EXCERPT_BYTES);
    Mock::given(path("/healthz"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({ "padding": padding, "commit": "new" })),
        )
        .expect(2)
        .mount(&server)
        .await;

    let outcome = Prober::new()
        .unwrap()
        .probe(&fast_spec(healthz(&server).await).build().unwrap())
        .await;

    assert!(outcome.is_healthy(), "{outcome:#?}");
    let attempt = &outcome.attempts[0];
    assert!(attempt.body_truncated);
    assert_eq!(
        attempt.body_excerpt.as_ref().unwrap().len(),
        BODY_EXCERPT_BYTES
    );
}

#[tokio::test]
async fn a_header_value_echoed_across_the_excerpt_cut_is_redacted_whole() {
    const TOKEN: &str = "S3cretValue0123456789abcdefghijk";
    // The echoed value starts 14 bytes before the cut and ends well after it.
    const VALUE_AT: usize = BODY_EXCERPT_BYTES - 14;
    let server = MockServer::start().await;
    Mock::given(path("/healthz"))
        .respond_with(|request: &wiremock::Request| {
            // Every request header, sorted by name (`a-probe-token` first), after padding.
            let mut headers: Vec<String> = request
                .headers
                .iter()
                .map(|(name, value)| format!("{name}: {}\n", value.to_str().unwrap()))
                .collect();
            headers.sort();
            let padding = "x".repeat(VALUE_AT - "a-probe-token: ".len());
            let body = format!("{padding}{}{}", headers.concat(), "y".repeat(4096));
            ResponseTemplate::new(200).set_body_string(body)
        })
        .expect(1)
        .mount(&server)
        .await;
    let spec = ProbeSpec::builder(healthz(&server).await)
        .header("A-Probe-Token", TOKEN)
        .build()
        .unwrap();

    let attempt = Prober::new().unwrap().check(&spec).await;

    assert_eq!(attempt.status, Some(200), "{attempt:#?}");
    let excerpt = attempt.body_excerpt.as_deref().unwrap();
    assert!(attempt.body_truncated);
    assert_eq!(excerpt.len(), BODY_EXCERPT_BYTES);
    // Not the value, nor any 8 bytes of it (a prefix left at the cut among them).
    for piece in TOKEN.as_bytes().windows(8) {
        let piece = std::str::from_utf8(piece).unwrap();
        assert!(!excerpt.contains(piece), "{piece:?} in {excerpt:?}");
    }
    assert_eq!(
        excerpt.find("a-probe-token: [redacted]\n"),
        Some(VALUE_AT - "a-probe-token: ".len()),
        "{excerpt:?}"
    );
}

#[tokio::test]
async fn retry_after_past_the_deadline_ends_the_probe_without_waiting() {
    let server = MockServer::start().await;
    Mock::given(path("/healthz"))
        .respond_with(ResponseTemplate::new(503).insert_header("Retry-After", "120"))
        .expect(1)
        .mount(&server)
        .await;
    let spec = fast_spec(healthz(&server).await)
        .deadline(Duration::from_secs(60))
        .build()
        .unwrap();

    let outcome = Prober::new().unwrap().probe(&spec).await;

    assert_eq!(
        outcome.verdict,
        Verdict::Unhealthy {
            reason: Failure::Status { status: 503 },
            stopped_by: Stop::Deadline
        }
    );
    assert!(outcome.elapsed < Duration::from_secs(60));
}

#[tokio::test]
async fn redirects_are_not_followed_by_default() {
    let server = MockServer::start().await;
    Mock::given(path("/healthz"))
        .respond_with(ResponseTemplate::new(302).insert_header("Location", "/elsewhere"))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(path("/elsewhere"))
        .respond_with(ResponseTemplate::new(200))
        .expect(0)
        .mount(&server)
        .await;
    let spec = fast_spec(healthz(&server).await)
        .failure_threshold(1)
        .build()
        .unwrap();

    let outcome = Prober::new().unwrap().probe(&spec).await;

    assert_eq!(
        outcome.verdict,
        Verdict::Unhealthy {
            reason: Failure::Status { status: 302 },
            stopped_by: Stop::FailureThreshold
        }
    );
}

#[tokio::test]
async fn evidence_serializes_to_json() {
    let server = MockServer::start().await;
    Mock::given(path("/healthz"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({ "status": "starting" })))
        .expect(3)
        .mount(&server)
        .await;
    let spec = ProbeSpec::builder(healthz(&server).await)
        .interval(Duration::from_millis(20))
        .jitter(Duration::ZERO)
        .assertion(Assertion::json_equals("/status", json!("ok")).unwrap())
        .failure_threshold(3)
        .build()
        .unwrap();

    let outcome = Prober::new().unwrap().probe(&spec).await;
    let evidence = serde_json::to_value(&outcome).unwrap();

    assert_eq!(evidence["verdict"]["verdict"], "unhealthy");
    assert_eq!(evidence["verdict"]["reason"]["class"], "value_mismatch");
    assert_eq!(evidence["verdict"]["reason"]["expected"], "ok");
    assert_eq!(evidence["verdict"]["reason"]["actual"], "starting");
    assert_eq!(evidence["attempts"].as_array().unwrap().len(), 3);
    assert_eq!(evidence["attempts"][2]["status"], 200);
    assert!(evidence["attempts"][2]["offset_ms"].as_u64().unwrap() >= 40);
}

#[tokio::test]
async fn check_makes_exactly_one_attempt() {
    let server = MockServer::start().await;
    Mock::given(path("/healthz"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({ "commit": "new" })))
        .expect(1)
        .mount(&server)
        .await;

    let attempt = Prober::new()
        .unwrap()
        .check(&fast_spec(healthz(&server).await).build().unwrap())
        .await;

    assert!(attempt.passed(), "{attempt:?}");
    assert_eq!(attempt.number, 1);
}

/// A caller's own client, built the ordinary way, probes without a crypto provider installed
/// first (it used to panic in `reqwest::ClientBuilder::build`).
#[tokio::test]
async fn a_callers_client_needs_no_installed_crypto_provider() {
    assert!(tokio_rustls::rustls::crypto::CryptoProvider::get_default().is_none());
    let server = MockServer::start().await;
    Mock::given(path("/healthz"))
        .and(header("user-agent", "own-client/1"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({ "commit": "new" })))
        .expect(2)
        .mount(&server)
        .await;
    let own = health_probe::reqwest::Client::builder()
        .redirect(health_probe::reqwest::redirect::Policy::none())
        .user_agent("own-client/1")
        .build()
        .unwrap();
    let prober = Prober::builder().client(own).build().unwrap();

    let outcome = prober
        .probe(&fast_spec(healthz(&server).await).build().unwrap())
        .await;

    assert!(outcome.is_healthy(), "{outcome:#?}");
    assert!(tokio_rustls::rustls::crypto::CryptoProvider::get_default().is_none());
}
