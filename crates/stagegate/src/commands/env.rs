//! `env diff ENV` and `env sync ENV [--prune]`: each app's environment variables against the
//! ones `deploy.toml` declares for it (the environment's `env`, with the app's own added).
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
//!
//! The comparison and the writes are coolify-client's [`env_diff`] and [`env_plan`]; this
//! module reads, presents, backs up and applies them.

use std::fmt;
use std::path::PathBuf;

use anyhow::Context as _;
use coolify_client::{ApplicationUuid, Client, EnvVar, EnvVarInput};
pub use coolify_client::{EnvWrite, KeyDiff, KeyState, Prune, WriteKind};
use coolify_client::{env_diff, env_plan};
use serde::Serialize;

use crate::backup::{self, BackupLocation, Values};
use crate::config::{AppConfig, EnvironmentName};
use crate::engine::Engine;
use crate::output::Output;
use crate::session::{DryRun, Session};

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

/// The sign of a key's state in `env diff`.
fn marker(state: KeyState) -> &'static str {
    match state {
        KeyState::Same => "=",
        KeyState::Missing => "+",
        KeyState::Differs => "~",
        KeyState::Unknown => "?",
        KeyState::Extra => "-",
    }
}

/// A key's state in words, in `env diff`.
fn words(state: KeyState) -> &'static str {
    match state {
        KeyState::Same => "same",
        KeyState::Missing => "missing",
        KeyState::Differs => "differs",
        KeyState::Unknown => {
            "unknown (Coolify hides its value: locked, or the token lacks read:sensitive)"
        }
        KeyState::Extra => "extra (not declared in deploy.toml)",
    }
}

/// The result of `env diff`: each app of the environment, in config order.
///
/// Its JSON also carries the first app's `app` and `keys` at the top level, as documents
/// before several apps had them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvDiff {
    /// Which environment.
    pub environment: EnvironmentName,
    /// One comparison per app.
    pub apps: Vec<AppEnvDiff>,
}

/// One app's variables against the ones `deploy.toml` declares for it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AppEnvDiff {
    /// Its Coolify application.
    pub app: String,
    /// Its name in messages.
    pub label: String,
    /// Every declared key and every undeclared non-preview key, sorted by key.
    pub keys: Vec<KeyDiff>,
}

impl AppEnvDiff {
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

impl Serialize for EnvDiff {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Head {
            environment: EnvironmentName,
        }
        let head = Head {
            environment: self.environment,
        };
        crate::output::serialize_apps(serializer, head, &self.apps)
    }
}

impl EnvDiff {
    /// Whether every app is clean.
    pub fn is_clean(&self) -> bool {
        self.apps.iter().all(AppEnvDiff::is_clean)
    }
}

impl fmt::Display for EnvDiff {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let several = self.apps.len() > 1;
        for (index, app) in self.apps.iter().enumerate() {
            if index > 0 {
                writeln!(f)?;
            }
            let name = if several {
                format!("{} {} (app {})", self.environment, app.label, app.app)
            } else {
                format!("{} (app {})", self.environment, app.app)
            };
            let same = app.keys_in(KeyState::Same).count();
            let shown: Vec<&KeyDiff> = app
                .keys
                .iter()
                .filter(|diff| diff.state != KeyState::Same)
                .collect();
            if shown.is_empty() {
                write!(f, "{name}: all {same} declared variables match")?;
                continue;
            }
            write!(f, "{name}: {same} declared variables match; the others:")?;
            for diff in shown {
                write!(
                    f,
                    "\n  {} {} {}",
                    marker(diff.state),
                    diff.key,
                    words(diff.state)
                )?;
            }
        }
        Ok(())
    }
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
        .filter_map(|write| write.input().cloned())
        .collect();
    for write in writes.iter().filter(|write| write.input().is_some()) {
        output.step(format!("{environment}: {write}"));
    }
    client
        .upsert_env_vars(app, &upserts)
        .await
        .with_context(|| format!("upsert {} variables of app {app}", upserts.len()))?;
    for write in writes {
        if let Some(uuid) = write.uuid() {
            output.step(format!("{environment}: {write}"));
            client
                .delete_env_var(app, uuid)
                .await
                .with_context(|| format!("delete {} of app {app}", write.key))?;
        }
    }
    Ok(())
}

/// Compare every app of an environment with its declared variables.
///
/// # Errors
///
/// A bad config or missing token ([`crate::BadInput`]); Coolify unreachable or an app unknown.
pub async fn diff(session: &Session, environment: EnvironmentName) -> anyhow::Result<EnvDiff> {
    let context = format!("env diff {environment}");
    let engine = Engine::open(session).context(context.clone())?;
    let section = engine.config.environment(environment);
    let mut apps = Vec::new();
    for app in &section.apps {
        let actual = read(&engine.coolify, section.name, app)
            .await
            .context(context.clone())?;
        apps.push(AppEnvDiff {
            app: app.uuid.to_string(),
            label: app.label.clone(),
            keys: env_diff(&app.env, &actual),
        });
    }
    Ok(EnvDiff { environment, apps })
}

async fn read(
    client: &Client,
    environment: EnvironmentName,
    app: &AppConfig,
) -> anyhow::Result<Vec<EnvVar>> {
    client
        .env_vars(&app.uuid)
        .await
        .with_context(|| format!("read the variables of {environment} app {}", app.uuid))
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
///
/// Its JSON also carries the first app's `app`, `writes`, `unknown` and `kept` at the top
/// level, as documents before several apps had them.
#[derive(Debug, Clone)]
pub struct SyncReport {
    /// Which environment.
    pub environment: EnvironmentName,
    /// What was done.
    pub action: SyncAction,
    /// Where the backup taken before the writes is.
    pub backup: Option<PathBuf>,
    /// Each app, in config order.
    pub apps: Vec<AppSync>,
}

/// What `env sync` did to one app.
#[derive(Debug, Clone, Serialize)]
pub struct AppSync {
    /// Its Coolify application.
    pub app: String,
    /// Its name in messages.
    pub label: String,
    /// The writes made (or planned).
    pub writes: Vec<EnvWrite>,
    /// Declared keys whose values Coolify hides: left as they are.
    pub unknown: Vec<String>,
    /// Undeclared keys kept because `--prune` was not given.
    pub kept: Vec<String>,
}

impl Serialize for SyncReport {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Head<'a> {
            environment: EnvironmentName,
            action: SyncAction,
            backup: Option<&'a PathBuf>,
        }
        let head = Head {
            environment: self.environment,
            action: self.action,
            backup: self.backup.as_ref(),
        };
        crate::output::serialize_apps(serializer, head, &self.apps)
    }
}

impl SyncReport {
    /// Every write, over all apps.
    pub fn write_count(&self) -> usize {
        self.apps.iter().map(|app| app.writes.len()).sum()
    }
}

impl fmt::Display for SyncReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let several = self.apps.len() > 1;
        let name = |app: &AppSync| {
            if several {
                format!("{} {} (app {})", self.environment, app.label, app.app)
            } else {
                format!("{} (app {})", self.environment, app.app)
            }
        };
        for (index, app) in self.apps.iter().enumerate() {
            if index > 0 {
                writeln!(f)?;
            }
            match self.action {
                SyncAction::NothingToChange => write!(
                    f,
                    "{}: variables already match deploy.toml: nothing to change",
                    name(app)
                )?,
                SyncAction::Planned => {
                    write!(
                        f,
                        "dry run: would make {} to {}:",
                        super::counted(app.writes.len(), "write"),
                        name(app)
                    )?;
                    for write in &app.writes {
                        write!(f, "\n  - {write}")?;
                    }
                }
                SyncAction::Applied => {
                    write!(
                        f,
                        "{}: made and verified {}",
                        name(app),
                        super::counted(app.writes.len(), "write")
                    )?;
                    if let Some(backup) = &self.backup
                        && index + 1 == self.apps.len()
                    {
                        write!(f, "; the state before is backed up in {}", backup.display())?;
                    }
                }
            }
            if !app.unknown.is_empty() {
                write!(
                    f,
                    "\nleft as is, values hidden by Coolify: {} (a token with read:sensitive can compare them)",
                    app.unknown.join(", ")
                )?;
            }
            if !app.kept.is_empty() {
                write!(
                    f,
                    "\nkept, not declared: {} (`--prune` deletes them)",
                    app.kept.join(", ")
                )?;
            }
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
    let engine = Engine::open(session).context(context.clone())?;
    let section = engine.config.environment(environment);
    let mut apps = Vec::new();
    for app in &section.apps {
        let actual = read(&engine.coolify, environment, app)
            .await
            .context(context.clone())?;
        let diffs = env_diff(&app.env, &actual);
        let names = |state: KeyState| -> Vec<String> {
            diffs
                .iter()
                .filter(|diff| diff.state == state)
                .map(|diff| diff.key.clone())
                .collect()
        };
        apps.push(AppSync {
            app: app.uuid.to_string(),
            label: app.label.clone(),
            writes: env_plan(&app.env, &actual, options.prune),
            unknown: names(KeyState::Unknown),
            kept: if options.prune == Prune::Yes {
                Vec::new()
            } else {
                names(KeyState::Extra)
            },
        });
    }
    let mut report = SyncReport {
        environment,
        action: SyncAction::NothingToChange,
        backup: None,
        apps,
    };
    if report.write_count() == 0 {
        return Ok(report);
    }
    let backup_path = options.backup.path_for(
        engine.repo.root(),
        environment,
        std::time::SystemTime::now(),
    );
    if options.dry_run.is_dry() {
        engine.output.step(format!(
            "dry run: would back up {environment} to {}",
            backup_path.display()
        ));
        report.action = SyncAction::Planned;
        return Ok(report);
    }
    let document = backup::take(&engine.coolify, section, Values::Redacted)
        .await
        .context(context.clone())?;
    backup::write(&backup_path, &document).context(context.clone())?;
    for app in &section.apps {
        engine.output.step(format!(
            "{environment}: backed up app {} to {}",
            app.uuid,
            backup_path.display()
        ));
    }
    report.backup = Some(backup_path);
    for (app, planned) in section.apps.iter().zip(&report.apps) {
        if planned.writes.is_empty() {
            continue;
        }
        apply(
            &engine.coolify,
            &app.uuid,
            environment,
            &planned.writes,
            &engine.output,
        )
        .await
        .context(context.clone())?;
    }
    let mut remaining = Vec::new();
    for app in &section.apps {
        let after = read(&engine.coolify, environment, app)
            .await
            .with_context(|| format!("{context}: verify"))?;
        remaining.extend(env_plan(&app.env, &after, options.prune));
    }
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
    use std::collections::BTreeMap;

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

    #[test]
    fn no_value_is_ever_displayed() {
        let diff = EnvDiff {
            environment: EnvironmentName::Staging,
            apps: vec![AppEnvDiff {
                app: "app".to_owned(),
                label: "app".to_owned(),
                keys: env_diff(
                    &declared(&[("SECRET", "declared-value")]),
                    &[variable("SECRET", Some("live-secret"), false)],
                ),
            }],
        };
        let text = diff.to_string();
        assert!(text.contains("~ SECRET differs"), "{text}");
        assert!(!text.contains("declared-value") && !text.contains("live-secret"));
        let writes = env_plan(
            &declared(&[("SECRET", "declared-value")]),
            &[variable("SECRET", Some("live-secret"), false)],
            Prune::No,
        );
        let json = serde_json::to_string(&writes).unwrap();
        assert!(!json.contains("declared-value") && !json.contains("live-secret"));
    }
}
