//! A stateful fake [Coolify](https://coolify.io) for tests and demos.
//!
//! Anyone who automates Coolify with [`coolify_client`] (or any other HTTP client) can test
//! against this instead of a real server: it speaks the same JSON on the same paths, with the
//! quirks the real API has (see the crate README for the list it covers).
//!
//! [`FakeCoolify`] is a small HTTP server on loopback that runs on the caller's tokio runtime,
//! so tests with a paused clock (`#[tokio::test(start_paused = true)]`) drive its deployments:
//! each moves `queued -> in_progress -> finished|failed` as tokio time passes. It checks the
//! bearer token and the token's abilities, keeps the pin (`git_commit_sha`) and the
//! "already queued for this commit" dedupe (with Coolify's bogus fresh uuid), creates preview
//! copies of environment variables and hides their values unless configured as
//! `read:sensitive`, records every request, and lets tests script outcomes and inject faults.
//! Docker-image applications ([`FakeApplication::docker_image`]) pull tags from a registry
//! ([`FakeCoolify::push_image`]); the images kept on each application's server back
//! `rollback-images` and make a redeploy of a kept commit skip its build
//! ([`FakeCoolify::images_of`], [`FakeCoolify::cleanup_images`]); the container status can
//! fail after a deployment ([`FakeCoolify::crash_after_next_deployment`]).
//!
//! The server's limits are Coolify's: the API rate limit with its headers and its `429`
//! ([`FakeCoolify::set_rate_limit`], default 200 a minute), two concurrent builds and a queue of
//! 25 ([`FakeCoolify::set_concurrent_builds`], [`FakeCoolify::set_deployment_queue_limit`]), a
//! full queue's `429`, and the cancel endpoint as each version answers it
//! ([`FakeCoolify::set_version`]). [`FakeCoolify::traffic`] counts what a client cost: requests
//! per route, `429`s, the most requests in any 60 s ([`Traffic`]).
//!
//! Pull-request previews are created by a simulated webhook
//! ([`FakeCoolify::pull_request_opened`]) or by a docker-tag deploy of a Docker-image
//! application, deployed beside the application, listed with their URL
//! ([`FakeCoolify::previews`]) and removed by `DELETE` or the webhook's `closed`. The fake's
//! proxy ([`FakeCoolify::proxy_url`]) routes an application's or a preview's domain to the local
//! server a test lets stand for its container ([`FakeCoolify::serve_preview_from`]).
//!
//! ```
//! use std::time::Duration;
//! use coolify_fake::{FakeApplication, FakeCoolify};
//! use coolify_client::{CommitSha, FollowOptions, ForceRebuild};
//!
//! # #[tokio::main(flavor = "current_thread", start_paused = true)]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let fake = FakeCoolify::start().await?;
//! let app = fake.add_application(FakeApplication::new("staging-app").build_time(Duration::from_secs(30)));
//! let client = fake.client_builder().build()?;
//!
//! let commit: CommitSha = "4f2a9c1e0b7d3a5f6c8e9d0a1b2c3d4e5f6a7b8c".parse()?;
//! let started = client.deploy_commit(&app, &commit, ForceRebuild::No).await?;
//! let finished = client.follow(&started.deployment, &FollowOptions::default(), |_| {}).await?;
//! assert_eq!(finished.resolved_commit(), Some(commit));
//! let deploys = fake.requests_for(&app).into_iter().filter(|request| request.path() == "/api/v1/deploy");
//! assert_eq!(deploys.count(), 1);
//! assert_eq!(fake.traffic().rate_limited(), 0);
//! # Ok(())
//! # }
//! ```

mod envs;
mod lifecycle;
mod limiter;
mod previews;
mod proxy;
mod routes;
mod server;
mod state;
mod version;
mod wire;

pub use self::limiter::Traffic;
pub use self::previews::FakePreview;
pub use self::server::{DEFAULT_TOKEN, FakeCoolify};
pub use self::state::{
    Ability, FakeApplication, Fault, FaultRule, FinishedDeployment, GitSource, RecordedRequest,
};
/// The client whose types this crate's signatures use ([`coolify_client::ApplicationUuid`],
/// [`coolify_client::ClientBuilder`], …); its own re-exports bring `secrecy` and `serde_json`.
pub use coolify_client;
