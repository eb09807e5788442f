//! One app of an environment: its label, probe, variables and image, checked against the apps
//! before it.

use std::collections::BTreeMap;

use health_probe::ProbeConfig;

use super::image::{self, DEFAULT_TAG_TEMPLATE, ImageConfig, TagTemplate};
use super::model::{AppConfig, EnvironmentName};
use super::probe::{app_probe, placeholder_examples, probe_error};
use super::raw::RawApp;
use super::source::{KeyPath, Source};
use crate::exit::BadInput;

/// What every app of an environment inherits from its section.
pub(super) struct Inherited<'a> {
    pub(super) environment: EnvironmentName,
    /// `[probe]` with the section's overrides and stagegate's defaults.
    pub(super) probe: &'a ProbeConfig,
    /// Whether `[probe]` or the section's probe sets an `expect_*` check of its own.
    pub(super) expectation_set: bool,
    /// The section's `env`.
    pub(super) env: &'a BTreeMap<String, String>,
}

/// One app written under `key`, checked against the apps before it in the section.
pub(super) fn app(
    source: &Source<'_>,
    inherited: &Inherited<'_>,
    before: &[(KeyPath, AppConfig)],
    key: &KeyPath,
    raw_app: RawApp,
) -> Result<AppConfig, BadInput> {
    let name = inherited.environment;
    let health_url = raw_app.health_url.map(|url| url.0);
    let label = match raw_app.name {
        Some(label) if label.trim().is_empty() || label.chars().any(char::is_control) => {
            return Err(source.error(
                &key.key("name"),
                format!("{label:?} is not a name; write a short label such as \"web\" or \"worker\", or leave it out to use the uuid"),
            ));
        }
        Some(label) => label,
        None => raw_app.app.to_string(),
    };
    if let Some((other_key, other)) = before.iter().find(|(_, other)| other.uuid == raw_app.app) {
        return Err(source.error(
            &key.key("app"),
            format!(
                "`{}` is listed twice (also as {}); list each Coolify application once: remove this entry or the one at {}",
                raw_app.app,
                other.label,
                source.mention(&other_key.key("app"))
            ),
        ));
    }
    if let Some((other_key, _)) = before.iter().find(|(_, other)| other.label == label) {
        return Err(source.error(
            &key.key("name"),
            format!(
                "`{label}` names two apps (also {}); give each app its own name",
                source.mention(&other_key.key("name"))
            ),
        ));
    }
    let probe = app_probe(
        inherited.probe,
        raw_app.probe.as_ref(),
        inherited.expectation_set,
    );
    // Every probe setting is checked now, not after the first Coolify reads.
    if let Some(health_url) = &health_url
        && let Err(error) = probe.to_spec(health_url.clone(), &placeholder_examples(name))
    {
        if let health_probe::Error::InvalidUrl { .. } = error {
            return Err(source.error(&key.key("health_url"), error));
        }
        let tables = [
            key.key("probe"),
            KeyPath::of(&["environments", name.as_str(), "probe"]),
            KeyPath::of(&["probe"]),
        ];
        return Err(probe_error(source, &tables, name, &error));
    }
    check_env_keys(source, &key.key("env"), &raw_app.env)?;
    let image = match (raw_app.image, raw_app.image_tag) {
        (None, None) => None,
        (None, Some(_)) => {
            return Err(source.error(
                &key.key("image_tag"),
                "is set without `image`; name the image the app runs, e.g. image = \"ghcr.io/acme/api\"",
            ));
        }
        (Some(image), template) => {
            let image = image::parse_name(&image)
                .map_err(|message| source.error(&key.key("image"), message))?;
            let template = template.unwrap_or_else(|| DEFAULT_TAG_TEMPLATE.to_owned());
            let tag = TagTemplate::parse(&template, name)
                .map_err(|message| source.error(&key.key("image_tag"), message))?;
            Some(ImageConfig { name: image, tag })
        }
    };
    let mut env = inherited.env.clone();
    env.extend(raw_app.env);
    Ok(AppConfig {
        uuid: raw_app.app,
        label,
        health_url,
        probe,
        env,
        image,
    })
}

/// A variable name of the `env` table at `table` that Coolify would refuse.
pub(super) fn check_env_keys(
    source: &Source<'_>,
    table: &KeyPath,
    env: &BTreeMap<String, String>,
) -> Result<(), BadInput> {
    for key in env.keys() {
        if let Err(error) = coolify_client::validate_env_key(key) {
            let reason = match error {
                coolify_client::Error::InvalidInput { reason, .. } => reason,
                other => other.to_string(),
            };
            return Err(source.error(
                &table.key(key),
                format!("`{key}` is not a valid variable name ({reason}); rename it"),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::config::test_support::*;

    #[test]
    fn apps_are_listed_once_with_distinct_names_and_never_shared() {
        let message = error(&TWO_APPS.replace("\"staging-worker\"", "\"staging-web\""));
        assert!(
            message.contains("line 9: `environments.staging.apps[1].app`: `staging-web` is listed twice (also as web)"),
            "{message}"
        );
        assert!(
            message.contains("the one at `environments.staging.apps[0].app` on line 8"),
            "{message}"
        );
        let message = error(&TWO_APPS.replace("name = \"worker\"", "name = \"web\""));
        assert!(
            message.contains("line 9: `environments.staging.apps[1].name`: `web` names two apps"),
            "{message}"
        );
        assert!(
            message.contains("(also `environments.staging.apps[0].name` on line 8)"),
            "{message}"
        );
        let message = error(&TWO_APPS.replace("name = \"worker\"", "name = \" \""));
        assert!(message.contains("apps[1].name"), "{message}");
        assert!(
            message.contains("line 9: `environments.staging.apps[1].name`: \" \" is not a name"),
            "{message}"
        );
        let message = error(&TWO_APPS.replace("production-app-uuid", "staging-worker"));
        assert!(
            message.contains("`staging-worker` is also the staging app"),
            "{message}"
        );
    }

    #[test]
    fn a_bad_app_probe_or_env_key_names_the_app_and_its_line() {
        let message = error(&TWO_APPS.replace(
            "name = \"web\", health_url",
            "name = \"web\", probe = { expect_body_contains = \"{version}\" }, health_url",
        ));
        for expected in [
            "line 8: `environments.staging.apps[0].probe`",
            "`{version}`",
            "known in production only",
        ] {
            assert!(message.contains(expected), "{expected:?} in {message}");
        }
        let message = error(&TWO_APPS.replace("QUEUE = ", "\"1QUEUE\" = "));
        assert!(
            message.contains(
                "line 9: `environments.staging.apps[1].env.1QUEUE`: `1QUEUE` is not a valid variable name"
            ),
            "{message}"
        );
        let message =
            error(&TWO_APPS.replace("name = \"worker\"", "name = \"worker\", colour = \"red\""));
        assert!(
            message
                .contains("line 9: `environments.staging.apps[1].colour`: unknown field `colour`"),
            "{message}"
        );
    }

    #[test]
    fn an_app_uuid_that_is_a_path_is_bad_input_naming_the_key() {
        let text = EXAMPLE.replace("staging-app-uuid", "x y/../../../version");
        let error = parse(&text).unwrap_err();
        assert_eq!(crate::exit::Exit::of(&error).code(), 2, "{error:?}");
        let message = error.to_string();
        assert!(
            message.contains("line 6: `environments.staging.app`"),
            "{message}"
        );
        assert!(message.contains("x y/../../../version"), "{message}");
    }

    #[test]
    fn an_env_key_coolify_refuses_is_refused_at_load_time_naming_it() {
        let message = error(&EXAMPLE.replace("ENVIRONMENT = ", "\"1ST KEY\" = "));
        assert!(
            message.contains(
                "line 8: `environments.staging.env.\"1ST KEY\"`: `1ST KEY` is not a valid variable name (letters, digits, `_` and `.`, not starting with a digit)"
            ),
            "{message}"
        );
    }

    #[test]
    fn declared_variable_names_are_checked() {
        let message = error(&EXAMPLE.replace("ENVIRONMENT = ", "\"1BAD\" = "));
        assert!(message.contains("`1BAD`"), "{message}");
    }

    #[test]
    fn a_health_url_a_probe_cannot_reach_names_its_line() {
        let message =
            error(&EXAMPLE.replace("https://example.com/healthz", "ftp://example.com/healthz"));
        assert!(
            message.contains(
                "deploy.toml, line 12: `environments.production.health_url`: invalid health url `ftp://example.com/healthz`: the scheme must be http or https"
            ),
            "{message}"
        );
    }

    #[test]
    fn an_env_table_written_as_a_section_names_the_variable_line() {
        let text = EXAMPLE.replace(
            "env = { ENVIRONMENT = \"staging\" }\n",
            "\n[environments.staging.env]\nENVIRONMENT = \"staging\"\n\"9LIVES\" = \"yes\"\n",
        );
        let message = error(&text);
        assert!(
            message.contains(
                "deploy.toml, line 11: `environments.staging.env.9LIVES`: `9LIVES` is not a valid variable name"
            ),
            "{message}"
        );
    }
}
