//! `[preview]`: which staging app gets pull-request previews, and where a preview answers when
//! stagegate should not compute it from Coolify's template.

use coolify_client::ApplicationUuid;
use serde::Deserialize;
use url::Url;

use super::model::{AppConfig, EnvironmentConfig};
use super::source::{KeyPath, Source};
use crate::exit::BadInput;

/// The placeholder of the pull request's number in `[preview]`'s URLs.
pub const PR_PLACEHOLDER: &str = "{pr}";

/// `[preview]`, resolved against staging's apps (defaults when the file has no such table).
#[derive(Debug, Clone, PartialEq)]
pub struct PreviewConfig {
    /// Whether the file has a `[preview]` table: the repository deploys previews, and `setup`
    /// turns preview deployments on for the app.
    pub declared: Declared,
    /// The staging app whose previews are deployed: `app`, or the first with a health URL.
    pub app: AppConfig,
    /// `url`: where a preview answers, instead of the URL computed from Coolify's template.
    pub url: Option<UrlTemplate>,
    /// `health_url`: a preview's health endpoint, instead of the app's health URL moved to the
    /// preview's host.
    pub health_url: Option<UrlTemplate>,
    /// The line the `[preview]` table starts on, for messages about a key it lacks.
    pub line: Option<usize>,
}

/// Whether `deploy.toml` has a `[preview]` table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Declared {
    /// It has one, even empty.
    Yes,
    /// It has none: previews still deploy with the defaults.
    No,
}

/// A URL with `{pr}` for the pull request's number, such as `https://pr-{pr}.example.com`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UrlTemplate(String);

impl UrlTemplate {
    /// Check a template: `{pr}` at least once and no other placeholder, and an http or https
    /// URL with a host once it is filled in.
    ///
    /// # Errors
    ///
    /// What is wrong, and how to write it instead.
    pub fn parse(text: &str) -> Result<Self, String> {
        let example = "e.g. \"https://pr-{pr}.preview.example.com\"";
        if text.contains("{{") {
            return Err(format!(
                "`{text}` uses Coolify's template syntax; stagegate knows only {PR_PLACEHOLDER}, the pull request's number (Coolify's {{{{random}}}} cannot be known): write the URL your previews answer on, {example}"
            ));
        }
        let rest = text.replace(PR_PLACEHOLDER, "");
        if rest.contains(['{', '}']) {
            return Err(format!(
                "`{text}` has a placeholder other than {PR_PLACEHOLDER}; write the URL with {PR_PLACEHOLDER} for the pull request's number, {example}"
            ));
        }
        if !text.contains(PR_PLACEHOLDER) {
            return Err(format!(
                "`{text}` has no {PR_PLACEHOLDER}, so every pull request's preview would have the same URL; put {PR_PLACEHOLDER} where the number goes, {example}"
            ));
        }
        let template = Self(text.to_owned());
        let sample = template.fill(1);
        let url = Url::parse(&sample).map_err(|error| {
            format!(
                "`{text}` does not make a URL ({error}); write it whole, with its scheme, {example}"
            )
        })?;
        if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
            return Err(format!(
                "`{text}` is not an http or https URL with a host; {example}"
            ));
        }
        Ok(template)
    }

    fn fill(&self, pull_request: u64) -> String {
        self.0.replace(PR_PLACEHOLDER, &pull_request.to_string())
    }

    /// The URL of pull request `pull_request`.
    ///
    /// # Errors
    ///
    /// When the number makes it something other than a URL (checked with a sample at load
    /// time, so only in theory).
    pub fn expand(&self, pull_request: u64) -> Result<Url, String> {
        let text = self.fill(pull_request);
        Url::parse(&text).map_err(|error| format!("`{text}` is not a URL ({error})"))
    }
}

impl std::fmt::Display for UrlTemplate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// `[preview]` as serde reads it.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawPreview {
    pub(super) app: Option<ApplicationUuid>,
    pub(super) url: Option<String>,
    pub(super) health_url: Option<String>,
}

/// `[preview]`, checked against staging's apps.
///
/// # Errors
///
/// [`BadInput`] naming the key, its line and the fix.
pub(super) fn load(
    source: &Source<'_>,
    raw: Option<RawPreview>,
    staging: &EnvironmentConfig,
) -> Result<PreviewConfig, BadInput> {
    let table = KeyPath::of(&["preview"]);
    let declared = if raw.is_some() {
        Declared::Yes
    } else {
        Declared::No
    };
    let raw = raw.unwrap_or_default();
    let template = |key: &str, text: Option<String>| {
        text.map(|text| {
            UrlTemplate::parse(&text).map_err(|message| source.error(&table.key(key), message))
        })
        .transpose()
    };
    let url = template("url", raw.url)?;
    let health_url = template("health_url", raw.health_url)?;
    let index = match &raw.app {
        Some(uuid) => staging
            .apps
            .iter()
            .position(|app| &app.uuid == uuid)
            .ok_or_else(|| {
                let names: Vec<String> = staging
                    .apps
                    .iter()
                    .map(|app| format!("`{}`", app.uuid))
                    .collect();
                source.error(
                    &table.key("app"),
                    format!(
                        "`{uuid}` is not one of staging's apps ({}); a preview is a copy of a staging app for one pull request: name one of them",
                        names.join(", ")
                    ),
                )
            })?,
        None => staging
            .apps
            .iter()
            .position(|app| app.health_url.is_some())
            .unwrap_or_default(),
    };
    let Some(app) = staging.apps.get(index) else {
        return Err(source.error_at(
            &KeyPath::of(&["environments", "staging"]),
            &KeyPath::of(&["environments", "staging", "apps"]),
            "has no app to make previews of",
        ));
    };
    if health_url.is_none() && app.health_url.is_none() {
        return Err(source.error(
            &table.key("app"),
            format!(
                "`{}` ({}) has no health_url, so nothing would prove which commit its preview runs; name the app that serves the health endpoint, or give [preview] a health_url",
                app.uuid, app.label
            ),
        ));
    }
    Ok(PreviewConfig {
        declared,
        app: app.clone(),
        url,
        health_url,
        line: source.line(&table),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::test_support::*;

    #[test]
    fn without_a_table_previews_are_of_the_app_with_a_health_url() {
        let config = parse(TWO_APPS).unwrap();
        assert_eq!(config.preview.declared, Declared::No);
        assert_eq!(config.preview.app.uuid.as_str(), "staging-web");
        assert_eq!(config.preview.url, None);
        assert_eq!(config.preview.line, None);
        let config = parse(&format!("{TWO_APPS}\n[preview]\n")).unwrap();
        assert_eq!(config.preview.declared, Declared::Yes);
        assert_eq!(config.preview.line, Some(16));
    }

    #[test]
    fn the_overrides_are_filled_with_the_pull_request() {
        let config = parse(&format!(
            "{EXAMPLE}\n[preview]\nurl = \"https://pr-{{pr}}.preview.example.com\"\nhealth_url = \"https://pr-{{pr}}.preview.example.com/healthz?full={{pr}}\"\n"
        ))
        .unwrap();
        let url = config.preview.url.unwrap().expand(42).unwrap();
        assert_eq!(url.as_str(), "https://pr-42.preview.example.com/");
        let health = config.preview.health_url.unwrap().expand(7).unwrap();
        assert_eq!(
            health.as_str(),
            "https://pr-7.preview.example.com/healthz?full=7"
        );
    }

    #[test]
    fn refused_keys_name_their_line_and_the_fix() {
        for (table, expected) in [
            (
                "url = \"https://{{random}}.example.com\"",
                "line 15: `preview.url`: `https://{{random}}.example.com` uses Coolify's template syntax",
            ),
            (
                "url = \"https://preview.example.com\"",
                "line 15: `preview.url`: `https://preview.example.com` has no {pr}",
            ),
            (
                "health_url = \"https://{pr}.{domain}/healthz\"",
                "line 15: `preview.health_url`: `https://{pr}.{domain}/healthz` has a placeholder other than {pr}",
            ),
            (
                "url = \"pr-{pr}.example.com\"",
                "line 15: `preview.url`: `pr-{pr}.example.com` does not make a URL",
            ),
            (
                "url = \"ftp://pr-{pr}.example.com\"",
                "line 15: `preview.url`: `ftp://pr-{pr}.example.com` is not an http or https URL",
            ),
            (
                "app = \"production-app-uuid\"",
                "line 15: `preview.app`: `production-app-uuid` is not one of staging's apps (`staging-app-uuid`)",
            ),
            (
                "colour = \"red\"",
                "line 15: `preview.colour`: unknown field `colour`",
            ),
        ] {
            let message = error(&format!("{EXAMPLE}\n[preview]\n{table}\n"));
            assert!(message.contains(expected), "{table}: {message}");
        }
    }

    #[test]
    fn an_app_without_a_health_url_needs_the_preview_health_url() {
        let message = error(&format!(
            "{TWO_APPS}\n[preview]\napp = \"staging-worker\"\n"
        ));
        assert!(
            message.contains(
                "line 17: `preview.app`: `staging-worker` (worker) has no health_url, so nothing would prove which commit its preview runs"
            ),
            "{message}"
        );
        let config = parse(&format!(
            "{TWO_APPS}\n[preview]\napp = \"staging-worker\"\nhealth_url = \"https://pr-{{pr}}.example.com/up\"\n"
        ))
        .unwrap();
        assert_eq!(config.preview.app.uuid.as_str(), "staging-worker");
    }
}
