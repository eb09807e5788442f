//! What is read back: a [`Record`] per run, with its apps, outcomes and probe.

use coolify_client::{ApplicationUuid, CommitSha, DeploymentUuid, Timestamp};
use serde::Serialize;
use url::Url;

use crate::DeploymentId;
use crate::model::{App, Environment, Gate, Outcome, Purpose, RanBy, ReleaseRef};

/// One application of a [`Record`], with what was learnt about it while the run went on.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct AppRecord {
    #[serde(flatten)]
    app: App,
    coolify_deployment: Option<DeploymentUuid>,
    deployment_started_at: Option<Timestamp>,
    deployment_finished_at: Option<Timestamp>,
}

impl AppRecord {
    pub(crate) fn from_app(app: App) -> Self {
        Self {
            app,
            coolify_deployment: None,
            deployment_started_at: None,
            deployment_finished_at: None,
        }
    }

    pub(crate) fn deployment_started(&mut self, deployment: DeploymentUuid, at: Timestamp) {
        self.coolify_deployment = Some(deployment);
        self.deployment_started_at = Some(at);
    }

    pub(crate) fn deployment_finished(&mut self, at: Timestamp) {
        self.deployment_finished_at = Some(at);
    }

    /// The application as the run started with it: uuid, label, health URL.
    #[must_use]
    pub fn app(&self) -> &App {
        &self.app
    }

    /// The Coolify deployment of this run, once it was known.
    #[must_use]
    pub fn coolify_deployment(&self) -> Option<&DeploymentUuid> {
        self.coolify_deployment.as_ref()
    }

    /// When the Coolify deployment was recorded as started.
    #[must_use]
    pub fn deployment_started_at(&self) -> Option<&Timestamp> {
        self.deployment_started_at.as_ref()
    }

    /// When the Coolify deployment was recorded as finished.
    #[must_use]
    pub fn deployment_finished_at(&self) -> Option<&Timestamp> {
        self.deployment_finished_at.as_ref()
    }
}

/// One outcome a run recorded, in order: a run that failed verification and was then rolled
/// back has two.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct OutcomeEntry {
    outcome: Outcome,
    at: Timestamp,
    evidence: String,
}

impl OutcomeEntry {
    pub(crate) fn new(outcome: Outcome, at: Timestamp, evidence: String) -> Self {
        Self {
            outcome,
            at,
            evidence,
        }
    }

    /// The outcome.
    #[must_use]
    pub fn outcome(&self) -> Outcome {
        self.outcome
    }

    /// When it was recorded (GitHub's time of the status).
    #[must_use]
    pub fn at(&self) -> &Timestamp {
        &self.at
    }

    /// The evidence, one line.
    #[must_use]
    pub fn evidence(&self) -> &str {
        &self.evidence
    }
}

/// What probed a run: the health URL of the app the evidence is about, and the evidence.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct Probe {
    url: Option<Url>,
    evidence: String,
}

impl Probe {
    /// The health URL, when the app has one.
    #[must_use]
    pub fn url(&self) -> Option<&Url> {
        self.url.as_ref()
    }

    /// The last evidence, one line.
    #[must_use]
    pub fn evidence(&self) -> &str {
        &self.evidence
    }
}

/// One run of a release on one environment, read back from GitHub.
///
/// It serializes to JSON with every field (`--format json` output of a tool that lists them).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Record {
    pub(crate) deployment: DeploymentId,
    pub(crate) environment: Environment,
    pub(crate) commit: CommitSha,
    pub(crate) tag: Option<String>,
    pub(crate) apps: Vec<AppRecord>,
    pub(crate) outcome: Outcome,
    pub(crate) purpose: Purpose,
    pub(crate) ran_by: RanBy,
    pub(crate) gate: Option<Gate>,
    pub(crate) creator: Option<String>,
    pub(crate) started_at: Timestamp,
    pub(crate) deployed_at: Option<Timestamp>,
    pub(crate) settled_at: Option<Timestamp>,
    pub(crate) inactive_at: Option<Timestamp>,
    pub(crate) probe: Option<Probe>,
    pub(crate) rolled_back_to: Option<ReleaseRef>,
    pub(crate) superseded_by: Option<CommitSha>,
    pub(crate) outcomes: Vec<OutcomeEntry>,
}

impl Record {
    /// The GitHub deployment that holds it.
    #[must_use]
    pub fn deployment(&self) -> DeploymentId {
        self.deployment
    }

    /// The environment.
    #[must_use]
    pub fn environment(&self) -> &Environment {
        &self.environment
    }

    /// The full commit.
    #[must_use]
    pub fn commit(&self) -> &CommitSha {
        &self.commit
    }

    /// The release tag, if any.
    #[must_use]
    pub fn tag(&self) -> Option<&str> {
        self.tag.as_deref()
    }

    /// The release (commit and tag).
    #[must_use]
    pub fn release(&self) -> ReleaseRef {
        ReleaseRef {
            commit: self.commit.clone(),
            tag: self.tag.clone(),
        }
    }

    /// The applications, in the order the run listed them.
    #[must_use]
    pub fn apps(&self) -> &[AppRecord] {
        &self.apps
    }

    /// Whether the run deployed this application.
    #[must_use]
    pub fn covers(&self, app: &ApplicationUuid) -> bool {
        self.apps.iter().any(|record| record.app.uuid() == app)
    }

    /// The newest outcome: a later `rolled_back` wins over the `failed_verification` before it,
    /// and GitHub retiring the deployment (`inactive` after a newer success) changes nothing.
    #[must_use]
    pub fn outcome(&self) -> Outcome {
        self.outcome
    }

    /// Every outcome recorded, oldest first.
    #[must_use]
    pub fn outcomes(&self) -> &[OutcomeEntry] {
        &self.outcomes
    }

    /// Why the run deployed.
    #[must_use]
    pub fn purpose(&self) -> &Purpose {
        &self.purpose
    }

    /// Who ran it, and where.
    #[must_use]
    pub fn ran_by(&self) -> &RanBy {
        &self.ran_by
    }

    /// What the run relied on to deploy the commit, when it recorded one (a production release
    /// records its staging gate; a run of an older writer, none).
    #[must_use]
    pub fn gate(&self) -> Option<&Gate> {
        self.gate.as_ref()
    }

    /// The GitHub login that wrote the record (the token's user or app).
    #[must_use]
    pub fn creator(&self) -> Option<&str> {
        self.creator.as_deref()
    }

    /// When it started (GitHub's creation time of the deployment).
    #[must_use]
    pub fn started_at(&self) -> &Timestamp {
        &self.started_at
    }

    /// When every app's Coolify deployment had finished, once they all did.
    #[must_use]
    pub fn deployed_at(&self) -> Option<&Timestamp> {
        self.deployed_at.as_ref()
    }

    /// When it first settled (verified, or failed).
    #[must_use]
    pub fn settled_at(&self) -> Option<&Timestamp> {
        self.settled_at.as_ref()
    }

    /// When GitHub (or a later run) marked the deployment inactive: it no longer runs there.
    #[must_use]
    pub fn inactive_at(&self) -> Option<&Timestamp> {
        self.inactive_at.as_ref()
    }

    /// What probed it, and the last evidence.
    #[must_use]
    pub fn probe(&self) -> Option<&Probe> {
        self.probe.as_ref()
    }

    /// For a rolled back run, the release the environment went back to.
    #[must_use]
    pub fn rolled_back_to(&self) -> Option<&ReleaseRef> {
        self.rolled_back_to.as_ref()
    }

    /// For a superseded run, the commit that took over, when known.
    #[must_use]
    pub fn superseded_by(&self) -> Option<&CommitSha> {
        self.superseded_by.as_ref()
    }

    pub(crate) fn settle(&mut self, outcome: Outcome, at: Timestamp, evidence: String) {
        if self.settled_at.is_none() {
            self.settled_at = Some(at.clone());
        }
        self.outcome = outcome;
        self.outcomes.push(OutcomeEntry::new(outcome, at, evidence));
    }

    pub(crate) fn set_probe(&mut self, app: Option<&ApplicationUuid>, evidence: String) {
        let health_url = |record: &AppRecord| record.app.probe_url().cloned();
        let url = app
            .and_then(|app| self.apps.iter().find(|record| record.app.uuid() == app))
            .and_then(health_url)
            .or_else(|| self.apps.iter().find_map(health_url));
        self.probe = Some(Probe { url, evidence });
    }
}

/// Of `records` (newest first, as [`crate::Recorder::outcomes_of_commit`] returns them), the
/// newest one that covers `app` and settled, by the time it settled. A later
/// `failed_verification` of the same commit wins over an earlier `verified`, and a failure wins
/// a tie (GitHub's times have whole seconds). A gate asks [`verdict`], which also weighs the
/// runs that never settled.
#[must_use]
pub fn newest_settled<'a>(records: &'a [Record], app: &ApplicationUuid) -> Option<&'a Record> {
    newest_by_settling(records, app, |outcome| outcome != Outcome::InProgress)
}

fn newest_by_settling<'a>(
    records: &'a [Record],
    app: &ApplicationUuid,
    counts: impl Fn(Outcome) -> bool,
) -> Option<&'a Record> {
    records
        .iter()
        .filter(|record| record.covers(app) && counts(record.outcome))
        .max_by(|left, right| {
            let key = |record: &Record| {
                record
                    .outcomes
                    .last()
                    .and_then(|entry| entry.at.system_time())
            };
            key(left)
                .cmp(&key(right))
                .then(left.outcome.is_failure().cmp(&right.outcome.is_failure()))
                .then(left.deployment.cmp(&right.deployment))
        })
}

/// What the record says of a commit for one app, as a gate must read it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Verdict<'a> {
    /// The newest run that reached a verdict verified the commit, and no run started after it
    /// is without one.
    Verified(&'a Record),
    /// The newest run that reached a verdict failed (a failure wins a tie).
    Failed(&'a Record),
    /// The record cannot tell: no run reached a verdict, or a run started after the last
    /// verification has none (still in progress, cancelled, superseded, or its verdict was
    /// never written), and it may have failed. `newest` is the newest run of the app.
    Unknown {
        /// The newest run of the commit for the app, if any.
        newest: Option<&'a Record>,
    },
}

/// What a gate relies on for `app`: the newest verdict (`verified` or a failure) of the runs
/// in `records` (every run of one commit on one environment), unless a run started after a
/// verification never reached one. A failure stands whatever came after it without a verdict.
#[must_use]
pub fn verdict<'a>(records: &'a [Record], app: &ApplicationUuid) -> Verdict<'a> {
    let newest = records
        .iter()
        .filter(|record| record.covers(app))
        .max_by_key(|record| record.deployment);
    let decided = newest_by_settling(records, app, |outcome| {
        outcome == Outcome::Verified || outcome.is_failure()
    });
    match decided {
        Some(run) if run.outcome.is_failure() => Verdict::Failed(run),
        Some(run)
            if !records.iter().any(|later| {
                later.covers(app)
                    && later.deployment > run.deployment
                    && !(later.outcome == Outcome::Verified || later.outcome.is_failure())
            }) =>
        {
            Verdict::Verified(run)
        }
        _ => Verdict::Unknown { newest },
    }
}
