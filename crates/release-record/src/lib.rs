//! The record of staged releases, kept in [GitHub Deployments](https://docs.github.com/en/rest/deployments):
//! one entry per run on one environment, saying which commit (and tag) went to which apps,
//! who ran it and where, when Coolify finished, what probed it, and whether it was
//! [`verified`](Outcome::Verified), failed, rolled back, superseded or cancelled.
//!
//! A [`Recorder`] writes a run as it goes ([`Recorder::start`], then [`RunRecord`]'s
//! `deployment_started`, `deployment_finished` and `settle`) and reads runs back: the runs
//! of one commit on one environment ([`Recorder::outcomes_of_commit`], what a staging gate
//! asks) and the history of environments since a date ([`Recorder::history`], 100 runs with
//! their statuses a request). Every model is `Serialize`, for `--format json` output.
//!
//! The token is a [`secrecy::SecretString`]: it only builds the `Authorization` header, never
//! appears in `Debug`, and is scrubbed from any response body an [`Error`] quotes. Redirects
//! are not followed. The library reads no environment variable: [`RanBy::github_actions`] takes
//! a lookup the caller provides. The `github-fake` crate is a stateful fake GitHub to test
//! such code against.
//!
//! # Example
//!
//! Against the fake GitHub of the `github-fake` crate; for GitHub itself, give
//! [`Recorder::builder`] the repository and a token, and [`RecorderBuilder::api_url`] only for
//! GitHub Enterprise Server (`https://HOST/api/v3`).
//!
//! ```
//! use github_fake::FakeGitHub;
//! use release_record::{
//!     App, Environment, HistoryQuery, Outcome, RanBy, Recorder, Settlement, Start,
//!     newest_settled,
//! };
//!
//! # #[tokio::main(flavor = "current_thread", start_paused = true)]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let github = FakeGitHub::start().await?;
//! let recorder = Recorder::builder(github.repository().parse()?, github.token().into())
//!     .api_url(github.api_url())
//!     .build()?;
//!
//! let web: release_record::coolify_client::ApplicationUuid = "vgsco4o4wc8w0ok8gwgk8w0o".parse()?;
//! let commit = "9579fc7e0b7d3a5f6c8e9d0a1b2c3d4e5f6a7b8c".parse()?;
//! let start = Start::new(Environment::persistent("staging")?, commit, RanBy::local("ann", "laptop"))
//!     .app(App::new(web.clone(), "web").health_url("https://staging.example.com/healthz".parse()?));
//!
//! let run = recorder.start(&start).await?;
//! run.deployment_started(&web, &"k0w4o8c8s4ggkkw08cwc8s4g".parse()?).await?;
//! run.deployment_finished(&web).await?;
//! run.settle(&Settlement::verified("web answers 9579fc7")).await?;
//!
//! // What a staging gate asks: the newest settled run of the commit for each app.
//! let runs = recorder.outcomes_of_commit("staging", start.release().commit_sha()).await?;
//! let relied_on = newest_settled(&runs, &web).expect("a settled run");
//! assert_eq!(relied_on.outcome(), Outcome::Verified);
//! assert_eq!(relied_on.apps()[0].coolify_deployment().map(|uuid| uuid.as_str()), Some("k0w4o8c8s4ggkkw08cwc8s4g"));
//!
//! // What a history asks: every run of the environments, newest first.
//! let history = recorder.history(&HistoryQuery::new(["staging", "production"])).await?;
//! assert_eq!(history.records().len(), 1);
//! assert_eq!(history.requests(), 1);
//! # Ok(())
//! # }
//! ```
//!
//! # The format in GitHub
//!
//! Other tools may read the record; this is its format, version 1.
//!
//! **One GitHub deployment per run.** It is created with `ref` the full commit SHA, `task`
//! `deploy`, `auto_merge: false` (a tag or an older commit is behind the default branch, and
//! GitHub would try to merge instead of deploying), `required_contexts: []` (the run has gated
//! the release itself), `environment` the environment's name, `production_environment` and
//! `transient_environment` from its [`EnvironmentKind`], a description of at most 140
//! characters (`v1.2.0 (9579fc7) to production by octocat`), and this `payload`:
//!
//! ```json
//! {
//!   "format": "stagegate-release-record",
//!   "version": 1,
//!   "environment_kind": "production",
//!   "commit": "9579fc7e0b7d3a5f6c8e9d0a1b2c3d4e5f6a7b8c",
//!   "tag": "v1.2.0",
//!   "apps": [{ "uuid": "vgsco4o4wc8w0ok8gwgk8w0o", "label": "web", "health_url": "https://example.com/healthz" }],
//!   "purpose": { "kind": "release" },
//!   "ran_by": { "kind": "github_actions", "actor": "octocat", "run_url": "https://github.com/acme/api/actions/runs/4711" },
//!   "gate": { "kind": "recorded", "detail": "verified on staging 2026-12-06 12:03 UTC by octocat" }
//! }
//! ```
//!
//! `tag`, `health_url` and `gate` may be absent. `gate` is what the run relied on to deploy the
//! commit: `recorded` (the record said it was verified before), `live` (a live check proved
//! it) or `skipped` (whoever ran it skipped the gate); a reader takes a kind it does not know
//! for no gate. `purpose` is `{"kind": "release"}`,
//! `{"kind": "rollback", "from": {"commit": …, "tag": …}}` or, for the automatic redeploy of the
//! previous release after a failure, `{"kind": "restore", "after": {"commit": …, "tag": …}}`.
//! `ran_by` is `{"kind": "github_actions", "actor", "run_url"}` or
//! `{"kind": "local", "user", "host"}`. A reader ignores fields it does not know, and skips a
//! payload whose `version` is newer than it reads.
//!
//! **A payload cannot change, so everything learnt later is a status**, appended in order.
//! Each description is one line, `CODE[ KEY=VALUE…]: TEXT`, at most 140 characters (the text
//! is cut with `…`); the code counts only with its state, so a status of another tool (or
//! GitHub's own) is not taken for one of these:
//!
//! | state | description | meaning |
//! | --- | --- | --- |
//! | `in_progress` | `started: …` | the run started |
//! | `in_progress` | `deploying app=UUID deployment=UUID: …` | Coolify started deploying an app |
//! | `in_progress` | `deployed app=UUID: …` | Coolify finished deploying it; the probe starts |
//! | `success` | `verified[ app=UUID]: EVIDENCE` | every app proved the commit |
//! | `failure` | `failed_verification[ app=UUID]: EVIDENCE` | a health check did not prove it |
//! | `failure` | `failed_in_coolify[ app=UUID]: EVIDENCE` | Coolify's deployment failed |
//! | `failure` | `rolled_back to=SHA[ to_tag=TAG][ app=UUID]: EVIDENCE` | put back on an earlier release |
//! | `inactive` | `superseded[ by=SHA]: EVIDENCE` | a newer deployment took over first |
//! | `error` | `cancelled: EVIDENCE` | interrupted |
//! | `inactive` | `inactive: …` | removed (a preview) |
//!
//! Every text written goes through the recorder's redaction first, before a description is
//! cut: its token is replaced by `[redacted]`, and so is whatever [`RecorderBuilder::redact`]
//! replaces.
//!
//! Every status carries `log_url` (the Actions run, when there is one) and `environment_url`
//! (the environment's URL, else the first app's health URL). The time of each fact is GitHub's
//! `created_at` of its status, one clock for every runner. The outcome is the newest settling
//! status (`failed_verification` then `rolled_back` reads as rolled back, with both kept in
//! [`Record::outcomes`]); statuses of the same second are ordered as a run writes them.
//!
//! **GitHub's `auto_inactive`**: a new `success` in a persistent environment adds an
//! `inactive` status to the earlier successful deployments there. That status has no code, so
//! a run verified and then superseded still reads [`Outcome::Verified`], with
//! [`Record::inactive_at`] saying since when it no longer runs. Production and transient
//! deployments are not touched by it.
//!
//! # Requests, retries and limits
//!
//! A run writes 2 requests to start, one per app event, and one to settle. Reading the history
//! of 1,000 runs takes 10 GraphQL requests; the runs of one commit take 2. Reads and status
//! writes (an append-only log) are retried on transport errors, timeouts, 5xx and rate limits;
//! creating a deployment only when GitHub proves nothing was created (see [`RetryPolicy`]).
//! A rate limit (429, or 403 with `retry-after`, `x-ratelimit-remaining: 0` or a secondary
//! limit's message) waits what GitHub asks, within the policy's deadline. A 403 "Resource not
//! accessible by integration" is [`Error::MissingPermission`], naming `deployments: write`
//! (or `read`); a 401 is [`Error::Unauthorized`].

pub use crate::client::{RecorderBuilder, RetryPolicy};
pub use crate::error::Error;
pub use crate::model::{
    App, DeploymentId, Environment, EnvironmentKind, Gate, GateKind, Outcome, Purpose, RanBy,
    ReleaseRef, Repository, Settlement, Start,
};
pub use crate::read::{History, HistoryQuery, SkipReason, Skipped};
pub use crate::record::{AppRecord, OutcomeEntry, Probe, Record, Verdict, newest_settled, verdict};
pub use crate::recorder::{Recorder, RunRecord};
/// The Coolify ids and the commit type the record names ([`coolify_client::ApplicationUuid`],
/// [`coolify_client::DeploymentUuid`], [`coolify_client::CommitSha`],
/// [`coolify_client::Timestamp`]).
pub use coolify_client;
/// The HTTP client: [`RecorderBuilder::http_client`] takes a [`reqwest::Client`].
pub use reqwest;
/// The token type: [`Recorder::builder`] takes a [`secrecy::SecretString`].
pub use secrecy;
/// The URL type of health URLs and run URLs.
pub use url;

mod answers;
mod client;
mod encoding;
mod error;
mod model;
mod read;
mod record;
mod recorder;
