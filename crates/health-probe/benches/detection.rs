//! Detection-latency benchmark: an endpoint flips from the old to the expected commit at a
//! random moment T; the probe must report healthy within success_threshold x (interval + 50 ms)
//! of T.
//!
//! Run: `cargo bench -p health-probe --bench detection`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::{Duration, Instant};

use health_probe::{Assertion, ProbeSpec, Prober, Verdict};
use serde_json::json;

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let mut all_met = true;
    for (interval, trials) in [
        (Duration::from_millis(200), 20u32),
        (Duration::from_secs(2), 4),
    ] {
        let threshold = 2u32;
        let bound = (interval + Duration::from_millis(50)) * threshold;
        let mut worst = Duration::ZERO;
        let mut total = Duration::ZERO;
        for trial in 0..trials {
            // Flip points spread over one interval, after a first interval of the old commit.
            let flip_after = interval + interval * trial / trials;
            let detection = runtime.block_on(trial_run(interval, threshold, flip_after));
            worst = worst.max(detection);
            total += detection;
        }
        let met = worst <= bound;
        all_met &= met;
        println!(
            "detection: interval {}, jitter {} (default), success threshold {threshold}, {trials} trials",
            common::millis(interval),
            common::millis(interval / 10)
        );
        println!("  mean after flip:  {}", common::millis(total / trials));
        println!("  worst after flip: {}", common::millis(worst));
        println!(
            "  bound:            {} ({})",
            common::millis(bound),
            if met { "met" } else { "MISSED" }
        );
    }
    if !all_met {
        std::process::exit(1);
    }
}

/// Returns how long after the flip the probe reported healthy.
async fn trial_run(interval: Duration, threshold: u32, flip_after: Duration) -> Duration {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/healthz", listener.local_addr().unwrap())
        .parse()
        .unwrap();
    let flip = Instant::now() + flip_after;
    let server = tokio::spawn(common::serve(listener, Some(flip)));
    let spec = ProbeSpec::builder(url)
        .interval(interval)
        .success_threshold(threshold)
        .deadline(Duration::from_secs(60))
        .assertion(Assertion::json_equals("/commit", json!("new")).unwrap())
        .build()
        .unwrap();
    let outcome = Prober::new().unwrap().probe(&spec).await;
    let detected = Instant::now();
    server.abort();
    assert_eq!(outcome.verdict, Verdict::Healthy, "{outcome:#?}");
    detected.saturating_duration_since(flip)
}
