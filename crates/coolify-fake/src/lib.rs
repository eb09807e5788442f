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
//! let deploys = fake.requests_for(&app).into_iter().filter(|request| request.path == "/api/v1/deploy");
//! assert_eq!(deploys.count(), 1);
//! # Ok(())
//! # }
//! ```

mod server;
mod state;

pub use self::server::{DEFAULT_TOKEN, FakeCoolify};
pub use self::state::{
    Ability, FakeApplication, Fault, FaultRule, FinishedDeployment, RecordedRequest,
};
/// The client whose types this crate's signatures use ([`coolify_client::ApplicationUuid`],
/// [`coolify_client::ClientBuilder`], …); its own re-exports bring `secrecy` and `serde_json`.
pub use coolify_client;
