//! What one invocation runs in: the repository, the config, the environment and the output.

use std::path::PathBuf;

use anyhow::Context as _;

use crate::config::Config;
use crate::journal::Journal;
use crate::output::{Format, Output, Verbosity};
use crate::process_env::ProcessEnv;
use crate::repo::Repo;

/// Whether a command makes its writes or only prints them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum DryRun {
    /// Make every write.
    #[default]
    No,
    /// Do every read, print every write, make none.
    Yes,
}

impl DryRun {
    /// From the `--dry-run` flag.
    pub fn from_flag(flag: bool) -> Self {
        if flag { Self::Yes } else { Self::No }
    }

    /// Whether writes are only printed.
    pub fn is_dry(self) -> bool {
        self == Self::Yes
    }
}

/// How the user runs stagegate, so that every message names a command the way they type it:
/// `stagegate rollback` from the installed binary, `cargo xtask rollback` through a workspace's
/// alias.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Invocation(String);

impl Invocation {
    /// The installed `stagegate` binary.
    pub fn stagegate() -> Self {
        Self("stagegate".to_owned())
    }

    /// `cargo xtask`, in a workspace whose `xtask` package runs [`crate::cli::run`].
    pub fn cargo_xtask() -> Self {
        Self("cargo xtask".to_owned())
    }

    /// Any other way to run it, e.g. `cargo run -p ops --`.
    pub fn other(prefix: impl Into<String>) -> Self {
        Self(prefix.into())
    }

    /// The prefix, e.g. `cargo xtask`.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// A whole command line: `command("rollback --to v1.2.0")` is `stagegate rollback --to v1.2.0`.
    pub fn command(&self, arguments: impl std::fmt::Display) -> String {
        format!("{} {arguments}", self.0)
    }
}

impl Default for Invocation {
    fn default() -> Self {
        Self::stagegate()
    }
}

impl std::fmt::Display for Invocation {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str(&self.0)
    }
}

/// One invocation's context.
#[derive(Debug, Clone)]
pub struct Session {
    /// The process's environment variables (Coolify URL and token, CI, GitHub Actions).
    pub process_env: ProcessEnv,
    /// Where progress and results go.
    pub output: Output,
    /// `--repo`: the repository, or discovered from the current directory.
    pub repo: Option<PathBuf>,
    /// `--config`: the config file, or `deploy.toml` at the repository root.
    pub config: Option<PathBuf>,
    /// How the user runs stagegate (default `stagegate`).
    pub invocation: Invocation,
    /// What the flow changed so far, for the message of an interruption.
    pub journal: Journal,
}

impl Session {
    /// The current process's environment, text output to stdio, repository discovered.
    pub fn from_process() -> Self {
        let environment = ProcessEnv::from_process();
        let output = Output::stdio(Format::Text, Verbosity::Normal, &environment);
        Self::new(environment, output)
    }

    /// A session with this environment and output; repository and config discovered.
    pub fn new(process_env: ProcessEnv, output: Output) -> Self {
        Self {
            process_env,
            output,
            repo: None,
            config: None,
            invocation: Invocation::default(),
            journal: Journal::default(),
        }
    }

    /// The same session for the repository at `path`.
    #[must_use]
    pub fn with_repo(mut self, path: impl Into<PathBuf>) -> Self {
        self.repo = Some(path.into());
        self
    }

    /// The same session with the config at `path`.
    #[must_use]
    pub fn with_config(mut self, path: impl Into<PathBuf>) -> Self {
        self.config = Some(path.into());
        self
    }

    /// The same session, naming commands the way `invocation` runs them.
    #[must_use]
    pub fn with_invocation(mut self, invocation: Invocation) -> Self {
        self.invocation = invocation;
        self
    }

    /// Open the repository.
    ///
    /// # Errors
    ///
    /// [`crate::BadInput`] when there is no repository.
    pub(crate) fn open_repo(&self) -> anyhow::Result<Repo> {
        Repo::open(self.repo.as_deref())
    }

    /// Where the config is: `--config`, or `deploy.toml` at the repository root.
    pub(crate) fn config_path(&self, repo: &Repo) -> PathBuf {
        self.config
            .clone()
            .unwrap_or_else(|| Config::default_path(repo.root()))
    }

    /// Load the config.
    ///
    /// # Errors
    ///
    /// [`crate::BadInput`] naming the file, key and line.
    pub(crate) fn load_config(&self, repo: &Repo) -> anyhow::Result<Config> {
        let path = self.config_path(repo);
        Config::load(&path, &self.process_env).context("load the deploy config")
    }
}
