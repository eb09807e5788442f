//! The stagegate flows: staged releases of services hosted on Coolify.
//!
//! Each command of `stagegate` is one public function here, taking a [`Session`] (where the
//! repository and config are, the environment, the output, how the user runs the command) and
//! typed options, and returning a typed report that serializes to the command's
//! `--format json` document. [`cli::run`] parses the command line and calls these, so the
//! scenario suite drives the very same code without a process, and a Rust workspace embeds the
//! whole command in its own `cargo xtask` with a three-line `main`:
//!
//! ```no_run
//! fn main() -> std::process::ExitCode {
//!     stagegate::cli::run(stagegate::Invocation::cargo_xtask())
//! }
//! ```
//!
//! The flows decide the order and gating of the steps; every rule about tags, notes, Coolify's
//! API and health lives in the crates they compose: `tag-policy`, `release-notes`,
//! `coolify-client` and `health-probe`.
//!
//! # Example
//!
//! ```no_run
//! use stagegate::{Session, deploy};
//!
//! # async fn run() -> anyhow::Result<()> {
//! let session = Session::from_process();
//! let report = deploy::staging(&session, &deploy::StagingOptions::head()).await?;
//! println!("staging serves {}", report.commit);
//! # Ok(())
//! # }
//! ```

pub mod cli;
mod commands;
mod config;
mod engine;
pub mod exit;
mod files;
mod health_endpoint;
mod journal;
mod legacy;
pub mod output;
mod process_env;
mod prompt;
mod repo;
mod session;

/// The release-commit rules of `build.rs`, tested with the crate.
#[cfg(test)]
#[path = "../build/release_commit.rs"]
mod release_commit;

#[cfg(feature = "demo")]
pub use crate::commands::demo;
pub use crate::commands::{
    backup, deploy, env, history, init, notes, preview, release, rollback, setup, status, workflows,
};
pub use crate::config::EnvironmentName;
pub use crate::exit::{BadInput, Exit, Refused};
pub use crate::process_env::ProcessEnv;
pub use crate::session::{DryRun, Invocation, Session};

/// Every flow's future is `Send`, so a library user can `tokio::spawn` it: this does not
/// compile otherwise.
#[allow(dead_code)]
fn flows_are_send(session: &Session) {
    fn send<T: Send>(_: &T) {}
    send(&deploy::staging(session, &deploy::StagingOptions::head()));
    send(&deploy::production(
        session,
        &deploy::ProductionOptions::tag("v1.0.0"),
    ));
    send(&rollback::rollback(
        session,
        &rollback::RollbackOptions::default(),
    ));
    send(&release::release(
        session,
        &release::ReleaseOptions::default(),
    ));
    send(&status::status(session));
    send(&history::history(
        session,
        &history::HistoryOptions::default(),
        history::HistoryFormat::Text,
    ));
    send(&env::diff(session, EnvironmentName::Staging));
    send(&env::sync(
        session,
        &env::SyncOptions::new(EnvironmentName::Staging),
    ));
    send(&backup::backup(
        session,
        &backup::BackupOptions {
            environment: EnvironmentName::Staging,
            output: None,
            values: backup::Values::Redacted,
        },
    ));
    send(&setup::setup(session, &setup::SetupOptions::default()));
    send(&init::init(session, &init::InitOptions::default()));
    send(&preview::deploy(
        session,
        &preview::DeployOptions::pull_request(1),
    ));
    send(&preview::remove(
        session,
        &preview::RemoveOptions::pull_request(1),
    ));
    send(&preview::list(session));
    #[cfg(feature = "demo")]
    send(&demo::demo(session, demo::Keep::No));
}
