//! `backup ENV [-o FILE] [--include-values]`: an app's settings and environment variables
//! as one JSON document (an array of one document per app for an environment with several).
//!
//! Coolify has no export endpoint, so the document is built from `GET /applications/{uuid}`
//! (every field, including the ones this tool does not model) and `GET .../envs`, with the
//! Coolify version and the time it was taken. By default it holds no secret: variable values
//! and the sensitive application fields (webhook secrets, basic-auth password, custom labels,
//! Dockerfile, compose files) are replaced by `"[redacted]"`. With `--include-values` they are
//! kept, as far as the token may read them: a value Coolify hides is marked `hidden`.
//! The API token is never part of it.
//!
//! `setup` and `env sync` write one before their first change, under
//! `.stagegate/backups/ENV-TIMESTAMP.json` at the repository root unless told otherwise.

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use anyhow::Context as _;
use coolify_client::Client;
use serde::Serialize;
use serde_json::Value;

use crate::config::{EnvironmentConfig, EnvironmentName};
use crate::engine::Engine;
use crate::output::timestamp;
use crate::session::Session;

/// What replaces a secret.
pub(crate) const REDACTED: &str = "[redacted]";

/// The backup directory under the repository root.
pub(crate) const DEFAULT_DIRECTORY: &str = ".stagegate/backups";

/// Application fields that hold secrets or whole build files.
const SENSITIVE_FIELDS: &[&str] = &[
    "manual_webhook_secret_github",
    "manual_webhook_secret_gitlab",
    "manual_webhook_secret_bitbucket",
    "manual_webhook_secret_gitea",
    "http_basic_auth_password",
    "custom_labels",
    "custom_nginx_configuration",
    "dockerfile",
    "docker_compose",
    "docker_compose_raw",
    "docker_compose_domains",
];

/// Parts of a field name that mark it secret even if Coolify adds it later.
const SENSITIVE_WORDS: &[&str] = &["secret", "password", "token", "private_key"];

/// One environment variable in a backup: coolify-client's record of it.
pub use coolify_client::EnvVarRecord as BackupVariable;
/// `--include-values`: [`Values::Redacted`] replaces values and sensitive fields by
/// `"[redacted]"`, [`Values::Included`] keeps what the token can read.
pub use coolify_client::RecordValues as Values;
/// Whether a value is in the document.
pub use coolify_client::ValueState;

/// Where `setup` and `env sync` put their backups.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub enum BackupLocation {
    /// `.stagegate/backups/` at the repository root.
    #[default]
    Default,
    /// This directory.
    Directory(PathBuf),
}

impl BackupLocation {
    /// From `--backup-dir`.
    pub(crate) fn from_flag(directory: Option<PathBuf>) -> Self {
        directory.map_or(Self::Default, Self::Directory)
    }

    /// `DIR/ENV-20261126T180732Z.json`, with a counter if that file exists already.
    pub(crate) fn path_for(
        &self,
        repository_root: &Path,
        environment: EnvironmentName,
        time: SystemTime,
    ) -> PathBuf {
        let directory = match self {
            Self::Default => repository_root.join(DEFAULT_DIRECTORY),
            Self::Directory(directory) => directory.clone(),
        };
        let stamp: String = timestamp(time)
            .chars()
            .filter(|c| *c != '-' && *c != ':')
            .collect();
        let mut path = directory.join(format!("{environment}-{stamp}.json"));
        let mut counter = 1;
        while path.exists() {
            path = directory.join(format!("{environment}-{stamp}-{counter}.json"));
            counter += 1;
        }
        path
    }
}

/// The backup document.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Backup {
    /// The document's format version.
    pub format: u32,
    /// The stagegate version that wrote it.
    pub stagegate_version: String,
    /// What `GET /version` reported.
    pub coolify_version: String,
    /// When it was taken (RFC 3339, UTC).
    pub created_at: String,
    /// Which environment.
    pub environment: EnvironmentName,
    /// Whether values were asked for.
    pub values: ValueState,
    /// The application object as Coolify returned it, sensitive fields redacted.
    pub application: Value,
    /// The application fields that were redacted.
    pub redacted_fields: Vec<String>,
    /// Every variable, preview copies included, in Coolify's order.
    pub variables: Vec<BackupVariable>,
}

fn is_sensitive(field: &str) -> bool {
    SENSITIVE_FIELDS.contains(&field) || SENSITIVE_WORDS.iter().any(|word| field.contains(word))
}

/// Replace sensitive fields (top level and in `settings`) by [`REDACTED`]; returns their names.
fn redact(application: &mut Value) -> Vec<String> {
    let mut redacted = Vec::new();
    let mut visit = |object: &mut serde_json::Map<String, Value>, prefix: &str| {
        for (field, value) in object.iter_mut() {
            if is_sensitive(field) && !value.is_null() {
                *value = Value::String(REDACTED.to_owned());
                redacted.push(format!("{prefix}{field}"));
            }
        }
    };
    if let Some(object) = application.as_object_mut() {
        visit(object, "");
        if let Some(settings) = object.get_mut("settings").and_then(Value::as_object_mut) {
            visit(settings, "settings.");
        }
    }
    redacted
}

/// Read every app of an environment and its variables into backup documents, one per app in
/// config order.
pub(crate) async fn take(
    client: &Client,
    section: &EnvironmentConfig,
    values: Values,
) -> anyhow::Result<Vec<Backup>> {
    let mut backups = Vec::new();
    for app in &section.apps {
        backups.push(take_app(client, section, &app.uuid, values).await?);
    }
    Ok(backups)
}

async fn take_app(
    client: &Client,
    section: &EnvironmentConfig,
    app: &coolify_client::ApplicationUuid,
    values: Values,
) -> anyhow::Result<Backup> {
    let context = || format!("back up {} app {app}", section.name);
    let coolify_version = client
        .version()
        .await
        .context("read the Coolify version")
        .with_context(context)?;
    let application = client
        .application(app)
        .await
        .context("read the application")
        .with_context(context)?;
    let variables = client
        .env_vars(app)
        .await
        .context("read the variables")
        .with_context(context)?;
    let mut application =
        serde_json::to_value(&application).context("serialize the application")?;
    let redacted_fields = match values {
        Values::Redacted => redact(&mut application),
        Values::Included => Vec::new(),
    };
    Ok(Backup {
        format: 1,
        stagegate_version: env!("CARGO_PKG_VERSION").to_owned(),
        coolify_version,
        created_at: timestamp(SystemTime::now()),
        environment: section.name,
        values: match values {
            Values::Redacted => ValueState::Redacted,
            Values::Included => ValueState::Included,
        },
        application,
        redacted_fields,
        variables: variables
            .iter()
            .map(|variable| BackupVariable::new(variable, values))
            .collect(),
    })
}

/// Write an environment's backup atomically, creating its directory.
pub(crate) fn write(path: &Path, backup: &[Backup]) -> anyhow::Result<()> {
    if let Some(directory) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(directory)
            .with_context(|| format!("create {}", directory.display()))?;
    }
    let text = to_text(backup)?;
    crate::files::write_atomically(path, &text, crate::files::Replace::Yes)
        .with_context(|| format!("write the backup {}", path.display()))
}

/// One app's document as an object; several apps' as an array of them, in config order.
fn to_text(backup: &[Backup]) -> anyhow::Result<String> {
    let mut text = match backup {
        [only] => serde_json::to_string_pretty(only),
        several => serde_json::to_string_pretty(several),
    }
    .context("serialize the backup")?;
    text.push('\n');
    Ok(text)
}

/// Options of `backup`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackupOptions {
    /// Which environment.
    pub environment: EnvironmentName,
    /// `-o FILE` (default: the document goes to stdout).
    pub output: Option<PathBuf>,
    /// `--include-values`.
    pub values: Values,
}

/// The result of `backup`.
///
/// Its JSON has `path`, `backup` (the first app's document, as before several apps) and
/// `backups` (every app's).
#[derive(Debug, Clone)]
pub struct BackupReport {
    /// The file written, if any.
    pub path: Option<PathBuf>,
    /// One document per app of the environment, in config order.
    pub backups: Vec<Backup>,
}

impl Serialize for BackupReport {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Wire<'a> {
            path: Option<&'a PathBuf>,
            backup: Option<&'a Backup>,
            backups: &'a [Backup],
        }
        Wire {
            path: self.path.as_ref(),
            backup: self.backups.first(),
            backups: &self.backups,
        }
        .serialize(serializer)
    }
}

impl fmt::Display for BackupReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (index, backup) in self.backups.iter().enumerate() {
            if index > 0 {
                write!(f, "; ")?;
            }
            let hidden = backup
                .variables
                .iter()
                .filter(|variable| variable.value_state == ValueState::Hidden)
                .count();
            write!(
                f,
                "backed up {} app {} ({}, values {}",
                backup.environment,
                backup
                    .application
                    .get("uuid")
                    .and_then(Value::as_str)
                    .unwrap_or("?"),
                super::counted(backup.variables.len(), "variable"),
                match backup.values {
                    ValueState::Included => "included",
                    _ => "redacted",
                }
            )?;
            if backup.values == ValueState::Included && hidden > 0 {
                write!(f, ", {hidden} hidden by Coolify")?;
            }
            write!(f, ")")?;
        }
        if let Some(path) = &self.path {
            write!(f, " to {}", path.display())?;
        }
        Ok(())
    }
}

impl BackupReport {
    /// The document as written: pretty JSON with a final newline; an array of one document
    /// per app when the environment has several.
    ///
    /// # Errors
    ///
    /// When it cannot be serialized.
    pub fn document(&self) -> anyhow::Result<String> {
        to_text(&self.backups)
    }
}

/// Take a backup of an environment's app; write it to `-o FILE` if given.
///
/// # Errors
///
/// A bad config or missing token ([`crate::BadInput`]); Coolify unreachable or the app
/// unknown; the file cannot be written.
pub async fn backup(session: &Session, options: &BackupOptions) -> anyhow::Result<BackupReport> {
    let context = format!("backup {}", options.environment);
    let engine = Engine::open(session).context(context.clone())?;
    let section = engine.config.environment(options.environment);
    let document = take(&engine.coolify, section, options.values)
        .await
        .context(context.clone())?;
    if let Some(path) = &options.output {
        write(path, &document).context(context)?;
    }
    Ok(BackupReport {
        path: options.output.clone(),
        backups: document,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sensitive_fields_are_redacted_and_named() {
        let mut application = serde_json::json!({
            "uuid": "a1",
            "git_branch": "main",
            "manual_webhook_secret_github": "s3cret",
            "http_basic_auth_password": "pw",
            "custom_labels": "bGFiZWxz",
            "dockerfile": null,
            "some_future_api_token": "t",
            "settings": {"is_static": false, "webhook_secret": "x"},
        });
        let redacted = redact(&mut application);
        let text = application.to_string();
        for secret in ["s3cret", "\"pw\"", "bGFiZWxz", "\"t\"", "\"x\""] {
            assert!(!text.contains(secret), "{secret} in {text}");
        }
        assert_eq!(application["git_branch"], "main");
        assert_eq!(application["dockerfile"], Value::Null);
        assert_eq!(
            redacted,
            [
                "custom_labels",
                "http_basic_auth_password",
                "manual_webhook_secret_github",
                "some_future_api_token",
                "settings.webhook_secret"
            ]
        );
    }

    #[test]
    fn backup_paths_never_overwrite_an_earlier_backup() {
        let directory = tempfile::tempdir().unwrap();
        let location = BackupLocation::Directory(directory.path().to_path_buf());
        let time = SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_800_000_000);
        let first = location.path_for(Path::new("/unused"), EnvironmentName::Staging, time);
        assert_eq!(
            first.file_name().unwrap().to_str().unwrap(),
            "staging-20270115T080000Z.json"
        );
        std::fs::write(&first, "{}").unwrap();
        let second = location.path_for(Path::new("/unused"), EnvironmentName::Staging, time);
        assert_eq!(
            second.file_name().unwrap().to_str().unwrap(),
            "staging-20270115T080000Z-1.json"
        );
        let default =
            BackupLocation::Default.path_for(Path::new("/repo"), EnvironmentName::Production, time);
        assert!(default.starts_with("/repo/.stagegate/backups"));
    }
}
