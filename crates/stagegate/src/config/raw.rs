//! `deploy.toml` as serde reads it, before any check.

use std::collections::BTreeMap;
use std::time::Duration;

use coolify_client::ApplicationUuid;
use health_probe::ProbeConfig;
use serde::Deserialize;
use tag_policy::TagPolicy;
use url::Url;

use super::preview::RawPreview;
use super::workflows::RawWorkflows;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawConfig {
    pub(super) coolify: RawCoolify,
    #[serde(default)]
    pub(super) tags: TagPolicy,
    pub(super) deploy: Option<RawDeploy>,
    #[serde(default)]
    pub(super) probe: ProbeConfig,
    pub(super) notes: Option<RawNotes>,
    #[serde(default)]
    pub(super) environments: BTreeMap<String, RawEnvironment>,
    pub(super) workflows: Option<RawWorkflows>,
    pub(super) preview: Option<RawPreview>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawCoolify {
    pub(super) url: WebUrl,
    pub(super) token_env: Option<String>,
    #[serde(default)]
    pub(super) allow_insecure_http: bool,
    pub(super) rate_limit_share: Option<u8>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawDeploy {
    pub(super) timeout: Option<HumanDuration>,
    pub(super) staging_gate: Option<bool>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawNotes {
    pub(super) repository_url: Option<WebUrl>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawEnvironment {
    pub(super) app: Option<ApplicationUuid>,
    pub(super) branch: Option<String>,
    pub(super) health_url: Option<WebUrl>,
    #[serde(default)]
    pub(super) env: BTreeMap<String, String>,
    pub(super) probe: Option<ProbeConfig>,
    pub(super) image: Option<String>,
    pub(super) image_tag: Option<String>,
    pub(super) apps: Option<Vec<RawApp>>,
    pub(super) max_parallel: Option<u32>,
}

/// One entry of `apps = [...]` (or `[[environments.NAME.apps]]`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawApp {
    pub(super) app: ApplicationUuid,
    pub(super) name: Option<String>,
    pub(super) health_url: Option<WebUrl>,
    pub(super) probe: Option<ProbeConfig>,
    #[serde(default)]
    pub(super) env: BTreeMap<String, String>,
    pub(super) image: Option<String>,
    pub(super) image_tag: Option<String>,
}

/// A humantime duration such as `20m`.
#[derive(Debug, Clone, Copy)]
pub(super) struct HumanDuration(pub(super) Duration);

impl<'de> Deserialize<'de> for HumanDuration {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        humantime::parse_duration(&text)
            .map(HumanDuration)
            .map_err(|error| {
                serde::de::Error::custom(format!(
                    "`{text}` is not a duration ({error}); write e.g. \"20m\" or \"90s\""
                ))
            })
    }
}

/// A URL, read with the fix in its error.
#[derive(Debug, Clone)]
pub(super) struct WebUrl(pub(super) Url);

impl<'de> Deserialize<'de> for WebUrl {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Url::parse(&text).map(WebUrl).map_err(|error| {
            serde::de::Error::custom(format!(
                "`{text}` is not a URL ({error}); write it whole, with its scheme, e.g. \"https://example.com\""
            ))
        })
    }
}
