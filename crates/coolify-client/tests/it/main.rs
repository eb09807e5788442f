//! Integration tests of coolify-client: every endpoint against wiremock, TLS against a loopback
//! server with a certificate made in the test, and the client's paths against Coolify's OpenAPI
//! spec. The tests against the fake Coolify are in `tests/fake`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod calls;
mod endpoints;
mod images;
mod openapi;
mod pin;
mod retries;
mod secrets;
mod server;
#[cfg(feature = "rustls")]
mod tls;

/// What the public signatures name is reachable through this crate alone.
#[test]
fn foreign_types_of_the_public_api_are_re_exported() {
    let http: coolify_client::reqwest::Client = coolify_client::reqwest::Client::builder()
        .redirect(coolify_client::reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let token = coolify_client::secrecy::SecretString::from("1|token");
    let client = coolify_client::Client::builder("http://127.0.0.1:9", token)
        .http_client(http)
        .build()
        .unwrap();
    let api_base: &coolify_client::url::Url = client.api_base();
    assert_eq!(api_base.as_str(), "http://127.0.0.1:9/api/v1/");
    let extra: coolify_client::serde_json::Map<String, coolify_client::serde_json::Value> =
        serde_json::Map::new();
    assert!(extra.is_empty());
}

/// The README's examples compile for a user whose manifest has this crate and tokio: every
/// `use` names this crate, `std` or tokio (the doctests would also compile with the crate's
/// own dependencies, which such a user does not have).
#[test]
fn the_readme_imports_only_what_a_user_has() {
    let allowed = ["coolify_client", "std", "tokio"];
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
