//! `deploy.toml`: typed at load time, so a bad value fails before anything is contacted and
//! names its key and line.
//!
//! The `[tags]` table is `tag-policy`'s own type and the `[probe]` tables are
//! `health-probe`'s: this module only adds what belongs to the flows (Coolify, deploy
//! deadlines, environments). `docs/CONFIG.md` documents every key and default.
//!
//! - `model`: the loaded config's types, what the flows read.
//! - `raw`: the file as serde reads it, before any check.
//! - `source`: the file's text and path, for errors that name a key and its line.
//! - `environments`: each `[environments.NAME]` section and its apps.
//! - `probe`: stagegate's probe defaults and how the probe tables overlay.
//! - `image`: Docker-image apps (`image`, the `image_tag` template).
//! - `workflows`: the `[workflows]` table.

mod environments;
mod image;
mod model;
mod probe;
mod raw;
mod source;
#[cfg(test)]
mod test_support;
mod workflows;

use std::path::{Path, PathBuf};
use std::time::Duration;

use secrecy::SecretString;
use tag_policy::TagPolicy;
use url::Url;

pub use self::image::{DEFAULT_TAG_TEMPLATE, ImageConfig, Placeholder, TagTemplate};
pub use self::model::{
    AppConfig, CoolifyConfig, DeployConfig, EnvironmentConfig, EnvironmentName, NotesConfig,
    StagingGate,
};
pub use self::probe::{
    DEFAULT_CONFIRM_INTERVAL, DEFAULT_FAILURE_THRESHOLD, DEFAULT_PROBE_INTERVAL,
    DEFAULT_SWITCH_OVER,
};
pub use self::workflows::{Install, PrValidation, Preset, WorkflowsConfig};

use self::environments::Source;
use self::raw::RawConfig;
use self::source::describe_toml_error;
use crate::environment::Environment;
use crate::exit::BadInput;

/// The file name looked for at the repository root.
pub const FILE_NAME: &str = "deploy.toml";

/// A loaded, validated `deploy.toml`.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// Where it was read from.
    pub path: PathBuf,
    /// `[coolify]`, with `COOLIFY_URL` applied.
    pub coolify: CoolifyConfig,
    /// `[tags]`.
    pub tags: TagPolicy,
    /// `[deploy]`.
    pub deploy: DeployConfig,
    /// `[notes]`.
    pub notes: NotesConfig,
    /// `[environments.staging]`.
    pub staging: EnvironmentConfig,
    /// `[environments.production]`.
    pub production: EnvironmentConfig,
    /// `[workflows]`, when the file has the table.
    pub workflows: Option<WorkflowsConfig>,
}

impl Config {
    /// The default location: `deploy.toml` at the repository root.
    pub fn default_path(repository_root: &Path) -> PathBuf {
        repository_root.join(FILE_NAME)
    }

    /// Read and validate a config file; `COOLIFY_URL` in `environment` overrides
    /// `coolify.url`.
    ///
    /// # Errors
    ///
    /// [`BadInput`] naming the file, the key (with its line) and the fix.
    pub fn load(path: &Path, environment: &Environment) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|error| {
            BadInput(if error.kind() == std::io::ErrorKind::NotFound {
                format!(
                    "no config at {}: copy deploy.toml from the stagegate repository and fill in your apps, or pass --config PATH",
                    path.display()
                )
            } else {
                format!("cannot read {}: {error}", path.display())
            })
        })?;
        Self::parse(&text, path, environment)
    }

    /// Validate config text as if read from `path`.
    ///
    /// # Errors
    ///
    /// [`BadInput`] naming the file, the key (with its line) and the fix.
    pub fn parse(text: &str, path: &Path, environment: &Environment) -> anyhow::Result<Self> {
        let raw: RawConfig =
            toml::from_str(text).map_err(|error| describe_toml_error(text, path, &error))?;
        let invalid =
            |key: &str, message: String| BadInput(format!("{}: {key}: {message}", path.display()));

        let mut url = raw.coolify.url;
        if let Some(overridden) = environment.get("COOLIFY_URL") {
            url = Url::parse(overridden).map_err(|error| {
                BadInput(format!(
                    "COOLIFY_URL `{overridden}` is not a URL ({error}); set it like https://coolify.example.com"
                ))
            })?;
        }
        check_coolify_url(&url).map_err(|message| invalid("coolify.url", message))?;

        let token_env = raw
            .coolify
            .token_env
            .unwrap_or_else(|| "COOLIFY_TOKEN".to_owned());
        if token_env.is_empty()
            || !token_env
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_')
        {
            return Err(invalid(
                "coolify.token_env",
                format!(
                    "`{token_env}` is not an environment variable name; use e.g. COOLIFY_TOKEN"
                ),
            )
            .into());
        }

        let deploy = raw.deploy.unwrap_or_default();
        let mut environments = raw.environments;
        let source = Source { text, path };
        let mut take = |name: EnvironmentName| -> anyhow::Result<EnvironmentConfig> {
            let section = environments.remove(name.as_str()).ok_or_else(|| {
                invalid(
                    &format!("environments.{name}"),
                    format!("missing; add an [environments.{name}] table with app, branch and health_url"),
                )
            })?;
            source.environment(name, section, &raw.probe)
        };
        let staging = take(EnvironmentName::Staging)?;
        let production = take(EnvironmentName::Production)?;
        if let Some(unknown) = environments.keys().next() {
            return Err(invalid(
                &format!("environments.{unknown}"),
                "unknown environment; only `staging` and `production` exist".to_owned(),
            )
            .into());
        }
        if let Some(shared) = production
            .apps
            .iter()
            .find(|app| staging.apps.iter().any(|other| other.uuid == app.uuid))
        {
            return Err(invalid(
                "environments.production.app",
                format!(
                    "`{}` is also the staging app; staging and production must be different Coolify applications",
                    shared.uuid
                ),
            )
            .into());
        }

        let timeout = match deploy.timeout {
            Some(timeout) if timeout.get_ref().0.is_zero() => {
                let line = text[..timeout.span().start.min(text.len())]
                    .matches('\n')
                    .count()
                    + 1;
                return Err(BadInput(format!(
                    "{}, line {line}: `deploy.timeout`: \"0s\" would give up on every deployment at once; write a positive duration, e.g. \"20m\"",
                    path.display()
                ))
                .into());
            }
            Some(timeout) => timeout.into_inner().0,
            None => Duration::from_secs(20 * 60),
        };

        Ok(Self {
            path: path.to_path_buf(),
            coolify: CoolifyConfig { url, token_env },
            tags: raw.tags,
            deploy: DeployConfig {
                timeout,
                staging_gate: if deploy.staging_gate.unwrap_or(true) {
                    StagingGate::Required
                } else {
                    StagingGate::Off
                },
            },
            notes: NotesConfig {
                repository_url: raw.notes.and_then(|notes| notes.repository_url),
            },
            staging,
            production,
            workflows: raw
                .workflows
                .map(|workflows| workflows.validate(path))
                .transpose()?,
        })
    }

    /// One environment's section.
    pub fn environment(&self, name: EnvironmentName) -> &EnvironmentConfig {
        match name {
            EnvironmentName::Staging => &self.staging,
            EnvironmentName::Production => &self.production,
        }
    }

    /// The Coolify token from the variable `coolify.token_env` names.
    ///
    /// # Errors
    ///
    /// [`BadInput`] when the variable is unset or empty.
    pub fn token(&self, environment: &Environment) -> anyhow::Result<SecretString> {
        let name = &self.coolify.token_env;
        environment
            .get(name)
            .map(|token| SecretString::from(token.to_owned()))
            .ok_or_else(|| {
                BadInput(format!(
                    "{name} is not set: export a Coolify API token with the read, write and deploy abilities as {name}"
                ))
                .into()
            })
    }
}

/// The Coolify URL, checked as coolify-client checks it (https, or http only for a Coolify on
/// this machine; no credentials, query or fragment).
pub(crate) fn check_coolify_url(url: &Url) -> Result<(), String> {
    coolify_client::api_base_url(url.as_str())
        .map(drop)
        .map_err(|error| match error {
            // The client's value has any credentials taken out.
            coolify_client::Error::InvalidConfig { value, reason, .. } => {
                format!("`{value}`: {reason}")
            }
            other => other.to_string(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::test_support::*;

    #[test]
    fn defaults_are_filled_in() {
        let config = parse(EXAMPLE).unwrap();
        assert_eq!(config.coolify.token_env, "COOLIFY_TOKEN");
        assert_eq!(config.deploy.timeout, Duration::from_secs(1200));
        assert_eq!(config.deploy.staging_gate, StagingGate::Required);
        assert_eq!(config.staging.branch, "main");
        assert_eq!(config.staging.apps[0].env["ENVIRONMENT"], "staging");
        assert_eq!(
            config.production.apps[0].uuid.to_string(),
            "production-app-uuid"
        );
    }

    #[test]
    fn the_repository_example_is_valid() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../deploy.toml");
        Config::load(&path, &Environment::default()).unwrap();
    }

    #[test]
    fn the_token_comes_from_the_named_variable_only() {
        let config = parse(EXAMPLE).unwrap();
        let message = config
            .token(&Environment::default())
            .unwrap_err()
            .to_string();
        assert!(message.contains("COOLIFY_TOKEN is not set"), "{message}");
        let environment = Environment::from_pairs([("COOLIFY_TOKEN", "1|secret")]);
        use secrecy::ExposeSecret as _;
        assert_eq!(
            config.token(&environment).unwrap().expose_secret(),
            "1|secret"
        );
    }

    #[test]
    fn coolify_url_overrides_the_file() {
        let environment = Environment::from_pairs([("COOLIFY_URL", "http://127.0.0.1:9")]);
        let config = Config::parse(EXAMPLE, Path::new("deploy.toml"), &environment).unwrap();
        assert_eq!(config.coolify.url.as_str(), "http://127.0.0.1:9/");
        let environment = Environment::from_pairs([("COOLIFY_URL", "http://coolify.internal")]);
        assert!(Config::parse(EXAMPLE, Path::new("deploy.toml"), &environment).is_err());
    }

    #[test]
    fn http_is_refused_except_for_loopback() {
        let message =
            error(&EXAMPLE.replace("https://coolify.example.com", "http://coolify.example.com"));
        assert!(message.contains("clear text"), "{message}");
        parse(&EXAMPLE.replace("https://coolify.example.com", "http://127.0.0.1:8000")).unwrap();
        parse(&EXAMPLE.replace("https://coolify.example.com", "http://localhost:8000")).unwrap();
    }

    #[test]
    fn a_coolify_url_with_credentials_is_refused_at_load_time() {
        let message = error(&EXAMPLE.replace(
            "https://coolify.example.com",
            "https://user:pass@coolify.example.com",
        ));
        assert!(message.contains("coolify.url"), "{message}");
        assert!(message.contains("credentials in the URL"), "{message}");
        assert!(!message.contains("pass@"), "{message}");
    }
}
