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

pub mod backup;
pub mod cli;
pub mod config;
#[cfg(feature = "demo")]
pub mod demo;
pub mod deploy;
pub mod env;
pub mod environment;
pub mod exit;
pub mod health_endpoint;
pub mod init;
pub mod journal;
pub mod legacy;
pub mod notes;
pub mod output;
pub mod prompt;
pub mod release;
pub mod repo;
pub mod rollback;
pub mod setup;
pub mod status;
pub mod workflows;

mod cost;
mod pipeline;
mod session;

pub use crate::exit::{BadInput, Exit, Refused};
pub use crate::session::{DryRun, Invocation, Session};
