//! Many targets at once over one pool.

use std::sync::{Arc, Mutex};

use health_probe::tokio_util::sync::CancellationToken;
use health_probe::{Failure, Prober, ProgressEvent, Stop, Verdict};
use serde_json::json;
use wiremock::{Mock, MockServer, ResponseTemplate, matchers::path};

use crate::fast_spec;

async fn server(status: u16, commit: &str, expected_requests: u64) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(path("/healthz"))
        .respond_with(ResponseTemplate::new(status).set_body_json(json!({ "commit": commit })))
        .expect(expected_requests)
        .mount(&server)
        .await;
    server
}

#[tokio::test]
async fn outcomes_come_back_per_target_in_order() {
    let servers = [
        server(200, "new", 2).await,
        server(404, "new", 1).await,
        server(200, "new", 2).await,
    ];
    let specs = servers
        .iter()
        .map(|server| {
            fast_spec(format!("{}/healthz", server.uri()).parse().unwrap())
                .build()
                .unwrap()
        })
        .collect();
    let events = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::clone(&events);

    let outcomes = Prober::new()
        .unwrap()
        .probe_many(specs, 2, &CancellationToken::new(), move |index, event| {
            if let ProgressEvent::Finished { verdict, .. } = event {
                seen.lock().unwrap().push((index, verdict.clone()));
            }
        })
        .await;

    let verdicts: Vec<&Verdict> = outcomes.iter().map(|outcome| &outcome.verdict).collect();
    assert_eq!(
        verdicts,
        [
            &Verdict::Healthy,
            &Verdict::Unhealthy {
                reason: Failure::Status { status: 404 },
                stopped_by: Stop::FatalStatus
            },
            &Verdict::Healthy
        ]
    );
    for (outcome, server) in outcomes.iter().zip(&servers) {
        assert!(outcome.url.as_str().starts_with(&server.uri()));
    }
    let mut finished: Vec<usize> = events
        .lock()
        .unwrap()
        .iter()
        .map(|(index, _)| *index)
        .collect();
    finished.sort_unstable();
    assert_eq!(finished, [0, 1, 2]);
}

#[tokio::test]
async fn a_cancelled_fleet_reports_every_target_cancelled() {
    let servers = [server(503, "old", 0).await, server(503, "old", 0).await];
    let specs = servers
        .iter()
        .map(|server| {
            fast_spec(format!("{}/healthz", server.uri()).parse().unwrap())
                .build()
                .unwrap()
        })
        .collect();
    let cancel = CancellationToken::new();
    cancel.cancel();

    let outcomes = Prober::new()
        .unwrap()
        .probe_many(specs, 1, &cancel, |_, _| {})
        .await;

    assert_eq!(outcomes.len(), 2);
    assert!(
        outcomes
            .iter()
            .all(|outcome| outcome.verdict == Verdict::Cancelled)
    );
}
