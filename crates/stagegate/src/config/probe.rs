//! stagegate's probe defaults, how `[probe]`, an environment's and an app's probe tables
//! overlay, and where a refused probe setting is written.

use std::collections::BTreeMap;
use std::time::Duration;

use health_probe::ProbeConfig;

use super::EnvironmentName;
use super::source::{KeyPath, Source};
use crate::exit::BadInput;

/// `probe.interval` when the config sets none.
pub const DEFAULT_PROBE_INTERVAL: Duration = Duration::from_secs(1);

/// `probe.confirm_interval` when the config sets none.
pub const DEFAULT_CONFIRM_INTERVAL: Duration = Duration::from_millis(250);

/// `probe.switch_over` when the config sets none (half the deadline if that is shorter): the
/// time after Coolify reports a deployment finished during which a proxy's 502/503, a refused
/// connection or a timeout does not count toward `probe.failure_threshold`.
pub const DEFAULT_SWITCH_OVER: Duration = Duration::from_secs(15);

/// `probe.failure_threshold` when the config sets none: with the 1 s interval, a release that
/// keeps failing after the switch-over is given up on about 20 s after its deployment finished.
pub const DEFAULT_FAILURE_THRESHOLD: u32 = 5;

/// Whether a probe table sets a check of the answer's body.
pub(super) fn has_expectation(probe: &ProbeConfig) -> bool {
    probe.expect_json.is_some()
        || probe.expect_json_matches.is_some()
        || probe.expect_body_contains.is_some()
}

/// `[probe]` under an environment's own probe table, with stagegate's defaults.
pub(super) fn environment_probe(
    shared: &ProbeConfig,
    overrides: Option<ProbeConfig>,
) -> ProbeConfig {
    let mut probe = match overrides {
        Some(overrides) => shared.overlay(&overrides),
        None => shared.clone(),
    };
    // stagegate's own defaults: detect a new version within a second of it answering
    // and confirm it quickly, so a verified deploy is not intervals slower than Coolify.
    let interval = *probe.interval.get_or_insert(DEFAULT_PROBE_INTERVAL);
    probe
        .confirm_interval
        .get_or_insert(DEFAULT_CONFIRM_INTERVAL.min(interval));
    // A release that keeps failing once the rolling update has switched over leaves
    // within seconds instead of at the deadline.
    let deadline = probe.deadline.unwrap_or(health_probe::DEFAULT_DEADLINE);
    probe
        .switch_over
        .get_or_insert(DEFAULT_SWITCH_OVER.min(deadline / 2));
    probe
        .failure_threshold
        .get_or_insert(DEFAULT_FAILURE_THRESHOLD);
    // A probe that checks no version would pass against the old container.
    if !has_expectation(&probe) {
        probe.expect_json = Some(BTreeMap::from([(
            "/commit".to_owned(),
            serde_json::Value::String("{commit}".to_owned()),
        )]));
    }
    probe
}

/// An app's probe: the environment's under the app's own overrides.
pub(super) fn app_probe(
    environment: &ProbeConfig,
    overrides: Option<&ProbeConfig>,
    expectation_set: bool,
) -> ProbeConfig {
    let Some(overrides) = overrides else {
        return environment.clone();
    };
    let mut probe = environment.overlay(overrides);
    // The confirm interval follows a shorter interval of the app's own.
    if let (Some(interval), None) = (overrides.interval, overrides.confirm_interval)
        && let Some(confirm) = probe.confirm_interval.as_mut()
    {
        *confirm = (*confirm).min(interval);
    }
    // The switch-over window stays within a shorter deadline of the app's own.
    if let (Some(deadline), None) = (overrides.deadline, overrides.switch_over)
        && let Some(window) = probe.switch_over.as_mut()
    {
        *window = (*window).min(deadline / 2);
    }
    // The default commit check gives way to the app's own checks.
    if !expectation_set && has_expectation(overrides) && overrides.expect_json.is_none() {
        probe.expect_json = None;
    }
    probe
}

/// Values for every placeholder an environment's probe can expand, to check its table at load
/// time: a staging deploy has no release tag, so `{tag}` and `{version}` exist for production
/// only (as `pipeline::variables` fills them).
pub(super) fn placeholder_examples(environment: EnvironmentName) -> health_probe::Variables {
    let commit = "0".repeat(40);
    let variables = health_probe::Variables::new()
        .with("commit", &commit)
        .with("short_commit", &commit[..7])
        .with("environment", environment.as_str());
    match environment {
        EnvironmentName::Staging => variables,
        EnvironmentName::Production => variables.with("tag", "v0.0.0").with("version", "0.0.0"),
    }
}

/// A probe setting `health-probe` refused, on the line of the table that writes it.
///
/// `tables` are the probe tables the app's settings come from, the most specific first (the
/// app's own, its environment's, `[probe]`); the error names the first that writes the
/// setting, or else the first the file has. A release placeholder in a table staging reads
/// also says where the check can go instead.
pub(super) fn probe_error(
    source: &Source<'_>,
    tables: &[KeyPath],
    environment: EnvironmentName,
    error: &health_probe::Error,
) -> BadInput {
    let settings = setting_keys(error);
    let written = tables.iter().find_map(|table| {
        settings
            .iter()
            .map(|setting| {
                setting
                    .iter()
                    .fold(table.clone(), |key, step| key.key(step))
            })
            .find(|key| source.has(key))
            .map(|key| (table, key))
    });
    let (table, line_key) = match written {
        Some((table, key)) => (table.clone(), key),
        None => {
            let table = tables
                .iter()
                .find(|table| source.has(table))
                .cloned()
                .unwrap_or_else(|| KeyPath::of(&["probe"]));
            (table.clone(), table)
        }
    };
    let mut message = error.to_string();
    if let health_probe::Error::UnknownPlaceholder { name, .. } = error
        && environment == EnvironmentName::Staging
        && matches!(name.as_str(), "tag" | "version")
    {
        let shared = KeyPath::of(&["probe"]);
        let instead = if table == shared || table == environment_table(environment) {
            "[environments.production.probe]"
        } else {
            "production's apps"
        };
        message.push_str(&format!(
            "; a staging deploy has no release tag, so `{{{name}}}` is known in production only: move the check to {instead}"
        ));
        if table == shared {
            message.push_str(" (the shared [probe] table applies to staging too)");
        }
    }
    source.error_at(&line_key, &table, message)
}

/// `[environments.NAME.probe]`.
fn environment_table(environment: EnvironmentName) -> KeyPath {
    KeyPath::of(&["environments", environment.as_str(), "probe"])
}

/// Where in a probe table the setting an error concerns is written: a key, a header, or an
/// entry of an assertion table.
fn setting_keys(error: &health_probe::Error) -> Vec<Vec<&str>> {
    use health_probe::Error;
    match error {
        Error::InvalidSetting { key, .. } => vec![vec![*key]],
        Error::InvalidHeader { name, .. } => vec![vec!["headers", name]],
        Error::InvalidPointer { pointer }
        | Error::UnknownPlaceholder { pointer, .. }
        | Error::UnclosedPlaceholder { pointer, .. } => vec![
            vec!["expect_json", pointer],
            vec!["expect_json_matches", pointer],
            // The body check reports its key where a pointer would be.
            vec![pointer],
        ],
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::test_support::*;
    use std::collections::BTreeMap;
    use std::time::Duration;

    #[test]
    fn an_app_probe_overlays_the_environment_probe() {
        let text = TWO_APPS.replace(
            "name = \"web\", health_url",
            "name = \"web\", probe = { interval = \"100ms\", expect_body_contains = \"{short_commit}\" }, health_url",
        );
        let text = format!("{text}\n[probe]\ndeadline = \"1m\"\n");
        let config = parse(&text).unwrap();
        let probe = &config.staging.apps[0].probe;
        assert_eq!(probe.deadline, Some(Duration::from_secs(60)));
        assert_eq!(probe.interval, Some(Duration::from_millis(100)));
        assert_eq!(probe.confirm_interval, Some(Duration::from_millis(100)));
        // The app's own check replaces the default commit check.
        assert_eq!(probe.expect_json, None);
        assert_eq!(
            config.staging.apps[1].probe.interval,
            Some(DEFAULT_PROBE_INTERVAL)
        );
        // An app's own short deadline keeps room after the switch-over window.
        let text = TWO_APPS.replace(
            "name = \"web\", health_url",
            "name = \"web\", probe = { deadline = \"4s\" }, health_url",
        );
        let config = parse(&text).unwrap();
        assert_eq!(
            config.staging.apps[0].probe.switch_over,
            Some(Duration::from_secs(2))
        );
        assert_eq!(
            config.staging.apps[1].probe.switch_over,
            Some(DEFAULT_SWITCH_OVER)
        );
    }

    #[test]
    fn the_probe_checks_the_commit_unless_told_otherwise() {
        let config = parse(EXAMPLE).unwrap();
        let expected = BTreeMap::from([("/commit".to_owned(), serde_json::json!("{commit}"))]);
        assert_eq!(config.staging.apps[0].probe.expect_json, Some(expected));
        let config = parse(&format!(
            "{EXAMPLE}\n[probe]\nexpect_body_contains = \"{{short_commit}}\"\n"
        ))
        .unwrap();
        assert_eq!(config.production.apps[0].probe.expect_json, None);
    }

    #[test]
    fn environment_probe_tables_override_the_defaults() {
        let text = format!(
            "{EXAMPLE}\n[probe]\ndeadline = \"1m\"\n[environments.production.probe]\ndeadline = \"10m\"\n"
        )
        .replace(
            "[environments.production]\napp = \"production-app-uuid\"\nhealth_url = \"https://example.com/healthz\"\n",
            "",
        );
        let text = format!(
            "{text}\n[environments.production]\napp = \"production-app-uuid\"\nhealth_url = \"https://example.com/healthz\"\n"
        );
        // A table may only be defined once; the override form above is a sub-table.
        let config = parse(&text).unwrap();
        assert_ne!(
            config.staging.apps[0].probe,
            config.production.apps[0].probe
        );
    }

    #[test]
    fn a_failing_release_is_given_up_on_after_the_switch_over() {
        let config = parse(EXAMPLE).unwrap();
        let probe = &config.production.apps[0].probe;
        assert_eq!(probe.switch_over, Some(DEFAULT_SWITCH_OVER));
        assert_eq!(probe.failure_threshold, Some(DEFAULT_FAILURE_THRESHOLD));
        // Within 30 s of the deployment finishing: the window, then one interval per failure.
        assert!(
            DEFAULT_SWITCH_OVER + DEFAULT_PROBE_INTERVAL * DEFAULT_FAILURE_THRESHOLD
                < Duration::from_secs(30)
        );
        // A short deadline keeps room for failures to count.
        let config = parse(&format!("{EXAMPLE}\n[probe]\ndeadline = \"10s\"\n")).unwrap();
        assert_eq!(
            config.staging.apps[0].probe.switch_over,
            Some(Duration::from_secs(5))
        );
        // What the config sets wins, `0` included.
        let config = parse(&format!(
            "{EXAMPLE}\n[probe]\nswitch_over = \"0s\"\nfailure_threshold = 0\n"
        ))
        .unwrap();
        assert_eq!(
            config.staging.apps[0].probe.switch_over,
            Some(Duration::ZERO)
        );
        assert_eq!(config.staging.apps[0].probe.failure_threshold, Some(0));
        let message = error(&format!(
            "{EXAMPLE}\n[probe]\ndeadline = \"1m\"\nswitch_over = \"1m\"\n"
        ));
        assert!(
            message.contains("line 16: `probe`: invalid probe setting `switch_over`"),
            "{message}"
        );
    }

    #[test]
    fn probe_defaults_follow_an_environment_interval() {
        let config = parse(EXAMPLE).unwrap();
        assert_eq!(
            config.staging.apps[0].probe.interval,
            Some(DEFAULT_PROBE_INTERVAL)
        );
        assert_eq!(
            config.staging.apps[0].probe.confirm_interval,
            Some(DEFAULT_CONFIRM_INTERVAL)
        );
        let text = EXAMPLE.replace(
            "health_url = \"https://example.com/healthz\"\n",
            "health_url = \"https://example.com/healthz\"\nprobe = { interval = \"100ms\" }\n",
        );
        let config = parse(&text).unwrap();
        let probe = &config.production.apps[0].probe;
        assert_eq!(probe.confirm_interval, Some(Duration::from_millis(100)));
        let url = config.production.apps[0].health_url.clone().unwrap();
        let variables = health_probe::Variables::new().with("commit", "abc");
        probe.to_spec(url, &variables).unwrap();
    }

    #[test]
    fn every_duration_must_be_positive_and_names_its_line() {
        let message = error(&format!("{EXAMPLE}\n[deploy]\ntimeout = \"0s\"\n"));
        assert!(
            message.contains("deploy.toml, line 15: `deploy.timeout`: \"0s\""),
            "{message}"
        );
        assert!(message.contains("e.g. \"20m\""), "{message}");
        for (key, value) in [
            ("interval", "0s"),
            ("attempt_timeout", "0s"),
            ("confirm_interval", "0s"),
            ("latency_budget", "0s"),
            ("deadline", "0s"),
        ] {
            let message = error(&format!("{EXAMPLE}\n[probe]\n{key} = \"{value}\"\n"));
            assert!(
                message.contains(&format!(
                    "deploy.toml, line 15: `probe`: invalid probe setting `{key}`"
                )),
                "{key}: {message}"
            );
        }
    }

    #[test]
    fn unknown_placeholders_are_refused_naming_the_known_ones() {
        let message = error(&format!(
            "{EXAMPLE}\n[probe]\ninterval = \"2s\"\nexpect_json = {{ \"/commit\" = \"{{sha}}\" }}\n"
        ));
        for expected in [
            "deploy.toml, line 16: `probe`",
            "`{sha}`",
            "{commit}, {environment}, {short_commit}",
        ] {
            assert!(message.contains(expected), "{expected:?} in: {message}");
        }
    }

    #[test]
    fn release_placeholders_are_refused_where_staging_would_expand_them() {
        let shared =
            format!("{EXAMPLE}\n[probe]\nexpect_json = {{ \"/version\" = \"{{version}}\" }}\n");
        let message = error(&shared);
        for expected in [
            "line 15: `probe`",
            "`{version}`",
            "a staging deploy has no release tag",
            "[environments.production.probe]",
        ] {
            assert!(message.contains(expected), "{expected:?} in: {message}");
        }
        let staging = EXAMPLE.replace(
            "env = { ENVIRONMENT = \"staging\" }\n",
            "env = { ENVIRONMENT = \"staging\" }\nprobe = { expect_body_contains = \"{tag}\" }\n",
        );
        let message = error(&staging);
        assert!(
            message.contains("line 9: `environments.staging.probe`"),
            "{message}"
        );
        assert!(message.contains("`{tag}`"), "{message}");
        // Where a tag is known, the same check loads.
        let production = EXAMPLE.replace(
            "health_url = \"https://example.com/healthz\"\n",
            "health_url = \"https://example.com/healthz\"\nprobe = { expect_json = { \"/version\" = \"{version}\" } }\n",
        );
        parse(&production).unwrap();
    }

    #[test]
    fn a_setting_inherited_from_the_shared_table_is_reported_there() {
        let text = EXAMPLE.replace(
            "health_url = \"https://example.com/healthz\"\n",
            "health_url = \"https://example.com/healthz\"\nprobe = { deadline = \"1m\" }\n",
        );
        let message = error(&format!("{text}\n[probe]\nattempt_timeout = \"0s\"\n"));
        assert!(message.contains("line 16: `probe`"), "{message}");
    }

    #[test]
    fn a_refused_setting_names_the_table_and_the_line_that_writes_it() {
        // In a `[table]` section, the setting's own line rather than the header's.
        let message = error(&format!(
            "{EXAMPLE}\n[environments.production.probe]\ndeadline = \"1m\"\ninterval = \"0s\"\n"
        ));
        assert!(
            message.contains(
                "deploy.toml, line 16: `environments.production.probe`: invalid probe setting `interval`"
            ),
            "{message}"
        );
        // The most specific table that writes it: the app's own, over the environment's.
        let text = TWO_APPS.replace(
            "name = \"web\", health_url",
            "name = \"web\", probe = { attempt_timeout = \"0s\" }, health_url",
        );
        let message = error(&text.replace(
            "env = { ENVIRONMENT = \"staging\" }\n",
            "env = { ENVIRONMENT = \"staging\" }\nprobe = { attempt_timeout = \"1s\" }\n",
        ));
        assert!(
            message.contains(
                "deploy.toml, line 9: `environments.staging.apps[0].probe`: invalid probe setting `attempt_timeout`"
            ),
            "{message}"
        );
    }

    #[test]
    fn a_refused_header_or_assertion_names_its_line() {
        let message = error(&format!(
            "{EXAMPLE}\n[probe]\ninterval = \"2s\"\nheaders = {{ \"bad name\" = \"x\" }}\n"
        ));
        assert!(
            message.contains("deploy.toml, line 16: `probe`: invalid probe header `bad name`"),
            "{message}"
        );
        let message = error(&format!(
            "{EXAMPLE}\n[probe.expect_json]\n\"/commit\" = \"{{commit}}\"\n\"status\" = \"ok\"\n"
        ));
        assert!(
            message.contains("deploy.toml, line 16: `probe`: invalid json pointer `status`"),
            "{message}"
        );
        let message = error(&format!(
            "{EXAMPLE}\n[probe]\ninterval = \"2s\"\nexpect_body_contains = \"{{commit\"\n"
        ));
        assert!(
            message.contains("deploy.toml, line 16: `probe`: unclosed placeholder"),
            "{message}"
        );
    }
}
