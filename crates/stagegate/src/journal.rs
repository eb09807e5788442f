//! What a flow has changed so far, so that an interruption can say it.
//!
//! A flow that changes Coolify [`tracks`](Journal::track) itself with the command that runs it
//! again, notes each write before it is sent, and each deployment it started. When the process
//! is interrupted (Ctrl-C, SIGTERM, SIGHUP), the command line reads the journal to say whether
//! anything was changed, which deployment keeps running, and what to run next.

use std::sync::{Arc, Mutex, PoisonError};

use crate::config::EnvironmentName;

/// The writes of one invocation; clones share it.
#[derive(Debug, Clone, Default)]
pub struct Journal(Arc<Mutex<Entries>>);

/// What the journal holds at one moment.
#[derive(Debug, Clone, Default)]
pub struct Entries {
    /// Whether the running flow records its writes (flows that do not leave it unknown).
    pub tracked: bool,
    /// The arguments that run the flow again, e.g. `deploy production --tag v1.2.0`.
    pub rerun: Option<String>,
    /// The writes sent (or being sent), in order, e.g. `pin production to abc1234`.
    pub writes: Vec<String>,
    /// The deployments started, with their environment.
    pub deployments: Vec<(EnvironmentName, String)>,
    /// A deploy request sent and not answered yet (environment, app): Coolify may queue a
    /// deployment for it whatever happens to this process.
    pub deploy_requested: Option<(EnvironmentName, String)>,
    /// The release record's runs this flow started and has not settled yet.
    pub open_runs: Vec<release_record::RunRecord>,
}

impl Journal {
    fn entries(&self) -> std::sync::MutexGuard<'_, Entries> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The flow records its writes from now on; `rerun` is its command without the program.
    pub fn track(&self, rerun: impl Into<String>) {
        let mut entries = self.entries();
        entries.tracked = true;
        entries.rerun = Some(rerun.into());
    }

    /// A write is about to be sent.
    pub fn write(&self, what: impl Into<String>) {
        self.entries().writes.push(what.into());
    }

    /// A deploy request for `app` is about to be sent (`Some`), or was answered (`None`).
    pub fn deploy_request(&self, request: Option<(EnvironmentName, String)>) {
        self.entries().deploy_requested = request;
    }

    /// A deployment was started (or joined) on an environment.
    pub fn deployment(&self, environment: EnvironmentName, deployment: impl Into<String>) {
        self.entries()
            .deployments
            .push((environment, deployment.into()));
    }

    /// A run of the release record was started; it is open until [`Journal::run_settled`].
    pub fn run_started(&self, run: release_record::RunRecord) {
        self.entries().open_runs.push(run);
    }

    /// A run of the release record was settled.
    pub fn run_settled(&self, deployment: release_record::DeploymentId) {
        self.entries()
            .open_runs
            .retain(|run| run.deployment() != deployment);
    }

    /// A copy of what it holds now.
    pub fn snapshot(&self) -> Entries {
        self.entries().clone()
    }
}
