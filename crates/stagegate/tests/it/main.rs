//! Scenario tests of the operating commands (`setup`, `env`, `backup`, `workflows`) against
//! the fake Coolify of `coolify-client` on loopback, each in its own temporary repository;
//! and `stagegate` through its built binary (`CARGO_BIN_EXE_stagegate`): exit codes, `--format
//! json`, signals, what CI logs show, and the adoption guide run command by command, with the
//! scenario harness of the `stagegate-tests` library (a dev-dependency).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod adopting;
mod apps;
mod backup;
mod binary;
mod env;
mod public_api;
mod setup;
mod support;
mod workflows;
