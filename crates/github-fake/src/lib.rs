//! A stateful fake of [GitHub's deployments API](https://docs.github.com/en/rest/deployments)
//! for tests and demos: code that records releases as GitHub deployments (with any HTTP client)
//! can run against it instead of GitHub.
//!
//! [`FakeGitHub`] is a small HTTP server on loopback that runs on the caller's tokio runtime.
//! It keeps deployments and their statuses and behaves as GitHub does where tools trip:
//!
//! - creating a deployment (`POST /repos/{owner}/{repo}/deployments`): `ref` resolved to a sha
//!   (a full sha, or a name given to [`FakeGitHub::set_ref`]; otherwise 422 "No ref found"),
//!   `auto_merge` true by default (409 "Conflict merging main into …" for any `ref` but the
//!   default branch), `required_contexts` absent means every context (409 "Commit status
//!   checks failed" while [`FakeGitHub::set_status_checks_pending`] is on, the default),
//!   `environment` `production` by default with `production_environment` following it,
//!   `payload` as an object or JSON text, descriptions of more than 140 characters refused
//!   with 422;
//! - listing deployments newest first with the `sha`, `ref`, `task` and `environment` filters,
//!   `per_page` (at most 100), `page` and a `link` header; one deployment; deleting one, which
//!   GitHub allows only when it is inactive or alone in its environment;
//! - statuses (create, list newest first), with `auto_inactive`: a new `success` adds an
//!   `inactive` status to every earlier successful deployment of the same environment that is
//!   neither production nor transient;
//! - the GraphQL deployments queries (`repository.deployments(environments:, first:, after:,
//!   orderBy:)` and `nodes(ids:)`), answered in GitHub's JSON shape with `statuses(first: N)`
//!   oldest first (see the `graphql` module's note: only these queries are recognized);
//! - the token (401 "Bad credentials"), the `deployments` permission ([`Permission`]: 403
//!   "Resource not accessible by integration", or GraphQL's `FORBIDDEN`), the primary rate
//!   limit with GitHub's `x-ratelimit-*` headers ([`FakeGitHub::set_rate_limit`]), a secondary
//!   limit on writes ([`FakeGitHub::limit_writes_per_minute`]), and injected faults
//!   ([`Fault`]: secondary limits, 429, 5xx, HTML, dropped connections, delays);
//! - a log of every request with its `Accept` and `X-GitHub-Api-Version` headers;
//! - a base path, to stand for GitHub Enterprise Server (`/api/v3`, GraphQL at `/api/graphql`).
//!
//! Its clock starts at 2026-08-01T12:00:00Z (or [`FakeGitHubBuilder::epoch`]) and moves with
//! tokio's clock, so under `#[tokio::test(start_paused = true)]` every timestamp is stable and
//! `tokio::time::advance` moves it.
//!
//! # Example
//!
//! ```
//! use github_fake::FakeGitHub;
//!
//! # #[tokio::main(flavor = "current_thread", start_paused = true)]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let github = FakeGitHub::start().await?;
//! # let http = reqwest::Client::new();
//! let created = http
//!     .post(format!("{}/repos/{}/deployments", github.api_url(), github.repository()))
//!     .bearer_auth(github.token())
//!     .json(&serde_json::json!({
//!         "ref": "9579fc7e0b7d3a5f6c8e9d0a1b2c3d4e5f6a7b8c",
//!         "environment": "staging",
//!         "auto_merge": false,
//!         "required_contexts": [],
//!     }))
//!     .send()
//!     .await?;
//! assert_eq!(created.status(), 201);
//!
//! let deployments = github.deployments();
//! assert_eq!(deployments[0].environment, "staging");
//! assert_eq!(deployments[0].created_at, "2026-08-01T12:00:00Z");
//! assert_eq!(github.requests()[0].path, "/repos/acme/api/deployments");
//! # Ok(())
//! # }
//! ```

mod graphql;
mod rest;
mod server;
mod state;

pub use self::server::{
    DEFAULT_EPOCH_SECONDS, DEFAULT_REPOSITORY, DEFAULT_TOKEN, FakeGitHub, FakeGitHubBuilder,
};
pub use self::state::{FakeDeployment, FakeStatus, Fault, FaultRule, Permission, RecordedRequest};
