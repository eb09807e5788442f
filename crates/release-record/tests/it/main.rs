//! Integration tests of release-record against the fake GitHub of `github-fake`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod failures;
mod reading;
mod writing;

use std::time::Duration;

use github_fake::FakeGitHub;
use release_record::coolify_client::{ApplicationUuid, CommitSha};
use release_record::{App, Environment, RanBy, Recorder, RetryPolicy, Start};

/// A recorder for the fake, retrying quickly (3 retries from 100 ms, within 2 minutes).
pub fn recorder(github: &FakeGitHub) -> Recorder {
    Recorder::builder(github.repository().parse().unwrap(), github.token().into())
        .api_url(github.api_url())
        .retry_policy(
            RetryPolicy::default()
                .max_retries(3)
                .min_delay(Duration::from_millis(100))
                .max_delay(Duration::from_secs(1))
                .deadline(Duration::from_secs(120)),
        )
        .build()
        .unwrap()
}

/// A commit made of `seed` in hex, eight digits, five times.
pub fn commit(seed: u32) -> CommitSha {
    format!("{seed:08x}").repeat(5).parse().unwrap()
}

/// The web app.
pub fn web() -> ApplicationUuid {
    "vgsco4o4wc8w0ok8gwgk8w0o".parse().unwrap()
}

/// The worker app.
pub fn worker() -> ApplicationUuid {
    "w0rk3r4o4wc8w0ok8gwgk8w0".parse().unwrap()
}

/// A staging run of `commit` with the web app (health URL) and the worker.
pub fn staging(commit: CommitSha) -> Start {
    Start::new(
        Environment::persistent("staging").unwrap(),
        commit,
        RanBy::local("ann", "laptop"),
    )
    .app(App::new(web(), "web").health_url("https://staging.example.com/healthz".parse().unwrap()))
    .app(App::new(worker(), "worker"))
}

/// A production run of `commit` tagged `tag`, with the web app.
pub fn production(commit: CommitSha, tag: &str) -> Start {
    Start::new(
        Environment::production("production").unwrap(),
        commit,
        RanBy::local("ann", "laptop"),
    )
    .tag(tag)
    .unwrap()
    .app(App::new(web(), "web").health_url("https://example.com/healthz".parse().unwrap()))
}

/// What the public signatures name is reachable through this crate alone.
#[test]
fn foreign_types_of_the_public_api_are_re_exported() {
    let token = release_record::secrecy::SecretString::from("ghs_token");
    let recorder = Recorder::builder("acme/api".parse().unwrap(), token)
        .api_url("https://ghe.example.com/api/v3")
        .build()
        .unwrap();
    let url: &release_record::url::Url = recorder.graphql_url();
    assert_eq!(url.as_str(), "https://ghe.example.com/api/graphql");
    assert_eq!(
        recorder.api_url().as_str(),
        "https://ghe.example.com/api/v3/"
    );
    let _: Option<release_record::reqwest::Client> = None;
    let _: release_record::coolify_client::CommitSha = commit(1);
}
