//! Integration tests of `release-notes` against fixture repositories.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod fixture;
mod markdown;
mod properties;
mod range;
