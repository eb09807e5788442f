//! `deploy.toml`: typed at load time, so a bad value fails before anything is contacted and
//! names its key and line.
//!
//! The `[tags]` table is `tag-policy`'s own type and the `[probe]` tables are
//! `health-probe`'s: this module only adds what belongs to the flows (Coolify, deploy
//! deadlines, environments). `docs/CONFIG.md` documents every key and default.
//!
//! - `model`: the loaded config's types, what the flows read.
//! - `raw`: the file as serde reads it, before any check.
//! - `source`: the file read once into TOML's tree, whose spans give every error its key and
//!   line.
//! - `messages`: serde's and the TOML parser's messages in the file's terms, with the fix.
//! - `coolify`: `[coolify]`, with `COOLIFY_URL` applied.
//! - `environments`: each `[environments.NAME]` section, and what staging and production
//!   may not share.
//! - `apps`: each app of an environment.
//! - `probe`: stagegate's probe defaults and how the probe tables overlay.
//! - `image`: Docker-image apps (`image`, the `image_tag` template).
//! - `workflows`: the `[workflows]` table.
//! - `preview`: the `[preview]` table.

mod apps;
mod coolify;
mod environments;
mod image;
mod messages;
mod model;
mod preview;
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

pub use self::image::{ImageConfig, Placeholder};
pub use self::model::{
    AppConfig, CoolifyConfig, DEFAULT_RATE_LIMIT_SHARE, DeployConfig, EnvironmentConfig,
    EnvironmentName, InsecureHttp, NotesConfig, StagingGate,
};
pub use self::preview::{Declared, PR_PLACEHOLDER, PreviewConfig};
pub use self::workflows::{Install, PrValidation, Preset, PreviewWorkflow, WorkflowsConfig};

pub(crate) use self::coolify::check_coolify_url;
use self::raw::RawConfig;
use self::source::{KeyPath, Source};
use crate::exit::BadInput;
use crate::process_env::ProcessEnv;

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
    /// `[preview]`, resolved against staging's apps.
    pub preview: PreviewConfig,
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
    pub fn load(path: &Path, environment: &ProcessEnv) -> anyhow::Result<Self> {
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
    pub fn parse(text: &str, path: &Path, environment: &ProcessEnv) -> anyhow::Result<Self> {
        let source = Source::parse(text, path)?;
        let raw: RawConfig = source.read()?;
        let coolify = coolify::load(&source, raw.coolify, environment)?;
        let deploy = raw.deploy.unwrap_or_default();
        let timeout = match deploy.timeout {
            Some(timeout) if timeout.0.is_zero() => {
                return Err(source
                    .error(
                        &KeyPath::of(&["deploy", "timeout"]),
                        "\"0s\" would give up on every deployment at once; write a positive duration, e.g. \"20m\"",
                    )
                    .into());
            }
            Some(timeout) => timeout.0,
            None => Duration::from_secs(20 * 60),
        };
        let (staging, production) = environments::load(&source, raw.environments, &raw.probe)?;
        let preview = preview::load(&source, raw.preview, &staging)?;
        Ok(Self {
            path: path.to_path_buf(),
            coolify,
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
                repository_url: raw
                    .notes
                    .and_then(|notes| notes.repository_url.map(|url| url.0)),
            },
            staging,
            production,
            workflows: raw
                .workflows
                .map(|workflows| workflows.validate(&source))
                .transpose()?,
            preview,
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
    pub fn token(&self, environment: &ProcessEnv) -> anyhow::Result<SecretString> {
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
    fn the_token_comes_from_the_named_variable_only() {
        let config = parse(EXAMPLE).unwrap();
        let message = config
            .token(&ProcessEnv::default())
            .unwrap_err()
            .to_string();
        assert!(message.contains("COOLIFY_TOKEN is not set"), "{message}");
        let environment = ProcessEnv::from_pairs([("COOLIFY_TOKEN", "1|secret")]);
        use secrecy::ExposeSecret as _;
        assert_eq!(
            config.token(&environment).unwrap().expose_secret(),
            "1|secret"
        );
    }

    #[test]
    fn a_missing_or_unreadable_file_is_named_with_the_fix() {
        let directory = tempfile::tempdir().unwrap();
        let missing = directory.path().join("deploy.toml");
        let error = Config::load(&missing, &ProcessEnv::default()).unwrap_err();
        assert!(error.is::<BadInput>(), "{error:?}");
        let message = error.to_string();
        assert!(
            message.starts_with(&format!("no config at {}: ", missing.display())),
            "{message}"
        );
        assert!(message.contains("or pass --config PATH"), "{message}");
        let error = Config::load(directory.path(), &ProcessEnv::default()).unwrap_err();
        assert!(error.is::<BadInput>(), "{error:?}");
        let message = error.to_string();
        assert!(
            message.starts_with(&format!("cannot read {}: ", directory.path().display())),
            "{message}"
        );
    }

    #[test]
    fn a_zero_deploy_timeout_names_its_line() {
        let message = error(&format!("{EXAMPLE}\n[deploy]\ntimeout = \"0s\"\n"));
        assert!(
            message.contains(
                "deploy.toml, line 15: `deploy.timeout`: \"0s\" would give up on every deployment at once; write a positive duration, e.g. \"20m\""
            ),
            "{message}"
        );
    }
}
