//! Integration tests of the prober over real loopback HTTP: wiremock for plain answers, a small
//! scripted server for sequences, resets, hangs and redirects.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod fleet;
mod local;
mod server;
mod wire;

use std::time::Duration;

use health_probe::{Assertion, ProbeSpec, ProbeSpecBuilder};
use serde_json::json;
use url::Url;

/// A fast spec for real-clock tests: 20 ms apart, no jitter, a deadline far beyond what a
/// passing test needs, expecting `/commit == "new"`.
pub(crate) fn fast_spec(url: Url) -> ProbeSpecBuilder {
    ProbeSpec::builder(url)
        .interval(Duration::from_millis(20))
        .jitter(Duration::ZERO)
        .deadline(Duration::from_secs(30))
        .assertion(
            Assertion::json_equals("/commit", json!("new"))
                .unwrap()
                .identifying_version(),
        )
}
