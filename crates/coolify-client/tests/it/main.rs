//! Integration tests of coolify-client: every endpoint against wiremock, and the client's paths against Coolify's OpenAPI spec.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod calls;
mod endpoints;
mod openapi;
mod retries;
mod server;
