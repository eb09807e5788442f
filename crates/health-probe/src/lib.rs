//! Prove that the new version is the one answering.
//!
//! `health-probe` polls an HTTP health endpoint until it has seen enough consecutive good
//! answers, gives up at a deadline, and leaves evidence of every attempt. A good answer is more
//! than a `200`: assertions on the body (`/commit` equals the deployed SHA, `/version` matches
//! `1.4.*`, the body contains `ready`) and a latency budget tell a new release from the old
//! container that keeps serving while it starts. Thresholds, initial delay, interval and jitter
//! follow Kubernetes probes; `Retry-After` is honoured within the deadline; fatal statuses
//! (401, 403, 404 by default) end a probe at once. Many targets can be probed at once over one
//! connection pool with bounded concurrency.
//!
//! A [`ProbeSpec`] says what to probe and how: build one with [`ProbeSpec::builder`], or
//! deserialize a [`ProbeConfig`] (every setting optional, durations as humantime strings), lay
//! an override over it with [`ProbeConfig::overlay`], and turn it into a spec with
//! [`ProbeConfig::to_spec`] once the URL and the [`Variables`] for `{commit}`-style
//! placeholders are known. Both paths check the settings in one place
//! ([`ProbeSpecBuilder::build`]).
//! A [`Prober`] runs specs and returns an [`Outcome`]: [`Verdict::Healthy`],
//! [`Verdict::Unhealthy`] with the [`Failure`] that explains it and what [stopped](Stop) the
//! probe, or [`Verdict::Cancelled`], with the [`Attempt`]s as evidence (serializable to JSON).
//! Progress arrives as [`ProgressEvent`]s through a callback.
//!
//! # Example
//!
//! ```
//! use std::time::Duration;
//!
//! use health_probe::serde_json::json;
//! use health_probe::tokio_util::sync::CancellationToken;
//! use health_probe::{Assertion, Failure, ProbeSpec, Prober, Verdict};
//! use tokio::io::{AsyncReadExt, AsyncWriteExt};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! // A health endpoint on loopback that reports the commit it runs.
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
//! let url = format!("http://{}/healthz", listener.local_addr()?);
//! tokio::spawn(async move {
//!     while let Ok((mut stream, _)) = listener.accept().await {
//!         let mut request = [0; 1024];
//!         let _ = stream.read(&mut request).await;
//!         let body = r#"{"commit":"4f2a9c1e0b7d"}"#;
//!         let answer = format!(
//!             "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
//!             body.len()
//!         );
//!         let _ = stream.write_all(answer.as_bytes()).await;
//!     }
//! });
//!
//! let spec = ProbeSpec::builder(url.parse()?)
//!     .interval(Duration::from_millis(100))
//!     .deadline(Duration::from_secs(30))
//!     // `/commit` identifies the version: an answer with another commit is the old
//!     // container, reported as `wrong_version` and never counted toward a failure threshold.
//!     .assertion(Assertion::json_equals("/commit", json!("4f2a9c1e0b7d"))?.identifying_version())
//!     .build()?;
//!
//! let prober = Prober::new()?;
//! let cancel = CancellationToken::new(); // cancel() it from a Ctrl-C handler
//! let outcome = prober
//!     .probe_with(&spec, &cancel, |event| eprintln!("{event}"))
//!     .await;
//! match &outcome.verdict {
//!     Verdict::Healthy => println!("healthy after {} attempts", outcome.attempt_count()),
//!     Verdict::Unhealthy { reason: Failure::WrongVersion { actual, .. }, stopped_by } => {
//!         println!("still {actual} when the probe stopped ({stopped_by})");
//!     }
//!     Verdict::Unhealthy { reason, stopped_by } => println!("{reason} ({stopped_by})"),
//!     Verdict::Cancelled => println!("cancelled"),
//!     other => println!("{other}"),
//! }
//! // The evidence of every attempt serializes to JSON.
//! assert!(outcome.is_healthy(), "{}", health_probe::serde_json::to_string_pretty(&outcome)?);
//! # Ok(())
//! # }
//! ```
//!
//! From configuration, with placeholders:
//!
//! ```
//! use health_probe::{ProbeConfig, Variables};
//!
//! let defaults: ProbeConfig = toml::from_str(r#"expect_json = { "/commit" = "{commit}" }"#)?;
//! let production: ProbeConfig = toml::from_str(r#"deadline = "10m""#)?;
//! let variables = Variables::new().with_identity("commit", "4f2a9c1e0b7d");
//! let spec = defaults
//!     .overlay(&production)
//!     .to_spec("https://example.com/healthz".parse()?, &variables)?;
//! assert_eq!(spec.deadline(), std::time::Duration::from_secs(600));
//! assert!(spec.assertions()[0].identifies_version());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Many targets at once, over one connection pool ([`Prober::probe_many`]):
//!
//! ```no_run
//! use health_probe::tokio_util::sync::CancellationToken;
//! use health_probe::{ProbeSpec, Prober};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let specs = ["https://web.example.com/healthz", "https://worker.example.com/healthz"]
//!     .into_iter()
//!     .map(|url| ProbeSpec::builder(url.parse()?).build().map_err(Into::into))
//!     .collect::<Result<Vec<_>, Box<dyn std::error::Error>>>()?;
//! let outcomes = Prober::new()?
//!     .probe_many(specs, 8, &CancellationToken::new(), |index, event| {
//!         eprintln!("[{index}] {event}");
//!     })
//!     .await;
//! for outcome in &outcomes {
//!     println!("{}: {}", outcome.url, outcome.verdict);
//! }
//! # Ok(())
//! # }
//! ```
//!
//! # Probing an app behind a reverse proxy
//!
//! `404` is a fatal status by default (with `401` and `403`): a wrong path will not fix itself.
//! A proxy in front of an app that is being replaced may answer `404` for a moment, though
//! (Coolify's Traefik does while a container is swapped): for such an app, make `404` an
//! ordinary failure with `.fatal_status([401, 403])`, or `.fatal_status([])` for none, and let
//! the switch-over window and the failure threshold decide.
//!
//! # Guarantees
//!
//! - The deadline is never exceeded: it cuts the request in flight, and a wait that would end
//!   past it ends the probe instead.
//! - Never healthy before `success_threshold` consecutive passes; any failure resets the count.
//! - A failure counts toward `failure_threshold` only after the `switch_over` window, and an
//!   answer from another version (a failed [version identity](Assertion::identifying_version)
//!   assertion) never counts, so the previous container answering during a rolling update
//!   cannot end a probe early.
//! - Redirects are not followed unless allowed, and headers set on a spec (credentials) never
//!   reach another origin.
//! - Connections are reused between attempts; one attempt uses one connection unless it
//!   follows a redirect to another origin.
//! - Header values never appear in `Debug` output, evidence or logs; a body that echoes one
//!   has it replaced by `[redacted]` before it is cut to an excerpt.

pub use assertion::Assertion;
pub use config::{ProbeConfig, Variables};
pub use error::Error;
pub use glob::Glob;
pub use outcome::{Attempt, Failure, Outcome, Stop, Verdict};
pub use prober::{BODY_EXCERPT_BYTES, MAX_ATTEMPTS_KEPT, Prober, ProberBuilder};
pub use progress::{ProgressEvent, WaitCause};
/// The HTTP client type [`ProberBuilder::client`] takes.
pub use reqwest;
/// The JSON values of assertions ([`Assertion::json_equals`]) and failures.
pub use serde_json;
pub use spec::{
    DEFAULT_ATTEMPT_TIMEOUT, DEFAULT_DEADLINE, DEFAULT_EXPECT_STATUS, DEFAULT_FATAL_STATUS,
    DEFAULT_INTERVAL, DEFAULT_SUCCESS_THRESHOLD, LONGEST, Method, ProbeSpec, ProbeSpecBuilder,
};
/// The cancellation type [`Prober::probe_with`] and [`Prober::probe_many`] take.
pub use tokio_util;
/// The URL type of [`ProbeSpec::builder`] and [`Outcome::url`].
pub use url;

mod assertion;
mod config;
mod error;
mod glob;
mod http;
mod outcome;
mod prober;
mod progress;
mod serde_duration;
mod spec;
mod threshold;

/// The README's examples, compiled as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
