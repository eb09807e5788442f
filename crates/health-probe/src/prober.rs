//! The probe loop and the [`Prober`] that runs it over HTTP, alone or over a fleet.

use std::{
    collections::VecDeque,
    future::Future,
    hash::{BuildHasher, RandomState},
    sync::Arc,
    time::Duration,
};

use serde_json::Value;
use tokio::{
    sync::Semaphore,
    task::JoinSet,
    time::{Instant, sleep_until, timeout_at},
};
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use crate::{
    Attempt, Error, Failure, Outcome, ProbeSpec, ProgressEvent, Stop, Verdict, WaitCause,
    http::{self, Answer},
    threshold::{Check, Decision, Thresholds},
};

/// The most of a body kept as evidence in each attempt.
pub const BODY_EXCERPT_BYTES: usize = 1024;

/// The most attempts kept as evidence; older ones are dropped and counted.
pub const MAX_ATTEMPTS_KEPT: usize = 512;

/// Runs probes over HTTP with one shared client and connection pool.
///
/// Cheap to clone (clones share the pool). TLS is verified against the platform's roots;
/// redirects are followed only as a [`ProbeSpec`] allows, by the prober itself, so that
/// headers never reach another origin.
#[derive(Debug, Clone)]
pub struct Prober {
    client: reqwest::Client,
}

/// Configures a [`Prober`]; see [`Prober::builder`].
#[derive(Debug, Clone)]
pub struct ProberBuilder {
    user_agent: String,
    connect_timeout: Duration,
    client: Option<reqwest::Client>,
}

impl ProberBuilder {
    /// The `User-Agent` header (default `health-probe/<version>`); not applied to a client
    /// given with [`ProberBuilder::client`].
    #[must_use]
    pub fn user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.user_agent = user_agent.into();
        self
    }

    /// Time allowed to open a connection (default 10 s); not applied to a client given with
    /// [`ProberBuilder::client`].
    #[must_use]
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Probe with this `reqwest` client instead of one built here: to add private CA roots,
    /// go through a proxy, or share a connection pool. Build it with
    /// `redirect(reqwest::redirect::Policy::none())`: the prober follows redirects itself, as
    /// each [`ProbeSpec`] allows, so that headers never reach another origin.
    ///
    /// With the default `rustls` feature, a client built with [`reqwest::Client::builder`]
    /// works as it is: reqwest uses rustls with its aws-lc-rs provider, or the process-wide
    /// default provider if the program installed one, and nothing needs installing first.
    /// Without the feature this crate enables no TLS in reqwest: enable a TLS feature of
    /// `reqwest` in your own manifest (`rustls` or `native-tls`), or an https target fails
    /// each attempt with [`Failure::Connection`].
    ///
    /// ```
    /// # #[cfg(feature = "rustls")]
    /// # fn run(ca_pem: &[u8]) -> Result<(), Box<dyn std::error::Error>> {
    /// use health_probe::{Prober, reqwest};
    ///
    /// // The platform's roots and a private CA.
    /// let client = reqwest::Client::builder()
    ///     .redirect(reqwest::redirect::Policy::none())
    ///     .tls_certs_merge([reqwest::Certificate::from_pem(ca_pem)?])
    ///     .build()?;
    /// let prober = Prober::builder().client(client).build()?;
    /// # drop(prober);
    /// # Ok(())
    /// # }
    /// ```
    #[must_use]
    pub fn client(mut self, client: reqwest::Client) -> Self {
        self.client = Some(client);
        self
    }

    /// Build the prober.
    ///
    /// Unless [`ProberBuilder::client`] gave one, TLS (the default `rustls` feature) is
    /// verified against the platform's roots with rustls on reqwest's default provider
    /// (aws-lc-rs), chosen for this client only: the process-wide default provider is never
    /// installed.
    ///
    /// # Errors
    ///
    /// [`Error::Client`] if the HTTP client cannot be built, for example when the platform's
    /// TLS roots cannot be loaded.
    pub fn build(self) -> Result<Prober, Error> {
        if let Some(client) = self.client {
            return Ok(Prober { client });
        }
        let builder = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(self.connect_timeout)
            .pool_idle_timeout(Duration::from_secs(90))
            .tcp_nodelay(true)
            .user_agent(self.user_agent);
        #[cfg(feature = "rustls")]
        let builder = builder.tls_backend_rustls();
        let client = builder.build().map_err(|error| Error::Client {
            reason: error.to_string(),
        })?;
        Ok(Prober { client })
    }
}

impl Prober {
    /// A prober with its own connection pool and the defaults of [`Prober::builder`].
    ///
    /// # Errors
    ///
    /// As [`ProberBuilder::build`].
    pub fn new() -> Result<Self, Error> {
        Self::builder().build()
    }

    /// Start configuring a prober: user agent, connect timeout, or the caller's own client.
    #[must_use]
    pub fn builder() -> ProberBuilder {
        ProberBuilder {
            user_agent: concat!("health-probe/", env!("CARGO_PKG_VERSION")).to_owned(),
            connect_timeout: Duration::from_secs(10),
            client: None,
        }
    }

    /// Probes until healthy, unhealthy or the deadline; cancelled only by dropping the future.
    pub async fn probe(&self, spec: &ProbeSpec) -> Outcome {
        self.probe_with(spec, &CancellationToken::new(), |_| {})
            .await
    }

    /// Probes until healthy, unhealthy, the deadline or `cancel`, reporting each step to
    /// `progress` as it happens.
    ///
    /// To receive events on a channel instead, pass a closure that sends them.
    pub async fn probe_with(
        &self,
        spec: &ProbeSpec,
        cancel: &CancellationToken,
        progress: impl FnMut(&ProgressEvent),
    ) -> Outcome {
        let span = tracing::info_span!("probe", url = %spec.url());
        run(spec, cancel, progress, || {
            http::exchange(&self.client, spec)
        })
        .instrument(span)
        .await
    }

    /// One attempt, judged like an attempt of a probe (for a one-shot status check); it is cut
    /// at the spec's attempt timeout.
    pub async fn check(&self, spec: &ProbeSpec) -> Attempt {
        let started = Instant::now();
        let answer = timeout_at(
            started + spec.attempt_timeout(),
            http::exchange(&self.client, spec),
        )
        .await;
        judge(spec, 1, Duration::ZERO, started, answer).attempt
    }

    /// Probes every spec with at most `concurrency` probes at a time (0 is read as 1), sharing
    /// this prober's connection pool. Returns one outcome per spec, in the order given.
    ///
    /// Each probe's deadline counts from when it starts, not from when it was queued.
    /// `progress` receives the index of the spec with each event; `cancel` cancels every probe,
    /// running or queued.
    pub async fn probe_many<F>(
        &self,
        specs: Vec<ProbeSpec>,
        concurrency: usize,
        cancel: &CancellationToken,
        progress: F,
    ) -> Vec<Outcome>
    where
        F: Fn(usize, &ProgressEvent) + Send + Sync + 'static,
    {
        let semaphore = Arc::new(Semaphore::new(concurrency.max(1)));
        let progress = Arc::new(progress);
        let mut outcomes: Vec<Option<Outcome>> = vec![None; specs.len()];
        let mut tasks = JoinSet::new();
        for (index, spec) in specs.into_iter().enumerate() {
            let prober = self.clone();
            let semaphore = Arc::clone(&semaphore);
            let progress = Arc::clone(&progress);
            let cancel = cancel.child_token();
            tasks.spawn(async move {
                let permit = cancel.run_until_cancelled(semaphore.acquire_owned()).await;
                let outcome = match permit {
                    Some(Ok(_permit)) => {
                        prober
                            .probe_with(&spec, &cancel, |event| progress(index, event))
                            .await
                    }
                    _ => cancelled_before_start(&spec),
                };
                (index, outcome)
            });
        }
        while let Some(joined) = tasks.join_next().await {
            match joined {
                Ok((index, outcome)) => outcomes[index] = Some(outcome),
                // Only a panicking progress callback gets here: pass its panic on.
                Err(error) if error.is_panic() => std::panic::resume_unwind(error.into_panic()),
                Err(_) => {}
            }
        }
        outcomes.into_iter().flatten().collect()
    }
}

fn cancelled_before_start(spec: &ProbeSpec) -> Outcome {
    Outcome {
        url: spec.url().clone(),
        verdict: Verdict::Cancelled,
        elapsed: Duration::ZERO,
        attempts: Vec::new(),
        attempts_dropped: 0,
    }
}

/// The judgement of one exchange.
struct Judged {
    attempt: Attempt,
    retry_after: Option<Duration>,
    fatal: bool,
    /// A version identity assertion failed with another value: another version answered.
    another_version: bool,
}

fn judge(
    spec: &ProbeSpec,
    number: u32,
    offset: Duration,
    started: Instant,
    answer: Result<Result<Answer, Failure>, tokio::time::error::Elapsed>,
) -> Judged {
    let latency = started.elapsed();
    let mut attempt = Attempt {
        number,
        offset,
        latency,
        status: None,
        failure: None,
        body_excerpt: None,
        body_truncated: false,
    };
    let answer = match answer {
        Err(_elapsed) => {
            attempt.failure = Some(Failure::Timeout { after: latency });
            return Judged {
                attempt,
                retry_after: None,
                fatal: false,
                another_version: false,
            };
        }
        Ok(Err(failure)) => {
            attempt.failure = Some(failure);
            return Judged {
                attempt,
                retry_after: None,
                fatal: false,
                another_version: false,
            };
        }
        Ok(Ok(answer)) => answer,
    };
    attempt.status = Some(answer.status);
    let body = String::from_utf8_lossy(&answer.body);
    if !answer.body.is_empty() {
        // Redacted before the cut: a header value the server echoed across the cut would
        // leave a prefix that no later scrub could recognise.
        let redacted = redact_header_values(spec, &body);
        attempt.body_excerpt = Some(excerpt(&redacted));
        attempt.body_truncated = answer.body_cut || redacted.len() > BODY_EXCERPT_BYTES;
    }
    let fatal = spec.is_fatal(answer.status);
    let mut another_version = false;
    attempt.failure = if spec.expect_status().contains(&answer.status) {
        check_body(spec, &body, answer.body_cut)
            .map_err(|(failure, other)| {
                another_version = other;
                failure
            })
            .err()
            .or_else(|| {
                spec.latency_budget()
                    .filter(|budget| latency > *budget)
                    .map(|budget| Failure::TooSlow { latency, budget })
            })
    } else {
        Some(Failure::Status {
            status: answer.status,
        })
    };
    let retry_after = attempt.failure.as_ref().and(answer.retry_after);
    Judged {
        attempt,
        retry_after,
        fatal,
        another_version,
    }
}

/// Checks the body: the version identity assertions first, so that an answer from another
/// version is told as such (the `bool`) whatever else it fails.
fn check_body(spec: &ProbeSpec, body: &str, body_cut: bool) -> Result<(), (Failure, bool)> {
    let json = if spec
        .assertions()
        .iter()
        .any(|assertion| assertion.needs_json())
    {
        if body_cut {
            Err(format!(
                "the body is larger than {} bytes",
                http::MAX_BODY_BYTES
            ))
        } else {
            serde_json::from_str::<Value>(body).map_err(|error| error.to_string())
        }
    } else {
        Ok(Value::Null)
    };
    let (identity, others): (Vec<_>, Vec<_>) = spec
        .assertions()
        .iter()
        .partition(|assertion| assertion.identifies_version());
    identity
        .into_iter()
        .chain(others)
        .try_for_each(|assertion| {
            assertion.check(body, &json).map_err(|failure| {
                let another = assertion.names_another_version(&failure);
                (failure, another)
            })
        })
}

/// `body` with every header value of the spec replaced by `[redacted]`, as sent and as a JSON
/// string would write it: every header value may be a credential, and a server may echo the
/// request's headers in its answer.
fn redact_header_values(spec: &ProbeSpec, body: &str) -> String {
    let mut values: Vec<String> = Vec::new();
    for value in spec.headers().values() {
        let value = String::from_utf8_lossy(value.as_bytes());
        // A server may echo the value without the whitespace around it.
        let value = value.trim();
        if value.is_empty() {
            continue;
        }
        let json = serde_json::to_string(value)
            .ok()
            .and_then(|quoted| Some(quoted.get(1..quoted.len().checked_sub(1)?)?.to_owned()));
        for form in std::iter::once(value.to_owned()).chain(json) {
            if !values.contains(&form) {
                values.push(form);
            }
        }
    }
    // Longest first, so that a value containing another is replaced whole.
    values.sort_by_key(|value| std::cmp::Reverse(value.len()));
    let mut body = body.to_owned();
    for value in &values {
        if body.contains(value.as_str()) {
            body = body.replace(value.as_str(), REDACTED);
        }
    }
    body
}

/// What replaces a header value in a body excerpt.
const REDACTED: &str = "[redacted]";

/// The start of `body`, at most [`BODY_EXCERPT_BYTES`], cut on a character boundary. The body
/// given must already have the spec's header values redacted
/// ([`redact_header_values`]): a value straddling the cut would leave a prefix behind.
fn excerpt(body: &str) -> String {
    if body.len() <= BODY_EXCERPT_BYTES {
        return body.to_owned();
    }
    let mut end = BODY_EXCERPT_BYTES;
    while !body.is_char_boundary(end) {
        end -= 1;
    }
    body[..end].to_owned()
}

/// A wait of `interval` shortened by a random part of `jitter`.
fn jittered(interval: Duration, jitter: Duration) -> Duration {
    if jitter.is_zero() {
        return interval;
    }
    let random = RandomState::new().hash_one(Instant::now());
    // The top 53 bits give a uniform fraction in [0, 1).
    let fraction = (random >> 11) as f64 / (1u64 << 53) as f64;
    interval.saturating_sub(jitter.mul_f64(fraction))
}

/// The evidence gathered so far.
struct Evidence {
    start: Instant,
    attempts: VecDeque<Attempt>,
    attempts_dropped: u32,
    last_failure: Option<Failure>,
}

impl Evidence {
    fn record(&mut self, attempt: Attempt) {
        if let Some(failure) = &attempt.failure {
            self.last_failure = Some(failure.clone());
        }
        self.attempts.push_back(attempt);
        if self.attempts.len() > MAX_ATTEMPTS_KEPT {
            self.attempts.pop_front();
            self.attempts_dropped = self.attempts_dropped.saturating_add(1);
        }
    }

    fn finish(
        self,
        spec: &ProbeSpec,
        verdict: Verdict,
        progress: &mut impl FnMut(&ProgressEvent),
    ) -> Outcome {
        let elapsed = self.start.elapsed();
        tracing::info!(
            %verdict,
            attempts = self.attempts.len(),
            elapsed_ms = u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX),
            "probe finished"
        );
        progress(&ProgressEvent::Finished {
            verdict: verdict.clone(),
            elapsed,
        });
        Outcome {
            url: spec.url().clone(),
            verdict,
            elapsed,
            attempts: self.attempts.into(),
            attempts_dropped: self.attempts_dropped,
        }
    }
}

/// The probe loop, independent of how one exchange is made.
///
/// Attempts start `interval` (less jitter) apart, start to start; a `Retry-After` on a failed
/// attempt pushes the next start later. When the next start would fall at or past the deadline,
/// the probe ends at once: no attempt could change the verdict.
///
/// A failed attempt counts toward the failure threshold only if it started after the
/// switch-over window and was not an answer from another version.
pub(crate) async fn run<E, Fut>(
    spec: &ProbeSpec,
    cancel: &CancellationToken,
    mut progress: impl FnMut(&ProgressEvent),
    mut exchange: E,
) -> Outcome
where
    E: FnMut() -> Fut,
    Fut: Future<Output = Result<Answer, Failure>>,
{
    let start = Instant::now();
    let deadline = start + spec.deadline();
    let mut evidence = Evidence {
        start,
        attempts: VecDeque::new(),
        attempts_dropped: 0,
        last_failure: None,
    };
    let mut thresholds = Thresholds::new(spec.success_threshold(), spec.failure_threshold());
    progress(&ProgressEvent::Started {
        url: spec.url().clone(),
        deadline: spec.deadline(),
    });

    let mut next_start = start + spec.initial_delay();
    let mut cause = WaitCause::InitialDelay;
    let mut number = 0u32;
    loop {
        let now = Instant::now();
        if next_start > now {
            progress(&ProgressEvent::Waiting {
                offset: now - start,
                wait: next_start - now,
                cause,
            });
            if cancel
                .run_until_cancelled(sleep_until(next_start))
                .await
                .is_none()
            {
                return evidence.finish(spec, Verdict::Cancelled, &mut progress);
            }
        }
        number = number.saturating_add(1);
        let started = Instant::now();
        let offset = started - start;
        progress(&ProgressEvent::AttemptStarted { number, offset });
        let attempt_deadline = (started + spec.attempt_timeout()).min(deadline);
        let Some(answer) = cancel
            .run_until_cancelled(timeout_at(attempt_deadline, exchange()))
            .await
        else {
            return evidence.finish(spec, Verdict::Cancelled, &mut progress);
        };
        let judged = judge(spec, number, offset, started, answer);
        let decision = thresholds.record(if judged.attempt.passed() {
            Check::Pass
        } else if judged.another_version || offset < spec.switch_over() {
            Check::Uncounted
        } else {
            Check::Fail
        });
        tracing::debug!(attempt = %judged.attempt, "attempt finished");
        progress(&ProgressEvent::AttemptFinished {
            attempt: judged.attempt.clone(),
            consecutive_passes: thresholds.passes(),
            success_threshold: spec.success_threshold(),
        });
        let failure = judged.attempt.failure.clone();
        evidence.record(judged.attempt);

        let stop = match (decision, failure) {
            (Decision::Healthy, _) => {
                return evidence.finish(spec, Verdict::Healthy, &mut progress);
            }
            (_, Some(reason)) if judged.fatal => Some((reason, Stop::FatalStatus)),
            (Decision::Unhealthy, Some(reason)) => Some((reason, Stop::FailureThreshold)),
            _ => None,
        };
        if let Some((reason, stopped_by)) = stop {
            return evidence.finish(
                spec,
                Verdict::Unhealthy { reason, stopped_by },
                &mut progress,
            );
        }

        next_start = if thresholds.passes() > 0 {
            started + spec.confirm_interval()
        } else {
            started + jittered(spec.interval(), spec.jitter())
        };
        cause = WaitCause::Interval;
        if let Some(retry_after) = judged.retry_after {
            let asked = Instant::now() + retry_after;
            if asked > next_start {
                next_start = asked;
                cause = WaitCause::RetryAfter;
            }
        }
        // A hanging attempt may have used the time up: no attempt starts at the deadline.
        if next_start.max(Instant::now()) >= deadline {
            let reason = match (thresholds.passes(), evidence.last_failure.clone()) {
                (0, Some(failure)) => failure,
                (passes, _) => Failure::Unconfirmed {
                    passes,
                    needed: spec.success_threshold(),
                },
            };
            let verdict = Verdict::Unhealthy {
                reason,
                stopped_by: Stop::Deadline,
            };
            return evidence.finish(spec, verdict, &mut progress);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::{cell::RefCell, collections::VecDeque, rc::Rc};

    use serde_json::json;
    use url::Url;

    use super::*;
    use crate::{Assertion, ProbeSpecBuilder};

    type Step = (Duration, Result<Answer, Failure>);

    fn ok(status: u16, body: &str) -> Step {
        (Duration::from_millis(10), Ok(answer(status, body)))
    }

    fn answer(status: u16, body: &str) -> Answer {
        Answer {
            status,
            retry_after: None,
            body: body.as_bytes().to_vec(),
            body_cut: false,
        }
    }

    fn commit(sha: &str) -> Step {
        ok(200, &format!(r#"{{"commit":"{sha}"}}"#))
    }

    fn spec() -> ProbeSpecBuilder {
        ProbeSpec::builder(Url::parse("http://127.0.0.1:9/healthz").unwrap())
            .jitter(Duration::ZERO)
            .assertion(
                Assertion::json_equals("/commit", json!("new"))
                    .unwrap()
                    .identifying_version(),
            )
    }

    /// Runs the loop over a script of exchanges; the last step repeats. Returns the outcome and
    /// the progress events.
    async fn check(
        spec: &ProbeSpec,
        cancel: &CancellationToken,
        script: Vec<Step>,
    ) -> (Outcome, Vec<ProgressEvent>) {
        let script = Rc::new(RefCell::new(VecDeque::from(script)));
        let events = RefCell::new(Vec::new());
        let outcome = run(
            spec,
            cancel,
            |event| events.borrow_mut().push(event.clone()),
            || {
                let mut script = script.borrow_mut();
                let step = if script.len() > 1 {
                    script.pop_front()
                } else {
                    script.front().cloned()
                };
                async move {
                    let (delay, result) =
                        step.unwrap_or((Duration::ZERO, Err(Failure::ConnectionRefused)));
                    tokio::time::sleep(delay).await;
                    result
                }
            },
        )
        .await;
        (outcome, events.into_inner())
    }

    fn offsets(outcome: &Outcome) -> Vec<u64> {
        outcome
            .attempts
            .iter()
            .map(|attempt| attempt.offset.as_millis() as u64)
            .collect()
    }

    #[tokio::test(start_paused = true)]
    async fn a_confirm_interval_spaces_only_the_attempts_after_a_pass() {
        let script = vec![commit("old"), commit("new"), commit("old"), commit("new")];
        let spec = spec()
            .success_threshold(3)
            .confirm_interval(Duration::from_millis(250))
            .build()
            .unwrap();
        let (outcome, _) = check(&spec, &CancellationToken::new(), script).await;
        assert_eq!(outcome.verdict, Verdict::Healthy);
        // old, new (pass), old 250 ms later (fail: back to the interval), new, new, new.
        assert_eq!(offsets(&outcome), [0, 2000, 2250, 4250, 4500, 4750]);
    }

    #[test]
    fn the_confirm_interval_never_exceeds_the_interval() {
        let error = spec()
            .confirm_interval(Duration::from_secs(9))
            .build()
            .unwrap_err();
        assert!(
            matches!(
                error,
                Error::InvalidSetting {
                    key: "confirm_interval",
                    ..
                }
            ),
            "{error}"
        );
        assert_eq!(
            self::spec().build().unwrap().confirm_interval(),
            Duration::from_secs(2)
        );
    }

    #[tokio::test(start_paused = true)]
    async fn old_commit_then_new_commit_is_healthy_after_two_passes() {
        let script = vec![
            ok(503, "starting"),
            ok(503, "starting"),
            commit("old"),
            commit("new"),
        ];
        let (outcome, _) = check(&spec().build().unwrap(), &CancellationToken::new(), script).await;
        assert_eq!(outcome.verdict, Verdict::Healthy);
        assert_eq!(offsets(&outcome), [0, 2000, 4000, 6000, 8000]);
        assert_eq!(
            outcome.attempts[0].failure,
            Some(Failure::Status { status: 503 })
        );
        assert_eq!(
            outcome.attempts[2].failure,
            Some(Failure::WrongVersion {
                pointer: "/commit".into(),
                expected: json!("new"),
                actual: json!("old"),
            })
        );
        assert_eq!(outcome.elapsed, Duration::from_millis(8010));
    }

    #[tokio::test(start_paused = true)]
    async fn a_failure_resets_the_pass_count() {
        let spec = spec().success_threshold(3).build().unwrap();
        let script = vec![commit("new"), commit("new"), commit("old"), commit("new")];
        let (outcome, _) = check(&spec, &CancellationToken::new(), script).await;
        assert_eq!(outcome.verdict, Verdict::Healthy);
        assert_eq!(outcome.attempts.len(), 6);
    }

    #[tokio::test(start_paused = true)]
    async fn the_old_version_until_the_deadline_is_unhealthy_within_the_deadline() {
        let spec = spec().deadline(Duration::from_secs(9)).build().unwrap();
        let (outcome, _) = check(&spec, &CancellationToken::new(), vec![commit("old")]).await;
        let Verdict::Unhealthy { reason, stopped_by } = &outcome.verdict else {
            panic!("{:?}", outcome.verdict)
        };
        assert_eq!(*stopped_by, Stop::Deadline);
        assert_eq!(reason.class(), "wrong_version");
        assert_eq!(offsets(&outcome), [0, 2000, 4000, 6000, 8000]);
        assert!(outcome.elapsed <= Duration::from_secs(9));
    }

    #[tokio::test(start_paused = true)]
    async fn the_deadline_cuts_a_hanging_attempt() {
        let spec = spec().deadline(Duration::from_secs(12)).build().unwrap();
        let hang = (Duration::from_secs(3600), Ok(answer(200, "")));
        let (outcome, _) = check(&spec, &CancellationToken::new(), vec![hang]).await;
        assert_eq!(outcome.elapsed, Duration::from_secs(12));
        assert_eq!(offsets(&outcome), [0, 5000, 10_000]);
        assert_eq!(
            outcome.attempts[2].failure,
            Some(Failure::Timeout {
                after: Duration::from_secs(2)
            })
        );
        assert!(matches!(
            outcome.verdict,
            Verdict::Unhealthy {
                stopped_by: Stop::Deadline,
                ..
            }
        ));
    }

    #[tokio::test(start_paused = true)]
    async fn a_fatal_status_stops_at_once() {
        let (outcome, _) = check(
            &spec().build().unwrap(),
            &CancellationToken::new(),
            vec![ok(404, "nope")],
        )
        .await;
        assert_eq!(
            outcome.verdict,
            Verdict::Unhealthy {
                reason: Failure::Status { status: 404 },
                stopped_by: Stop::FatalStatus
            }
        );
        assert_eq!(outcome.attempts.len(), 1);
    }

    #[tokio::test(start_paused = true)]
    async fn the_failure_threshold_ends_early() {
        let spec = spec().failure_threshold(3).build().unwrap();
        let (outcome, _) = check(&spec, &CancellationToken::new(), vec![ok(502, "<html>")]).await;
        assert!(matches!(
            outcome.verdict,
            Verdict::Unhealthy {
                stopped_by: Stop::FailureThreshold,
                ..
            }
        ));
        assert_eq!(outcome.attempts.len(), 3);
    }

    /// A rollout's settings: a 1 s interval, 5 counted failures after a 15 s switch-over, and
    /// `/commit` as the version identity.
    fn switch_over_spec() -> ProbeSpecBuilder {
        ProbeSpec::builder(Url::parse("http://127.0.0.1:9/healthz").unwrap())
            .jitter(Duration::ZERO)
            .interval(Duration::from_secs(1))
            .switch_over(Duration::from_secs(15))
            .failure_threshold(5)
            .assertion(
                Assertion::json_equals("/commit", json!("new"))
                    .unwrap()
                    .identifying_version(),
            )
    }

    fn stopped_by(outcome: &Outcome) -> Option<(Stop, &'static str)> {
        match &outcome.verdict {
            Verdict::Unhealthy { reason, stopped_by } => Some((*stopped_by, reason.class())),
            _ => None,
        }
    }

    #[tokio::test(start_paused = true)]
    async fn failures_after_the_switch_over_end_the_probe_at_the_threshold() {
        let (outcome, _) = check(
            &switch_over_spec().build().unwrap(),
            &CancellationToken::new(),
            vec![ok(503, "unavailable")],
        )
        .await;
        assert_eq!(
            outcome.verdict,
            Verdict::Unhealthy {
                reason: Failure::Status { status: 503 },
                stopped_by: Stop::FailureThreshold
            }
        );
        // Attempts at 0..=14 s fall in the window; 15, 16, 17, 18 and 19 s count.
        assert_eq!(outcome.attempts.len(), 20);
        assert_eq!(
            outcome.attempts.last().unwrap().offset,
            Duration::from_secs(19)
        );
        assert_eq!(outcome.elapsed, Duration::from_millis(19_010));
    }

    #[tokio::test(start_paused = true)]
    async fn failures_inside_the_switch_over_do_not_count() {
        // Fourteen 503s (far more than the threshold) while the proxy switches, then the new
        // version.
        let mut script = vec![ok(503, "unavailable"); 14];
        script.push(commit("new"));
        let (outcome, _) = check(
            &switch_over_spec().build().unwrap(),
            &CancellationToken::new(),
            script,
        )
        .await;
        assert_eq!(outcome.verdict, Verdict::Healthy);
        assert_eq!(outcome.attempts.len(), 16);
    }

    #[tokio::test(start_paused = true)]
    async fn another_version_answering_never_counts() {
        let spec = switch_over_spec()
            .deadline(Duration::from_secs(60))
            .build()
            .unwrap();
        let (outcome, _) = check(&spec, &CancellationToken::new(), vec![commit("old")]).await;
        assert_eq!(
            stopped_by(&outcome),
            Some((Stop::Deadline, "wrong_version"))
        );
        assert_eq!(outcome.attempts.len(), 60);
    }

    #[tokio::test(start_paused = true)]
    async fn another_version_neither_adds_to_nor_resets_the_failure_count() {
        // After the window, the old container and a failing new one take turns.
        let mut script = vec![commit("old"); 15];
        for _ in 0..5 {
            script.push(ok(503, "unavailable"));
            script.push(commit("old"));
        }
        let (outcome, _) = check(
            &switch_over_spec().build().unwrap(),
            &CancellationToken::new(),
            script,
        )
        .await;
        assert_eq!(
            stopped_by(&outcome),
            Some((Stop::FailureThreshold, "status"))
        );
        // 15 old answers, then 503, old, 503, old, 503, old, 503, old, 503.
        assert_eq!(outcome.attempts.len(), 24);
    }

    #[tokio::test(start_paused = true)]
    async fn a_refused_connection_counts_after_the_switch_over() {
        let refused = (Duration::ZERO, Err(Failure::ConnectionRefused));
        let (outcome, _) = check(
            &switch_over_spec().build().unwrap(),
            &CancellationToken::new(),
            vec![refused],
        )
        .await;
        assert_eq!(
            outcome.verdict,
            Verdict::Unhealthy {
                reason: Failure::ConnectionRefused,
                stopped_by: Stop::FailureThreshold
            }
        );
        assert_eq!(outcome.elapsed, Duration::from_secs(19));
    }

    #[tokio::test(start_paused = true)]
    async fn the_expected_version_failing_another_assertion_counts() {
        let spec = switch_over_spec()
            .assertion(Assertion::json_equals("/status", json!("ok")).unwrap())
            .build()
            .unwrap();
        let degraded = ok(200, r#"{"status":"degraded","commit":"new"}"#);
        let (outcome, _) = check(&spec, &CancellationToken::new(), vec![degraded]).await;
        let Verdict::Unhealthy { reason, stopped_by } = &outcome.verdict else {
            panic!("{:?}", outcome.verdict)
        };
        assert_eq!(*stopped_by, Stop::FailureThreshold);
        assert!(
            matches!(reason, Failure::ValueMismatch { pointer, .. } if pointer == "/status"),
            "{reason:?}"
        );
        assert_eq!(outcome.attempts.len(), 20);
    }

    #[tokio::test(start_paused = true)]
    async fn another_version_is_told_even_when_it_fails_other_assertions_too() {
        // The identity assertion is checked first, whatever the order they were added in.
        let spec = switch_over_spec()
            .deadline(Duration::from_secs(30))
            .assertion(Assertion::json_equals("/status", json!("ok")).unwrap())
            .build()
            .unwrap();
        let old = ok(200, r#"{"status":"degraded","commit":"old"}"#);
        let (outcome, _) = check(&spec, &CancellationToken::new(), vec![old]).await;
        assert_eq!(
            stopped_by(&outcome),
            Some((Stop::Deadline, "wrong_version"))
        );
        assert!(matches!(
            &outcome.attempts[0].failure,
            Some(Failure::WrongVersion { pointer, .. }) if pointer == "/commit"
        ));
    }

    #[tokio::test(start_paused = true)]
    async fn a_fatal_status_inside_the_switch_over_still_stops_at_once() {
        let (outcome, _) = check(
            &switch_over_spec().build().unwrap(),
            &CancellationToken::new(),
            vec![ok(401, "who are you")],
        )
        .await;
        assert_eq!(stopped_by(&outcome), Some((Stop::FatalStatus, "status")));
        assert_eq!(outcome.attempts.len(), 1);
    }

    #[tokio::test(start_paused = true)]
    async fn retry_after_delays_the_next_attempt() {
        let mut busy = answer(503, "busy");
        busy.retry_after = Some(Duration::from_secs(10));
        let script = vec![(Duration::ZERO, Ok(busy)), commit("new")];
        let (outcome, events) =
            check(&spec().build().unwrap(), &CancellationToken::new(), script).await;
        assert_eq!(outcome.verdict, Verdict::Healthy);
        assert_eq!(offsets(&outcome), [0, 10_000, 12_000]);
        assert!(events.iter().any(|event| matches!(
            event,
            ProgressEvent::Waiting {
                cause: WaitCause::RetryAfter,
                ..
            }
        )));
    }

    #[tokio::test(start_paused = true)]
    async fn retry_after_past_the_deadline_ends_the_probe_now() {
        let mut busy = answer(429, "slow down");
        busy.retry_after = Some(Duration::from_secs(600));
        let (outcome, _) = check(
            &spec().build().unwrap(),
            &CancellationToken::new(),
            vec![(Duration::ZERO, Ok(busy))],
        )
        .await;
        assert!(matches!(
            outcome.verdict,
            Verdict::Unhealthy {
                stopped_by: Stop::Deadline,
                ..
            }
        ));
        assert_eq!(outcome.elapsed, Duration::ZERO);
    }

    #[tokio::test(start_paused = true)]
    async fn a_slow_pass_does_not_count() {
        let spec = spec()
            .latency_budget(Duration::from_millis(100))
            .failure_threshold(2)
            .build()
            .unwrap();
        let slow = (
            Duration::from_millis(300),
            Ok(answer(200, r#"{"commit":"new"}"#)),
        );
        let (outcome, _) = check(&spec, &CancellationToken::new(), vec![slow]).await;
        assert_eq!(
            outcome.attempts[0].failure,
            Some(Failure::TooSlow {
                latency: Duration::from_millis(300),
                budget: Duration::from_millis(100)
            })
        );
        assert!(matches!(
            outcome.verdict,
            Verdict::Unhealthy {
                stopped_by: Stop::FailureThreshold,
                ..
            }
        ));
    }

    #[tokio::test(start_paused = true)]
    async fn the_initial_delay_comes_first() {
        let spec = spec()
            .initial_delay(Duration::from_secs(30))
            .build()
            .unwrap();
        let (outcome, events) = check(&spec, &CancellationToken::new(), vec![commit("new")]).await;
        assert_eq!(offsets(&outcome), [30_000, 32_000]);
        assert!(matches!(
            events[1],
            ProgressEvent::Waiting { cause: WaitCause::InitialDelay, wait, .. } if wait == Duration::from_secs(30)
        ));
    }

    #[tokio::test(start_paused = true)]
    async fn too_few_passes_at_the_deadline_are_unconfirmed() {
        let spec = spec()
            .deadline(Duration::from_secs(5))
            .success_threshold(3)
            .build()
            .unwrap();
        let (outcome, _) = check(
            &spec,
            &CancellationToken::new(),
            vec![commit("old"), commit("new")],
        )
        .await;
        assert_eq!(
            outcome.verdict,
            Verdict::Unhealthy {
                reason: Failure::Unconfirmed {
                    passes: 2,
                    needed: 3
                },
                stopped_by: Stop::Deadline
            }
        );
    }

    #[tokio::test(start_paused = true)]
    async fn the_token_cancels_a_waiting_probe() {
        let cancel = CancellationToken::new();
        let trigger = cancel.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_secs(3)).await;
            trigger.cancel();
        });
        let (outcome, events) = check(&spec().build().unwrap(), &cancel, vec![commit("old")]).await;
        assert_eq!(outcome.verdict, Verdict::Cancelled);
        assert_eq!(outcome.elapsed, Duration::from_secs(3));
        assert!(matches!(
            events.last(),
            Some(ProgressEvent::Finished {
                verdict: Verdict::Cancelled,
                ..
            })
        ));
    }

    #[tokio::test(start_paused = true)]
    async fn progress_reports_every_step_in_order() {
        let (_, events) = check(
            &spec().success_threshold(1).build().unwrap(),
            &CancellationToken::new(),
            vec![commit("old"), commit("new")],
        )
        .await;
        let kinds: Vec<String> = events
            .iter()
            .map(|event| {
                serde_json::to_value(event).unwrap()["event"]
                    .as_str()
                    .unwrap()
                    .to_owned()
            })
            .collect();
        assert_eq!(
            kinds,
            [
                "started",
                "attempt_started",
                "attempt_finished",
                "waiting",
                "attempt_started",
                "attempt_finished",
                "finished"
            ]
        );
        assert_eq!(
            events[5].to_string(),
            "attempt 2: 200 in 10 ms, passed (1/1)"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn evidence_is_bounded() {
        let spec = spec()
            .interval(Duration::from_millis(100))
            .deadline(Duration::from_secs(3600))
            .build()
            .unwrap();
        let (outcome, _) = check(&spec, &CancellationToken::new(), vec![commit("old")]).await;
        assert_eq!(outcome.attempts.len(), MAX_ATTEMPTS_KEPT);
        assert!(outcome.attempts_dropped > 0);
        assert_eq!(
            outcome.attempt_count(),
            outcome.attempts.last().unwrap().number
        );
    }

    #[test]
    fn header_values_are_redacted_as_sent_and_as_json_writes_them() {
        let spec = spec()
            .header("X-Quoted", r#"say "hi" \ there-secret"#)
            .header("X-Token", "  padded-token-secret ")
            .header("X-Empty", "")
            .build()
            .unwrap();
        let body = r#"{"x-quoted":"say \"hi\" \\ there-secret","raw":"say "hi" \ there-secret","x-token":"padded-token-secret"}"#;
        assert_eq!(
            redact_header_values(&spec, body),
            r#"{"x-quoted":"[redacted]","raw":"[redacted]","x-token":"[redacted]"}"#
        );
    }

    #[test]
    fn body_excerpts_are_bounded_on_a_char_boundary() {
        let body = "é".repeat(BODY_EXCERPT_BYTES);
        let text = excerpt(&body);
        assert!(text.len() <= BODY_EXCERPT_BYTES);
        assert!(text.len() >= BODY_EXCERPT_BYTES - 1);
        assert_eq!(excerpt("short"), "short");
    }

    #[test]
    fn building_probers_leaves_the_process_tls_provider_alone() {
        Prober::new().unwrap();
        Prober::builder()
            .user_agent("probe-test/1")
            .connect_timeout(Duration::from_secs(2))
            .build()
            .unwrap();
        assert!(tokio_rustls::rustls::crypto::CryptoProvider::get_default().is_none());
    }

    #[tokio::test]
    async fn the_builder_sets_the_user_agent() {
        use wiremock::{Mock, MockServer, ResponseTemplate, matchers};

        let server = MockServer::start().await;
        Mock::given(matchers::path("/healthz"))
            .and(matchers::header("user-agent", "probe-test/1"))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({"commit": "new"})))
            .expect(1..)
            .mount(&server)
            .await;
        let url = Url::parse(&format!("{}/healthz", server.uri())).unwrap();
        let spec = ProbeSpec::builder(url)
            .jitter(Duration::ZERO)
            .success_threshold(1)
            .assertion(Assertion::json_equals("/commit", json!("new")).unwrap())
            .build()
            .unwrap();
        let prober = Prober::builder()
            .user_agent("probe-test/1")
            .build()
            .unwrap();
        let outcome = prober.probe(&spec).await;
        assert!(outcome.is_healthy(), "{outcome:#?}");
        server.verify().await;
    }

    #[test]
    fn jitter_only_shortens_the_wait() {
        let interval = Duration::from_secs(2);
        for _ in 0..1000 {
            let wait = jittered(interval, Duration::from_millis(200));
            assert!(
                wait <= interval && wait >= Duration::from_millis(1800),
                "{wait:?}"
            );
        }
        assert_eq!(jittered(interval, Duration::ZERO), interval);
    }
}
