//! Integration tests of coolify-client: every endpoint against wiremock, and the client's paths against Coolify's OpenAPI spec.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod calls;
mod cancel;
mod endpoints;
mod images;
mod openapi;
mod pacing;
mod pages;
mod pin;
mod previews;
mod retries;
mod secrets;
mod server;
mod watch;

/// What the public signatures name is reachable through this crate alone.
#[test]
fn foreign_types_of_the_public_api_are_re_exported() {
    let http: coolify_client::reqwest::Client = coolify_client::reqwest::Client::builder()
        .tls_backend_preconfigured(
            rustls::ClientConfig::builder_with_provider(std::sync::Arc::new(
                rustls::crypto::ring::default_provider(),
            ))
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(rustls::RootCertStore::empty())
            .with_no_client_auth(),
        )
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
