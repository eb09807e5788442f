//! What the deploying flows share: the open repository, config, Coolify client and prober,
//! and the one way a commit is put on an environment (pin, deploy, follow, probe), in waves
//! that fit the server.

use std::time::Duration;

use anyhow::Context as _;
use coolify_client::{Client, Deployment, FollowEvent, FollowOptions, PollSchedule};
use health_probe::Prober;
use tag_policy::Releases;

use crate::config::{AppConfig, Config, EnvironmentName};
use crate::output::Output;
use crate::repo::Repo;
use crate::session::Session;

mod aftermath;
mod cancel;
mod checks;
pub(crate) mod cost;
pub(crate) mod gate;
mod image;
mod live;
mod outcome;
mod plan;
pub(crate) mod preview;
mod probe;
mod proxy;
mod queue;
pub(crate) mod record;
mod rollout;
mod unordered;
mod waves;

pub(crate) use self::live::Settled;
pub use self::live::{AppLive, EnvironmentLive, InFlight, Live};
pub(crate) use self::outcome::Fault;
pub(crate) use self::outcome::{Cause, RolloutFailure};
pub(crate) use self::probe::{
    CONTAINER_CHECK_INTERVAL, CONTAINER_CHECKS, EarlyStop, report_probe_event,
};
pub use self::rollout::{AppRollout, Rollout, Timings};
pub(crate) use self::rollout::{OnFailure, Target};

/// Register every probe header value of every environment's apps with `output`, so that it
/// is scrubbed from everything written: a probe header is a credential because of where it
/// comes from, whatever its name.
pub(crate) fn register_probe_secrets(config: &Config, output: &Output) {
    for environment in EnvironmentName::ALL {
        for app in &config.environment(environment).apps {
            for value in app.probe.headers.iter().flatten().map(|(_, value)| value) {
                output.add_secret(value);
            }
        }
    }
}

/// An open repository, its config and the clients, for one flow.
pub(crate) struct Engine {
    pub(crate) repo: Repo,
    pub(crate) config: Config,
    pub(crate) coolify: Client,
    pub(crate) prober: Prober,
    pub(crate) output: Output,
    /// How the user runs stagegate, for the commands messages name.
    pub(crate) invocation: crate::Invocation,
    /// The release record: where outcomes are written and read back.
    pub(crate) record: record::ReleaseRecord,
    /// What this flow changed so far.
    pub(crate) journal: crate::journal::Journal,
}

impl Engine {
    /// Open the repository and config and build the clients.
    pub(crate) fn open(session: &Session) -> anyhow::Result<Self> {
        let repo = session.open_repo()?;
        let config = session.load_config(&repo)?;
        Self::from_parts(session, repo, config)
    }

    /// The engine for a repository and config the flow opened itself (to check its input
    /// before anything else): the Coolify client and prober built, every secret registered
    /// with the output. Nothing is contacted.
    pub(crate) fn from_parts(
        session: &Session,
        repo: Repo,
        config: Config,
    ) -> anyhow::Result<Self> {
        let token = config.token(&session.process_env)?;
        if config.coolify.sends_token_in_clear_text() {
            session.output.warn(format!(
                "the Coolify token goes to {} over plain http, readable by anyone on the way (allow_insecure_http = true in {}): serve Coolify's API over https",
                config.coolify.url,
                config.path.display()
            ));
        }
        register_probe_secrets(&config, &session.output);
        let plain_http = match config.coolify.insecure_http {
            crate::config::InsecureHttp::Allowed => coolify_client::PlainHttp::AnyHost,
            crate::config::InsecureHttp::Refused => coolify_client::PlainHttp::LoopbackOnly,
        };
        let coolify = build_coolify_client(
            &config.coolify.url,
            token,
            plain_http,
            config.coolify.rate_limit_share,
            &session.output,
        )
        .context("set up the Coolify client")?;
        let prober = proxy::prober(&session.process_env)?;
        let record =
            record::ReleaseRecord::open(&session.process_env, &repo, &config, &session.output);
        Ok(Self {
            record,
            repo,
            config,
            coolify,
            prober,
            output: session.output.clone(),
            invocation: session.invocation.clone(),
            journal: session.journal.clone(),
        })
    }

    pub(crate) fn releases(&self) -> anyhow::Result<Releases> {
        Releases::list(&self.repo.git(), &self.config.tags).context("list the release tags")
    }

    /// How a deploy of an image app waits out the app's deployments in flight before it sets
    /// the tag: `deploy.timeout` as the deadline, polled every 500 ms growing to 2 s.
    fn follow_options(&self) -> FollowOptions {
        FollowOptions::with_deadline(self.config.deploy.timeout).poll(PollSchedule::new(
            Duration::from_millis(500),
            Duration::from_secs(2),
        ))
    }

    /// Follow a deployment to its end, reporting status changes under `name`.
    pub(crate) async fn follow_as(
        &self,
        name: String,
        deployment: &coolify_client::DeploymentUuid,
    ) -> Result<Deployment, coolify_client::Error> {
        let output = self.output.clone();
        let options = self.follow_options();
        self.coolify
            .follow(deployment, &options, move |event| match event {
                FollowEvent::Status { status, elapsed } => output.progress(format!(
                    "{name}: deployment {deployment} {status} ({})",
                    seconds(millis(*elapsed))
                )),
                FollowEvent::Commit { commit } => output.detail(format!(
                    "{name}: deployment {deployment} builds {}",
                    commit.short()
                )),
                _ => {}
            })
            .await
    }

    /// How progress lines name an app: `production` with one app, `production worker` with
    /// several.
    pub(crate) fn name_of(&self, environment: EnvironmentName, app: &AppConfig) -> String {
        if self.config.environment(environment).has_several_apps() {
            format!("{environment} {}", app.label)
        } else {
            environment.to_string()
        }
    }
}

/// The team's own workflows that still deploy one of production's apps on a push.
pub(crate) fn production_deploys_on_push(
    engine: &Engine,
) -> Vec<crate::legacy::ProductionDeployOnPush> {
    crate::legacy::production_deploys_on_push(
        engine.repo.root(),
        &crate::legacy::Apps::of(&engine.config),
    )
}

/// The first `named` of `labels`, and how many more: `web, worker, cron and 4 more`.
pub(crate) fn first_few(labels: &[&str], named: usize) -> String {
    let mut text = labels
        .iter()
        .take(named)
        .copied()
        .collect::<Vec<_>>()
        .join(", ");
    if labels.len() > named {
        text.push_str(&format!(" and {} more", labels.len() - named));
    }
    text
}

pub(crate) fn seconds(millis: u64) -> String {
    format!("{:.1}s", millis as f64 / 1000.0)
}

/// Serialise a duration as whole milliseconds.
pub(crate) fn serialize_millis<S: serde::Serializer>(
    duration: &Duration,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.serialize_u64(millis(*duration))
}

pub(crate) fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

/// Run futures concurrently on the current task and collect their outputs in order.
pub(crate) async fn join_all<F: std::future::Future>(
    futures: impl IntoIterator<Item = F>,
) -> Vec<F::Output> {
    let mut futures: Vec<std::pin::Pin<Box<F>>> = futures.into_iter().map(Box::pin).collect();
    let mut outputs: Vec<Option<F::Output>> = futures.iter().map(|_| None).collect();
    std::future::poll_fn(|context| {
        let mut pending = false;
        for (future, output) in futures.iter_mut().zip(outputs.iter_mut()) {
            if output.is_none() {
                match future.as_mut().poll(context) {
                    std::task::Poll::Ready(value) => *output = Some(value),
                    std::task::Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            std::task::Poll::Pending
        } else {
            std::task::Poll::Ready(())
        }
    })
    .await;
    outputs.into_iter().flatten().collect()
}

/// The one way stagegate builds its Coolify client: the token is registered with the output
/// first, so that it is scrubbed from everything written, whatever path it comes back on.
pub(crate) fn coolify_client(
    url: &url::Url,
    token: secrecy::SecretString,
    plain_http: coolify_client::PlainHttp,
    output: &Output,
) -> Result<Client, coolify_client::Error> {
    build_coolify_client(
        url,
        token,
        plain_http,
        crate::config::DEFAULT_RATE_LIMIT_SHARE,
        output,
    )
}

/// [`coolify_client`] keeping to `rate_limit_share` percent of Coolify's rate limit.
fn build_coolify_client(
    url: &url::Url,
    token: secrecy::SecretString,
    plain_http: coolify_client::PlainHttp,
    rate_limit_share: u8,
    output: &Output,
) -> Result<Client, coolify_client::Error> {
    {
        use secrecy::ExposeSecret as _;
        output.add_secret(token.expose_secret());
    }
    Client::builder(url.as_str(), token)
        .user_agent(concat!("stagegate/", env!("CARGO_PKG_VERSION")))
        .plain_http(plain_http)
        .rate_limit_share(rate_limit_share)
        .build()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn join_all_runs_futures_together_and_keeps_their_order() {
        let started = tokio::time::Instant::now();
        let outputs = join_all([3u64, 1, 2].map(|seconds| async move {
            tokio::time::sleep(Duration::from_secs(seconds)).await;
            seconds
        }))
        .await;
        assert_eq!(outputs, [3, 1, 2]);
        // Together: as long as the slowest, not the sum.
        assert_eq!(started.elapsed(), Duration::from_secs(3));
        assert!(
            join_all(Vec::<std::future::Ready<u8>>::new())
                .await
                .is_empty()
        );
    }
}
