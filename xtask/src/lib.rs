//! The stagegate flows: staged releases of services hosted on Coolify.
//!
//! Each command of `cargo xtask` is one public function here, taking a [`Session`] (where the
//! repository and config are, the environment, the output) and typed options, and returning a
//! typed report that serializes to the command's `--format json` document. `main.rs` only
//! parses the command line and calls these, so the scenario suite in `tests/` drives the very
//! same code without a process.
//!
//! The flows decide the order and gating of the steps; every rule about tags, notes, Coolify's
//! API and health lives in the crates they compose: `tag-policy`, `release-notes`,
//! `coolify-client` and `health-probe`.
//!
//! # Example
//!
//! ```no_run
//! use xtask::{Session, deploy};
//!
//! # async fn run() -> anyhow::Result<()> {
//! let session = Session::from_process();
//! let report = deploy::staging(&session, &deploy::StagingOptions::head()).await?;
//! println!("staging serves {}", report.commit);
//! # Ok(())
//! # }
//! ```

pub mod backup;
pub mod config;
pub mod demo;
pub mod deploy;
pub mod env;
pub mod environment;
pub mod exit;
pub mod notes;
pub mod output;
pub mod release;
pub mod repo;
pub mod rollback;
pub mod setup;
pub mod status;
pub mod workflows;

mod pipeline;
mod session;

pub use crate::exit::{BadInput, Exit, Refused};
pub use crate::session::{DryRun, Session};
