//! Integration tests of `tag-policy`: fixture git repositories and property tests.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod fixture;
mod git;
mod properties;
