//! The record's value types: what a run is about (the input of [`crate::Recorder::start`]) and
//! what is read back ([`Record`]).

use std::fmt;
use std::str::FromStr;

use coolify_client::{ApplicationUuid, CommitSha};
use serde::{Deserialize, Serialize};
use url::Url;

use crate::Error;

/// A GitHub deployment's id (its database id, which the REST paths use).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct DeploymentId(u64);

impl DeploymentId {
    /// The id GitHub gave the deployment.
    #[must_use]
    pub fn new(id: u64) -> Self {
        Self(id)
    }

    /// The number.
    #[must_use]
    pub fn get(self) -> u64 {
        self.0
    }
}

impl fmt::Display for DeploymentId {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "{}", self.0)
    }
}

impl FromStr for DeploymentId {
    type Err = Error;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        text.trim()
            .parse()
            .map(Self)
            .map_err(|_| invalid("deployment id", text, "a GitHub deployment id is a number"))
    }
}

/// A repository on GitHub, `owner/name` as `GITHUB_REPOSITORY` spells it.
///
/// ```
/// let repository: release_record::Repository = "acme/api".parse()?;
/// assert_eq!((repository.owner(), repository.name()), ("acme", "api"));
/// assert!("acme".parse::<release_record::Repository>().is_err());
/// # Ok::<(), release_record::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Repository {
    owner: String,
    name: String,
}

impl Repository {
    /// A repository from its owner and name.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidInput`] when either part is empty, too long, or holds characters GitHub
    /// does not allow there (the owner: letters, digits and `-`; the name: also `.` and `_`).
    pub fn new(owner: impl Into<String>, name: impl Into<String>) -> Result<Self, Error> {
        let (owner, name) = (owner.into(), name.into());
        let shown = format!("{owner}/{name}");
        let owner_ok = !owner.is_empty()
            && owner.len() <= 39
            && owner
                .chars()
                .all(|character| character.is_ascii_alphanumeric() || character == '-');
        let name_ok = !name.is_empty()
            && name.len() <= 100
            && name != "."
            && name != ".."
            && name.chars().all(|character| {
                character.is_ascii_alphanumeric() || matches!(character, '-' | '_' | '.')
            });
        if !owner_ok || !name_ok {
            return Err(invalid(
                "repository",
                &shown,
                "use owner/name as GitHub shows it, for example acme/api",
            ));
        }
        Ok(Self { owner, name })
    }

    /// The owner (a user or an organization).
    #[must_use]
    pub fn owner(&self) -> &str {
        &self.owner
    }

    /// The repository's name.
    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }
}

impl fmt::Display for Repository {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "{}/{}", self.owner, self.name)
    }
}

impl FromStr for Repository {
    type Err = Error;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text.trim().split_once('/') {
            Some((owner, name)) => Self::new(owner, name),
            None => Err(invalid(
                "repository",
                text,
                "use owner/name as GitHub shows it, for example acme/api",
            )),
        }
    }
}

impl TryFrom<String> for Repository {
    type Error = Error;

    fn try_from(text: String) -> Result<Self, Self::Error> {
        text.parse()
    }
}

impl From<Repository> for String {
    fn from(repository: Repository) -> Self {
        repository.to_string()
    }
}

/// What kind of environment a record is about; GitHub shows production and transient
/// environments differently, and retires earlier persistent deployments on a new success.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum EnvironmentKind {
    /// Where users are served (`production_environment: true`).
    Production,
    /// An environment that stays, such as staging.
    Persistent,
    /// An environment that goes away, such as a pull request's preview
    /// (`transient_environment: true`).
    Transient,
}

impl EnvironmentKind {
    /// `production`, `persistent` or `transient`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Production => "production",
            Self::Persistent => "persistent",
            Self::Transient => "transient",
        }
    }
}

/// An environment: its name in GitHub (`staging`, `production`, `pr-17`) and its kind.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct Environment {
    name: String,
    kind: EnvironmentKind,
}

impl Environment {
    /// An environment of this name and kind.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidInput`] when the name is empty, longer than 255 characters, starts or
    /// ends with a space, or holds a control character.
    pub fn new(name: impl Into<String>, kind: EnvironmentKind) -> Result<Self, Error> {
        let name = name.into();
        if name.is_empty()
            || name.chars().count() > 255
            || name.trim() != name
            || name.chars().any(char::is_control)
        {
            return Err(invalid(
                "environment name",
                &name,
                "use a name of 1 to 255 characters without control characters, such as staging",
            ));
        }
        Ok(Self { name, kind })
    }

    /// A production environment.
    ///
    /// # Errors
    ///
    /// As [`Environment::new`].
    pub fn production(name: impl Into<String>) -> Result<Self, Error> {
        Self::new(name, EnvironmentKind::Production)
    }

    /// A persistent non-production environment, such as staging.
    ///
    /// # Errors
    ///
    /// As [`Environment::new`].
    pub fn persistent(name: impl Into<String>) -> Result<Self, Error> {
        Self::new(name, EnvironmentKind::Persistent)
    }

    /// A transient environment, such as `pr-17`.
    ///
    /// # Errors
    ///
    /// As [`Environment::new`].
    pub fn transient(name: impl Into<String>) -> Result<Self, Error> {
        Self::new(name, EnvironmentKind::Transient)
    }

    /// The name.
    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The kind.
    #[must_use]
    pub fn kind(&self) -> EnvironmentKind {
        self.kind
    }
}

impl fmt::Display for Environment {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(&self.name)
    }
}

/// A release tag, as it is recorded: no whitespace, no `:` and at most 100 characters (git
/// allows neither in a tag name).
pub(crate) fn check_tag(tag: &str) -> Result<(), Error> {
    if tag.is_empty()
        || tag.chars().count() > 100
        || tag.chars().any(|character| {
            character.is_whitespace() || character.is_control() || character == ':'
        })
    {
        return Err(invalid(
            "tag",
            tag,
            "a tag is 1 to 100 characters without spaces or `:`, such as v1.2.0",
        ));
    }
    Ok(())
}

/// A release by its commit, and its tag when it has one.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ReleaseRef {
    pub(crate) commit: CommitSha,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) tag: Option<String>,
}

impl ReleaseRef {
    /// A release of this commit, without a tag.
    #[must_use]
    pub fn commit(commit: CommitSha) -> Self {
        Self { commit, tag: None }
    }

    /// A release of this commit under this tag.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidInput`] when the tag holds whitespace or `:`, or is empty or too long.
    pub fn tagged(commit: CommitSha, tag: impl Into<String>) -> Result<Self, Error> {
        let tag = tag.into();
        check_tag(&tag)?;
        Ok(Self {
            commit,
            tag: Some(tag),
        })
    }

    /// The commit.
    #[must_use]
    pub fn commit_sha(&self) -> &CommitSha {
        &self.commit
    }

    /// The tag, if the release has one.
    #[must_use]
    pub fn tag(&self) -> Option<&str> {
        self.tag.as_deref()
    }
}

impl fmt::Display for ReleaseRef {
    /// `v1.2.0 (9579fc7)`, or `9579fc7` without a tag.
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.tag {
            Some(tag) => write!(formatter, "{tag} ({})", self.commit.short()),
            None => formatter.write_str(self.commit.short()),
        }
    }
}

/// Why a run deployed what it deployed.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Purpose {
    /// A release moving forward (a deploy of staging or production).
    Release,
    /// A rollback someone asked for, away from the release running before.
    Rollback {
        /// The release that ran before, when known.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        from: Option<ReleaseRef>,
    },
    /// The automatic redeploy of the previous release after `after` failed: a restore, not a
    /// release of its own.
    Restore {
        /// The release that failed.
        after: ReleaseRef,
    },
}

/// Who ran a run, and where.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum RanBy {
    /// A GitHub Actions workflow run.
    GithubActions {
        /// The user who started the run (`GITHUB_ACTOR`).
        actor: String,
        /// The run's page, with its attempt when it is not the first.
        run_url: Url,
    },
    /// A person on a machine.
    Local {
        /// The user name.
        user: String,
        /// The host name.
        host: String,
    },
}

impl RanBy {
    /// A person on a machine.
    #[must_use]
    pub fn local(user: impl Into<String>, host: impl Into<String>) -> Self {
        Self::Local {
            user: user.into(),
            host: host.into(),
        }
    }

    /// A GitHub Actions run, from the variables Actions sets, looked up through `variable`
    /// (the caller decides where they come from; this crate never reads the process
    /// environment): `GITHUB_ACTOR`, `GITHUB_SERVER_URL`, `GITHUB_REPOSITORY`, `GITHUB_RUN_ID`
    /// and `GITHUB_RUN_ATTEMPT`. `None` unless `GITHUB_ACTIONS` is `true` and the first four
    /// are set and valid.
    ///
    /// ```
    /// use release_record::RanBy;
    ///
    /// let variables = [
    ///     ("GITHUB_ACTIONS", "true"),
    ///     ("GITHUB_ACTOR", "octocat"),
    ///     ("GITHUB_SERVER_URL", "https://github.com"),
    ///     ("GITHUB_REPOSITORY", "acme/api"),
    ///     ("GITHUB_RUN_ID", "4711"),
    ///     ("GITHUB_RUN_ATTEMPT", "2"),
    /// ];
    /// let lookup = |name: &str| {
    ///     variables.iter().find(|(key, _)| *key == name).map(|(_, value)| value.to_string())
    /// };
    /// let Some(RanBy::GithubActions { actor, run_url }) = RanBy::github_actions(lookup) else {
    ///     panic!("a GitHub Actions run");
    /// };
    /// assert_eq!(actor, "octocat");
    /// assert_eq!(run_url.as_str(), "https://github.com/acme/api/actions/runs/4711/attempts/2");
    /// ```
    pub fn github_actions(variable: impl Fn(&str) -> Option<String>) -> Option<Self> {
        if variable("GITHUB_ACTIONS").as_deref() != Some("true") {
            return None;
        }
        let actor = variable("GITHUB_ACTOR").filter(|actor| !actor.trim().is_empty())?;
        let server = variable("GITHUB_SERVER_URL")?;
        let repository: Repository = variable("GITHUB_REPOSITORY")?.parse().ok()?;
        let run: u64 = variable("GITHUB_RUN_ID")?.trim().parse().ok()?;
        let mut run_url = Url::parse(server.trim()).ok()?;
        let attempt = variable("GITHUB_RUN_ATTEMPT")
            .and_then(|attempt| attempt.trim().parse::<u32>().ok())
            .filter(|attempt| *attempt > 1);
        {
            let mut segments = run_url.path_segments_mut().ok()?;
            segments.pop_if_empty().extend([
                repository.owner(),
                repository.name(),
                "actions",
                "runs",
                &run.to_string(),
            ]);
            if let Some(attempt) = attempt {
                segments.extend(["attempts", &attempt.to_string()]);
            }
        }
        Some(Self::GithubActions {
            actor: actor.trim().to_owned(),
            run_url,
        })
    }

    /// The run's page, for a GitHub Actions run.
    #[must_use]
    pub fn run_url(&self) -> Option<&Url> {
        match self {
            Self::GithubActions { run_url, .. } => Some(run_url),
            Self::Local { .. } => None,
        }
    }
}

impl fmt::Display for RanBy {
    /// `octocat in https://github.com/acme/api/actions/runs/4711` or `ann on laptop`.
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::GithubActions { actor, run_url } => write!(formatter, "{actor} in {run_url}"),
            Self::Local { user, host } => write!(formatter, "{user} on {host}"),
        }
    }
}

/// One application of the environment a run deploys.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct App {
    uuid: ApplicationUuid,
    label: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    health_url: Option<Url>,
}

impl App {
    /// An application by its Coolify uuid and the label messages use for it (`web`).
    #[must_use]
    pub fn new(uuid: ApplicationUuid, label: impl Into<String>) -> Self {
        let label = label.into();
        let label = one_line(&label);
        Self {
            uuid,
            label,
            health_url: None,
        }
    }

    /// The health endpoint that proves which version answers.
    #[must_use]
    pub fn health_url(mut self, url: Url) -> Self {
        self.health_url = Some(url);
        self
    }

    /// The Coolify uuid.
    #[must_use]
    pub fn uuid(&self) -> &ApplicationUuid {
        &self.uuid
    }

    /// The label.
    #[must_use]
    pub fn label(&self) -> &str {
        &self.label
    }

    /// The health endpoint, if it has one.
    #[must_use]
    pub fn probe_url(&self) -> Option<&Url> {
        self.health_url.as_ref()
    }
}

/// What a run relied on to deploy its commit: the gate it passed on the way, as the run saw it.
///
/// ```
/// use release_record::{Gate, GateKind};
///
/// let gate = Gate::recorded("verified on staging 2026-12-06 12:03 UTC by octocat");
/// assert_eq!(gate.kind(), GateKind::Recorded);
/// assert_eq!(Gate::skipped("--skip-staging-gate").kind(), GateKind::Skipped);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Gate {
    kind: GateKind,
    detail: String,
}

/// The kinds of [`Gate`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum GateKind {
    /// The record said the commit was verified on the environment before.
    Recorded,
    /// A live check: the environment before runs the commit and proves it now.
    Live,
    /// No proof: whoever ran it skipped the gate.
    Skipped,
}

impl Gate {
    fn new(kind: GateKind, detail: &str) -> Self {
        Self {
            kind,
            detail: one_line(detail),
        }
    }

    /// The record proved the commit (`verified on staging … by …`).
    #[must_use]
    pub fn recorded(detail: &str) -> Self {
        Self::new(GateKind::Recorded, detail)
    }

    /// A live check proved the commit, and why the record could not.
    #[must_use]
    pub fn live(detail: &str) -> Self {
        Self::new(GateKind::Live, detail)
    }

    /// The gate was skipped, and how (`--skip-staging-gate`).
    #[must_use]
    pub fn skipped(detail: &str) -> Self {
        Self::new(GateKind::Skipped, detail)
    }

    /// Which kind of proof it was.
    #[must_use]
    pub fn kind(&self) -> GateKind {
        self.kind
    }

    /// What it relied on, in one line.
    #[must_use]
    pub fn detail(&self) -> &str {
        &self.detail
    }
}

/// What a run is about, known when it starts: the input of [`crate::Recorder::start`].
///
/// ```
/// use release_record::{App, Environment, Purpose, RanBy, Start};
///
/// let start = Start::new(
///     Environment::production("production")?,
///     "9579fc7e0b7d3a5f6c8e9d0a1b2c3d4e5f6a7b8c".parse()?,
///     RanBy::local("ann", "laptop"),
/// )
/// .tag("v1.2.0")?
/// .app(App::new("vgsco4o4wc8w0ok8gwgk8w0o".parse()?, "web"))
/// .purpose(Purpose::Release);
/// assert_eq!(start.description(), "v1.2.0 (9579fc7) to production by ann on laptop");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Start {
    pub(crate) environment: Environment,
    pub(crate) commit: CommitSha,
    pub(crate) tag: Option<String>,
    pub(crate) apps: Vec<App>,
    pub(crate) purpose: Purpose,
    pub(crate) ran_by: RanBy,
    pub(crate) environment_url: Option<Url>,
    pub(crate) gate: Option<Gate>,
}

impl Start {
    /// A release of `commit` to `environment`, run by `ran_by`, without apps yet.
    #[must_use]
    pub fn new(environment: Environment, commit: CommitSha, ran_by: RanBy) -> Self {
        Self {
            environment,
            commit,
            tag: None,
            apps: Vec::new(),
            purpose: Purpose::Release,
            ran_by,
            environment_url: None,
            gate: None,
        }
    }

    /// The release tag of the commit.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidInput`] when the tag holds whitespace or `:`, or is empty or too long.
    pub fn tag(mut self, tag: impl Into<String>) -> Result<Self, Error> {
        let tag = tag.into();
        check_tag(&tag)?;
        self.tag = Some(tag);
        Ok(self)
    }

    /// One more application the run deploys.
    #[must_use]
    pub fn app(mut self, app: App) -> Self {
        self.apps.push(app);
        self
    }

    /// Why it deploys (default [`Purpose::Release`]).
    #[must_use]
    pub fn purpose(mut self, purpose: Purpose) -> Self {
        self.purpose = purpose;
        self
    }

    /// Where people open the environment: GitHub's "View deployment" link (for a preview, its
    /// URL). Without it, the first app's health URL is used.
    #[must_use]
    pub fn environment_url(mut self, url: Url) -> Self {
        self.environment_url = Some(url);
        self
    }

    /// What the run relied on to deploy the commit: the gate it passed, or that it skipped one.
    #[must_use]
    pub fn gate(mut self, gate: Gate) -> Self {
        self.gate = Some(gate);
        self
    }

    /// The deployment's description in GitHub (at most 140 characters):
    /// `v1.2.0 (9579fc7) to production by ann on laptop`.
    #[must_use]
    pub fn description(&self) -> String {
        crate::encoding::truncate(&self.full_description(), crate::encoding::DESCRIPTION_LIMIT)
    }

    /// [`Start::description`] before it is cut to length.
    pub(crate) fn full_description(&self) -> String {
        let release = self.release();
        let who = match &self.ran_by {
            RanBy::GithubActions { actor, .. } => actor.clone(),
            RanBy::Local { user, host } => format!("{user} on {host}"),
        };
        let verb = match &self.purpose {
            Purpose::Release => "",
            Purpose::Rollback { .. } => "rollback: ",
            Purpose::Restore { .. } => "restore: ",
        };
        format!("{verb}{release} to {} by {who}", self.environment.name())
    }

    /// The release this run deploys.
    #[must_use]
    pub fn release(&self) -> ReleaseRef {
        ReleaseRef {
            commit: self.commit.clone(),
            tag: self.tag.clone(),
        }
    }

    /// The URL statuses carry as `environment_url`.
    pub(crate) fn shown_url(&self) -> Option<Url> {
        self.environment_url
            .clone()
            .or_else(|| self.apps.iter().find_map(|app| app.health_url.clone()))
    }
}

/// What a run established: the outcome codes of the record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Outcome {
    /// The run has not settled (yet): it is running, or it stopped without recording an end.
    InProgress,
    /// Every app runs the commit and its health check proved it.
    Verified,
    /// Coolify deployed it, but a health check did not prove it.
    FailedVerification,
    /// Coolify's deployment of an app failed (or never started).
    FailedInCoolify,
    /// It failed and the environment was put back on an earlier release.
    RolledBack,
    /// A newer deployment of the environment took over before this one settled.
    Superseded,
    /// The run was interrupted or cancelled before it settled.
    Cancelled,
}

impl Outcome {
    /// Every outcome, in declaration order.
    pub const ALL: [Self; 7] = [
        Self::InProgress,
        Self::Verified,
        Self::FailedVerification,
        Self::FailedInCoolify,
        Self::RolledBack,
        Self::Superseded,
        Self::Cancelled,
    ];

    /// The code: `in_progress`, `verified`, `failed_verification`, `failed_in_coolify`,
    /// `rolled_back`, `superseded`, `cancelled`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InProgress => "in_progress",
            Self::Verified => "verified",
            Self::FailedVerification => "failed_verification",
            Self::FailedInCoolify => "failed_in_coolify",
            Self::RolledBack => "rolled_back",
            Self::Superseded => "superseded",
            Self::Cancelled => "cancelled",
        }
    }

    /// Whether the run failed: it failed verification or in Coolify, or was rolled back.
    #[must_use]
    pub fn is_failure(self) -> bool {
        matches!(
            self,
            Self::FailedVerification | Self::FailedInCoolify | Self::RolledBack
        )
    }

    /// The GitHub deployment status state this outcome is recorded with.
    #[must_use]
    pub fn github_state(self) -> &'static str {
        match self {
            Self::InProgress => "in_progress",
            Self::Verified => "success",
            Self::FailedVerification | Self::FailedInCoolify | Self::RolledBack => "failure",
            Self::Superseded => "inactive",
            Self::Cancelled => "error",
        }
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.as_str())
    }
}

impl FromStr for Outcome {
    type Err = Error;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|outcome| outcome.as_str() == text)
            .ok_or_else(|| {
                invalid(
                    "outcome",
                    text,
                    "one of in_progress, verified, failed_verification, failed_in_coolify, rolled_back, superseded, cancelled",
                )
            })
    }
}

/// How a run ended: the input of [`crate::RunRecord::settle`].
///
/// ```
/// use release_record::{Outcome, ReleaseRef, Settlement};
///
/// let previous = ReleaseRef::tagged("4f2a9c1e0b7d3a5f6c8e9d0a1b2c3d4e5f6a7b8c".parse()?, "v1.1.0")?;
/// let settlement = Settlement::rolled_back(previous, "health 503 after the switch-over");
/// assert_eq!(settlement.outcome(), Outcome::RolledBack);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Settlement {
    pub(crate) outcome: Outcome,
    pub(crate) evidence: String,
    pub(crate) app: Option<ApplicationUuid>,
    pub(crate) rolled_back_to: Option<ReleaseRef>,
    pub(crate) superseded_by: Option<CommitSha>,
}

impl Settlement {
    fn new(outcome: Outcome, evidence: &str) -> Self {
        Self {
            outcome,
            evidence: one_line(evidence),
            app: None,
            rolled_back_to: None,
            superseded_by: None,
        }
    }

    /// Verified, with the last evidence in one line (`web answers 9579fc7`).
    #[must_use]
    pub fn verified(evidence: &str) -> Self {
        Self::new(Outcome::Verified, evidence)
    }

    /// Failed its health check, with the last evidence (`health 503 after the switch-over`).
    #[must_use]
    pub fn failed_verification(evidence: &str) -> Self {
        Self::new(Outcome::FailedVerification, evidence)
    }

    /// Coolify's deployment failed, with what Coolify said.
    #[must_use]
    pub fn failed_in_coolify(evidence: &str) -> Self {
        Self::new(Outcome::FailedInCoolify, evidence)
    }

    /// Failed, then put back on `to`.
    #[must_use]
    pub fn rolled_back(to: ReleaseRef, evidence: &str) -> Self {
        Self {
            rolled_back_to: Some(to),
            ..Self::new(Outcome::RolledBack, evidence)
        }
    }

    /// A newer deployment (of `by`, when known) took over before this one settled.
    #[must_use]
    pub fn superseded(by: Option<CommitSha>, evidence: &str) -> Self {
        Self {
            superseded_by: by,
            ..Self::new(Outcome::Superseded, evidence)
        }
    }

    /// Interrupted or cancelled, with why.
    #[must_use]
    pub fn cancelled(evidence: &str) -> Self {
        Self::new(Outcome::Cancelled, evidence)
    }

    /// The app the evidence is about (the one that failed, or the one whose probe decided).
    #[must_use]
    pub fn app(mut self, app: ApplicationUuid) -> Self {
        self.app = Some(app);
        self
    }

    /// The outcome.
    #[must_use]
    pub fn outcome(&self) -> Outcome {
        self.outcome
    }
}

/// `text` on one line: line breaks and runs of whitespace become one space.
pub(crate) fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

pub(crate) fn invalid(what: &'static str, value: &str, reason: &str) -> Error {
    Error::InvalidInput {
        what,
        value: value.to_owned(),
        reason: reason.to_owned(),
    }
}
