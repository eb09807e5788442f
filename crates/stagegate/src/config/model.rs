//! The loaded config's types: what the flows read.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use coolify_client::ApplicationUuid;
use health_probe::ProbeConfig;
use url::Url;

use super::ImageConfig;
use crate::exit::BadInput;

/// `[coolify]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CoolifyConfig {
    /// The Coolify instance (without `/api/v1`).
    pub url: Url,
    /// The environment variable holding the API token.
    pub token_env: String,
    /// `allow_insecure_http`: whether a plain-http `url` of a Coolify on another machine is
    /// accepted.
    pub insecure_http: InsecureHttp,
    /// `rate_limit_share`: the percentage of Coolify's rate limit stagegate keeps to (1 to
    /// 100, default [`DEFAULT_RATE_LIMIT_SHARE`]), leaving the rest to the other tools of the
    /// same Coolify user.
    pub rate_limit_share: u8,
}

/// The default `rate_limit_share`: half of Coolify's rate limit, so that a second pipeline, the
/// Coolify CLI or a person using the same Coolify user keeps the other half.
pub const DEFAULT_RATE_LIMIT_SHARE: u8 = 50;

/// The default `max_parallel`: Coolify's default of 2 concurrent builds per server kept busy,
/// with 2 more deployments queued behind them so that a build slot never waits for the next
/// poll, using 4 of the 25 places of Coolify's default deployment queue.
pub const DEFAULT_MAX_PARALLEL: usize = 4;

impl CoolifyConfig {
    /// Whether the token crosses the network in clear text: `url` is plain http to a Coolify
    /// that is not on this machine, which only `allow_insecure_http = true` lets load. Every
    /// run that uses such a URL should say so.
    pub fn sends_token_in_clear_text(&self) -> bool {
        super::coolify::needs_insecure_http(&self.url)
    }
}

/// Whether `[coolify]` accepts plain `http://` for a Coolify on another machine
/// (`allow_insecure_http`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum InsecureHttp {
    /// Refused, because the token would cross the network in clear text (the default); http
    /// is accepted only for a Coolify on this machine.
    #[default]
    Refused,
    /// Accepted, for a Coolify reached over a network the team trusts (Coolify's default
    /// install serves its API on `http://<server-ip>:8000`).
    Allowed,
}

/// `[deploy]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeployConfig {
    /// Deadline for one Coolify deployment to reach a terminal status.
    pub timeout: Duration,
    /// Whether production needs a finished staging deployment of the same commit.
    pub staging_gate: StagingGate,
}

/// Whether production needs a finished staging deployment of the same commit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StagingGate {
    /// Production only takes commits staging finished deploying (the default).
    Required,
    /// The gate is off for every production deploy.
    Off,
}

/// `[notes]`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct NotesConfig {
    /// The repository's web URL, for compare links (e.g. `https://github.com/org/app`).
    pub repository_url: Option<Url>,
}

/// Which environment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum EnvironmentName {
    /// Every push to main.
    Staging,
    /// Release tags only.
    Production,
}

impl EnvironmentName {
    /// Both, in pipeline order.
    pub const ALL: [Self; 2] = [Self::Staging, Self::Production];

    /// `staging` or `production`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Staging => "staging",
            Self::Production => "production",
        }
    }
}

impl fmt::Display for EnvironmentName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for EnvironmentName {
    type Err = BadInput;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text {
            "staging" => Ok(Self::Staging),
            "production" => Ok(Self::Production),
            other => Err(BadInput(format!(
                "unknown environment `{other}`: use `staging` or `production`"
            ))),
        }
    }
}

/// `[environments.NAME]`.
#[derive(Debug, Clone, PartialEq)]
pub struct EnvironmentConfig {
    /// Which one.
    pub name: EnvironmentName,
    /// The git branch Coolify builds.
    pub branch: String,
    /// The Coolify applications that move together, in the order the config lists them (one
    /// for the single-app form `app = "..."`); never empty, and at least one has a health URL.
    pub apps: Vec<AppConfig>,
    /// `max_parallel`: how many of this environment's deployments a run has queued or building
    /// at once (at least 1, default [`DEFAULT_MAX_PARALLEL`]); the next app starts when one of
    /// them ends.
    pub max_parallel: usize,
}

/// One Coolify application of an environment.
#[derive(Debug, Clone, PartialEq)]
pub struct AppConfig {
    /// Its uuid.
    pub uuid: ApplicationUuid,
    /// Its name in messages: `name`, or the uuid.
    pub label: String,
    /// The health endpoint that reports the running commit; `None` for an app that serves no
    /// HTTP (a worker): then its deployment and container status are the evidence.
    pub health_url: Option<Url>,
    /// `[probe]` with the environment's and then this app's overrides applied.
    pub probe: ProbeConfig,
    /// Declared environment variables: the environment's, with this app's added or overriding.
    pub env: BTreeMap<String, String>,
    /// For a Docker-image application: its image and the template of its tags.
    pub image: Option<ImageConfig>,
}

impl AppConfig {
    /// How messages name it: `web (app uuid)`, or `app uuid` when it has no `name` (the label
    /// is then the uuid, which is not printed twice).
    pub fn describe(&self) -> String {
        if self.label == self.uuid.as_str() {
            format!("app {}", self.uuid)
        } else {
            format!("{} (app {})", self.label, self.uuid)
        }
    }
}

impl EnvironmentConfig {
    /// The apps that have a health URL, with it.
    #[cfg(test)]
    pub fn probed_apps(&self) -> impl Iterator<Item = (&AppConfig, &Url)> {
        self.apps
            .iter()
            .filter_map(|app| app.health_url.as_ref().map(|url| (app, url)))
    }

    /// Whether the config lists several apps (messages then name each one).
    pub fn has_several_apps(&self) -> bool {
        self.apps.len() > 1
    }
}

#[cfg(test)]
mod tests {
    use crate::config::test_support::{EXAMPLE, parse};

    #[test]
    fn an_app_without_a_name_is_named_once() {
        let config = parse(EXAMPLE).unwrap();
        let app = &config.staging.apps[0];
        assert_eq!(app.describe(), format!("app {}", app.uuid));
        let mut named = app.clone();
        named.label = "web".to_owned();
        assert_eq!(named.describe(), format!("web (app {})", app.uuid));
    }
}
