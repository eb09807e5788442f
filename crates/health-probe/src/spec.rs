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

/// One target to probe and the rules that judge it.
///
/// Built from a URL with the defaults below, then adjusted with the `with_*` methods, or
/// produced from configuration by [`ProbeConfig::to_spec`](crate::ProbeConfig::to_spec).
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
/// The settings are one [`ProbeConfig`](crate::ProbeConfig), the type `deploy.toml`'s `[probe]`
/// table deserializes into: a setting is added to that struct once, and the spec reads it with
/// its default here. Only what needs parsing lives beside it: the headers, ready to send, and
/// the assertions, with placeholders expanded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProbeSpec {
    url: Url,
    /// Every scalar setting; its `headers` and assertion tables are always `None` (they live in
    /// `headers` and `assertions`).
    settings: ProbeConfig,
    headers: HeaderMap,
    assertions: Vec<Assertion>,
}

impl ProbeSpec {
    /// A probe of `url` with the default settings.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidUrl`] unless the URL is `http` or `https` with a host.
    pub fn new(url: Url) -> Result<Self, Error> {
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
        Ok(Self {
            url,
            settings: ProbeConfig::default(),
            headers: HeaderMap::new(),
            assertions: Vec::new(),
        })
    }

    /// This spec with the scalar settings of `settings` (its headers and assertion tables are
    /// dropped: [`ProbeConfig::to_spec`](crate::ProbeConfig::to_spec) parses those).
    pub(crate) fn with_settings(mut self, mut settings: ProbeConfig) -> Self {
        settings.headers = None;
        settings.expect_json = None;
        settings.expect_json_matches = None;
        settings.expect_body_contains = None;
        self.settings = settings;
        self
    }

    /// Sets the HTTP method.
    #[must_use]
    pub fn with_method(mut self, method: Method) -> Self {
        self.settings.method = Some(method);
        self
    }

    /// Adds a request header (for example `Authorization` or `Host`), sent to the probed
    /// origin only: a redirect to another origin drops every header set here.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidHeader`] if the name or the value cannot be sent in HTTP/1.1.
    pub fn with_header(mut self, name: &str, value: &str) -> Result<Self, Error> {
        let header_name =
            HeaderName::from_bytes(name.as_bytes()).map_err(|_| Error::InvalidHeader {
                name: name.to_owned(),
                reason: "not a valid header name".into(),
            })?;
        let mut header_value = HeaderValue::from_str(value).map_err(|_| Error::InvalidHeader {
            name: name.to_owned(),
            reason:
                "the value has characters a header cannot carry (control characters or non-ASCII)"
                    .into(),
        })?;
        header_value.set_sensitive(true);
        self.headers.append(header_name, header_value);
        Ok(self)
    }

    /// Waits this long before the first attempt (a container's start period).
    #[must_use]
    pub fn with_initial_delay(mut self, initial_delay: Duration) -> Self {
        self.settings.initial_delay = Some(initial_delay);
        self
    }

    /// Sets the time between the starts of two attempts.
    #[must_use]
    pub fn with_interval(mut self, interval: Duration) -> Self {
        self.settings.interval = Some(interval);
        self
    }

    /// Sets the jitter: each wait is shortened by a random part of it (never lengthened, so
    /// detection is never later than one interval). Capped at the interval; default a tenth
    /// of the interval.
    #[must_use]
    pub fn with_jitter(mut self, jitter: Duration) -> Self {
        self.settings.jitter = Some(jitter);
        self
    }

    /// Sets the time from a passing attempt to the next one while the success threshold is
    /// not yet reached (default: the interval, as Kubernetes probes do).
    ///
    /// A short confirm interval proves a new version quickly once it first answers, without
    /// polling a still-old endpoint more often. Capped at the interval; no jitter applies.
    #[must_use]
    pub fn with_confirm_interval(mut self, confirm_interval: Duration) -> Self {
        self.settings.confirm_interval = Some(confirm_interval);
        self
    }

    /// Sets how long one attempt may take, from connecting to the end of the body.
    #[must_use]
    pub fn with_attempt_timeout(mut self, attempt_timeout: Duration) -> Self {
        self.settings.attempt_timeout = Some(attempt_timeout);
        self
    }

    /// Sets how long the whole probe may take; the deadline also cuts the attempt in flight.
    #[must_use]
    pub fn with_deadline(mut self, deadline: Duration) -> Self {
        self.settings.deadline = Some(deadline);
        self
    }

    /// Sets how many consecutive passes make the target healthy (0 is read as 1).
    #[must_use]
    pub fn with_success_threshold(mut self, success_threshold: u32) -> Self {
        self.settings.success_threshold = Some(success_threshold.max(1));
        self
    }

    /// Sets how many consecutive failures end the probe early; 0 waits until the deadline.
    /// Only attempts started after the [switch-over](ProbeSpec::with_switch_over) count, and
    /// never an answer from another version: such an answer neither adds to nor resets the
    /// count (a pass resets it).
    #[must_use]
    pub fn with_failure_threshold(mut self, failure_threshold: u32) -> Self {
        self.settings.failure_threshold = Some(failure_threshold);
        self
    }

    /// Sets the switch-over window: failures of attempts that start within this time of the
    /// start of the probe do not count toward the failure threshold (a proxy or the previous
    /// container may answer while the new one takes over). Default 0.
    #[must_use]
    pub fn with_switch_over(mut self, switch_over: Duration) -> Self {
        self.settings.switch_over = Some(switch_over);
        self
    }

    /// Sets the statuses that count as an answer (default `[200]`).
    #[must_use]
    pub fn with_expect_status(mut self, statuses: impl IntoIterator<Item = u16>) -> Self {
        self.settings.expect_status = Some(statuses.into_iter().collect());
        self
    }

    /// Sets the statuses that end the probe at once (default 401, 403, 404); an accepted
    /// status is never fatal.
    #[must_use]
    pub fn with_fatal_status(mut self, statuses: impl IntoIterator<Item = u16>) -> Self {
        self.settings.fatal_status = Some(statuses.into_iter().collect());
        self
    }

    /// Adds a body assertion; all must hold for an attempt to pass.
    #[must_use]
    pub fn with_assertion(mut self, assertion: Assertion) -> Self {
        self.assertions.push(assertion);
        self
    }

    /// An attempt slower than this does not pass, even if every other check holds.
    #[must_use]
    pub fn with_latency_budget(mut self, budget: Duration) -> Self {
        self.settings.latency_budget = Some(budget);
        self
    }

    /// Follows up to this many redirects per attempt (default 0: a redirect is an unexpected
    /// status). Headers set on the spec are dropped as soon as a redirect leaves the origin.
    #[must_use]
    pub fn with_max_redirects(mut self, max_redirects: u32) -> Self {
        self.settings.max_redirects = Some(max_redirects);
        self
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
        let spec = ProbeSpec::new(url("http://127.0.0.1/"))
            .unwrap()
            .with_expect_status([200, 404]);
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
        let spec = ProbeSpec::new(url("http://127.0.0.1/"))
            .unwrap()
            .with_header("Authorization", "Bearer s3cr3t-value")
            .unwrap();
        let debug = format!("{spec:?}");
        assert!(!debug.contains("s3cr3t-value"), "{debug}");
        assert_eq!(spec.header_names().collect::<Vec<_>>(), ["authorization"]);
    }

    #[test]
    fn refuses_unsendable_headers_without_echoing_the_value() {
        let error = ProbeSpec::new(url("http://127.0.0.1/"))
            .unwrap()
            .with_header("X-Token", "line\nbreak-secret")
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
}
