//! End-to-end scenarios of the stagegate flows against the fake Coolify, real local health
//! servers and temporary git repositories. Each asserts the exit code, the message and the
//! requests each app received.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod action;
mod adopting;
mod apps;
mod config;
mod coolify;
mod fast_failure;
mod images;
mod new_team;
mod notes;
mod preview;
mod production;
mod record;
mod release;
mod rollback;
mod secrets;
mod staging;
mod waves;
