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

impl Prober {
    /// A prober with its own connection pool.
    ///
    /// Installs rustls' `ring` provider as the process default if no provider is installed
    /// yet (the workspace builds rustls without a default provider).
    ///
    /// # Errors
    ///
    /// [`Error::Client`] if the HTTP client cannot be built, for example when the platform's
    /// TLS roots cannot be loaded.
    pub fn new() -> Result<Self, Error> {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(Duration::from_secs(10))
            .pool_idle_timeout(Duration::from_secs(90))
            .tcp_nodelay(true)
            .user_agent(concat!(
                "stagegate-health-probe/",
                env!("CARGO_PKG_VERSION")
            ))
            .build()
            .map_err(|error| Error::Client {
                reason: error.to_string(),
            })?;
        Ok(Self { client })
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
            };
        }
        Ok(Err(failure)) => {
            attempt.failure = Some(failure);
            return Judged {
                attempt,
                retry_after: None,
                fatal: false,
            };
        }
        Ok(Ok(answer)) => answer,
    };
    attempt.status = Some(answer.status);
    let body = String::from_utf8_lossy(&answer.body);
    if !answer.body.is_empty() {
        attempt.body_excerpt = Some(excerpt(&body));
        attempt.body_truncated = answer.body_cut || body.len() > BODY_EXCERPT_BYTES;
    }
    let fatal = spec.is_fatal(answer.status);
    attempt.failure = if spec.expect_status().contains(&answer.status) {
        check_body(spec, &body, answer.body_cut).err().or_else(|| {
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
    }
}

fn check_body(spec: &ProbeSpec, body: &str, body_cut: bool) -> Result<(), Failure> {
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
    spec.assertions()
        .iter()
        .try_for_each(|assertion| assertion.check(body, &json))
}

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

        next_start = started + jittered(spec.interval(), spec.jitter());
        cause = WaitCause::Interval;
        if let Some(retry_after) = judged.retry_after {
            let asked = Instant::now() + retry_after;
            if asked > next_start {
                next_start = asked;
                cause = WaitCause::RetryAfter;
            }
        }
        if next_start >= deadline {
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
