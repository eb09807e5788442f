//! The record's format in GitHub: the deployment's payload (facts known at the start) and the
//! status descriptions (facts learnt later, appended). The crate docs describe it for other
//! readers; this module writes and reads it.

use std::time::SystemTime;

use coolify_client::{ApplicationUuid, CommitSha, DeploymentUuid, Timestamp};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::client::Redactor;
use crate::model::{App, EnvironmentKind, Gate, Outcome, Purpose, RanBy, Settlement, Start};
use crate::read::{SkipReason, Skipped};
use crate::record::AppRecord;
use crate::{DeploymentId, Environment, Record};

/// The value of the payload's `format` field.
pub(crate) const FORMAT: &str = "stagegate-release-record";

/// The payload version this crate writes, and the newest it reads.
pub(crate) const VERSION: u64 = 1;

/// GitHub's limit for deployment and status descriptions, in characters.
pub(crate) const DESCRIPTION_LIMIT: usize = 140;

/// The deployment's payload: every fact known when the run starts.
#[derive(Debug, Serialize, Deserialize)]
struct Payload {
    format: String,
    version: u64,
    environment_kind: EnvironmentKind,
    commit: CommitSha,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    tag: Option<String>,
    apps: Vec<App>,
    purpose: Purpose,
    ran_by: RanBy,
    /// A gate of a kind this version does not know reads as none.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient"
    )]
    gate: Option<Gate>,
}

/// `value` as `T`, or `None` when it does not read as one.
fn lenient<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::de::DeserializeOwned,
{
    let value = Value::deserialize(deserializer)?;
    Ok(serde_json::from_value(value).ok())
}

/// The payload of a run's deployment.
pub(crate) fn payload(start: &Start) -> Value {
    let payload = Payload {
        format: FORMAT.to_owned(),
        version: VERSION,
        environment_kind: start.environment.kind(),
        commit: start.commit.clone(),
        tag: start.tag.clone(),
        apps: start.apps.clone(),
        purpose: start.purpose.clone(),
        ran_by: start.ran_by.clone(),
        gate: start.gate.clone(),
    };
    serde_json::to_value(payload).unwrap_or(Value::Null)
}

/// A fact appended to a run as a deployment status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Event {
    /// The run started.
    Started { text: String },
    /// Coolify started deploying an app.
    Deploying {
        app: ApplicationUuid,
        deployment: DeploymentUuid,
        text: String,
    },
    /// Coolify finished deploying an app.
    Deployed { app: ApplicationUuid, text: String },
    /// The run settled.
    Settled(Settlement),
    /// The deployment no longer runs there.
    Inactive { text: String },
}

impl Event {
    /// The status `state` GitHub gets.
    pub(crate) fn state(&self) -> &'static str {
        match self {
            Self::Started { .. } | Self::Deploying { .. } | Self::Deployed { .. } => "in_progress",
            Self::Settled(settlement) => settlement.outcome.github_state(),
            Self::Inactive { .. } => "inactive",
        }
    }

    /// The status description: `code[ key=value…]: text`, at most 140 characters, the text
    /// redacted before it is cut.
    pub(crate) fn description(&self, redactor: &Redactor) -> Result<String, crate::Error> {
        let (head, text) = match self {
            Self::Started { text } => ("started".to_owned(), text.as_str()),
            Self::Deploying {
                app,
                deployment,
                text,
            } => (
                format!("deploying app={app} deployment={deployment}"),
                text.as_str(),
            ),
            Self::Deployed { app, text } => (format!("deployed app={app}"), text.as_str()),
            Self::Settled(settlement) => {
                let mut head = settlement.outcome.as_str().to_owned();
                if let Some(app) = &settlement.app {
                    head.push_str(&format!(" app={app}"));
                }
                if let Some(to) = &settlement.rolled_back_to {
                    head.push_str(&format!(" to={}", to.commit_sha()));
                    if let Some(tag) = to.tag() {
                        head.push_str(&format!(" to_tag={tag}"));
                    }
                }
                if let Some(by) = &settlement.superseded_by {
                    head.push_str(&format!(" by={by}"));
                }
                (head, settlement.evidence.as_str())
            }
            Self::Inactive { text } => ("inactive".to_owned(), text.as_str()),
        };
        let head_length = head.chars().count();
        if head_length + 2 > DESCRIPTION_LIMIT {
            return Err(crate::Error::InvalidInput {
                what: "status description",
                value: head,
                reason: format!(
                    "its codes alone exceed GitHub's {DESCRIPTION_LIMIT} characters (are the uuids this long?)"
                ),
            });
        }
        if text.is_empty() {
            return Ok(head);
        }
        let text = redactor.text(text);
        Ok(truncate(&format!("{head}: {text}"), DESCRIPTION_LIMIT))
    }
}

/// `text` cut to `limit` characters, ending in `…` when it was cut.
pub(crate) fn truncate(text: &str, limit: usize) -> String {
    if text.chars().count() <= limit {
        return text.to_owned();
    }
    let mut cut: String = text.chars().take(limit.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

/// A status as read back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RawStatus {
    pub(crate) state: String,
    pub(crate) description: String,
    pub(crate) created_at: String,
}

/// A deployment as read back, with its statuses in any order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RawDeployment {
    pub(crate) id: DeploymentId,
    pub(crate) environment: String,
    pub(crate) commit: String,
    pub(crate) created_at: String,
    pub(crate) payload: Value,
    pub(crate) creator: Option<String>,
    pub(crate) statuses: Vec<RawStatus>,
}

/// One parsed status line of this format.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Line {
    code: String,
    fields: Vec<(String, String)>,
    text: String,
}

impl Line {
    fn parse(description: &str) -> Self {
        let (head, text) = description.split_once(": ").unwrap_or((description, ""));
        let mut tokens = head.split(' ');
        let code = tokens.next().unwrap_or_default().to_owned();
        let fields = tokens
            .filter_map(|token| token.split_once('='))
            .map(|(key, value)| (key.to_owned(), value.to_owned()))
            .collect();
        Self {
            code,
            fields,
            text: text.to_owned(),
        }
    }

    fn field(&self, key: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(name, _)| name == key)
            .map(|(_, value)| value.as_str())
    }
}

/// What a status means in this format.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Meaning {
    Started,
    Deploying(ApplicationUuid, DeploymentUuid),
    Deployed(ApplicationUuid),
    Settled(Outcome, Line),
    /// Not a line of this format (GitHub's own `inactive` after a newer success, another tool).
    Other,
}

impl Meaning {
    /// Statuses of the same second are put in the order a run writes them.
    fn rank(&self) -> u8 {
        match self {
            Self::Started => 0,
            Self::Deploying(..) => 1,
            Self::Deployed(_) => 2,
            Self::Settled(Outcome::RolledBack, _) => 4,
            Self::Settled(..) => 3,
            Self::Other => 5,
        }
    }
}

/// Reads a status: a line counts only with the state this format writes it with, so a status
/// of another tool (or GitHub's) that happens to start with a code is not taken for ours.
fn meaning(status: &RawStatus) -> Meaning {
    let line = Line::parse(&status.description);
    let state = status.state.to_ascii_lowercase();
    match (line.code.as_str(), state.as_str()) {
        ("started", "in_progress") => Meaning::Started,
        ("deploying", "in_progress") => {
            match (
                line.field("app")
                    .and_then(|app| ApplicationUuid::new(app).ok()),
                line.field("deployment")
                    .and_then(|deployment| DeploymentUuid::new(deployment).ok()),
            ) {
                (Some(app), Some(deployment)) => Meaning::Deploying(app, deployment),
                _ => Meaning::Other,
            }
        }
        ("deployed", "in_progress") => line
            .field("app")
            .and_then(|app| ApplicationUuid::new(app).ok())
            .map_or(Meaning::Other, Meaning::Deployed),
        (code, state) => match code.parse::<Outcome>() {
            Ok(outcome) if outcome != Outcome::InProgress && outcome.github_state() == state => {
                Meaning::Settled(outcome, line)
            }
            _ => Meaning::Other,
        },
    }
}

/// What a deployment read back is: a record of this format, or something to skip.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Assembled {
    Record(Box<Record>),
    Skipped(Skipped),
}

/// Reads one deployment into a record.
pub(crate) fn assemble(raw: RawDeployment) -> Assembled {
    let skipped = |reason: SkipReason| {
        Assembled::Skipped(Skipped::new(
            raw.id,
            raw.environment.clone(),
            raw.creator.clone(),
            reason,
        ))
    };
    let payload = match &raw.payload {
        Value::String(text) => serde_json::from_str(text).unwrap_or(Value::Null),
        other => other.clone(),
    };
    if payload.get("format").and_then(Value::as_str) != Some(FORMAT) {
        return skipped(SkipReason::NotARecord);
    }
    let version = payload.get("version").and_then(Value::as_u64).unwrap_or(0);
    if version > VERSION {
        return skipped(SkipReason::NewerFormat { version });
    }
    let payload: Payload = match serde_json::from_value(payload) {
        Ok(payload) => payload,
        Err(error) => {
            return skipped(SkipReason::Malformed {
                detail: error.to_string(),
            });
        }
    };
    let environment = match Environment::new(raw.environment.clone(), payload.environment_kind) {
        Ok(environment) => environment,
        Err(error) => {
            return skipped(SkipReason::Malformed {
                detail: error.to_string(),
            });
        }
    };
    let mut record = Record {
        deployment: raw.id,
        environment,
        commit: payload.commit,
        tag: payload.tag,
        apps: payload.apps.into_iter().map(AppRecord::from_app).collect(),
        outcome: Outcome::InProgress,
        purpose: payload.purpose,
        ran_by: payload.ran_by,
        gate: payload.gate,
        creator: raw.creator.clone(),
        started_at: Timestamp::from_text(raw.created_at.clone()),
        deployed_at: None,
        settled_at: None,
        inactive_at: None,
        probe: None,
        rolled_back_to: None,
        superseded_by: None,
        outcomes: Vec::new(),
    };
    let mut statuses: Vec<(Option<SystemTime>, Meaning, RawStatus)> = raw
        .statuses
        .into_iter()
        .map(|status| {
            let time = Timestamp::from_text(status.created_at.clone()).system_time();
            (time, meaning(&status), status)
        })
        .collect();
    statuses.sort_by(|left, right| {
        left.0
            .cmp(&right.0)
            .then_with(|| left.1.rank().cmp(&right.1.rank()))
    });
    for (_, meaning, status) in statuses {
        let at = Timestamp::from_text(status.created_at.clone());
        if status.state.eq_ignore_ascii_case("inactive") {
            record.inactive_at = Some(at.clone());
        }
        match meaning {
            Meaning::Started | Meaning::Other => {}
            Meaning::Deploying(app, deployment) => {
                if let Some(entry) = record
                    .apps
                    .iter_mut()
                    .find(|entry| entry.app().uuid() == &app)
                {
                    entry.deployment_started(deployment, at);
                }
            }
            Meaning::Deployed(app) => {
                if let Some(entry) = record
                    .apps
                    .iter_mut()
                    .find(|entry| entry.app().uuid() == &app)
                {
                    entry.deployment_finished(at);
                }
            }
            Meaning::Settled(outcome, line) => {
                if let Some(commit) = line.field("to").and_then(|to| CommitSha::new(to).ok()) {
                    let tag = line.field("to_tag").map(str::to_owned);
                    record.rolled_back_to = Some(match tag {
                        Some(tag) => crate::ReleaseRef::tagged(commit.clone(), tag)
                            .unwrap_or_else(|_| crate::ReleaseRef::commit(commit)),
                        None => crate::ReleaseRef::commit(commit),
                    });
                }
                if let Some(by) = line.field("by").and_then(|by| CommitSha::new(by).ok()) {
                    record.superseded_by = Some(by);
                }
                let app = line
                    .field("app")
                    .and_then(|app| ApplicationUuid::new(app).ok());
                if !line.text.is_empty() {
                    record.set_probe(app.as_ref(), line.text.clone());
                }
                record.settle(outcome, at, line.text);
            }
        }
    }
    let finished: Option<Vec<&Timestamp>> = record
        .apps
        .iter()
        .map(AppRecord::deployment_finished_at)
        .collect();
    record.deployed_at = finished
        .filter(|times| !times.is_empty())
        .and_then(|times| {
            times
                .into_iter()
                .max_by_key(|time| time.system_time())
                .cloned()
        });
    Assembled::Record(Box::new(record))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ReleaseRef, Settlement};

    fn commit(digit: char) -> CommitSha {
        CommitSha::new(digit.to_string().repeat(40)).unwrap()
    }

    /// What a recorder without a caller's redaction does: only its token is replaced.
    fn plain() -> Redactor {
        Redactor::new("ghs_example-token".into(), None)
    }

    #[test]
    fn evidence_is_redacted_before_it_is_cut_so_no_part_of_a_secret_is_sent() {
        let secret = "probe-header-value-that-is-long";
        let redactor = Redactor::new(
            "ghs_example-token".into(),
            Some(std::sync::Arc::new(move |text: &str| {
                text.replace(secret, "[redacted]")
            })),
        );
        // Cut at 140 characters, the secret would end up half in the description.
        let evidence = format!("{} ghs_example-token echoed {secret}", "x".repeat(80));
        let event = Event::Settled(Settlement::failed_verification(&evidence));
        let description = event.description(&redactor).unwrap();
        assert!(
            description.starts_with("failed_verification: xxx"),
            "{description}"
        );
        assert!(
            description.ends_with("x [redacted] echoed [redacted]"),
            "{description}"
        );
        // Without the caller's redaction only the token goes, and the cut leaves a part of the
        // secret: why the redaction comes first.
        let token_only = event.description(&plain()).unwrap();
        assert!(
            token_only.contains("x [redacted] echoed probe-header-value"),
            "{token_only}"
        );
        assert!(token_only.ends_with('…'), "{token_only}");
    }

    #[test]
    fn descriptions_carry_their_codes_and_fit_github() {
        let app = ApplicationUuid::new("vgsco4o4wc8w0ok8gwgk8w0o").unwrap();
        let deployment = DeploymentUuid::new("k0w4o8c8s4ggkkw08cwc8s4g").unwrap();
        let event = Event::Deploying {
            app: app.clone(),
            deployment,
            text: "web: coolify is deploying".to_owned(),
        };
        assert_eq!(
            event.description(&plain()).unwrap(),
            "deploying app=vgsco4o4wc8w0ok8gwgk8w0o deployment=k0w4o8c8s4ggkkw08cwc8s4g: web: coolify is deploying"
        );
        let long = Event::Settled(
            Settlement::rolled_back(
                ReleaseRef::tagged(commit('4'), "v1.1.0").unwrap(),
                &"health 503 ".repeat(30),
            )
            .app(app),
        );
        let description = long.description(&plain()).unwrap();
        assert_eq!(description.chars().count(), DESCRIPTION_LIMIT);
        assert!(description.starts_with(&format!(
            "rolled_back app=vgsco4o4wc8w0ok8gwgk8w0o to={} to_tag=v1.1.0: health 503",
            commit('4')
        )));
        assert!(description.ends_with('…'));
        assert_eq!(long.state(), "failure");
    }

    #[test]
    fn codes_count_only_with_their_state() {
        let status = |state: &str, description: &str| RawStatus {
            state: state.to_owned(),
            description: description.to_owned(),
            created_at: "2026-08-01T12:00:00Z".to_owned(),
        };
        assert!(matches!(
            meaning(&status("success", "verified: web answers")),
            Meaning::Settled(Outcome::Verified, _)
        ));
        assert!(matches!(
            meaning(&status("SUCCESS", "verified")),
            Meaning::Settled(Outcome::Verified, _)
        ));
        assert_eq!(
            meaning(&status("inactive", "verified: copied by someone")),
            Meaning::Other
        );
        assert_eq!(
            meaning(&status("success", "Deployed by hand")),
            Meaning::Other
        );
        assert_eq!(
            meaning(&status("in_progress", "deploying app=a")),
            Meaning::Other
        );
        assert_eq!(
            meaning(&status("in_progress", "in_progress")),
            Meaning::Other
        );
    }

    #[test]
    fn truncation_counts_characters_not_bytes() {
        let text = "é".repeat(200);
        let cut = truncate(&text, 140);
        assert_eq!(cut.chars().count(), 140);
        assert!(cut.ends_with('…'));
        assert_eq!(truncate("short", 140), "short");
    }
}
