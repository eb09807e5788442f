//! Each `[environments.NAME]` section: its branch, variables and apps.

use std::collections::BTreeMap;
use std::path::Path;

use health_probe::ProbeConfig;

use super::image::{self, DEFAULT_TAG_TEMPLATE, ImageConfig, TagTemplate};
use super::model::{AppConfig, EnvironmentConfig, EnvironmentName};
use super::probe::{
    app_probe, app_probe_message, environment_probe, has_expectation, placeholder_examples,
    probe_error,
};
use super::raw::{RawApp, RawEnvironment};
use super::source::{at_line, key_line_in, line_in_table, line_of};
use crate::exit::BadInput;

/// The variable names of an `env` table that Coolify would refuse, as a message.
fn check_env_keys(env: &BTreeMap<String, String>) -> Result<(), String> {
    for key in env.keys() {
        if let Err(error) = coolify_client::validate_env_key(key) {
            let reason = match error {
                coolify_client::Error::InvalidInput { reason, .. } => reason,
                other => other.to_string(),
            };
            return Err(format!("`{key}` is not a valid variable name ({reason})"));
        }
    }
    Ok(())
}

/// The text of `deploy.toml` and where it was read from, for errors that name a line.
#[derive(Clone, Copy)]
pub(super) struct Source<'a> {
    pub(super) text: &'a str,
    pub(super) path: &'a Path,
}

/// What every app of an environment inherits from its section.
struct Inherited<'a> {
    environment: EnvironmentName,
    /// `[probe]` with the section's overrides and stagegate's defaults.
    probe: &'a ProbeConfig,
    /// Whether `[probe]` or the section's probe sets an `expect_*` check of its own.
    expectation_set: bool,
    /// Whether the section has a probe table (for the line of a probe error).
    section_has_probe: bool,
    /// The section's `env`.
    env: &'a BTreeMap<String, String>,
}

/// An app's entry before it is checked: its dotted key, its line, and the raw values.
type RawEntry = (String, Option<usize>, RawApp);

impl Source<'_> {
    fn invalid(&self, key: &str, message: String) -> BadInput {
        BadInput(format!("{}: {key}: {message}", self.path.display()))
    }

    fn at_line(&self, line: Option<usize>, key: &str, message: String) -> BadInput {
        at_line(self.path, line, key, message)
    }

    /// One `[environments.NAME]` section, with `[probe]` under its own probe table.
    pub(super) fn environment(
        &self,
        name: EnvironmentName,
        mut section: RawEnvironment,
        shared_probe: &ProbeConfig,
    ) -> anyhow::Result<EnvironmentConfig> {
        let expectation_set =
            has_expectation(shared_probe) || section.probe.as_ref().is_some_and(has_expectation);
        let section_has_probe = section.probe.is_some();
        let probe = environment_probe(shared_probe, section.probe.take());
        let branch = section.branch.take().unwrap_or_else(|| "main".to_owned());
        if branch.is_empty() || branch == "HEAD" || branch.contains("..") || branch.starts_with('/')
        {
            return Err(self
                .invalid(
                    &format!("environments.{name}.branch"),
                    format!("`{branch}` is not a branch Coolify can build; use e.g. main"),
                )
                .into());
        }
        check_env_keys(&section.env)
            .map_err(|message| self.invalid(&format!("environments.{name}.env"), message))?;
        let section_line =
            line_in_table(self.text, &format!("environments.{name}"), None).map(|(line, _)| line);
        let entries = self.entries(name, section_line, &mut section)?;
        let inherited = Inherited {
            environment: name,
            probe: &probe,
            expectation_set,
            section_has_probe,
            env: &section.env,
        };
        let mut apps: Vec<AppConfig> = Vec::with_capacity(entries.len());
        for entry in entries {
            let app = self.app(&inherited, &apps, entry)?;
            apps.push(app);
        }
        if !apps.iter().any(|app| app.health_url.is_some()) {
            return Err(self
                .at_line(
                    section_line,
                    &format!("environments.{name}.apps"),
                    "no app has a health_url: without an endpoint that reports the running commit nothing proves which commit runs; give the app that serves HTTP a health_url".to_owned(),
                )
                .into());
        }
        Ok(EnvironmentConfig { name, branch, apps })
    }

    /// The section's apps: the entries of `apps`, or the single app of `app = "..."`; never
    /// both.
    fn entries(
        &self,
        name: EnvironmentName,
        section_line: Option<usize>,
        section: &mut RawEnvironment,
    ) -> anyhow::Result<Vec<RawEntry>> {
        let at_section = |key: &str, message: String| self.at_line(section_line, key, message);
        if section.apps.is_some()
            && let Some((key, _)) = [("image", &section.image), ("image_tag", &section.image_tag)]
                .into_iter()
                .find(|(_, value)| value.is_some())
        {
            return Err(at_section(
                &format!("environments.{name}.{key}"),
                format!("is set next to `apps`; with several apps each entry of `apps` names its own image: move `{key}` into the entry of the app that runs it"),
            )
            .into());
        }
        Ok(match (section.apps.take(), section.app.take()) {
            (Some(_), _) if section.health_url.is_some() => {
                return Err(at_section(
                    &format!("environments.{name}.health_url"),
                    "is set next to `apps`; with several apps each entry of `apps` has its own health_url: move it into the entry of the app it belongs to".to_owned(),
                )
                .into());
            }
            (Some(_), Some(app)) => {
                return Err(at_section(
                    &format!("environments.{name}.app"),
                    format!("`{app}` is set next to `apps`; list every app in `apps` (e.g. apps = [{{ app = \"{app}\", health_url = \"...\" }}]) and remove `app`"),
                )
                .into());
            }
            (Some(apps), None) => {
                if apps.is_empty() {
                    return Err(at_section(
                        &format!("environments.{name}.apps"),
                        "is empty; list at least the app that serves the health endpoint, e.g. apps = [{ app = \"uuid\", health_url = \"https://...\" }]".to_owned(),
                    )
                    .into());
                }
                apps.into_iter()
                    .enumerate()
                    .map(|(index, app)| {
                        let line = line_of(self.text, app.span().start);
                        (
                            format!("environments.{name}.apps[{index}]"),
                            Some(line),
                            app.into_inner(),
                        )
                    })
                    .collect()
            }
            (None, Some(app)) => {
                let Some(health_url) = section.health_url.take() else {
                    return Err(at_section(
                        &format!("environments.{name}.health_url"),
                        "missing; give the URL of the endpoint that reports the running commit, e.g. health_url = \"https://api.example.com/healthz\" (an app without one, such as a worker, goes in `apps` next to one that has it)".to_owned(),
                    )
                    .into());
                };
                vec![(
                    format!("environments.{name}"),
                    section_line,
                    RawApp {
                        app,
                        name: None,
                        health_url: Some(health_url),
                        probe: None,
                        env: BTreeMap::new(),
                        image: section.image.take(),
                        image_tag: section.image_tag.take(),
                    },
                )]
            }
            (None, None) => {
                return Err(at_section(
                    &format!("environments.{name}.app"),
                    "missing; set the Coolify application with app = \"uuid\" and health_url, or list several apps with apps = [...]".to_owned(),
                )
                .into());
            }
        })
    }

    /// One app, checked against the apps before it in the section.
    fn app(
        &self,
        inherited: &Inherited<'_>,
        before: &[AppConfig],
        (key, line, raw_app): RawEntry,
    ) -> anyhow::Result<AppConfig> {
        let name = inherited.environment;
        let label = match raw_app.name {
            Some(label) if label.trim().is_empty() || label.chars().any(char::is_control) => {
                return Err(self
                    .at_line(
                        line,
                        &format!("{key}.name"),
                        format!("{label:?} is not a name; write a short label such as \"web\" or \"worker\", or leave it out to use the uuid"),
                    )
                    .into());
            }
            Some(label) => label,
            None => raw_app.app.to_string(),
        };
        if let Some(other) = before.iter().find(|other| other.uuid == raw_app.app) {
            return Err(self
                .at_line(
                    line,
                    &format!("{key}.app"),
                    format!(
                        "`{}` is listed twice (also as {}); list each Coolify application once",
                        raw_app.app, other.label
                    ),
                )
                .into());
        }
        if before.iter().any(|other| other.label == label) {
            return Err(self
                .at_line(
                    line,
                    &format!("{key}.name"),
                    format!("`{label}` names two apps; give each app its own name"),
                )
                .into());
        }
        let probe = app_probe(
            inherited.probe,
            raw_app.probe.as_ref(),
            inherited.expectation_set,
        );
        // Every probe setting is checked now, not after the first Coolify reads.
        if let Some(health_url) = &raw_app.health_url
            && let Err(error) = probe.to_spec(health_url.clone(), &placeholder_examples(name))
        {
            return Err(match raw_app.probe {
                Some(_) => self.at_line(
                    line,
                    &format!("{key}.probe"),
                    app_probe_message(name, &error),
                ),
                None => probe_error(
                    self.text,
                    self.path,
                    name,
                    inherited.section_has_probe,
                    &error,
                ),
            }
            .into());
        }
        check_env_keys(&raw_app.env)
            .map_err(|message| self.at_line(line, &format!("{key}.env"), message))?;
        // In the single-app form the key's own line; in `apps`, the entry's.
        let key_line = |field: &str| {
            if key == format!("environments.{name}") {
                key_line_in(self.text, &key, field).or(line)
            } else {
                line
            }
        };
        let image = match (raw_app.image, raw_app.image_tag) {
            (None, None) => None,
            (None, Some(_)) => {
                return Err(self
                    .at_line(
                        key_line("image_tag"),
                        &format!("{key}.image_tag"),
                        "is set without `image`; name the image the app runs, e.g. image = \"ghcr.io/acme/api\"".to_owned(),
                    )
                    .into());
            }
            (Some(image), template) => {
                let image = image::parse_name(&image).map_err(|message| {
                    self.at_line(key_line("image"), &format!("{key}.image"), message)
                })?;
                let template = template.unwrap_or_else(|| DEFAULT_TAG_TEMPLATE.to_owned());
                let tag = TagTemplate::parse(&template, name).map_err(|message| {
                    self.at_line(key_line("image_tag"), &format!("{key}.image_tag"), message)
                })?;
                Some(ImageConfig { name: image, tag })
            }
        };
        let mut env = inherited.env.clone();
        env.extend(raw_app.env);
        Ok(AppConfig {
            uuid: raw_app.app,
            label,
            health_url: raw_app.health_url,
            probe,
            env,
            image,
        })
    }
}

#[cfg(test)]
mod tests {
    use crate::config::test_support::*;

    #[test]
    fn several_apps_parse_with_labels_merged_env_and_one_probe_each() {
        let config = parse(TWO_APPS).unwrap();
        let apps = &config.staging.apps;
        assert_eq!(apps.len(), 2);
        assert_eq!(apps[0].uuid.as_str(), "staging-web");
        assert_eq!(apps[0].label, "web");
        assert_eq!(apps[1].health_url, None);
        assert_eq!(apps[0].env["ENVIRONMENT"], "staging");
        assert_eq!(apps[0].env["ROLE"], "web");
        assert_eq!(apps[1].env["ROLE"], "worker");
        assert!(!apps[0].env.contains_key("QUEUE"));
        assert!(config.staging.has_several_apps());
        assert_eq!(config.staging.probed_apps().count(), 1);
        // The single-app form is one app labelled by its uuid.
        assert_eq!(config.production.apps.len(), 1);
        assert_eq!(config.production.apps[0].label, "production-app-uuid");
    }

    #[test]
    fn an_array_of_tables_reads_like_the_inline_array() {
        let tables = TWO_APPS.replace(
            "apps = [\n  { app = \"staging-web\", name = \"web\", health_url = \"https://staging.example.com/healthz\", env = { ROLE = \"web\" } },\n  { app = \"staging-worker\", name = \"worker\", env = { ROLE = \"worker\", QUEUE = \"jobs\" } },\n]\n",
            "\n[[environments.staging.apps]]\napp = \"staging-web\"\nname = \"web\"\nhealth_url = \"https://staging.example.com/healthz\"\nenv = { ROLE = \"web\" }\n\n[[environments.staging.apps]]\napp = \"staging-worker\"\nname = \"worker\"\nenv = { ROLE = \"worker\", QUEUE = \"jobs\" }\n",
        );
        assert_ne!(tables, TWO_APPS);
        assert_eq!(
            parse(&tables).unwrap().staging,
            parse(TWO_APPS).unwrap().staging
        );
    }

    #[test]
    fn apps_next_to_the_single_app_keys_is_refused_naming_the_fix() {
        let message = error(&TWO_APPS.replace(
            "env = { ENVIRONMENT = \"staging\" }\n",
            "env = { ENVIRONMENT = \"staging\" }\napp = \"staging-web\"\n",
        ));
        assert!(
            message.contains("deploy.toml, line 5: `environments.staging.app`"),
            "{message}"
        );
        assert!(message.contains("list every app in `apps`"), "{message}");
        let message = error(&TWO_APPS.replace(
            "env = { ENVIRONMENT = \"staging\" }\n",
            "env = { ENVIRONMENT = \"staging\" }\nhealth_url = \"https://staging.example.com/healthz\"\n",
        ));
        assert!(
            message.contains("line 5: `environments.staging.health_url`: is set next to `apps`"),
            "{message}"
        );
    }

    #[test]
    fn an_environment_needs_an_app_with_a_health_url() {
        let message =
            error(&TWO_APPS.replace("health_url = \"https://staging.example.com/healthz\", ", ""));
        for expected in [
            "line 5: `environments.staging.apps`",
            "no app has a health_url",
            "give the app that serves HTTP a health_url",
        ] {
            assert!(message.contains(expected), "{expected:?} in {message}");
        }
        let message =
            error(&TWO_APPS.replace("health_url = \"https://example.com/healthz\"\n", ""));
        assert!(
            message.contains("`environments.production.health_url`: missing"),
            "{message}"
        );
        let message = error(&EXAMPLE.replace("app = \"production-app-uuid\"\n", ""));
        assert!(
            message.contains("`environments.production.app`: missing"),
            "{message}"
        );
        let message = error(&TWO_APPS.replace(
            "apps = [\n  { app = \"staging-web\", name = \"web\", health_url = \"https://staging.example.com/healthz\", env = { ROLE = \"web\" } },\n  { app = \"staging-worker\", name = \"worker\", env = { ROLE = \"worker\", QUEUE = \"jobs\" } },\n]\n",
            "apps = []\n",
        ));
        assert!(
            message.contains("`environments.staging.apps`: is empty"),
            "{message}"
        );
    }

    #[test]
    fn apps_are_listed_once_with_distinct_names_and_never_shared() {
        let message = error(&TWO_APPS.replace("\"staging-worker\"", "\"staging-web\""));
        assert!(
            message.contains("line 9: `environments.staging.apps[1].app`: `staging-web` is listed twice (also as web)"),
            "{message}"
        );
        let message = error(&TWO_APPS.replace("name = \"worker\"", "name = \"web\""));
        assert!(
            message.contains("line 9: `environments.staging.apps[1].name`: `web` names two apps"),
            "{message}"
        );
        let message = error(&TWO_APPS.replace("name = \"worker\"", "name = \" \""));
        assert!(message.contains("apps[1].name"), "{message}");
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
                "line 9: `environments.staging.apps[1].env`: `1QUEUE` is not a valid variable name"
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
                "environments.staging.env: `1ST KEY` is not a valid variable name (letters, digits, `_` and `.`, not starting with a digit)"
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
    fn both_environments_are_required_and_distinct() {
        let message = error(&EXAMPLE.replace("[environments.production]", "[environments.prod]"));
        assert!(
            message.contains("environments.production: missing"),
            "{message}"
        );
        let message = error(&EXAMPLE.replace("production-app-uuid", "staging-app-uuid"));
        assert!(message.contains("also the staging app"), "{message}");
    }
}
