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

/// The README's examples compile for a user whose manifest has this crate and tokio: every
/// `use` names this crate, `std` or tokio (the doctests would also compile with the crate's
/// own dependencies, which such a user does not have).
#[test]
fn the_readme_imports_only_what_a_user_has() {
    let allowed = ["health_probe", "std", "tokio", "toml"];
    let readme = include_str!("../../README.md");
    let mut in_rust = false;
    let mut checked = 0;
    for line in readme.lines() {
        if line.starts_with("```") {
            in_rust = line.starts_with("```rust");
            continue;
        }
        let Some(path) = line.trim().strip_prefix("use ").filter(|_| in_rust) else {
            continue;
        };
        let root = path.split("::").next().unwrap_or_default();
        assert!(allowed.contains(&root), "README: `{line}` needs `{root}`");
        checked += 1;
    }
    assert!(checked > 0, "no example in the README");
}
