//! Probe settings as configuration: every field optional, so that one table can be laid over
//! another, then turned into a [`ProbeSpec`].

use std::{
    collections::{BTreeMap, BTreeSet},
    time::Duration,
};

use serde::{Deserialize, Serialize};
use serde_json::Value;
use url::Url;

use crate::{
    Assertion, Error, Glob, Method, ProbeSpec, ProbeSpecBuilder, serde_duration::humantime_option,
};

/// The values that `{name}` placeholders in expected values expand to.
///
/// The flows supply `commit`, `short_commit`, `tag`, `version` and `environment`.
///
/// A variable added with [`Variables::with_identity`] identifies the version under probe: an
/// assertion whose expected value uses it is a *version identity* assertion (see
/// [`Assertion::identifying_version`]), and an answer that fails it with another value comes
/// from another version, which never counts toward the failure threshold.
///
/// ```
/// use health_probe::Variables;
///
/// let variables = Variables::new()
///     .with_identity("commit", "4f2a9c1e")
///     .with("environment", "staging");
/// assert_eq!(variables.get("commit"), Some("4f2a9c1e"));
/// assert!(variables.identifies_version("commit"));
/// assert!(!variables.identifies_version("environment"));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Variables {
    values: BTreeMap<String, String>,
    identity: BTreeSet<String>,
}

impl Variables {
    /// No variables.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds (or replaces) a variable.
    #[must_use]
    pub fn with(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.insert(name, value);
        self
    }

    /// Adds (or replaces) a variable.
    pub fn insert(&mut self, name: impl Into<String>, value: impl Into<String>) {
        let name = name.into();
        self.identity.remove(&name);
        self.values.insert(name, value.into());
    }

    /// Adds (or replaces) a variable that identifies the version under probe, such as a commit
    /// or a release version.
    #[must_use]
    pub fn with_identity(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.insert_identity(name, value);
        self
    }

    /// Adds (or replaces) a variable that identifies the version under probe.
    pub fn insert_identity(&mut self, name: impl Into<String>, value: impl Into<String>) {
        let name = name.into();
        self.values.insert(name.clone(), value.into());
        self.identity.insert(name);
    }

    /// Whether `name` identifies the version under probe.
    pub fn identifies_version(&self, name: &str) -> bool {
        self.identity.contains(name)
    }

    /// The value of a variable.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.values.get(name).map(String::as_str)
    }

    /// Expands `{name}` placeholders in `text`; `{{` and `}}` stand for literal braces.
    ///
    /// # Errors
    ///
    /// [`Error::UnknownPlaceholder`] for a name that is not set, [`Error::UnclosedPlaceholder`]
    /// for a `{` without `}`; `pointer` names where the text came from.
    pub fn expand(&self, text: &str, pointer: &str) -> Result<String, Error> {
        self.expand_noting(text, pointer, &mut false)
    }

    /// [`Variables::expand`], setting `identity` when a version identity variable is used.
    fn expand_noting(
        &self,
        text: &str,
        pointer: &str,
        identity: &mut bool,
    ) -> Result<String, Error> {
        let mut expanded = String::with_capacity(text.len());
        let mut rest = text;
        while let Some(position) = rest.find(['{', '}']) {
            expanded.push_str(&rest[..position]);
            let tail = &rest[position..];
            if let Some(after) = tail.strip_prefix("{{") {
                expanded.push('{');
                rest = after;
            } else if let Some(after) = tail.strip_prefix("}}") {
                expanded.push('}');
                rest = after;
            } else if let Some(after) = tail.strip_prefix('{') {
                let Some(end) = after.find('}') else {
                    return Err(Error::UnclosedPlaceholder {
                        pointer: pointer.to_owned(),
                        value: text.to_owned(),
                    });
                };
                let name = &after[..end];
                let value = self.get(name).ok_or_else(|| Error::UnknownPlaceholder {
                    name: name.to_owned(),
                    pointer: pointer.to_owned(),
                    known: self.known_names(),
                })?;
                *identity |= self.identifies_version(name);
                expanded.push_str(value);
                rest = &after[end + 1..];
            } else {
                // A lone `}` is literal.
                expanded.push('}');
                rest = &tail[1..];
            }
        }
        expanded.push_str(rest);
        Ok(expanded)
    }

    fn expand_value(
        &self,
        value: &Value,
        pointer: &str,
        identity: &mut bool,
    ) -> Result<Value, Error> {
        Ok(match value {
            Value::String(text) => Value::String(self.expand_noting(text, pointer, identity)?),
            Value::Array(items) => Value::Array(
                items
                    .iter()
                    .map(|item| self.expand_value(item, pointer, identity))
                    .collect::<Result<_, _>>()?,
            ),
            Value::Object(fields) => Value::Object(
                fields
                    .iter()
                    .map(|(key, item)| {
                        Ok((key.clone(), self.expand_value(item, pointer, identity)?))
                    })
                    .collect::<Result<_, Error>>()?,
            ),
            other => other.clone(),
        })
    }

    fn known_names(&self) -> String {
        if self.values.is_empty() {
            "none (the caller supplied no variables)".to_owned()
        } else {
            self.values
                .keys()
                .map(|name| format!("{{{name}}}"))
                .collect::<Vec<_>>()
                .join(", ")
        }
    }
}

impl<K: Into<String>, V: Into<String>> FromIterator<(K, V)> for Variables {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        Self {
            values: iter
                .into_iter()
                .map(|(name, value)| (name.into(), value.into()))
                .collect(),
            identity: BTreeSet::new(),
        }
    }
}

/// Probe settings as configuration: a table of defaults that another table (say, one
/// environment's) may override field by field (see [`ProbeConfig::overlay`]).
///
/// Durations are humantime strings (`"500ms"`, `"2s"`, `"5m"`); unknown keys are an error.
/// A missing field takes the [`ProbeSpec`] default.
///
/// This struct is the one list of probe settings: [`ProbeSpec`] holds one and reads each
/// setting with its default, so a new setting is a new field here (the struct is
/// `#[non_exhaustive]`: build one with [`Default`] or by deserializing, then set fields).
///
/// ```
/// use health_probe::ProbeConfig;
///
/// let defaults: ProbeConfig = toml::from_str(r#"
///     interval = "2s"
///     deadline = "5m"
///     expect_json = { "/commit" = "{commit}" }
/// "#)?;
/// let production: ProbeConfig = toml::from_str(r#"deadline = "10m""#)?;
/// let effective = defaults.overlay(&production);
/// assert_eq!(effective.deadline, Some(std::time::Duration::from_secs(600)));
/// assert_eq!(effective.interval, Some(std::time::Duration::from_secs(2)));
/// # Ok::<(), toml::de::Error>(())
/// ```
///
/// # Header values are never shown
///
/// A header value may be a credential under any name (`Authorization`, `Cookie`, `X-Api-Key`,
/// a team's own `X-Deploy-Secret`), so `Debug` and `Serialize` replace every header value by
/// `[redacted]` and keep only the names. Serializing is for showing a config, not for writing
/// one back: a serialized table with headers does not parse into the same table.
///
/// ```
/// use health_probe::ProbeConfig;
///
/// let config: ProbeConfig = toml::from_str(r#"headers = { Authorization = "Bearer s3cret" }"#)?;
/// assert!(!format!("{config:?}").contains("s3cret"));
/// # Ok::<(), toml::de::Error>(())
/// ```
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct ProbeConfig {
    /// HTTP method: `"GET"` (default), `"HEAD"` or `"POST"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<Method>,
    /// Request headers, e.g. `{ Host = "example.com" }`; sent to the probed origin only.
    /// `Debug` and `Serialize` show their names only.
    #[serde(
        default,
        serialize_with = "redacted_headers",
        skip_serializing_if = "Option::is_none"
    )]
    pub headers: Option<BTreeMap<String, String>>,
    /// Wait before the first attempt (default none).
    #[serde(
        default,
        with = "humantime_option",
        skip_serializing_if = "Option::is_none"
    )]
    pub initial_delay: Option<Duration>,
    /// Time between the starts of two attempts (default 2s).
    #[serde(
        default,
        with = "humantime_option",
        skip_serializing_if = "Option::is_none"
    )]
    pub interval: Option<Duration>,
    /// Largest random shortening of a wait (default a tenth of the interval).
    #[serde(
        default,
        with = "humantime_option",
        skip_serializing_if = "Option::is_none"
    )]
    pub jitter: Option<Duration>,
    /// Time from a passing attempt to the next while confirming (default: the interval).
    #[serde(
        default,
        with = "humantime_option",
        skip_serializing_if = "Option::is_none"
    )]
    pub confirm_interval: Option<Duration>,
    /// Time one attempt may take (default 5s).
    #[serde(
        default,
        with = "humantime_option",
        skip_serializing_if = "Option::is_none"
    )]
    pub attempt_timeout: Option<Duration>,
    /// Time the whole probe may take (default 5m).
    #[serde(
        default,
        with = "humantime_option",
        skip_serializing_if = "Option::is_none"
    )]
    pub deadline: Option<Duration>,
    /// Consecutive passes needed (default 2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub success_threshold: Option<u32>,
    /// Consecutive failures that end the probe early (default 0: wait for the deadline);
    /// only failures of attempts started after `switch_over` count, and never an answer from
    /// another version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure_threshold: Option<u32>,
    /// Time from the start of the probe during which failures do not count toward
    /// `failure_threshold`, while a proxy or the old container may still answer (default 0s).
    #[serde(
        default,
        with = "humantime_option",
        skip_serializing_if = "Option::is_none"
    )]
    pub switch_over: Option<Duration>,
    /// Accepted statuses (default `[200]`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expect_status: Option<Vec<u16>>,
    /// Statuses that end the probe at once (default `[401, 403, 404]`; `[]` for none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fatal_status: Option<Vec<u16>>,
    /// JSON pointer -> expected value; string values may hold `{name}` placeholders.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expect_json: Option<BTreeMap<String, Value>>,
    /// JSON pointer -> glob pattern (`*`, `?`); patterns may hold `{name}` placeholders.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expect_json_matches: Option<BTreeMap<String, String>>,
    /// Text the body must contain; may hold `{name}` placeholders.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expect_body_contains: Option<String>,
    /// An attempt slower than this does not pass (default none).
    #[serde(
        default,
        with = "humantime_option",
        skip_serializing_if = "Option::is_none"
    )]
    pub latency_budget: Option<Duration>,
    /// Redirects followed per attempt (default 0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_redirects: Option<u32>,
}

/// What `Debug` and `Serialize` show instead of a header value.
const REDACTED: &str = "[redacted]";

/// The header names, each with [`REDACTED`] for its value.
fn redacted_header_map(headers: &BTreeMap<String, String>) -> BTreeMap<&str, &'static str> {
    headers
        .keys()
        .map(|name| (name.as_str(), REDACTED))
        .collect()
}

fn redacted_headers<S: serde::Serializer>(
    headers: &Option<BTreeMap<String, String>>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    headers
        .as_ref()
        .map(redacted_header_map)
        .serialize(serializer)
}

impl std::fmt::Debug for ProbeConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Destructured, so that a new field cannot be left out of Debug.
        let Self {
            method,
            headers,
            initial_delay,
            interval,
            jitter,
            confirm_interval,
            attempt_timeout,
            deadline,
            success_threshold,
            failure_threshold,
            switch_over,
            expect_status,
            fatal_status,
            expect_json,
            expect_json_matches,
            expect_body_contains,
            latency_budget,
            max_redirects,
        } = self;
        f.debug_struct("ProbeConfig")
            .field("method", method)
            .field("headers", &headers.as_ref().map(redacted_header_map))
            .field("initial_delay", initial_delay)
            .field("interval", interval)
            .field("jitter", jitter)
            .field("confirm_interval", confirm_interval)
            .field("attempt_timeout", attempt_timeout)
            .field("deadline", deadline)
            .field("success_threshold", success_threshold)
            .field("failure_threshold", failure_threshold)
            .field("switch_over", switch_over)
            .field("expect_status", expect_status)
            .field("fatal_status", fatal_status)
            .field("expect_json", expect_json)
            .field("expect_json_matches", expect_json_matches)
            .field("expect_body_contains", expect_body_contains)
            .field("latency_budget", latency_budget)
            .field("max_redirects", max_redirects)
            .finish()
    }
}

impl ProbeConfig {
    /// This table with every field that `overrides` sets replaced by the override.
    ///
    /// Tables (`headers`, `expect_json`, ...) are replaced whole, not merged key by key, so an
    /// environment can drop an inherited assertion with `expect_json = {}`.
    #[must_use]
    pub fn overlay(&self, overrides: &ProbeConfig) -> ProbeConfig {
        fn pick<T: Clone>(base: &Option<T>, over: &Option<T>) -> Option<T> {
            over.as_ref().or(base.as_ref()).cloned()
        }
        ProbeConfig {
            method: pick(&self.method, &overrides.method),
            headers: pick(&self.headers, &overrides.headers),
            initial_delay: pick(&self.initial_delay, &overrides.initial_delay),
            interval: pick(&self.interval, &overrides.interval),
            jitter: pick(&self.jitter, &overrides.jitter),
            confirm_interval: pick(&self.confirm_interval, &overrides.confirm_interval),
            attempt_timeout: pick(&self.attempt_timeout, &overrides.attempt_timeout),
            deadline: pick(&self.deadline, &overrides.deadline),
            success_threshold: pick(&self.success_threshold, &overrides.success_threshold),
            failure_threshold: pick(&self.failure_threshold, &overrides.failure_threshold),
            switch_over: pick(&self.switch_over, &overrides.switch_over),
            expect_status: pick(&self.expect_status, &overrides.expect_status),
            fatal_status: pick(&self.fatal_status, &overrides.fatal_status),
            expect_json: pick(&self.expect_json, &overrides.expect_json),
            expect_json_matches: pick(&self.expect_json_matches, &overrides.expect_json_matches),
            expect_body_contains: pick(&self.expect_body_contains, &overrides.expect_body_contains),
            latency_budget: pick(&self.latency_budget, &overrides.latency_budget),
            max_redirects: pick(&self.max_redirects, &overrides.max_redirects),
        }
    }

    /// The probe of `url` that this table describes, with placeholders expanded from
    /// `variables`: a [`ProbeSpec::builder`] with every field set here, checked by the same
    /// [`ProbeSpecBuilder::build`](crate::ProbeSpecBuilder::build).
    ///
    /// ```
    /// use health_probe::{ProbeConfig, Variables};
    ///
    /// let mut config = ProbeConfig::default();
    /// config.deadline = Some(std::time::Duration::from_secs(600));
    /// config.expect_json = Some([("/commit".to_owned(), "{commit}".into())].into());
    /// let variables = Variables::new().with_identity("commit", "4f2a9c1e");
    /// let spec = config.to_spec("https://staging.example.com/healthz".parse()?, &variables)?;
    /// assert_eq!(spec.assertions()[0].to_string(), r#"`/commit` == "4f2a9c1e""#);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    ///
    /// - the errors of [`ProbeSpecBuilder::build`](crate::ProbeSpecBuilder::build): a bad URL,
    ///   header or setting, each naming this struct's field;
    /// - [`Error::InvalidPointer`], [`Error::UnknownPlaceholder`] and
    ///   [`Error::UnclosedPlaceholder`] for the assertion tables.
    pub fn to_spec(&self, url: Url, variables: &Variables) -> Result<ProbeSpec, Error> {
        let mut spec = ProbeSpecBuilder::with_settings(url, self);
        for (name, value) in self.headers.iter().flatten() {
            spec = spec.header(name, value);
        }
        // An assertion whose expected value uses a version identity variable tells the
        // version under probe from another one.
        let marked = |assertion: Assertion, identity: bool| {
            if identity {
                assertion.identifying_version()
            } else {
                assertion
            }
        };
        for (pointer, expected) in self.expect_json.iter().flatten() {
            let mut identity = false;
            let expected = variables.expand_value(expected, pointer, &mut identity)?;
            spec = spec.assertion(marked(Assertion::json_equals(pointer, expected)?, identity));
        }
        for (pointer, pattern) in self.expect_json_matches.iter().flatten() {
            let mut identity = false;
            let pattern = Glob::new(variables.expand_noting(pattern, pointer, &mut identity)?);
            spec = spec.assertion(marked(Assertion::json_matches(pointer, pattern)?, identity));
        }
        if let Some(text) = &self.expect_body_contains {
            let mut identity = false;
            let text = variables.expand_noting(text, "expect_body_contains", &mut identity)?;
            spec = spec.assertion(marked(Assertion::body_contains(text), identity));
        }
        spec.build()
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn url() -> Url {
        Url::parse("https://staging.example.com/healthz").unwrap()
    }

    fn variables() -> Variables {
        Variables::new()
            .with("commit", "4f2a9c1e0b")
            .with("short_commit", "4f2a9c1")
            .with("environment", "staging")
    }

    fn parse(text: &str) -> ProbeConfig {
        toml::from_str(text).unwrap()
    }

    #[test]
    fn the_contract_example_parses_and_expands() {
        let config = parse(
            r#"
            interval = "2s"
            attempt_timeout = "5s"
            deadline = "5m"
            success_threshold = 2
            expect_status = [200]
            expect_json = { "/commit" = "{commit}" }
            "#,
        );
        let spec = config.to_spec(url(), &variables()).unwrap();
        assert_eq!(spec.deadline(), Duration::from_secs(300));
        assert_eq!(
            spec.assertions(),
            [Assertion::json_equals("/commit", json!("4f2a9c1e0b")).unwrap()]
        );
    }

    #[test]
    fn every_field_parses() {
        let config = parse(
            r#"
            method = "GET"
            headers = { Host = "example.com" }
            initial_delay = "10s"
            interval = "1s"
            jitter = "100ms"
            attempt_timeout = "3s"
            deadline = "2m"
            success_threshold = 3
            failure_threshold = 5
            expect_status = [200, 204]
            fatal_status = [401]
            expect_json = { "/commit" = "{commit}", "/env" = "{environment}", "/ready" = true }
            expect_json_matches = { "/version" = "1.*" }
            expect_body_contains = "{short_commit}"
            latency_budget = "800ms"
            max_redirects = 2
            "#,
        );
        let spec = config.to_spec(url(), &variables()).unwrap();
        assert_eq!(spec.initial_delay(), Duration::from_secs(10));
        assert_eq!(spec.jitter(), Duration::from_millis(100));
        assert_eq!(spec.success_threshold(), 3);
        assert_eq!(spec.failure_threshold(), 5);
        assert_eq!(spec.fatal_status(), [401]);
        assert_eq!(spec.latency_budget(), Some(Duration::from_millis(800)));
        assert_eq!(spec.max_redirects(), 2);
        assert_eq!(spec.assertions().len(), 5);
        assert!(
            spec.assertions()
                .contains(&Assertion::body_contains("4f2a9c1"))
        );
        assert!(
            spec.assertions()
                .contains(&Assertion::json_equals("/ready", json!(true)).unwrap())
        );
    }

    #[test]
    fn assertions_using_an_identity_variable_identify_the_version() {
        let config = parse(
            r#"
            switch_over = "0s"
            expect_json = { "/build/sha" = "{commit}", "/env" = "{environment}", "/ready" = true }
            expect_json_matches = { "/version" = "{version}*" }
            expect_body_contains = "ok"
            "#,
        );
        let variables = Variables::new()
            .with_identity("commit", "4f2a9c1e0b")
            .with_identity("version", "1.4.2")
            .with("environment", "production");
        let spec = config.to_spec(url(), &variables).unwrap();
        assert_eq!(spec.switch_over(), Duration::ZERO);
        let identity: Vec<String> = spec
            .assertions()
            .iter()
            .filter(|assertion| assertion.identifies_version())
            .map(ToString::to_string)
            .collect();
        assert_eq!(
            identity,
            [
                "`/build/sha` == \"4f2a9c1e0b\"",
                "`/version` matches `1.4.2*`"
            ]
        );
        assert_eq!(spec.assertions().len(), 5);
        // Replacing an identity variable with a plain one drops the mark.
        let mut variables = variables;
        variables.insert("commit", "4f2a9c1e0b");
        assert!(!variables.identifies_version("commit"));
    }

    #[test]
    fn unknown_keys_are_refused_by_name() {
        let error = toml::from_str::<ProbeConfig>("intervall = \"2s\"").unwrap_err();
        assert!(error.to_string().contains("intervall"), "{error}");
    }

    #[test]
    fn bad_durations_name_the_accepted_forms() {
        let error = toml::from_str::<ProbeConfig>("deadline = \"5 minutes please\"").unwrap_err();
        assert!(error.to_string().contains("\"5m\""), "{error}");
    }

    #[test]
    fn overlay_takes_overrides_and_keeps_the_rest() {
        let base = parse(
            r#"
            interval = "2s"
            deadline = "5m"
            expect_json = { "/commit" = "{commit}" }
            headers = { A = "1" }
            "#,
        );
        let production = parse(
            r#"
            deadline = "10m"
            expect_json = { "/version" = "{version}" }
            "#,
        );
        let effective = base.overlay(&production);
        assert_eq!(effective.interval, Some(Duration::from_secs(2)));
        assert_eq!(effective.deadline, Some(Duration::from_secs(600)));
        assert_eq!(effective.headers, base.headers);
        let pointers: Vec<_> = effective.expect_json.unwrap().into_keys().collect();
        assert_eq!(pointers, ["/version"]);
        assert_eq!(base.overlay(&ProbeConfig::default()), base);
        assert_eq!(ProbeConfig::default().overlay(&base), base);
    }

    #[test]
    fn unknown_placeholders_are_named_with_the_known_ones() {
        let config = parse(r#"expect_json = { "/commit" = "{comit}" }"#);
        let error = config.to_spec(url(), &variables()).unwrap_err();
        assert_eq!(
            error,
            Error::UnknownPlaceholder {
                name: "comit".into(),
                pointer: "/commit".into(),
                known: "{commit}, {environment}, {short_commit}".into(),
            }
        );
        assert!(error.to_string().contains("`{comit}`"), "{error}");
    }

    #[test]
    fn placeholder_expansion_handles_escapes_and_unclosed_braces() {
        let variables = variables();
        assert_eq!(
            variables.expand("{{literal}} {commit}", "/x").unwrap(),
            "{literal} 4f2a9c1e0b"
        );
        assert_eq!(variables.expand("a}b", "/x").unwrap(), "a}b");
        assert_eq!(variables.expand("", "/x").unwrap(), "");
        assert!(matches!(
            variables.expand("sha-{commit", "/x"),
            Err(Error::UnclosedPlaceholder { .. })
        ));
    }

    #[test]
    fn nonsense_settings_fail_with_their_key() {
        let cases = [
            ("success_threshold = 0", "success_threshold"),
            ("interval = \"0s\"", "interval"),
            ("attempt_timeout = \"0s\"", "attempt_timeout"),
            ("expect_status = []", "expect_status"),
            ("fatal_status = [1000]", "fatal_status"),
            ("initial_delay = \"5m\"", "deadline"),
            ("jitter = \"3s\"", "jitter"),
            ("confirm_interval = \"3s\"", "confirm_interval"),
            ("confirm_interval = \"0s\"", "confirm_interval"),
            ("switch_over = \"5m\"", "switch_over"),
            ("deadline = \"1m\"\nswitch_over = \"2m\"", "switch_over"),
            ("method = \"HEAD\"\nexpect_body_contains = \"ok\"", "method"),
            ("latency_budget = \"0s\"", "latency_budget"),
            ("deadline = \"25h\"", "deadline"),
            ("interval = \"2days\"", "interval"),
        ];
        for (text, key) in cases {
            let error = parse(text).to_spec(url(), &variables()).unwrap_err();
            assert!(
                matches!(&error, Error::InvalidSetting { key: found, .. } if *found == key),
                "{text}: {error}"
            );
        }
    }

    #[test]
    fn the_spec_holds_the_table_as_the_builders_would_set_it() {
        let config = parse(
            r#"
            method = "POST"
            initial_delay = "1s"
            interval = "3s"
            jitter = "100ms"
            confirm_interval = "500ms"
            attempt_timeout = "2s"
            deadline = "1m"
            success_threshold = 3
            failure_threshold = 4
            switch_over = "15s"
            expect_status = [200, 204]
            fatal_status = [410]
            latency_budget = "700ms"
            max_redirects = 1
            "#,
        );
        let built = ProbeSpec::builder(url())
            .method(Method::Post)
            .initial_delay(Duration::from_secs(1))
            .interval(Duration::from_secs(3))
            .jitter(Duration::from_millis(100))
            .confirm_interval(Duration::from_millis(500))
            .attempt_timeout(Duration::from_secs(2))
            .deadline(Duration::from_secs(60))
            .success_threshold(3)
            .failure_threshold(4)
            .switch_over(Duration::from_secs(15))
            .expect_status([200, 204])
            .fatal_status([410])
            .latency_budget(Duration::from_millis(700))
            .max_redirects(1)
            .build()
            .unwrap();
        assert_eq!(config.to_spec(url(), &variables()).unwrap(), built);
        assert_eq!(
            ProbeConfig::default().to_spec(url(), &variables()).unwrap(),
            ProbeSpec::new(url()).unwrap()
        );
    }

    #[test]
    fn header_values_never_reach_debug_serialize_or_a_log_line() {
        let config = parse(
            r#"
            headers = { Authorization = "Bearer s3cret-token", "X-Team" = "pl4in-value" }
            interval = "2s"
            "#,
        );
        let secrets = ["s3cret-token", "pl4in-value"];
        let debug = format!("{config:?}");
        let pretty = format!("{config:#?}");
        let json = serde_json::to_string(&config).unwrap();
        let spec = config.to_spec(url(), &variables()).unwrap();
        let spec_debug = format!("{spec:?}");
        let log = logged(|| tracing::warn!(config = ?config, spec = ?spec, "probe settings"));
        for shown in [&debug, &pretty, &json, &spec_debug, &log] {
            for secret in secrets {
                assert!(!shown.contains(secret), "{secret} shown in {shown}");
            }
        }
        // The names stay, so a reader knows which headers are sent.
        assert!(
            debug.contains("Authorization") && debug.contains(REDACTED),
            "{debug}"
        );
        assert_eq!(
            serde_json::to_value(&config).unwrap()["headers"],
            json!({ "Authorization": REDACTED, "X-Team": REDACTED })
        );
        // Redaction is only in what is shown: the probe sends the values.
        assert_eq!(
            config.headers.as_ref().unwrap()["Authorization"],
            "Bearer s3cret-token"
        );
    }

    /// What a `tracing` fmt subscriber writes while `emit` runs.
    fn logged(emit: impl FnOnce()) -> String {
        use std::sync::{Arc, Mutex};

        #[derive(Clone, Default)]
        struct Buffer(Arc<Mutex<Vec<u8>>>);
        impl std::io::Write for Buffer {
            fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
                self.0.lock().unwrap().extend_from_slice(bytes);
                Ok(bytes.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }

        let buffer = Buffer::default();
        let writer = buffer.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .finish();
        tracing::subscriber::with_default(subscriber, emit);
        let bytes = buffer.0.lock().unwrap().clone();
        String::from_utf8(bytes).unwrap()
    }

    #[test]
    fn serializes_back_to_humantime() {
        let config = parse("interval = \"2s\"\ndeadline = \"5m\"");
        let value = serde_json::to_value(&config).unwrap();
        assert_eq!(value, json!({ "interval": "2s", "deadline": "5m" }));
        assert_eq!(
            serde_json::from_value::<ProbeConfig>(value).unwrap(),
            config
        );
    }
}
