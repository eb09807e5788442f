//! Scenario tests of the operating commands (`setup`, `env`, `backup`, `workflows`) against
//! the fake Coolify of `coolify-client` on loopback, each in its own temporary repository.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod backup;
mod env;
mod setup;
mod support;
mod workflows;
