//! Integration tests of `tag-policy`: fixture git repositories and property tests.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[cfg(feature = "git")]
mod fixture;
#[cfg(feature = "git")]
mod git;
mod properties;
