//! `history [ENV] [--since DURATION]`: the audit trail the release record keeps, and the four
//! delivery metrics computed from it.
//!
//! Each recorded run: which commit and tag went where, when Coolify finished and when it was
//! verified (or failed), who ran it, the run link, and rollbacks. Below it, over the window:
//!
//! - **deployment frequency**: production releases a week (rollbacks and the automatic
//!   redeploy after a failure are restores, not releases);
//! - **lead time for changes**: from the first commit of a release (the oldest commit since the
//!   previous stable release) to its verification in production, median and 90th percentile;
//! - **change failure rate**: production releases that failed verification, failed in Coolify
//!   or were rolled back, over production releases;
//! - **time to restore**: from a failed production release to production verified good again.
//!
//! Percentiles are nearest-rank: the median of 4 values is the 2nd smallest.

use std::fmt;
use std::time::{Duration, SystemTime};

use anyhow::Context as _;
use release_record::{Gate, GateKind, Outcome, Purpose, RanBy, Record};
use serde::Serialize;
use tag_policy::{Channels, Releases};

use crate::config::EnvironmentName;
use crate::engine::record::{self, trouble_text};
use crate::exit::BadInput;
use crate::repo::{Repo, oid, short};
use crate::session::Session;

/// The window `history` reads when none is given.
pub const DEFAULT_WINDOW: Duration = Duration::from_secs(30 * 24 * 60 * 60);

/// How `history` is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum HistoryFormat {
    /// Plain text lines.
    #[default]
    Text,
    /// Markdown tables, for a workflow's step summary or release notes.
    Markdown,
    /// The JSON document (`--format json`).
    Json,
}

/// Options of `history`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryOptions {
    /// One environment, or both when `None`.
    pub environment: Option<EnvironmentName>,
    /// How far back: `--since 30d`.
    pub since: Duration,
}

impl Default for HistoryOptions {
    fn default() -> Self {
        Self {
            environment: None,
            since: DEFAULT_WINDOW,
        }
    }
}

/// One recorded run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunEntry {
    /// `staging` or `production`.
    pub environment: String,
    /// The full commit SHA.
    pub commit: String,
    /// The release tag, if any.
    pub tag: Option<String>,
    /// `release`, `rollback` or `restore` (the automatic redeploy after a failure).
    pub purpose: &'static str,
    /// How it ended: `verified`, `failed_verification`, `failed_in_coolify`, `rolled_back`,
    /// `superseded`, `cancelled`, or `in_progress`.
    pub outcome: Outcome,
    /// When it started (RFC 3339).
    pub started_at: String,
    /// When Coolify had finished every app's deployment.
    pub deployed_at: Option<String>,
    /// When it was verified or failed.
    pub settled_at: Option<String>,
    /// Seconds from the start to Coolify's end.
    pub deploy_seconds: Option<u64>,
    /// Seconds from Coolify's end to the verdict.
    pub verify_seconds: Option<u64>,
    /// Who ran it: the GitHub actor, or `user@host`.
    pub ran_by: String,
    /// The GitHub Actions run, when it ran there.
    pub run_url: Option<String>,
    /// For a run rolled back: the release it went back to.
    pub rolled_back_to: Option<String>,
    /// The evidence of its verdict, in one line.
    pub evidence: Option<String>,
    /// The Coolify deployments it started.
    pub deployments: Vec<String>,
    /// What it relied on to deploy the commit: for a production release, the staging gate it
    /// passed (`recorded` or `live`) or skipped. `None` for staging, rollbacks and restores.
    pub gate: Option<release_record::Gate>,
}

/// A duration metric: how many values, their median and 90th percentile, in seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Spread {
    /// How many values.
    pub count: usize,
    /// The median (nearest rank).
    pub median_seconds: u64,
    /// The 90th percentile (nearest rank).
    pub p90_seconds: u64,
}

impl Spread {
    /// The spread of `values` (seconds); `None` when there are none.
    pub(crate) fn of(mut values: Vec<u64>) -> Option<Self> {
        if values.is_empty() {
            return None;
        }
        values.sort_unstable();
        let rank = |quantile: f64| {
            let index = (quantile * values.len() as f64).ceil() as usize;
            values[index.clamp(1, values.len()) - 1]
        };
        Some(Self {
            count: values.len(),
            median_seconds: rank(0.5),
            p90_seconds: rank(0.9),
        })
    }
}

/// The four delivery metrics over the window.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Metrics {
    /// The window, in days.
    pub window_days: f64,
    /// Production releases in the window (restores and rollbacks not counted).
    pub production_releases: usize,
    /// Production releases a week.
    pub deployment_frequency_per_week: f64,
    /// From a release's first commit to its verification in production.
    pub lead_time: Option<Spread>,
    /// Production releases that failed (verification, Coolify, or rolled back).
    pub failed_releases: usize,
    /// `failed_releases / production_releases`, when there was any.
    pub change_failure_rate: Option<f64>,
    /// Production releases that went out with the staging gate skipped.
    pub releases_without_staging_gate: usize,
    /// From a failed production release to production verified good again.
    pub time_to_restore: Option<Spread>,
}

/// The result of `history`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HistoryReport {
    /// The environments read.
    pub environments: Vec<EnvironmentName>,
    /// The start of the window (RFC 3339).
    pub since: String,
    /// Every recorded run in the window, newest first.
    pub runs: Vec<RunEntry>,
    /// The metrics.
    pub metrics: Metrics,
    /// What the record cannot know.
    pub limits: Vec<String>,
    /// How it is shown (`--format`).
    #[serde(skip)]
    pub format: HistoryFormat,
}

/// Read the release record of the window and compute the metrics.
///
/// # Errors
///
/// [`BadInput`] when there is no record to read (the repository is not on GitHub, or no token);
/// the record cannot be read.
pub async fn history(
    session: &Session,
    options: &HistoryOptions,
    format: HistoryFormat,
) -> anyhow::Result<HistoryReport> {
    // History reads git and the record only: no Coolify token is needed, and none is read.
    let repo = session.open_repo().context("history")?;
    let config = session.load_config(&repo).context("history")?;
    // The record's errors and entries may echo a probe header value: scrub them like any flow.
    crate::engine::register_probe_secrets(&config, &session.output);
    let record = record::ReleaseRecord::open(&session.process_env, &repo, &config, &session.output);
    let environments: Vec<EnvironmentName> = match options.environment {
        Some(environment) => vec![environment],
        None => EnvironmentName::ALL.to_vec(),
    };
    let now = SystemTime::now();
    let since = now
        .checked_sub(options.since)
        .unwrap_or(SystemTime::UNIX_EPOCH);
    let history = match record.history(&environments, Some(since)).await {
        Ok(Some(history)) => history,
        Ok(None) => {
            return Err(BadInput(format!(
                "history: there is no release record to read: {}",
                record.absent().unwrap_or("none is kept")
            ))
            .into());
        }
        Err(error) => {
            return Err(anyhow::anyhow!(
                "history: read the release record: {}",
                trouble_text(&error)
            ));
        }
    };
    let releases = Releases::list(&repo.git(), &config.tags).context("list the release tags")?;
    let records = history.records();
    let runs: Vec<RunEntry> = records.iter().map(entry).collect();
    let metrics = metrics(&repo, &releases, records, options.since);
    let mut limits = vec![
        "the record starts with the first release stagegate deployed: earlier releases are not in it".to_owned(),
        "deployments made outside stagegate (in Coolify's UI, by a webhook) are not recorded".to_owned(),
    ];
    if !history.complete() {
        limits.push(
            "the record holds more runs than were read: the oldest in the window are left out"
                .to_owned(),
        );
    }
    let outside = history
        .skipped()
        .iter()
        .filter(|skipped| matches!(skipped.reason(), release_record::SkipReason::NotARecord))
        .count();
    if outside > 0 {
        limits.push(format!(
            "{outside} GitHub deployment(s) of these environments were made by other tools or by hand (GitHub Actions' own job deployments among them): not counted"
        ));
    }
    let unreadable = history.skipped().len() - outside;
    if unreadable > 0 {
        limits.push(format!(
            "{unreadable} record(s) of a newer format or unreadable: not counted; update stagegate"
        ));
    }
    Ok(HistoryReport {
        environments,
        since: coolify_client::Timestamp::from_system_time(since).to_string(),
        runs,
        metrics,
        limits,
        format,
    })
}

fn entry(run: &Record) -> RunEntry {
    let seconds = |from: Option<&coolify_client::Timestamp>,
                   to: Option<&coolify_client::Timestamp>| {
        let from = from?.system_time()?;
        let to = to?.system_time()?;
        to.duration_since(from)
            .ok()
            .map(|duration| duration.as_secs())
    };
    let (ran_by, run_url) = match run.ran_by() {
        RanBy::GithubActions { actor, run_url } => (actor.clone(), Some(run_url.to_string())),
        RanBy::Local { user, host } => (format!("{user}@{host}"), None),
        _ => ("unknown".to_owned(), None),
    };
    RunEntry {
        environment: run.environment().name().to_owned(),
        commit: run.commit().to_string(),
        tag: run.tag().map(str::to_owned),
        purpose: purpose(run.purpose()),
        outcome: run.outcome(),
        started_at: run.started_at().to_string(),
        deployed_at: run.deployed_at().map(ToString::to_string),
        settled_at: run.settled_at().map(ToString::to_string),
        deploy_seconds: seconds(Some(run.started_at()), run.deployed_at()),
        verify_seconds: seconds(run.deployed_at(), run.settled_at()),
        ran_by,
        run_url,
        rolled_back_to: run.rolled_back_to().map(|to| {
            to.tag()
                .map(str::to_owned)
                .unwrap_or_else(|| to.commit_sha().short().to_owned())
        }),
        evidence: run
            .outcomes()
            .last()
            .map(|entry| entry.evidence().to_owned()),
        deployments: run
            .apps()
            .iter()
            .filter_map(|app| app.coolify_deployment().map(ToString::to_string))
            .collect(),
        gate: run.gate().cloned(),
    }
}

fn purpose(purpose: &Purpose) -> &'static str {
    match purpose {
        Purpose::Release => "release",
        Purpose::Rollback { .. } => "rollback",
        Purpose::Restore { .. } => "restore",
        _ => "other",
    }
}

fn metrics(repo: &Repo, releases: &Releases, records: &[Record], window: Duration) -> Metrics {
    let at = |time: Option<&coolify_client::Timestamp>| time.and_then(|time| time.system_time());
    let production: Vec<&Record> = records
        .iter()
        .filter(|run| run.environment().name() == EnvironmentName::Production.as_str())
        .collect();
    // Production releases moving forward that settled, oldest first.
    let mut released: Vec<&Record> = production
        .iter()
        .copied()
        .filter(|run| matches!(run.purpose(), Purpose::Release))
        .filter(|run| run.outcome() == Outcome::Verified || record::is_failure(run.outcome()))
        .collect();
    released.sort_by_key(|run| at(run.settled_at()));
    let failures: Vec<&Record> = released
        .iter()
        .copied()
        .filter(|run| record::is_failure(run.outcome()))
        .collect();
    let lead_times: Vec<u64> = released
        .iter()
        .filter(|run| run.outcome() == Outcome::Verified)
        .filter_map(|run| {
            let first = first_commit_time(repo, releases, run)?;
            at(run.settled_at())?
                .duration_since(first)
                .ok()
                .map(|duration| duration.as_secs())
        })
        .collect();
    // Production verified again after each failure, by any run (a restore, a rollback or the
    // next release).
    let restores: Vec<u64> = failures
        .iter()
        .filter_map(|failed| {
            let failed_at = failed
                .outcomes()
                .iter()
                .find(|entry| record::is_failure(entry.outcome()))
                .and_then(|entry| entry.at().system_time())?;
            production
                .iter()
                .filter(|run| run.outcome() == Outcome::Verified)
                .filter_map(|run| at(run.settled_at()))
                .filter(|verified| *verified > failed_at)
                .min()
                .and_then(|verified| verified.duration_since(failed_at).ok())
                .map(|duration| duration.as_secs())
        })
        .collect();
    let window_days = window.as_secs_f64() / 86_400.0;
    Metrics {
        window_days,
        production_releases: released.len(),
        deployment_frequency_per_week: if window_days > 0.0 {
            released.len() as f64 * 7.0 / window_days
        } else {
            0.0
        },
        lead_time: Spread::of(lead_times),
        failed_releases: failures.len(),
        change_failure_rate: (!released.is_empty())
            .then(|| failures.len() as f64 / released.len() as f64),
        releases_without_staging_gate: released
            .iter()
            .filter(|run| run.gate().map(Gate::kind) == Some(GateKind::Skipped))
            .count(),
        time_to_restore: Spread::of(restores),
    }
}

/// When the first commit of a release was made: the oldest commit since the previous stable
/// release (or of the whole history for the first release).
fn first_commit_time(repo: &Repo, releases: &Releases, run: &Record) -> Option<SystemTime> {
    let tip = oid(run.commit())?;
    let release = releases.at_commit(tip).last()?;
    let git = repo.git();
    let previous = releases
        .previous(&git, release, Channels::StableOnly)
        .ok()
        .flatten()
        .map(|previous| previous.commit());
    let mut walk = git.revwalk().ok()?;
    walk.push(tip).ok()?;
    if let Some(previous) = previous {
        walk.hide(previous).ok()?;
    }
    let oldest = walk
        .flatten()
        .filter_map(|commit| git.find_commit(commit).ok())
        .map(|commit| commit.time().seconds())
        .min()?;
    let seconds = u64::try_from(oldest).ok()?;
    SystemTime::UNIX_EPOCH.checked_add(Duration::from_secs(seconds))
}

/// An RFC 3339 time of the record in the words of the text: `2026-12-06 12:03:04 UTC`.
fn moment(text: &str) -> String {
    match (text.get(..10), text.get(11..19)) {
        (Some(day), Some(time)) => format!("{day} {time} UTC"),
        _ => text.to_owned(),
    }
}

fn duration(seconds: u64) -> String {
    humantime::format_duration(Duration::from_secs(seconds)).to_string()
}

fn outcome_words(entry: &RunEntry) -> String {
    let mut text = entry.outcome.to_string().replace('_', " ");
    if let Some(to) = &entry.rolled_back_to {
        text.push_str(&format!(" to {to}"));
    }
    text
}

fn what(entry: &RunEntry) -> String {
    match &entry.tag {
        Some(tag) => format!("{tag} ({})", short(&entry.commit)),
        None => short(&entry.commit).to_owned(),
    }
}

/// What a run relied on, when it is worth a mark: a skipped or a live-checked staging gate.
fn gate_words(entry: &RunEntry) -> Option<String> {
    let gate = entry.gate.as_ref()?;
    match gate.kind() {
        GateKind::Skipped => Some(format!("staging gate skipped: {}", gate.detail())),
        GateKind::Live => Some("staging gate checked live".to_owned()),
        _ => None,
    }
}

fn steps(entry: &RunEntry) -> String {
    match (entry.deploy_seconds, entry.verify_seconds) {
        (Some(deploy), Some(verify)) => {
            format!("deploy {}, verify {}", duration(deploy), duration(verify))
        }
        (Some(deploy), None) => format!("deploy {}", duration(deploy)),
        _ => "no deployment finished".to_owned(),
    }
}

impl Metrics {
    fn lines(&self) -> Vec<(String, String)> {
        let spread = |spread: &Option<Spread>| match spread {
            Some(spread) => format!(
                "median {}, p90 {} ({} measured)",
                duration(spread.median_seconds),
                duration(spread.p90_seconds),
                spread.count
            ),
            None => "none in the window".to_owned(),
        };
        let mut lines = vec![
            (
                "deployment frequency".to_owned(),
                format!(
                    "{:.1} production releases a week ({} in {:.0} days)",
                    self.deployment_frequency_per_week, self.production_releases, self.window_days
                ),
            ),
            ("lead time for changes".to_owned(), spread(&self.lead_time)),
            (
                "change failure rate".to_owned(),
                match self.change_failure_rate {
                    Some(rate) => format!(
                        "{:.0}% ({} of {} production releases)",
                        rate * 100.0,
                        self.failed_releases,
                        self.production_releases
                    ),
                    None => "no production release in the window".to_owned(),
                },
            ),
            ("time to restore".to_owned(), spread(&self.time_to_restore)),
        ];
        if self.releases_without_staging_gate > 0 {
            lines.push((
                "staging gate skipped".to_owned(),
                format!(
                    "{} of {} production releases went out without proof that staging ran them",
                    self.releases_without_staging_gate, self.production_releases
                ),
            ));
        }
        lines
    }
}

impl fmt::Display for HistoryReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.format {
            HistoryFormat::Markdown => self.markdown(f),
            HistoryFormat::Text | HistoryFormat::Json => self.text(f),
        }
    }
}

impl HistoryReport {
    fn text(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "release history since {}", moment(&self.since))?;
        if self.runs.is_empty() {
            writeln!(f, "  no recorded run in the window")?;
        }
        for entry in &self.runs {
            write!(
                f,
                "  {} {} {}: {} at {} ({}), by {}",
                moment(&entry.started_at),
                entry.environment,
                what(entry),
                outcome_words(entry),
                entry
                    .settled_at
                    .as_deref()
                    .map_or_else(|| "-".to_owned(), moment),
                steps(entry),
                entry.ran_by
            )?;
            if entry.purpose != "release" {
                write!(f, " [{}]", entry.purpose)?;
            }
            if let Some(gate) = gate_words(entry) {
                write!(f, " [{gate}]")?;
            }
            if let Some(url) = &entry.run_url {
                write!(f, " {url}")?;
            }
            writeln!(f)?;
        }
        writeln!(f, "\ndelivery metrics:")?;
        for (name, value) in self.metrics.lines() {
            writeln!(f, "  {name}: {value}")?;
        }
        writeln!(f, "\nwhat the record cannot know:")?;
        for limit in &self.limits {
            writeln!(f, "  - {limit}")?;
        }
        Ok(())
    }

    fn markdown(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "### Release history since {}\n", moment(&self.since))?;
        writeln!(
            f,
            "| started | environment | release | outcome | settled | steps | by |"
        )?;
        writeln!(f, "| --- | --- | --- | --- | --- | --- | --- |")?;
        for entry in &self.runs {
            let by = match &entry.run_url {
                Some(url) => format!("[{}]({url})", entry.ran_by),
                None => entry.ran_by.clone(),
            };
            let mut purpose = if entry.purpose == "release" {
                String::new()
            } else {
                format!(" ({})", entry.purpose)
            };
            if let Some(gate) = gate_words(entry) {
                purpose.push_str(&format!(" ({gate})"));
            }
            writeln!(
                f,
                "| {} | {} | `{}`{purpose} | {} | {} | {} | {by} |",
                moment(&entry.started_at),
                entry.environment,
                what(entry),
                outcome_words(entry),
                entry
                    .settled_at
                    .as_deref()
                    .map_or_else(|| "-".to_owned(), moment),
                steps(entry),
            )?;
        }
        writeln!(f, "\n| metric | value |\n| --- | --- |")?;
        for (name, value) in self.metrics.lines() {
            writeln!(f, "| {name} | {value} |")?;
        }
        writeln!(f)?;
        for limit in &self.limits {
            writeln!(f, "- {limit}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_are_nearest_rank() {
        assert_eq!(Spread::of(Vec::new()), None);
        let spread = Spread::of(vec![40, 10, 30, 20]).unwrap();
        assert_eq!(
            spread,
            Spread {
                count: 4,
                median_seconds: 20,
                p90_seconds: 40
            }
        );
        let one = Spread::of(vec![7]).unwrap();
        assert_eq!((one.median_seconds, one.p90_seconds), (7, 7));
        let ten: Vec<u64> = (1..=10).collect();
        let spread = Spread::of(ten).unwrap();
        assert_eq!((spread.median_seconds, spread.p90_seconds), (5, 9));
    }
}
