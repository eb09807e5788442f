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
//! Configuration comes from the `[probe]` table of `deploy.toml` as a [`ProbeConfig`], which
//! an environment's own table can [overlay](ProbeConfig::overlay), and which becomes a
//! [`ProbeSpec`] once the URL and the [`Variables`] for `{commit}`-style placeholders are known.
//! A [`Prober`] runs specs and returns an [`Outcome`]: [`Verdict::Healthy`],
//! [`Verdict::Unhealthy`] with the [`Failure`] that explains it and what [stopped](Stop) the
//! probe, or [`Verdict::Cancelled`], with the [`Attempt`]s as evidence (serializable to JSON).
//! Progress arrives as [`ProgressEvent`]s through a callback.
//!
//! # Example
//!
//! ```
//! use health_probe::{ProbeConfig, Prober, Variables};
//! use health_probe::tokio_util::sync::CancellationToken;
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
//! let config: ProbeConfig = toml::from_str(r#"
//!     interval = "100ms"
//!     deadline = "30s"
//!     success_threshold = 2
//!     expect_json = { "/commit" = "{commit}" }
//! "#)?;
//! // `{commit}` identifies the version: an answer with another commit is the old container,
//! // reported as `wrong_version` and never counted toward a failure threshold.
//! let variables = Variables::new().with_identity("commit", "4f2a9c1e0b7d");
//! let spec = config.to_spec(url.parse()?, &variables)?;
//!
//! let prober = Prober::new()?;
//! let cancel = CancellationToken::new(); // cancel() it from a Ctrl-C handler
//! let outcome = prober
//!     .probe_with(&spec, &cancel, |event| eprintln!("{event}"))
//!     .await;
//! // The evidence of every attempt serializes to JSON.
//! assert!(outcome.is_healthy(), "{}", serde_json::to_string_pretty(&outcome)?);
//! # Ok(())
//! # }
//! ```
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
//! - Header values never appear in `Debug` output, evidence or logs.

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
