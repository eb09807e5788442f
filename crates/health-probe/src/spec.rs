//! What to probe and how: the validated, ready-to-run description of one target.

use std::{fmt, str::FromStr, time::Duration};

use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use serde::{Deserialize, Serialize};
use url::Url;

use crate::{Assertion, Error, ProbeConfig};

/// Default pause between the starts of two attempts.
pub const DEFAULT_INTERVAL: Duration = Duration::from_secs(2);
/// Default time one attempt may take, body included.
pub const DEFAULT_ATTEMPT_TIMEOUT: Duration = Duration::from_secs(5);
/// Default time the whole probe may take, initial delay included.
pub const DEFAULT_DEADLINE: Duration = Duration::from_secs(300);
/// Default number of consecutive passes that make a target healthy.
pub const DEFAULT_SUCCESS_THRESHOLD: u32 = 2;
/// Default statuses that end the probe at once: the URL, path or credentials are wrong, and
/// waiting will not fix them.
pub const DEFAULT_FATAL_STATUS: [u16; 3] = [401, 403, 404];
/// Default statuses that count as an answer.
pub const DEFAULT_EXPECT_STATUS: [u16; 1] = [200];

fn quoted(duration: Duration) -> String {
    format!("\"{}\"", humantime::format_duration(duration))
}

fn positive(key: &'static str, duration: Duration) -> Result<(), Error> {
    if duration.is_zero() {
        Err(Error::InvalidSetting {
            key,
            value: quoted(duration),
            reason: "it must be longer than zero, e.g. \"2s\"".into(),
        })
    } else {
        Ok(())
    }
}

fn valid_statuses(key: &'static str, statuses: &[u16]) -> Result<(), Error> {
    match statuses
        .iter()
        .find(|status| !(100..=599).contains(*status))
    {
        Some(status) => Err(Error::InvalidSetting {
            key,
            value: status.to_string(),
            reason: "an HTTP status is between 100 and 599".into(),
        }),
        None => Ok(()),
    }
}

/// The HTTP method of a probe.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
)]
#[serde(rename_all = "UPPERCASE")]
#[non_exhaustive]
pub enum Method {
    /// `GET`, the default.
    #[default]
    Get,
    /// `HEAD`: status only, no body (so no body assertions).
    Head,
    /// `POST` with an empty body, for endpoints that refuse `GET`.
    Post,
}

impl Method {
    pub(crate) fn to_reqwest(self) -> reqwest::Method {
        match self {
            Self::Get => reqwest::Method::GET,
            Self::Head => reqwest::Method::HEAD,
            Self::Post => reqwest::Method::POST,
        }
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Get => "GET",
            Self::Head => "HEAD",
            Self::Post => "POST",
        })
    }
}

impl FromStr for Method {
    type Err = Error;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text.to_ascii_uppercase().as_str() {
            "GET" => Ok(Self::Get),
            "HEAD" => Ok(Self::Head),
            "POST" => Ok(Self::Post),
            _ => Err(Error::InvalidSetting {
                key: "method",
                value: format!("{text:?}"),
                reason: "use GET, HEAD or POST".into(),
            }),
        }
    }
}

/// The longest any duration of a probe may be: a probe that waits longer is not checking a
/// rollout any more.
pub const LONGEST: Duration = Duration::from_secs(24 * 60 * 60);

/// One target to probe and the rules that judge it: a URL and valid settings.
///
/// Built by [`ProbeSpec::builder`], or from a [`ProbeConfig`](crate::ProbeConfig) by
/// [`ProbeConfig::to_spec`](crate::ProbeConfig::to_spec); both end in
/// [`ProbeSpecBuilder::build`], the one place where the settings are checked, so no spec holds
/// a setting the prober cannot work with (a zero interval, no accepted status).
///
/// | setting | default |
/// | --- | --- |
/// | method | `GET` |
/// | initial delay | none |
/// | interval | 2 s, shortened by up to the jitter (default a tenth of the interval) |
/// | confirm interval | the interval: time from a passing attempt to the next, while confirming |
/// | attempt timeout | 5 s |
/// | deadline | 5 min |
/// | success threshold | 2 consecutive passes |
/// | failure threshold | 0: failures never end the probe before the deadline |
/// | switch-over | 0: failures count toward the failure threshold from the first attempt |
/// | accepted statuses | 200 |
/// | fatal statuses | 401, 403, 404 |
/// | redirects | not followed |
///
/// Header values are marked sensitive: `Debug` never shows them.
///
/// ```
/// use std::time::Duration;
///
/// use health_probe::{Assertion, ProbeSpec};
/// use health_probe::serde_json::json;
///
/// let spec = ProbeSpec::builder("https://staging.example.com/healthz".parse()?)
///     .interval(Duration::from_secs(1))
///     .deadline(Duration::from_secs(120))
///     .assertion(Assertion::json_equals("/commit", json!("4f2a9c1e"))?.identifying_version())
///     .header("Authorization", "Bearer s3cret")
///     .build()?;
/// assert_eq!(spec.success_threshold(), 2);
/// assert!(!format!("{spec:?}").contains("s3cret"));
///
/// // The checks of the configuration path hold for the builder too.
/// let never_passes = ProbeSpec::builder("https://staging.example.com/healthz".parse()?)
///     .expect_status([])
///     .build();
/// assert!(never_passes.is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProbeSpec {
    url: Url,
    /// Every scalar setting; its `headers` and assertion tables are always `None` (they live in
    /// `headers` and `assertions`).
    settings: ProbeConfig,
    headers: HeaderMap,
    assertions: Vec<Assertion>,
}

/// Sets up a [`ProbeSpec`]; from [`ProbeSpec::builder`]. Nothing is checked until
/// [`ProbeSpecBuilder::build`].
#[derive(Clone)]
#[must_use]
pub struct ProbeSpecBuilder {
    url: Url,
    /// The scalar settings; the header and assertion tables stay `None`.
    settings: ProbeConfig,
    headers: Vec<(String, String)>,
    assertions: Vec<Assertion>,
}

impl fmt::Debug for ProbeSpecBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProbeSpecBuilder")
            .field("url", &self.url.as_str())
            .field("settings", &self.settings)
            // Names only: a header value may be a credential.
            .field(
                "headers",
                &self
                    .headers
                    .iter()
                    .map(|(name, _)| name)
                    .collect::<Vec<_>>(),
            )
            .field("assertions", &self.assertions)
            .finish()
    }
}

impl ProbeSpec {
    /// Start a probe of `url`, with the default settings.
    pub fn builder(url: Url) -> ProbeSpecBuilder {
        ProbeSpecBuilder {
            url,
            settings: ProbeConfig::default(),
            headers: Vec::new(),
            assertions: Vec::new(),
        }
    }

    /// A probe of `url` with the default settings: `ProbeSpec::builder(url).build()`.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidUrl`] unless the URL is `http` or `https` with a host.
    pub fn new(url: Url) -> Result<Self, Error> {
        Self::builder(url).build()
    }
}

impl ProbeSpecBuilder {
    /// The builder of `url` with the scalar settings of `settings` (its header and assertion
    /// tables are left out: [`ProbeConfig::to_spec`](crate::ProbeConfig::to_spec) adds them).
    pub(crate) fn with_settings(url: Url, settings: &ProbeConfig) -> Self {
        let mut settings = settings.clone();
        settings.headers = None;
        settings.expect_json = None;
        settings.expect_json_matches = None;
        settings.expect_body_contains = None;
        Self {
            settings,
            ..ProbeSpec::builder(url)
        }
    }

    /// The HTTP method (default `GET`).
    pub fn method(mut self, method: Method) -> Self {
        self.settings.method = Some(method);
        self
    }

    /// Adds a request header (for example `Authorization` or `Host`), sent to the probed
    /// origin only: a redirect to another origin drops every header set here. A name or
    /// value that cannot be sent fails [`ProbeSpecBuilder::build`].
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Waits this long before the first attempt (a container's start period).
    pub fn initial_delay(mut self, initial_delay: Duration) -> Self {
        self.settings.initial_delay = Some(initial_delay);
        self
    }

    /// The time between the starts of two attempts (default 2 s; more than zero).
    pub fn interval(mut self, interval: Duration) -> Self {
        self.settings.interval = Some(interval);
        self
    }

    /// The jitter: each wait is shortened by a random part of it (never lengthened, so
    /// detection is never later than one interval). At most the interval; default a tenth of
    /// the interval.
    pub fn jitter(mut self, jitter: Duration) -> Self {
        self.settings.jitter = Some(jitter);
        self
    }

    /// The time from a passing attempt to the next one while the success threshold is not
    /// yet reached (default: the interval, as Kubernetes probes do; more than zero and at most
    /// the interval).
    ///
    /// A short confirm interval proves a new version quickly once it first answers, without
    /// polling a still-old endpoint more often. No jitter applies.
    pub fn confirm_interval(mut self, confirm_interval: Duration) -> Self {
        self.settings.confirm_interval = Some(confirm_interval);
        self
    }

    /// How long one attempt may take, from connecting to the end of the body (default 5 s).
    pub fn attempt_timeout(mut self, attempt_timeout: Duration) -> Self {
        self.settings.attempt_timeout = Some(attempt_timeout);
        self
    }

    /// How long the whole probe may take (default 5 min, longer than the initial delay); the
    /// deadline also cuts the attempt in flight.
    pub fn deadline(mut self, deadline: Duration) -> Self {
        self.settings.deadline = Some(deadline);
        self
    }

    /// How many consecutive passes make the target healthy (default 2; at least 1).
    pub fn success_threshold(mut self, success_threshold: u32) -> Self {
        self.settings.success_threshold = Some(success_threshold);
        self
    }

    /// How many consecutive failures end the probe early; 0 (the default) waits until the
    /// deadline. Only attempts started after the [switch-over](ProbeSpecBuilder::switch_over)
    /// count, and never an answer from another version: such an answer neither adds to nor
    /// resets the count (a pass resets it).
    pub fn failure_threshold(mut self, failure_threshold: u32) -> Self {
        self.settings.failure_threshold = Some(failure_threshold);
        self
    }

    /// The switch-over window: failures of attempts that start within this time of the start
    /// of the probe do not count toward the failure threshold (a proxy or the previous
    /// container may answer while the new one takes over). Default 0; shorter than the
    /// deadline.
    pub fn switch_over(mut self, switch_over: Duration) -> Self {
        self.settings.switch_over = Some(switch_over);
        self
    }

    /// The statuses that count as an answer (default `[200]`; at least one).
    pub fn expect_status(mut self, statuses: impl IntoIterator<Item = u16>) -> Self {
        self.settings.expect_status = Some(statuses.into_iter().collect());
        self
    }

    /// The statuses that end the probe at once (default 401, 403, 404; none with an empty
    /// list); an accepted status is never fatal.
    pub fn fatal_status(mut self, statuses: impl IntoIterator<Item = u16>) -> Self {
        self.settings.fatal_status = Some(statuses.into_iter().collect());
        self
    }

    /// Adds a body assertion; all must hold for an attempt to pass.
    pub fn assertion(mut self, assertion: Assertion) -> Self {
        self.assertions.push(assertion);
        self
    }

    /// An attempt slower than this does not pass, even if every other check holds.
    pub fn latency_budget(mut self, budget: Duration) -> Self {
        self.settings.latency_budget = Some(budget);
        self
    }

    /// Follows up to this many redirects per attempt (default 0: a redirect is an unexpected
    /// status). Headers set on the spec are dropped as soon as a redirect leaves the origin.
    pub fn max_redirects(mut self, max_redirects: u32) -> Self {
        self.settings.max_redirects = Some(max_redirects);
        self
    }

    /// Check the settings and make the spec.
    ///
    /// # Errors
    ///
    /// - [`Error::InvalidUrl`] unless the URL is `http` or `https` with a host;
    /// - [`Error::InvalidHeader`] for a header name or value that cannot be sent in HTTP/1.1;
    /// - [`Error::InvalidSetting`], naming the setting, for a zero interval, confirm interval,
    ///   attempt timeout, latency budget or success threshold, a duration longer than
    ///   [`LONGEST`], a deadline not longer than the initial delay, a switch-over not shorter
    ///   than the deadline, a jitter or confirm interval longer than the interval, a status
    ///   outside 100..=599, no accepted status, or body assertions with `HEAD`.
    pub fn build(self) -> Result<ProbeSpec, Error> {
        let url = self.url;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(Error::InvalidUrl {
                url: url.to_string(),
                reason: "the scheme must be http or https".into(),
            });
        }
        if url.host_str().is_none_or(str::is_empty) {
            return Err(Error::InvalidUrl {
                url: url.to_string(),
                reason: "the url has no host".into(),
            });
        }
        let mut headers = HeaderMap::new();
        for (name, value) in &self.headers {
            let header_name =
                HeaderName::from_bytes(name.as_bytes()).map_err(|_| Error::InvalidHeader {
                    name: name.clone(),
                    reason: "not a valid header name".into(),
                })?;
            let mut header_value =
                HeaderValue::from_str(value).map_err(|_| Error::InvalidHeader {
                    name: name.clone(),
                    reason: "the value has characters a header cannot carry (control characters or non-ASCII)"
                        .into(),
                })?;
            header_value.set_sensitive(true);
            headers.append(header_name, header_value);
        }
        let spec = ProbeSpec {
            url,
            settings: self.settings,
            headers,
            assertions: self.assertions,
        };
        spec.check()?;
        Ok(spec)
    }
}

impl ProbeSpec {
    /// The checks of every setting, against the values the spec takes from them.
    fn check(&self) -> Result<(), Error> {
        let settings = &self.settings;
        for (key, duration) in [
            ("initial_delay", settings.initial_delay),
            ("interval", settings.interval),
            ("jitter", settings.jitter),
            ("confirm_interval", settings.confirm_interval),
            ("attempt_timeout", settings.attempt_timeout),
            ("deadline", settings.deadline),
            ("switch_over", settings.switch_over),
            ("latency_budget", settings.latency_budget),
        ] {
            if let Some(duration) = duration
                && duration > LONGEST
            {
                return Err(Error::InvalidSetting {
                    key,
                    value: quoted(duration),
                    reason: "a probe waits at most a day: use at most \"24h\"".into(),
                });
            }
        }
        for (key, duration) in [
            ("interval", settings.interval),
            ("confirm_interval", settings.confirm_interval),
            ("attempt_timeout", settings.attempt_timeout),
            ("latency_budget", settings.latency_budget),
        ] {
            if let Some(duration) = duration {
                positive(key, duration)?;
            }
        }
        for (key, duration) in [
            ("jitter", settings.jitter),
            ("confirm_interval", settings.confirm_interval),
        ] {
            if let Some(duration) = duration
                && duration > self.interval()
            {
                return Err(Error::InvalidSetting {
                    key,
                    value: quoted(duration),
                    reason: format!(
                        "it must not exceed the interval ({})",
                        quoted(self.interval())
                    ),
                });
            }
        }
        if self.deadline() <= self.initial_delay() {
            return Err(Error::InvalidSetting {
                key: "deadline",
                value: quoted(self.deadline()),
                reason: format!(
                    "it must be longer than the initial delay ({})",
                    quoted(self.initial_delay())
                ),
            });
        }
        if let Some(switch_over) = settings.switch_over
            && switch_over >= self.deadline()
        {
            return Err(Error::InvalidSetting {
                key: "switch_over",
                value: quoted(switch_over),
                reason: format!(
                    "it must be shorter than the deadline ({}), or failures could never count",
                    quoted(self.deadline())
                ),
            });
        }
        if settings.success_threshold == Some(0) {
            return Err(Error::InvalidSetting {
                key: "success_threshold",
                value: "0".into(),
                reason: "at least one pass is needed: use 1 or more".into(),
            });
        }
        if let Some(statuses) = &settings.expect_status {
            if statuses.is_empty() {
                return Err(Error::InvalidSetting {
                    key: "expect_status",
                    value: "[]".into(),
                    reason: "no answer could ever pass: list at least one status, e.g. [200]"
                        .into(),
                });
            }
            valid_statuses("expect_status", statuses)?;
        }
        if let Some(statuses) = &settings.fatal_status {
            valid_statuses("fatal_status", statuses)?;
        }
        if self.method() == Method::Head && !self.assertions.is_empty() {
            return Err(Error::InvalidSetting {
                key: "method",
                value: "\"HEAD\"".into(),
                reason: "a HEAD answer has no body to assert on: use GET".into(),
            });
        }
        Ok(())
    }

    /// The probed URL.
    pub fn url(&self) -> &Url {
        &self.url
    }

    /// The HTTP method.
    pub fn method(&self) -> Method {
        self.settings.method.unwrap_or_default()
    }

    /// The headers (values are marked sensitive).
    pub(crate) fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// The names of the headers set on the spec.
    pub fn header_names(&self) -> impl Iterator<Item = &str> {
        self.headers.keys().map(HeaderName::as_str)
    }

    /// The wait before the first attempt.
    pub fn initial_delay(&self) -> Duration {
        self.settings.initial_delay.unwrap_or(Duration::ZERO)
    }

    /// The time between the starts of two attempts.
    pub fn interval(&self) -> Duration {
        self.settings.interval.unwrap_or(DEFAULT_INTERVAL)
    }

    /// The time from a passing attempt to the next while confirming.
    pub fn confirm_interval(&self) -> Duration {
        let interval = self.interval();
        self.settings
            .confirm_interval
            .unwrap_or(interval)
            .min(interval)
    }

    /// The largest random shortening of a wait.
    pub fn jitter(&self) -> Duration {
        let interval = self.interval();
        self.settings.jitter.unwrap_or(interval / 10).min(interval)
    }

    /// The time one attempt may take.
    pub fn attempt_timeout(&self) -> Duration {
        self.settings
            .attempt_timeout
            .unwrap_or(DEFAULT_ATTEMPT_TIMEOUT)
    }

    /// The time the whole probe may take.
    pub fn deadline(&self) -> Duration {
        self.settings.deadline.unwrap_or(DEFAULT_DEADLINE)
    }

    /// Consecutive passes needed.
    pub fn success_threshold(&self) -> u32 {
        self.settings
            .success_threshold
            .unwrap_or(DEFAULT_SUCCESS_THRESHOLD)
            .max(1)
    }

    /// Consecutive failures that end the probe (0: none).
    pub fn failure_threshold(&self) -> u32 {
        self.settings.failure_threshold.unwrap_or(0)
    }

    /// The switch-over window, counted from the start of the probe.
    pub fn switch_over(&self) -> Duration {
        self.settings.switch_over.unwrap_or(Duration::ZERO)
    }

    /// Accepted statuses.
    pub fn expect_status(&self) -> &[u16] {
        self.settings
            .expect_status
            .as_deref()
            .unwrap_or(&DEFAULT_EXPECT_STATUS)
    }

    /// Whether `status` ends the probe at once.
    pub fn is_fatal(&self, status: u16) -> bool {
        self.fatal_status().contains(&status) && !self.expect_status().contains(&status)
    }

    /// Fatal statuses.
    pub fn fatal_status(&self) -> &[u16] {
        self.settings
            .fatal_status
            .as_deref()
            .unwrap_or(&DEFAULT_FATAL_STATUS)
    }

    /// Body assertions.
    pub fn assertions(&self) -> &[Assertion] {
        &self.assertions
    }

    /// The latency budget, if any.
    pub fn latency_budget(&self) -> Option<Duration> {
        self.settings.latency_budget
    }

    /// The number of redirects followed per attempt.
    pub fn max_redirects(&self) -> u32 {
        self.settings.max_redirects.unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(text: &str) -> Url {
        Url::parse(text).unwrap()
    }

    #[test]
    fn defaults_follow_the_contract() {
        let spec = ProbeSpec::new(url("https://example.com/healthz")).unwrap();
        assert_eq!(spec.interval(), Duration::from_secs(2));
        assert_eq!(spec.jitter(), Duration::from_millis(200));
        assert_eq!(spec.attempt_timeout(), Duration::from_secs(5));
        assert_eq!(spec.deadline(), Duration::from_secs(300));
        assert_eq!(spec.success_threshold(), 2);
        assert_eq!(spec.expect_status(), [200]);
        assert!(spec.is_fatal(404));
        assert_eq!(spec.max_redirects(), 0);
    }

    #[test]
    fn accepted_statuses_are_never_fatal() {
        let spec = ProbeSpec::builder(url("http://127.0.0.1/"))
            .expect_status([200, 404])
            .build()
            .unwrap();
        assert!(!spec.is_fatal(404));
        assert!(spec.is_fatal(403));
    }

    #[test]
    fn refuses_other_schemes() {
        let error = ProbeSpec::new(url("ftp://example.com/")).unwrap_err();
        assert!(error.to_string().contains("http or https"), "{error}");
    }

    #[test]
    fn header_values_stay_out_of_debug() {
        let builder = ProbeSpec::builder(url("http://127.0.0.1/"))
            .header("Authorization", "Bearer s3cr3t-value");
        let builder_debug = format!("{builder:?}");
        assert!(!builder_debug.contains("s3cr3t-value"), "{builder_debug}");
        let spec = builder.build().unwrap();
        let debug = format!("{spec:?}");
        assert!(!debug.contains("s3cr3t-value"), "{debug}");
        assert_eq!(spec.header_names().collect::<Vec<_>>(), ["authorization"]);
    }

    #[test]
    fn refuses_unsendable_headers_without_echoing_the_value() {
        let error = ProbeSpec::builder(url("http://127.0.0.1/"))
            .header("X-Token", "line\nbreak-secret")
            .build()
            .unwrap_err();
        assert!(!error.to_string().contains("break-secret"));
        assert!(matches!(error, Error::InvalidHeader { .. }));
    }

    #[test]
    fn method_parses_case_insensitively_and_displays_uppercase() {
        assert_eq!("head".parse::<Method>().unwrap(), Method::Head);
        assert_eq!(Method::Post.to_string(), "POST");
        assert!("PUT".parse::<Method>().is_err());
    }

    mod builder_and_config_agree {
        use proptest::prelude::*;

        use super::*;
        use crate::Variables;

        /// A duration from zero to past [`LONGEST`], weighted toward the edges.
        fn duration() -> impl Strategy<Value = Duration> {
            prop_oneof![
                Just(Duration::ZERO),
                (1u64..5_000).prop_map(Duration::from_millis),
                (1u64..600).prop_map(Duration::from_secs),
                Just(LONGEST),
                (LONGEST.as_secs() + 1..u64::MAX / 2).prop_map(Duration::from_secs),
            ]
        }

        fn statuses() -> impl Strategy<Value = Vec<u16>> {
            prop::collection::vec(prop_oneof![Just(200u16), 0u16..1000], 0..4)
        }

        /// Every scalar setting, each unset or set to anything.
        fn settings() -> impl Strategy<Value = ProbeConfig> {
            let durations = (
                prop::option::of(duration()),
                prop::option::of(duration()),
                prop::option::of(duration()),
                prop::option::of(duration()),
                prop::option::of(duration()),
                prop::option::of(duration()),
                prop::option::of(duration()),
                prop::option::of(duration()),
            );
            let others = (
                prop::option::of(prop_oneof![Just(Method::Get), Just(Method::Head)]),
                prop::option::of(0u32..5),
                prop::option::of(any::<u32>()),
                prop::option::of(statuses()),
                prop::option::of(statuses()),
                prop::option::of(any::<u32>()),
            );
            (durations, others).prop_map(|(durations, others)| {
                let mut config = ProbeConfig::default();
                (
                    config.initial_delay,
                    config.interval,
                    config.jitter,
                    config.confirm_interval,
                    config.attempt_timeout,
                    config.deadline,
                    config.switch_over,
                    config.latency_budget,
                ) = durations;
                (
                    config.method,
                    config.success_threshold,
                    config.failure_threshold,
                    config.expect_status,
                    config.fatal_status,
                    config.max_redirects,
                ) = others;
                config
            })
        }

        /// The builder with every setting of `config` that is set.
        fn built(config: &ProbeConfig, with_assertion: bool) -> Result<ProbeSpec, Error> {
            let mut builder = ProbeSpec::builder(url("https://example.com/healthz"));
            macro_rules! set {
                ($($setting:ident),*) => {$(
                    if let Some(value) = config.$setting.clone() {
                        builder = builder.$setting(value);
                    }
                )*};
            }
            set!(
                method,
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
                latency_budget,
                max_redirects
            );
            if with_assertion {
                builder = builder.assertion(Assertion::body_contains("ok"));
            }
            builder.build()
        }

        proptest! {
            /// No builder input yields a spec that `ProbeConfig::to_spec` would refuse, and
            /// both refuse the same inputs with the same error.
            #[test]
            fn no_builder_input_yields_a_spec_the_config_path_refuses(
                config in settings(),
                with_assertion in any::<bool>(),
            ) {
                let mut table = config.clone();
                if with_assertion {
                    table.expect_body_contains = Some("ok".to_owned());
                }
                let from_builder = built(&config, with_assertion);
                let from_config = table.to_spec(url("https://example.com/healthz"), &Variables::new());
                prop_assert_eq!(&from_builder, &from_config);
                if let Ok(spec) = from_builder {
                    // What the probe loop relies on.
                    prop_assert!(!spec.interval().is_zero());
                    prop_assert!(!spec.confirm_interval().is_zero());
                    prop_assert!(!spec.attempt_timeout().is_zero());
                    prop_assert!(!spec.expect_status().is_empty());
                    prop_assert!(spec.success_threshold() >= 1);
                    prop_assert!(spec.jitter() <= spec.interval());
                    prop_assert!(spec.deadline() > spec.initial_delay());
                    prop_assert!(spec.deadline() <= LONGEST);
                    prop_assert!(spec.switch_over() < spec.deadline());
                }
            }
        }

        #[test]
        fn the_cases_of_the_issue_are_refused_by_the_builder() {
            let builder = || ProbeSpec::builder(url("http://127.0.0.1:9/healthz"));
            for (spec, key) in [
                (builder().interval(Duration::ZERO).build(), "interval"),
                (builder().expect_status([]).build(), "expect_status"),
                (builder().success_threshold(0).build(), "success_threshold"),
            ] {
                assert!(
                    matches!(&spec, Err(Error::InvalidSetting { key: found, .. }) if *found == key),
                    "{key}: {spec:?}"
                );
            }
        }
    }
}
