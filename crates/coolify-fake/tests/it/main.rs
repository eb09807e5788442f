//! Integration tests of the fake Coolify, driven through `coolify-client` on a paused clock.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod fake;
mod images;
mod limits;
mod previews;
mod raw;
