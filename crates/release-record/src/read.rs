//! What reading the record asks and answers: [`HistoryQuery`], [`History`], [`Skipped`].

use std::time::SystemTime;

use serde::Serialize;

use crate::{DeploymentId, Record};

/// Which records [`crate::Recorder::history`] reads: the environments, and from when.
///
/// ```
/// use std::time::{Duration, SystemTime};
/// use release_record::HistoryQuery;
///
/// let month_ago = SystemTime::now() - Duration::from_secs(30 * 86_400);
/// let query = HistoryQuery::new(["staging", "production"]).since(month_ago);
/// assert_eq!(query.environments(), ["staging", "production"]);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct HistoryQuery {
    pub(crate) environments: Vec<String>,
    pub(crate) since: Option<SystemTime>,
    pub(crate) limit: Option<usize>,
}

impl HistoryQuery {
    /// The records of these environments (every environment of the repository when empty).
    #[must_use]
    pub fn new<I, S>(environments: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Self {
            environments: environments.into_iter().map(Into::into).collect(),
            since: None,
            limit: None,
        }
    }

    /// Only runs that started at or after `since`; reading stops at the first older one.
    #[must_use]
    pub fn since(mut self, since: SystemTime) -> Self {
        self.since = Some(since);
        self
    }

    /// At most this many deployments are read (newest first), records and skipped together.
    #[must_use]
    pub fn limit(mut self, deployments: usize) -> Self {
        self.limit = Some(deployments);
        self
    }

    /// The environments asked for.
    #[must_use]
    pub fn environments(&self) -> &[String] {
        &self.environments
    }
}

/// Why a deployment read back is not a [`Record`].
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum SkipReason {
    /// Not written in this format: GitHub Actions' own deployment of a job with
    /// `environment:`, a deploy made with another tool or by hand.
    NotARecord,
    /// Written by a newer version of this format, which this version cannot read.
    NewerFormat {
        /// The payload's version.
        version: u64,
    },
    /// Says it is a record, but does not read as one.
    Malformed {
        /// What did not read.
        detail: String,
    },
}

/// A deployment of the environments read that is not a record of this format: what the record
/// cannot speak for (deploys made outside it).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct Skipped {
    deployment: DeploymentId,
    environment: String,
    creator: Option<String>,
    reason: SkipReason,
}

impl Skipped {
    pub(crate) fn new(
        deployment: DeploymentId,
        environment: String,
        creator: Option<String>,
        reason: SkipReason,
    ) -> Self {
        Self {
            deployment,
            environment,
            creator,
            reason,
        }
    }

    /// The GitHub deployment.
    #[must_use]
    pub fn deployment(&self) -> DeploymentId {
        self.deployment
    }

    /// Its environment.
    #[must_use]
    pub fn environment(&self) -> &str {
        &self.environment
    }

    /// The login that created it (`github-actions[bot]` for a job's own deployment).
    #[must_use]
    pub fn creator(&self) -> Option<&str> {
        self.creator.as_deref()
    }

    /// Why it is not a record.
    #[must_use]
    pub fn reason(&self) -> &SkipReason {
        &self.reason
    }
}

/// The records of [`crate::Recorder::history`], newest first, with what was skipped.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct History {
    pub(crate) records: Vec<Record>,
    pub(crate) skipped: Vec<Skipped>,
    pub(crate) complete: bool,
    pub(crate) requests: u32,
}

impl History {
    /// The records, newest first.
    #[must_use]
    pub fn records(&self) -> &[Record] {
        &self.records
    }

    /// The records, newest first, owned.
    #[must_use]
    pub fn into_records(self) -> Vec<Record> {
        self.records
    }

    /// The deployments read that are not records.
    #[must_use]
    pub fn skipped(&self) -> &[Skipped] {
        &self.skipped
    }

    /// Whether every deployment of the window was read (`false` when the limit cut it short).
    #[must_use]
    pub fn complete(&self) -> bool {
        self.complete
    }

    /// How many requests reading took, retries included.
    #[must_use]
    pub fn requests(&self) -> u32 {
        self.requests
    }
}
