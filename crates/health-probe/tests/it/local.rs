//! Sequences, resets, hangs, redirects and connection reuse against the scripted server.

use std::time::Duration;

use health_probe::{Failure, Prober, Stop, Verdict};
use tokio_util::sync::CancellationToken;

use crate::{
    fast_spec,
    server::{LocalServer, Reply},
};

#[tokio::test]
async fn sequence_of_starting_old_and_new_is_healthy_over_one_connection() {
    let server = LocalServer::start(vec![
        Reply::status(503, "starting"),
        Reply::status(503, "starting"),
        Reply::commit("old"),
        Reply::commit("new"),
    ])
    .await;
    let outcome = Prober::new()
        .unwrap()
        .probe(&fast_spec(server.url("/healthz")).build().unwrap())
        .await;

    assert_eq!(outcome.verdict, Verdict::Healthy, "{outcome:#?}");
    let classes: Vec<Option<&str>> = outcome
        .attempts
        .iter()
        .map(|attempt| attempt.failure.as_ref().map(Failure::class))
        .collect();
    assert_eq!(
        classes,
        [
            Some("status"),
            Some("status"),
            Some("wrong_version"),
            None,
            None
        ]
    );
    assert_eq!(server.requests().len(), 5);
    assert_eq!(
        server.connections(),
        1,
        "every attempt should reuse the first connection"
    );
    assert!(server.requests()[0].starts_with("GET /healthz HTTP/1.1\r\n"));
}

#[tokio::test]
async fn a_connection_reset_is_evidence_and_the_probe_recovers() {
    let server = LocalServer::start(vec![Reply::Reset, Reply::commit("new")]).await;
    let outcome = Prober::new()
        .unwrap()
        .probe(&fast_spec(server.url("/")).build().unwrap())
        .await;

    assert_eq!(outcome.verdict, Verdict::Healthy);
    let first = &outcome.attempts[0];
    assert_eq!(first.status, None);
    assert!(
        matches!(first.failure, Some(Failure::Connection { .. })),
        "{first:?}"
    );
    assert_eq!(outcome.attempts.len(), 3);
}

#[tokio::test]
async fn connection_refused_is_its_own_class() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let url = format!("http://127.0.0.1:{port}/healthz").parse().unwrap();
    let outcome = Prober::new()
        .unwrap()
        .probe(&fast_spec(url).failure_threshold(2).build().unwrap())
        .await;

    assert_eq!(
        outcome.verdict,
        Verdict::Unhealthy {
            reason: Failure::ConnectionRefused,
            stopped_by: Stop::FailureThreshold
        }
    );
}

#[tokio::test]
async fn a_redirect_to_another_port_does_not_carry_the_authorization_header() {
    let target = LocalServer::start(vec![Reply::commit("new")]).await;
    let origin = LocalServer::start(vec![Reply::redirect(target.url("/healthz").as_str())]).await;
    let spec = fast_spec(origin.url("/healthz"))
        .header("Authorization", "Bearer probe-secret")
        .header("X-Api-Key", "another-secret")
        .max_redirects(1)
        .build()
        .unwrap();

    let outcome = Prober::new().unwrap().probe(&spec).await;

    assert_eq!(outcome.verdict, Verdict::Healthy, "{outcome:#?}");
    for request in origin.requests() {
        assert!(
            request
                .to_ascii_lowercase()
                .contains("authorization: bearer probe-secret")
        );
    }
    assert_eq!(target.requests().len(), 2);
    for request in target.requests() {
        let request = request.to_ascii_lowercase();
        assert!(!request.contains("authorization"), "{request}");
        assert!(!request.contains("another-secret"), "{request}");
    }
}

#[tokio::test]
async fn a_same_origin_redirect_keeps_the_headers() {
    let server = LocalServer::start(vec![
        Reply::redirect("/v2/healthz"),
        Reply::commit("new"),
        Reply::redirect("/v2/healthz"),
        Reply::commit("new"),
    ])
    .await;
    let spec = fast_spec(server.url("/healthz"))
        .header("Authorization", "Bearer probe-secret")
        .max_redirects(1)
        .build()
        .unwrap();

    let outcome = Prober::new().unwrap().probe(&spec).await;

    assert_eq!(outcome.verdict, Verdict::Healthy, "{outcome:#?}");
    let requests = server.requests();
    assert_eq!(requests.len(), 4);
    assert!(requests[1].starts_with("GET /v2/healthz "));
    assert!(
        requests
            .iter()
            .all(|request| request.contains("Bearer probe-secret"))
    );
}

#[tokio::test]
async fn too_many_redirects_fail_the_attempt() {
    let server = LocalServer::start(vec![Reply::redirect("/again")]).await;
    let spec = fast_spec(server.url("/"))
        .max_redirects(2)
        .failure_threshold(1)
        .build()
        .unwrap();

    let outcome = Prober::new().unwrap().probe(&spec).await;

    assert!(
        matches!(&outcome.verdict, Verdict::Unhealthy { reason: Failure::Redirect { detail }, .. } if detail.contains("more than 2")),
        "{outcome:#?}"
    );
    assert_eq!(server.requests().len(), 3);
}

/// The scripted server runs on the test's runtime, so its 300 ms delay passes on the paused
/// clock and the latency the prober measures is exact.
#[tokio::test(start_paused = true)]
async fn a_latency_budget_fails_slow_answers() {
    let server = LocalServer::start(vec![
        Reply::commit("new").delayed(Duration::from_millis(300)),
    ])
    .await;
    let spec = fast_spec(server.url("/"))
        .latency_budget(Duration::from_millis(50))
        .failure_threshold(1)
        .build()
        .unwrap();

    let outcome = Prober::new().unwrap().probe(&spec).await;

    let Verdict::Unhealthy {
        reason: Failure::TooSlow { latency, budget },
        ..
    } = outcome.verdict
    else {
        panic!("{outcome:#?}")
    };
    assert_eq!(latency, Duration::from_millis(300));
    assert_eq!(budget, Duration::from_millis(50));
}

#[tokio::test]
async fn answers_within_the_latency_budget_pass() {
    let server = LocalServer::start(vec![Reply::commit("new")]).await;
    let spec = fast_spec(server.url("/"))
        .latency_budget(Duration::from_secs(10))
        .build()
        .unwrap();
    let outcome = Prober::new().unwrap().probe(&spec).await;
    assert_eq!(outcome.verdict, Verdict::Healthy);
}

#[tokio::test(start_paused = true)]
async fn the_deadline_cancels_the_request_in_flight() {
    let server = LocalServer::start(vec![Reply::Hang]).await;
    let spec = fast_spec(server.url("/"))
        .interval(Duration::from_secs(2))
        .attempt_timeout(Duration::from_secs(5))
        .deadline(Duration::from_secs(12))
        .build()
        .unwrap();

    let outcome = Prober::new().unwrap().probe(&spec).await;

    assert_eq!(outcome.elapsed, Duration::from_secs(12));
    assert!(matches!(
        outcome.verdict,
        Verdict::Unhealthy {
            stopped_by: Stop::Deadline,
            ..
        }
    ));
    let timeouts: Vec<Duration> = outcome
        .attempts
        .iter()
        .map(|attempt| match attempt.failure {
            Some(Failure::Timeout { after }) => after,
            ref other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(
        timeouts,
        [
            Duration::from_secs(5),
            Duration::from_secs(5),
            Duration::from_secs(2)
        ]
    );
}

#[tokio::test]
async fn cancelling_the_token_ends_the_probe_and_its_request() {
    let server = LocalServer::start(vec![Reply::Hang]).await;
    let spec = fast_spec(server.url("/")).build().unwrap();
    let prober = Prober::new().unwrap();
    let cancel = CancellationToken::new();
    let trigger = cancel.clone();

    let (outcome, ()) = tokio::join!(prober.probe_with(&spec, &cancel, |_| {}), async {
        server.request_received().await;
        trigger.cancel();
    });

    assert_eq!(outcome.verdict, Verdict::Cancelled);
    tokio::time::timeout(Duration::from_secs(10), server.connection_closed())
        .await
        .unwrap();
}

#[tokio::test]
async fn dropping_the_probe_closes_its_connection() {
    let server = LocalServer::start(vec![Reply::Hang]).await;
    let spec = fast_spec(server.url("/")).build().unwrap();
    let prober = Prober::new().unwrap();

    tokio::select! {
        _ = prober.probe(&spec) => panic!("a hanging server cannot make the probe finish"),
        () = server.request_received() => {}
    }

    tokio::time::timeout(Duration::from_secs(10), server.connection_closed())
        .await
        .unwrap();
    assert_eq!(server.closed(), 1);
}
