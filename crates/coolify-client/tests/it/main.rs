//! Integration tests of coolify-client: every endpoint against wiremock, the fake Coolify, and
//! the client's paths against Coolify's OpenAPI spec.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod calls;
mod endpoints;
#[cfg(feature = "testing")]
mod fake;
mod openapi;
mod retries;
