//! Integration tests of coolify-client against the fake Coolify of the `coolify-fake` crate.
//!
//! Not packaged: `coolify-fake` depends on this crate, so it is a path-only dev-dependency that
//! the published manifest leaves out, and these tests live outside the published `tests/it`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../it/calls.rs"]
#[allow(dead_code)]
mod calls;
mod cancel;
mod images;
mod operations;
mod pacing;
mod pages;
mod previews;
#[path = "../it/server.rs"]
#[allow(dead_code)]
mod server;
mod watch;
