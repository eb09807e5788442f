//! Each `[environments.NAME]` section (its branch, variables and the form of its apps), and
//! the checks that compare staging with production.

use std::collections::BTreeMap;

use health_probe::ProbeConfig;

use super::apps::{Inherited, app, check_env_keys};
use super::model::{AppConfig, DEFAULT_MAX_PARALLEL, EnvironmentConfig, EnvironmentName};
use super::probe::{environment_probe, has_expectation};
use super::raw::{RawApp, RawEnvironment};
use super::source::{KeyPath, Source};
use crate::exit::BadInput;

/// An environment as loaded, with the key each of its apps is written under.
struct Loaded {
    config: EnvironmentConfig,
    /// Per app: `environments.NAME` in the single-app form, `environments.NAME.apps[i]` for
    /// an entry of `apps`.
    keys: Vec<KeyPath>,
}

impl Loaded {
    fn apps(&self) -> impl Iterator<Item = (&KeyPath, &AppConfig)> {
        self.keys.iter().zip(&self.config.apps)
    }
}

/// `[environments]`: staging and production, each with `[probe]` under its own probe table,
/// no other environment, and no application or health URL the two share.
///
/// # Errors
///
/// [`BadInput`] naming the key, its line and the fix.
pub(super) fn load(
    source: &Source<'_>,
    mut sections: BTreeMap<String, RawEnvironment>,
    shared_probe: &ProbeConfig,
) -> Result<(EnvironmentConfig, EnvironmentConfig), BadInput> {
    let unknown = sections
        .keys()
        .find(|name| name.parse::<EnvironmentName>().is_err())
        .map(|name| KeyPath::of(&["environments", name]));
    let mut take = |name: EnvironmentName| {
        let key = KeyPath::of(&["environments", name.as_str()]);
        let section = sections.remove(name.as_str()).ok_or_else(|| {
            let instead = unknown
                .as_ref()
                .map(|unknown| format!(" (the file has {} instead)", source.mention(unknown)))
                .unwrap_or_default();
            source.error(
                &key,
                format!("missing; add an [environments.{name}] table with app, branch and health_url{instead}"),
            )
        })?;
        environment(source, name, section, shared_probe)
    };
    let staging = take(EnvironmentName::Staging)?;
    let production = take(EnvironmentName::Production)?;
    if let Some(unknown) = unknown {
        return Err(source.error(
            &unknown,
            "unknown environment; only `staging` and `production` exist: rename the table to one of them or remove it",
        ));
    }
    check_distinct(source, &staging, &production)?;
    Ok((staging.config, production.config))
}

/// Staging and production never share an application or a health URL: a probe of a shared
/// URL cannot tell which environment answered, so a deploy of one would be verified by the
/// other.
fn check_distinct(
    source: &Source<'_>,
    staging: &Loaded,
    production: &Loaded,
) -> Result<(), BadInput> {
    for (key, app) in production.apps() {
        if let Some((staging_key, _)) = staging.apps().find(|(_, other)| other.uuid == app.uuid) {
            return Err(source.error(
                &key.key("app"),
                format!(
                    "`{}` is also the staging app ({}); staging and production must be different Coolify applications: write production's own application uuid (it is in the application's URL in Coolify)",
                    app.uuid,
                    source.mention(&staging_key.key("app"))
                ),
            ));
        }
    }
    for (key, app) in production.apps() {
        let Some(url) = &app.health_url else {
            continue;
        };
        if let Some((staging_key, _)) = staging
            .apps()
            .find(|(_, other)| other.health_url.as_ref() == Some(url))
        {
            return Err(source.error(
                &key.key("health_url"),
                format!(
                    "`{url}` is also staging's health URL ({}); a probe there cannot tell which environment answered, so a deploy of one would be verified by the other: give each environment the URL its own app serves",
                    source.mention(&staging_key.key("health_url"))
                ),
            ));
        }
    }
    Ok(())
}

/// One `[environments.NAME]` section, with `[probe]` under its own probe table.
fn environment(
    source: &Source<'_>,
    name: EnvironmentName,
    mut section: RawEnvironment,
    shared_probe: &ProbeConfig,
) -> Result<Loaded, BadInput> {
    let key = KeyPath::of(&["environments", name.as_str()]);
    let expectation_set =
        has_expectation(shared_probe) || section.probe.as_ref().is_some_and(has_expectation);
    let probe = environment_probe(shared_probe, section.probe.take());
    let branch = section.branch.take().unwrap_or_else(|| "main".to_owned());
    if branch.is_empty() || branch == "HEAD" || branch.contains("..") || branch.starts_with('/') {
        return Err(source.error(
            &key.key("branch"),
            format!("`{branch}` is not a branch Coolify can build; use e.g. main"),
        ));
    }
    check_env_keys(source, &key.key("env"), &section.env)?;
    let max_parallel = match section.max_parallel {
        None => DEFAULT_MAX_PARALLEL,
        Some(0) => {
            return Err(source.error(
                &key.key("max_parallel"),
                format!(
                    "0 would never start a deployment: write how many of {name}'s deployments may be queued or building at once, at least 1 (default {DEFAULT_MAX_PARALLEL})"
                ),
            ));
        }
        Some(count) => usize::try_from(count).unwrap_or(usize::MAX),
    };
    let entries = entries(source, &key, &mut section)?;
    let inherited = Inherited {
        environment: name,
        probe: &probe,
        expectation_set,
        env: &section.env,
    };
    let mut apps: Vec<(KeyPath, AppConfig)> = Vec::with_capacity(entries.len());
    for (entry, raw_app) in entries {
        let app = app(source, &inherited, &apps, &entry, raw_app)?;
        apps.push((entry, app));
    }
    if !apps.iter().any(|(_, app)| app.health_url.is_some()) {
        return Err(source.error(
            &key.key("apps"),
            "no app has a health_url: without an endpoint that reports the running commit nothing proves which commit runs; give the app that serves HTTP a health_url",
        ));
    }
    let (keys, apps) = apps.into_iter().unzip();
    Ok(Loaded {
        config: EnvironmentConfig {
            name,
            branch,
            apps,
            max_parallel,
        },
        keys,
    })
}

/// The section's apps with the key each is written under: the entries of `apps`, or the
/// single app of `app = "..."`; never both.
fn entries(
    source: &Source<'_>,
    key: &KeyPath,
    section: &mut RawEnvironment,
) -> Result<Vec<(KeyPath, RawApp)>, BadInput> {
    let apps_key = key.key("apps");
    let Some(apps) = section.apps.take() else {
        let Some(app) = section.app.take() else {
            return Err(source.error_at(
                key,
                &key.key("app"),
                "missing; set the Coolify application with app = \"uuid\" and health_url, or list several apps with apps = [...]",
            ));
        };
        let Some(health_url) = section.health_url.take() else {
            return Err(source.error_at(
                key,
                &key.key("health_url"),
                "missing; give the URL of the endpoint that reports the running commit, e.g. health_url = \"https://api.example.com/healthz\" (an app without one, such as a worker, goes in `apps` next to one that has it)",
            ));
        };
        return Ok(vec![(
            key.clone(),
            RawApp {
                app,
                name: None,
                health_url: Some(health_url),
                probe: None,
                env: BTreeMap::new(),
                image: section.image.take(),
                image_tag: section.image_tag.take(),
            },
        )]);
    };
    let next_to_apps = match source.line(&apps_key) {
        Some(line) => format!("is set next to `apps` (line {line})"),
        None => "is set next to `apps`".to_owned(),
    };
    for (field, value) in [("image", &section.image), ("image_tag", &section.image_tag)] {
        if value.is_some() {
            return Err(source.error(
                &key.key(field),
                format!("{next_to_apps}; with several apps each entry of `apps` names its own image: move `{field}` into the entry of the app that runs it"),
            ));
        }
    }
    if section.health_url.is_some() {
        return Err(source.error(
            &key.key("health_url"),
            format!("{next_to_apps}; with several apps each entry of `apps` has its own health_url: move it into the entry of the app it belongs to"),
        ));
    }
    if let Some(app) = &section.app {
        return Err(source.error(
            &key.key("app"),
            format!("`{app}` {next_to_apps}; list every app in `apps` (e.g. apps = [{{ app = \"{app}\", health_url = \"...\" }}]) and remove `app`"),
        ));
    }
    if apps.is_empty() {
        return Err(source.error(
            &apps_key,
            "is empty; list at least the app that serves the health endpoint, e.g. apps = [{ app = \"uuid\", health_url = \"https://...\" }]",
        ));
    }
    Ok(apps
        .into_iter()
        .enumerate()
        .map(|(index, app)| (apps_key.index(index), app))
        .collect())
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
            message.contains("deploy.toml, line 7: `environments.staging.app`"),
            "{message}"
        );
        assert!(
            message.contains("`staging-web` is set next to `apps` (line 8)"),
            "{message}"
        );
        assert!(message.contains("list every app in `apps`"), "{message}");
        let message = error(&TWO_APPS.replace(
            "env = { ENVIRONMENT = \"staging\" }\n",
            "env = { ENVIRONMENT = \"staging\" }\nhealth_url = \"https://staging.example.com/healthz\"\n",
        ));
        assert!(
            message.contains("line 7: `environments.staging.health_url`: is set next to `apps`"),
            "{message}"
        );
    }

    #[test]
    fn an_environment_needs_an_app_with_a_health_url() {
        let message =
            error(&TWO_APPS.replace("health_url = \"https://staging.example.com/healthz\", ", ""));
        for expected in [
            "line 7: `environments.staging.apps`",
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
        // A key that is missing is reported on the line of the table it belongs in.
        assert!(
            message.contains("line 12: `environments.production.health_url`: missing"),
            "{message}"
        );
        let message = error(&EXAMPLE.replace("app = \"production-app-uuid\"\n", ""));
        assert!(
            message.contains("`environments.production.app`: missing"),
            "{message}"
        );
        assert!(
            message.contains("line 10: `environments.production.app`: missing"),
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
        assert!(
            message.contains("line 7: `environments.staging.apps`: is empty"),
            "{message}"
        );
    }

    #[test]
    fn both_environments_are_required_and_distinct() {
        let message = error(&EXAMPLE.replace("[environments.production]", "[environments.prod]"));
        assert!(
            message.contains("`environments.production`: missing"),
            "{message}"
        );
        let message = error(&EXAMPLE.replace("production-app-uuid", "staging-app-uuid"));
        assert!(message.contains("also the staging app"), "{message}");
    }

    /// `TWO_APPS` with production's apps as `[[environments.production.apps]]` tables.
    fn both_listed(production_app: &str) -> String {
        TWO_APPS.replace(
            "[environments.production]\napp = \"production-app-uuid\"\nhealth_url = \"https://example.com/healthz\"\n",
            &format!("[[environments.production.apps]]\napp = \"{production_app}\"\nhealth_url = \"https://example.com/healthz\"\n"),
        )
    }

    #[test]
    fn an_app_in_both_environments_names_both_keys_and_their_lines() {
        parse(&both_listed("production-web")).unwrap();
        let message = error(&both_listed("staging-worker"));
        assert!(
            message.contains(
                "deploy.toml, line 13: `environments.production.apps[0].app`: `staging-worker` is also the staging app (`environments.staging.apps[1].app` on line 9)"
            ),
            "{message}"
        );
        assert!(
            message.contains("write production's own application uuid"),
            "{message}"
        );
        let message = error(&EXAMPLE.replace("production-app-uuid", "staging-app-uuid"));
        assert!(
            message.contains(
                "line 11: `environments.production.app`: `staging-app-uuid` is also the staging app (`environments.staging.app` on line 6)"
            ),
            "{message}"
        );
    }

    #[test]
    fn an_unknown_environment_is_named_with_its_line() {
        let message = error(&format!(
            "{EXAMPLE}\n[environments.dev]\napp = \"dev-app\"\nhealth_url = \"https://dev.example.com/healthz\"\n"
        ));
        assert!(
            message.contains("deploy.toml, line 14: `environments.dev`: unknown environment; only `staging` and `production` exist"),
            "{message}"
        );
        // A missing environment is written nowhere: no line, and the misnamed one pointed at.
        let message = error(&EXAMPLE.replace("[environments.production]", "[environments.prod]"));
        assert!(
            message.starts_with(
                "deploy.toml: `environments.production`: missing; add an [environments.production] table"
            ),
            "{message}"
        );
        assert!(
            message.contains("(the file has `environments.prod` on line 10 instead)"),
            "{message}"
        );
    }

    #[test]
    fn a_branch_coolify_cannot_build_names_its_line() {
        for branch in ["", "HEAD", "a..b", "/main"] {
            let message = error(&EXAMPLE.replace(
                "app = \"production-app-uuid\"\n",
                &format!("app = \"production-app-uuid\"\nbranch = \"{branch}\"\n"),
            ));
            assert!(
                message.contains(&format!(
                    "deploy.toml, line 12: `environments.production.branch`: `{branch}` is not a branch Coolify can build; use e.g. main"
                )),
                "{branch}: {message}"
            );
        }
    }

    #[test]
    fn a_health_url_staging_and_production_share_is_refused_naming_both_lines() {
        let message = error(&EXAMPLE.replace(
            "https://example.com/healthz",
            "https://staging.example.com/healthz",
        ));
        for expected in [
            "deploy.toml, line 12: `environments.production.health_url`: `https://staging.example.com/healthz` is also staging's health URL (`environments.staging.health_url` on line 7)",
            "give each environment the URL its own app serves",
        ] {
            assert!(message.contains(expected), "{expected:?} in {message}");
        }
        // Any app of staging against any app of production, as URLs (the host's case and a
        // default port do not make two URLs).
        let message = error(&both_listed("production-web").replace(
            "https://example.com/healthz",
            "https://STAGING.example.com:443/healthz",
        ));
        assert!(
            message.contains(
                "line 14: `environments.production.apps[0].health_url`: `https://staging.example.com/healthz` is also staging's health URL (`environments.staging.apps[0].health_url` on line 8)"
            ),
            "{message}"
        );
        // Another path, port or host is another endpoint.
        for other in [
            "https://staging.example.com/healthz/production",
            "https://staging.example.com:8443/healthz",
            "http://staging.example.com/healthz",
        ] {
            parse(&EXAMPLE.replace("https://example.com/healthz", other)).unwrap();
        }
    }

    #[test]
    fn max_parallel_is_per_environment_with_a_default_of_four() {
        let config = parse(EXAMPLE).unwrap();
        assert_eq!(config.staging.max_parallel, 4);
        assert_eq!(config.production.max_parallel, 4);
        let text = EXAMPLE.replace(
            "[environments.production]\n",
            "[environments.production]\nmax_parallel = 2\n",
        );
        let config = parse(&text).unwrap();
        assert_eq!(config.staging.max_parallel, 4);
        assert_eq!(config.production.max_parallel, 2);
        let message = error(&EXAMPLE.replace(
            "[environments.staging]\n",
            "[environments.staging]\nmax_parallel = 0\n",
        ));
        assert!(
            message.contains(
                "deploy.toml, line 6: `environments.staging.max_parallel`: 0 would never start a deployment: write how many of staging's deployments may be queued or building at once, at least 1 (default 4)"
            ),
            "{message}"
        );
    }
}
