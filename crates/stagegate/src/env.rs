//! `env diff ENV` and `env sync ENV [--prune]`: an app's environment variables against the
//! ones `deploy.toml` declares for it.
//!
//! Only the non-preview variables are compared: Coolify creates a preview copy of every
//! variable by itself, so `GET /envs` normally lists each key twice, and entries are
//! deduplicated by `(key, is_preview)`. A value Coolify does not return (a token without
//! `read:sensitive`, or a locked `is_shown_once` variable) is `unknown`: it is never guessed,
//! never overwritten and never printed. No value is printed at all: a differing value shows
//! as `differs`.
//!
//! Writes always carry the full flag set, because Coolify's PATCH clears the flags a request
//! leaves out; an update keeps the variable's existing flags and comment.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::PathBuf;

use anyhow::Context as _;
use coolify_client::{ApplicationUuid, Client, EnvVar, EnvVarInput, EnvVarUuid};
use serde::Serialize;

use crate::backup::{self, BackupLocation, Values};
use crate::config::{EnvironmentConfig, EnvironmentName};
use crate::output::Output;
use crate::pipeline::Pipeline;
use crate::session::{DryRun, Session};

/// `--prune`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Prune {
    /// Leave undeclared variables alone.
    #[default]
    No,
    /// Delete variables that `deploy.toml` does not declare (and their preview copies).
    Yes,
}

/// Options of `env sync`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncOptions {
    /// Which environment.
    pub environment: EnvironmentName,
    /// `--prune`.
    pub prune: Prune,
    /// `--dry-run`.
    pub dry_run: DryRun,
    /// Where the backup taken before any write goes.
    pub backup: BackupLocation,
}

impl SyncOptions {
    /// Sync `environment` without pruning, backing up to the default directory.
    pub fn new(environment: EnvironmentName) -> Self {
        Self {
            environment,
            prune: Prune::No,
            dry_run: DryRun::No,
            backup: BackupLocation::Default,
        }
    }
}

/// How one declared or present key compares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum KeyState {
    /// Present with the declared value.
    Same,
    /// Declared but absent from the app.
    Missing,
    /// Present with another value (which is never printed).
    Differs,
    /// Present, but Coolify does not return its value, so it cannot be compared.
    Unknown,
    /// Present on the app but not declared.
    Extra,
}

impl KeyState {
    fn marker(self) -> &'static str {
        match self {
            Self::Same => "=",
            Self::Missing => "+",
            Self::Differs => "~",
            Self::Unknown => "?",
            Self::Extra => "-",
        }
    }

    fn words(self) -> &'static str {
        match self {
            Self::Same => "same",
            Self::Missing => "missing",
            Self::Differs => "differs",
            Self::Unknown => {
                "unknown (Coolify hides its value: locked, or the token lacks read:sensitive)"
            }
            Self::Extra => "extra (not declared in deploy.toml)",
        }
    }
}

/// One key of a comparison.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct KeyDiff {
    /// The variable's key.
    pub key: String,
    /// How it compares.
    pub state: KeyState,
}

/// The result of `env diff`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EnvDiff {
    /// Which environment.
    pub environment: EnvironmentName,
    /// Its Coolify application.
    pub app: String,
    /// Every declared key and every undeclared non-preview key, sorted by key.
    pub keys: Vec<KeyDiff>,
}

impl EnvDiff {
    /// Keys in `state`.
    pub fn keys_in(&self, state: KeyState) -> impl Iterator<Item = &str> {
        self.keys
            .iter()
            .filter(move |diff| diff.state == state)
            .map(|diff| diff.key.as_str())
    }

    /// Whether every declared key is present with its value (unknown values aside) and no
    /// undeclared key exists.
    pub fn is_clean(&self) -> bool {
        self.keys
            .iter()
            .all(|diff| matches!(diff.state, KeyState::Same | KeyState::Unknown))
    }
}

impl fmt::Display for EnvDiff {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let same = self.keys_in(KeyState::Same).count();
        let shown: Vec<&KeyDiff> = self
            .keys
            .iter()
            .filter(|diff| diff.state != KeyState::Same)
            .collect();
        if shown.is_empty() {
            return write!(
                f,
                "{} (app {}): all {same} declared variables match",
                self.environment, self.app
            );
        }
        writeln!(
            f,
            "{} (app {}): {same} declared variables match; the others:",
            self.environment, self.app
        )?;
        for diff in shown {
            writeln!(
                f,
                "  {} {} {}",
                diff.state.marker(),
                diff.key,
                diff.state.words()
            )?;
        }
        Ok(())
    }
}

/// What a write does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum WriteKind {
    /// Create a missing variable with Coolify's default flags.
    Create,
    /// Set a differing value, keeping the variable's flags.
    Update,
    /// Delete an undeclared variable (`--prune`).
    Delete,
}

/// One write to an app's variables. Its value is never shown, not even by `Debug`.
#[derive(Clone, PartialEq, Eq, Serialize)]
pub struct EnvWrite {
    /// What it does.
    pub kind: WriteKind,
    /// The key.
    pub key: String,
    /// Whether it targets the preview copy.
    pub is_preview: bool,
    /// The flags sent with a create or update (`literal`, `multiline`, `locked`, `runtime`,
    /// `buildtime`).
    pub flags: Vec<&'static str>,
    #[serde(skip)]
    input: Option<EnvVarInput>,
    #[serde(skip)]
    uuid: Option<EnvVarUuid>,
}

impl fmt::Debug for EnvWrite {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EnvWrite")
            .field("kind", &self.kind)
            .field("key", &self.key)
            .field("is_preview", &self.is_preview)
            .field("flags", &self.flags)
            .finish_non_exhaustive()
    }
}

impl fmt::Display for EnvWrite {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let copy = if self.is_preview {
            " (preview copy)"
        } else {
            ""
        };
        match self.kind {
            WriteKind::Create => write!(f, "create {}{copy} [{}]", self.key, self.flags.join(", ")),
            WriteKind::Update => write!(
                f,
                "update {}{copy}: value differs, flags kept [{}]",
                self.key,
                self.flags.join(", ")
            ),
            WriteKind::Delete => write!(f, "delete {}{copy} (not declared)", self.key),
        }
    }
}

fn flags_of(input: &EnvVarInput) -> Vec<&'static str> {
    [
        (input.is_literal, "literal"),
        (input.is_multiline, "multiline"),
        (input.is_shown_once, "locked"),
        (input.is_runtime, "runtime"),
        (input.is_buildtime, "buildtime"),
    ]
    .into_iter()
    .filter_map(|(on, name)| on.then_some(name))
    .collect()
}

/// The app's variables deduplicated by `(key, is_preview)`: the first entry of each pair wins.
fn deduplicate(actual: &[EnvVar]) -> BTreeMap<(String, bool), &EnvVar> {
    let mut unique = BTreeMap::new();
    for variable in actual {
        unique
            .entry((variable.key.clone(), variable.is_preview))
            .or_insert(variable);
    }
    unique
}

/// Compare the declared variables with the app's non-preview ones.
pub(crate) fn compare(declared: &BTreeMap<String, String>, actual: &[EnvVar]) -> Vec<KeyDiff> {
    let unique = deduplicate(actual);
    let mut keys: BTreeSet<&str> = declared.keys().map(String::as_str).collect();
    keys.extend(
        unique
            .keys()
            .filter(|(_, preview)| !preview)
            .map(|(key, _)| key.as_str()),
    );
    keys.into_iter()
        .map(|key| {
            let present = unique.get(&(key.to_owned(), false));
            let state = match (declared.get(key), present) {
                (Some(_), None) => KeyState::Missing,
                (Some(wanted), Some(variable)) => match &variable.value {
                    None => KeyState::Unknown,
                    Some(value) if value == wanted => KeyState::Same,
                    Some(_) => KeyState::Differs,
                },
                (None, _) => KeyState::Extra,
            };
            KeyDiff {
                key: key.to_owned(),
                state,
            }
        })
        .collect()
}

/// The writes that make the app match: create missing, update differing (keeping flags), and
/// with `--prune` delete undeclared ones with their preview copies. Unknown values are left alone.
pub(crate) fn plan(
    declared: &BTreeMap<String, String>,
    actual: &[EnvVar],
    prune: Prune,
) -> Vec<EnvWrite> {
    let unique = deduplicate(actual);
    let mut writes = Vec::new();
    for diff in compare(declared, actual) {
        let existing = unique.get(&(diff.key.clone(), false));
        let input = match (diff.state, existing, declared.get(&diff.key)) {
            (KeyState::Missing, _, Some(value)) => {
                Some((WriteKind::Create, EnvVarInput::new(&diff.key, value)))
            }
            (KeyState::Differs, Some(existing), Some(value)) => Some((
                WriteKind::Update,
                EnvVarInput::updating(existing, value.clone()),
            )),
            _ => None,
        };
        if let Some((kind, input)) = input {
            writes.push(EnvWrite {
                kind,
                key: diff.key.clone(),
                is_preview: false,
                flags: flags_of(&input),
                input: Some(input),
                uuid: None,
            });
        }
        if diff.state == KeyState::Extra && prune == Prune::Yes {
            for is_preview in [false, true] {
                if let Some(variable) = unique.get(&(diff.key.clone(), is_preview)) {
                    writes.push(EnvWrite {
                        kind: WriteKind::Delete,
                        key: diff.key.clone(),
                        is_preview,
                        flags: Vec::new(),
                        input: None,
                        uuid: Some(variable.uuid.clone()),
                    });
                }
            }
        }
    }
    writes
}

/// Make `writes` on `app`, one line of output per write: upserts in one bulk request, then
/// the deletes.
pub(crate) async fn apply(
    client: &Client,
    app: &ApplicationUuid,
    environment: EnvironmentName,
    writes: &[EnvWrite],
    output: &Output,
) -> anyhow::Result<()> {
    let upserts: Vec<EnvVarInput> = writes
        .iter()
        .filter_map(|write| write.input.clone())
        .collect();
    for write in writes.iter().filter(|write| write.input.is_some()) {
        output.step(format!("{environment}: {write}"));
    }
    client
        .upsert_env_vars(app, &upserts)
        .await
        .with_context(|| format!("upsert {} variables of app {app}", upserts.len()))?;
    for write in writes {
        if let Some(uuid) = &write.uuid {
            output.step(format!("{environment}: {write}"));
            client
                .delete_env_var(app, uuid)
                .await
                .with_context(|| format!("delete {} of app {app}", write.key))?;
        }
    }
    Ok(())
}

/// Compare an environment's app with its declared variables.
///
/// # Errors
///
/// A bad config or missing token ([`crate::BadInput`]); Coolify unreachable or the app unknown.
pub async fn diff(session: &Session, environment: EnvironmentName) -> anyhow::Result<EnvDiff> {
    let context = format!("env diff {environment}");
    let pipeline = Pipeline::open(session).context(context.clone())?;
    let section = pipeline.config.environment(environment);
    let actual = read(&pipeline.coolify, section).await.context(context)?;
    Ok(EnvDiff {
        environment,
        app: section.app.to_string(),
        keys: compare(&section.env, &actual),
    })
}

async fn read(client: &Client, section: &EnvironmentConfig) -> anyhow::Result<Vec<EnvVar>> {
    client
        .env_vars(&section.app)
        .await
        .with_context(|| format!("read the variables of {} app {}", section.name, section.app))
}

/// What `env sync` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SyncAction {
    /// The writes were made and verified.
    Applied,
    /// The app already matched.
    NothingToChange,
    /// `--dry-run`: only planned.
    Planned,
}

/// The result of `env sync`.
#[derive(Debug, Clone, Serialize)]
pub struct SyncReport {
    /// Which environment.
    pub environment: EnvironmentName,
    /// Its Coolify application.
    pub app: String,
    /// What was done.
    pub action: SyncAction,
    /// The writes made (or planned).
    pub writes: Vec<EnvWrite>,
    /// Where the backup taken before the writes is.
    pub backup: Option<PathBuf>,
    /// Declared keys whose values Coolify hides: left as they are.
    pub unknown: Vec<String>,
    /// Undeclared keys kept because `--prune` was not given.
    pub kept: Vec<String>,
}

impl fmt::Display for SyncReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.action {
            SyncAction::NothingToChange => write!(
                f,
                "{} (app {}): variables already match deploy.toml: nothing to change",
                self.environment, self.app
            )?,
            SyncAction::Planned => {
                write!(
                    f,
                    "dry run: would make {} writes to {} (app {}):",
                    self.writes.len(),
                    self.environment,
                    self.app
                )?;
                for write in &self.writes {
                    write!(f, "\n  - {write}")?;
                }
            }
            SyncAction::Applied => {
                write!(
                    f,
                    "{} (app {}): made and verified {} writes",
                    self.environment,
                    self.app,
                    self.writes.len()
                )?;
                if let Some(backup) = &self.backup {
                    write!(f, "; the state before is backed up in {}", backup.display())?;
                }
            }
        }
        if !self.unknown.is_empty() {
            write!(
                f,
                "\nleft as is, values hidden by Coolify: {} (a token with read:sensitive can compare them)",
                self.unknown.join(", ")
            )?;
        }
        if !self.kept.is_empty() {
            write!(
                f,
                "\nkept, not declared: {} (`--prune` deletes them)",
                self.kept.join(", ")
            )?;
        }
        Ok(())
    }
}

/// Upsert what differs from the declared variables, delete undeclared ones with `--prune`,
/// then read back and verify. A backup is written before the first write.
///
/// # Errors
///
/// A bad config or missing token ([`crate::BadInput`]); Coolify unreachable, a write refused,
/// the backup not written, or the read-back not matching.
pub async fn sync(session: &Session, options: &SyncOptions) -> anyhow::Result<SyncReport> {
    let environment = options.environment;
    let context = format!("env sync {environment}");
    let pipeline = Pipeline::open(session).context(context.clone())?;
    let section = pipeline.config.environment(environment);
    let actual = read(&pipeline.coolify, section)
        .await
        .context(context.clone())?;
    let diffs = compare(&section.env, &actual);
    let writes = plan(&section.env, &actual, options.prune);
    let names = |state: KeyState| -> Vec<String> {
        diffs
            .iter()
            .filter(|diff| diff.state == state)
            .map(|diff| diff.key.clone())
            .collect()
    };
    let mut report = SyncReport {
        environment,
        app: section.app.to_string(),
        action: SyncAction::NothingToChange,
        writes,
        backup: None,
        unknown: names(KeyState::Unknown),
        kept: if options.prune == Prune::Yes {
            Vec::new()
        } else {
            names(KeyState::Extra)
        },
    };
    if report.writes.is_empty() {
        return Ok(report);
    }
    let backup_path = options.backup.path_for(
        pipeline.repo.root(),
        environment,
        std::time::SystemTime::now(),
    );
    if options.dry_run.is_dry() {
        session.output.step(format!(
            "dry run: would back up {environment} to {}",
            backup_path.display()
        ));
        report.action = SyncAction::Planned;
        return Ok(report);
    }
    let document = backup::take(&pipeline.coolify, section, Values::Redacted)
        .await
        .context(context.clone())?;
    backup::write(&backup_path, &document).context(context.clone())?;
    session.output.step(format!(
        "{environment}: backed up app {} to {}",
        section.app,
        backup_path.display()
    ));
    report.backup = Some(backup_path);
    apply(
        &pipeline.coolify,
        &section.app,
        environment,
        &report.writes,
        &session.output,
    )
    .await
    .context(context.clone())?;
    let after = read(&pipeline.coolify, section)
        .await
        .with_context(|| format!("{context}: verify"))?;
    let remaining = plan(&section.env, &after, options.prune);
    if !remaining.is_empty() {
        let list: Vec<String> = remaining.iter().map(ToString::to_string).collect();
        anyhow::bail!(
            "{context}: verify: Coolify still needs {}; run `{}` and check the app in Coolify (backup: {})",
            list.join("; "),
            session
                .invocation
                .command(format_args!("env diff {environment}")),
            report
                .backup
                .as_deref()
                .map(|path| path.display().to_string())
                .unwrap_or_default()
        );
    }
    report.action = SyncAction::Applied;
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn variable(key: &str, value: Option<&str>, is_preview: bool) -> EnvVar {
        let mut json = serde_json::json!({
            "uuid": format!("{key}-{is_preview}"),
            "key": key,
            "is_preview": is_preview,
        });
        if let Some(value) = value {
            json["value"] = serde_json::json!(value);
        }
        serde_json::from_value(json).unwrap()
    }

    fn declared(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(key, value)| ((*key).to_owned(), (*value).to_owned()))
            .collect()
    }

    fn check(declared_pairs: &[(&str, &str)], actual: &[EnvVar], expected: &[(&str, KeyState)]) {
        let diffs = compare(&declared(declared_pairs), actual);
        let got: Vec<(&str, KeyState)> = diffs
            .iter()
            .map(|diff| (diff.key.as_str(), diff.state))
            .collect();
        assert_eq!(got, expected);
    }

    #[test]
    fn each_state_is_found() {
        check(
            &[("A", "1"), ("B", "2"), ("C", "3"), ("D", "4")],
            &[
                variable("A", Some("1"), false),
                variable("B", Some("other"), false),
                variable("C", None, false),
                variable("E", Some("5"), false),
            ],
            &[
                ("A", KeyState::Same),
                ("B", KeyState::Differs),
                ("C", KeyState::Unknown),
                ("D", KeyState::Missing),
                ("E", KeyState::Extra),
            ],
        );
    }

    #[test]
    fn preview_copies_are_not_compared() {
        check(
            &[("A", "1")],
            &[
                variable("A", Some("1"), false),
                variable("A", Some("preview value"), true),
                variable("ONLY_PREVIEW", Some("x"), true),
            ],
            &[("A", KeyState::Same)],
        );
        check(
            &[("A", "1")],
            &[variable("A", Some("1"), true)],
            &[("A", KeyState::Missing)],
        );
    }

    #[test]
    fn duplicates_of_a_key_count_once() {
        check(
            &[],
            &[
                variable("X", Some("1"), false),
                variable("X", Some("1"), false),
            ],
            &[("X", KeyState::Extra)],
        );
    }

    #[test]
    fn updates_keep_flags_and_unknown_values_are_left_alone() {
        let mut locked = variable("B", Some("old"), false);
        locked.is_literal = true;
        locked.is_buildtime = false;
        let writes = plan(
            &declared(&[("A", "1"), ("B", "2"), ("C", "3")]),
            &[locked, variable("C", None, false)],
            Prune::No,
        );
        assert_eq!(writes.len(), 2, "{writes:?}");
        assert_eq!(writes[0].kind, WriteKind::Create);
        assert_eq!(writes[0].to_string(), "create A [runtime, buildtime]");
        let update = writes[1].input.as_ref().unwrap();
        assert!(update.is_literal && !update.is_buildtime && update.is_runtime);
        assert_eq!(update.value, "2");
        assert_eq!(
            writes[1].to_string(),
            "update B: value differs, flags kept [literal, runtime]"
        );
    }

    #[test]
    fn prune_deletes_both_copies_and_only_with_the_flag() {
        let actual = [
            variable("OLD", Some("x"), false),
            variable("OLD", Some("x"), true),
        ];
        assert!(plan(&BTreeMap::new(), &actual, Prune::No).is_empty());
        let writes = plan(&BTreeMap::new(), &actual, Prune::Yes);
        let deleted: Vec<(&str, bool)> = writes
            .iter()
            .map(|write| (write.key.as_str(), write.is_preview))
            .collect();
        assert_eq!(deleted, [("OLD", false), ("OLD", true)]);
        assert!(writes.iter().all(|write| write.kind == WriteKind::Delete));
    }

    #[test]
    fn no_value_is_ever_displayed() {
        let diff = EnvDiff {
            environment: EnvironmentName::Staging,
            app: "app".to_owned(),
            keys: compare(
                &declared(&[("SECRET", "declared-value")]),
                &[variable("SECRET", Some("live-secret"), false)],
            ),
        };
        let text = diff.to_string();
        assert!(text.contains("~ SECRET differs"), "{text}");
        assert!(!text.contains("declared-value") && !text.contains("live-secret"));
        let writes = plan(
            &declared(&[("SECRET", "declared-value")]),
            &[variable("SECRET", Some("live-secret"), false)],
            Prune::No,
        );
        let json = serde_json::to_string(&writes).unwrap();
        assert!(!json.contains("declared-value") && !json.contains("live-secret"));
    }
}
