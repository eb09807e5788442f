//! A typed async client for the [Coolify](https://coolify.io) v4 API that tells the truth about
//! a deployment.
//!
//! One method per endpoint (deploy, deployments, applications, environment variables, version),
//! typed models that tolerate unknown and hidden fields, one [`Error`] that keeps the HTTP status
//! and Coolify's message, and retries that never replay a deploy. On top of the endpoints sit the
//! operations a release flow needs: [`Client::deploy_commit`] pins a commit and deploys it
//! (resolving Coolify's "already queued" answer to the real deployment), [`Client::follow`] waits
//! for a terminal status with an adaptive poll, and the lookups find the latest finished or
//! in-flight deployment of an application, or the deployment of a given commit.
//! Docker-image applications deploy an [`ImageTag`] with [`Client::deploy_image_tag`], and
//! [`Client::rollback_images`] tells whether a commit's or a tag's image is still on the
//! server, so a rollback knows whether it rebuilds.
//!
//! Many deployments are followed for the cost of one: [`Client::watch`] and
//! [`Client::follow_many`] poll `GET /deployments` once per tick, whatever their number. The
//! client paces itself under Coolify's rate limit from the headers of every answer, within its
//! share of the limit ([`ClientBuilder::rate_limit_share`]), so that a `429` is an exception;
//! see [`Client`]. Pull-request previews are deployed with [`Client::deploy_preview`], whose
//! "no such preview" answer is [`PreviewOutcome::NoPreview`], removed with
//! [`Client::delete_preview`], and their URL computed as Coolify does with
//! [`Application::preview_url`]. [`Client::cancel_deployment`] types the answers of each
//! Coolify version.
//!
//! The token is a [`secrecy::SecretString`]: it is only exposed to build the `Authorization`
//! header, never logged, never put in an error, and never sent after a redirect (redirects are
//! not followed). Plain http is refused for any host but this machine unless asked for
//! ([`PlainHttp`]), and a certificate problem is its own error ([`Error::Tls`]), never retried.
//!
//! # Example
//!
//! Deploy a commit and follow it to its end. This needs a Coolify server and a token with the
//! `read`, `write` and `deploy` abilities; the `coolify-fake` crate runs the same code against a
//! stateful fake Coolify on loopback, for tests.
//!
//! ```no_run
//! use std::time::Duration;
//!
//! use coolify_client::secrecy::SecretString;
//! use coolify_client::{Client, CommitSha, FollowEvent, FollowOptions, ForceRebuild};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let token = SecretString::from(std::env::var("COOLIFY_TOKEN")?);
//! let client = Client::builder("https://coolify.example.com", token).build()?;
//! let app = "vgsco4o4wc8w0ok8gwgk8w0o".parse()?;
//! let commit: CommitSha = "4f2a9c1e0b7d3a5f6c8e9d0a1b2c3d4e5f6a7b8c".parse()?;
//!
//! let started = client.deploy_commit(&app, &commit, ForceRebuild::No).await?;
//! let options = FollowOptions::with_deadline(Duration::from_secs(600));
//! let finished = client
//!     .follow(&started.deployment, &options, |event| {
//!         if let FollowEvent::Status { status, elapsed } = event {
//!             eprintln!("{status} after {elapsed:?}");
//!         }
//!     })
//!     .await?;
//! if finished.is_of_commit(&commit) {
//!     println!("deployed {}", commit.short());
//! } else {
//!     // Re-pinned by someone else meanwhile, or a Coolify that ignores pins.
//!     return Err(client.explain_other_commit(&app, &commit).await.into());
//! }
//! # Ok(())
//! # }
//! ```
//!
//! What a dry run shows, and how errors read, without a server:
//!
//! ```
//! use coolify_client::secrecy::SecretString;
//! use coolify_client::{ApplicationUuid, Client, CommitSha, Error, ForceRebuild};
//!
//! let app: ApplicationUuid = "vgsco4o4wc8w0ok8gwgk8w0o".parse()?;
//! let commit: CommitSha = "4f2a9c1e0b7d3a5f6c8e9d0a1b2c3d4e5f6a7b8c".parse()?;
//! for write in Client::planned_deploy_commit(&app, &commit, ForceRebuild::No) {
//!     println!("would send {write}"); // PATCH /api/v1/applications/vgsco4o4wc8w0ok8gwgk8w0o {...}
//! }
//!
//! let error = Client::builder("http://coolify.example.com", SecretString::from("1|token"))
//!     .build()
//!     .unwrap_err();
//! assert!(matches!(error, Error::InvalidConfig { field: "base_url", .. }));
//! assert!(error.to_string().contains("clear text"));
//! # Ok::<(), Error>(())
//! ```

pub use crate::cancel::CancelOutcome;
pub use crate::client::{Client, ClientBuilder, PlainHttp, RetryPolicy, api_base_url};
pub use crate::commit::CommitSha;
pub use crate::env_plan::{EnvWrite, KeyDiff, KeyState, Prune, WriteKind, env_diff, env_plan};
pub use crate::env_record::{EnvVarRecord, RecordValues, ValueState};
pub use crate::error::{Error, PinKind, Resource, TlsProblem};
pub use crate::ids::{ApplicationUuid, DeploymentUuid, EnvVarUuid, ProjectUuid};
pub use crate::image::{ImageName, ImageTag};
pub use crate::models::{
    Application, ApplicationPatch, ApplicationSettings, AutoDeploy, ContainerHealth,
    ContainerStatus, DeployOutcome, Deployment, DeploymentPage, DeploymentStatus, EnvVar,
    EnvVarInput, ForceRebuild, ImageAvailability, Project, ProjectEnvironment, RollbackImage,
    RollbackImages, UnknownImages, validate_env_key,
};
pub use crate::operations::{
    CurrentDeployments, DeploymentOrigin, DeploymentPages, FollowEvent, FollowOptions,
    HISTORY_WINDOW, PlannedRequest, PollSchedule, StartedDeployment, StartedImageDeployment,
};
pub use crate::previews::{
    DEFAULT_PREVIEW_URL_TEMPLATE, PreviewDeployments, PreviewOutcome, PreviewRemoval,
    PreviewUrlProblem, PullRequestId,
};
pub use crate::repository::RepositoryId;
pub use crate::timestamp::Timestamp;
pub use crate::watch::{DeploymentWatch, WatchOptions, WatchUpdate};
/// The HTTP client this crate uses: [`ClientBuilder::http_client`] takes a
/// [`reqwest::Client`], and [`Error::Transport`] carries a [`reqwest::Error`].
pub use reqwest;
/// The token type: [`Client::builder`] takes a [`secrecy::SecretString`].
pub use secrecy;
/// The JSON values of the fields this crate keeps untyped ([`Application::extra`]).
pub use serde_json;
/// The URL type of [`Client::api_base`].
pub use url;

mod cancel;
mod client;
mod commit;
mod env_plan;
mod env_record;
mod error;
mod ids;
mod image;
mod logs;
mod models;
mod newtype;
mod operations;
mod pacing;
mod previews;
mod repository;
mod timestamp;
mod watch;

/// The README's examples, compiled as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
