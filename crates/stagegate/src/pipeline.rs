//! What the deploying flows share: the open repository, config, Coolify client and prober,
//! and the one way a commit is put on an environment (pin, deploy, follow, probe).

use std::time::{Duration, Instant};

use anyhow::Context as _;
use coolify_client::{
    Client, CommitSha, Deployment, DeploymentOrigin, FollowEvent, FollowOptions, ForceRebuild,
    PollSchedule,
};
use health_probe::{Outcome, ProbeSpec, Prober, ProgressEvent, Variables};
use serde::Serialize;
use tag_policy::{ReleaseTag, Releases};
use tokio_util::sync::CancellationToken;

use crate::config::{Config, EnvironmentName};
use crate::exit::Refused;
use crate::output::Output;
use crate::repo::{Repo, oid, short};
use crate::session::Session;

/// An open repository, its config and the clients, for one flow.
pub(crate) struct Pipeline {
    pub(crate) repo: Repo,
    pub(crate) config: Config,
    pub(crate) coolify: Client,
    pub(crate) prober: Prober,
    pub(crate) output: Output,
    /// How the user runs stagegate, for the commands messages name.
    pub(crate) invocation: crate::Invocation,
    /// What this flow changed so far.
    pub(crate) journal: crate::journal::Journal,
}

/// How long the reads that describe what each environment runs may take at the end of a
/// failure: a Coolify that stopped answering must not hold the error line back for minutes.
const AFTERMATH_BUDGET: Duration = Duration::from_secs(5);

/// What production looked like before and after waiting for an in-flight deployment.
#[derive(Debug, Clone)]
pub(crate) struct Settled {
    /// Before any wait.
    pub(crate) before: Live,
    /// Once no deployment is in flight (or, in a dry run, the same as `before`).
    pub(crate) live: Live,
    /// The in-flight deployment that was waited for, if it finished.
    pub(crate) waited: Option<Waited>,
}

/// An in-flight deployment that was followed to its end.
#[derive(Debug, Clone)]
pub(crate) struct Waited {
    /// Its uuid.
    pub(crate) deployment: String,
    /// The commit it built.
    pub(crate) commit: Option<CommitSha>,
    /// Whether it finished (rather than failed or was cancelled).
    pub(crate) finished: bool,
    /// How long it was followed.
    pub(crate) waited: Duration,
}

/// What putting a commit on an environment did.
#[derive(Debug, Clone, Serialize)]
pub struct Rollout {
    /// Which environment.
    pub environment: EnvironmentName,
    /// The full SHA now serving.
    pub commit: String,
    /// The release tag deployed, if any.
    pub tag: Option<String>,
    /// The Coolify deployment that built it.
    pub deployment: String,
    /// Whether the deployment was queued by this run or joined an identical one in flight.
    pub joined_existing: bool,
    /// How long each phase took.
    pub timings: Timings,
    /// The health evidence.
    pub probe: Outcome,
}

/// Phase durations of a rollout, in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Timings {
    /// Pin and trigger.
    pub trigger_ms: u64,
    /// From trigger until Coolify reported a terminal status.
    pub deployment_ms: u64,
    /// From then until the health endpoint proved the commit.
    pub probe_ms: u64,
    /// Everything.
    pub total_ms: u64,
}

impl std::fmt::Display for Timings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "deployment {}, probe {}, total {}",
            seconds(self.deployment_ms),
            seconds(self.probe_ms),
            seconds(self.total_ms)
        )
    }
}

pub(crate) fn seconds(millis: u64) -> String {
    format!("{:.1}s", millis as f64 / 1000.0)
}

pub(crate) fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

/// What an environment runs, as far as Coolify knows.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Live {
    /// The commit of the newest finished deployment.
    pub commit: Option<CommitSha>,
    /// Its deployment uuid.
    pub deployment: Option<String>,
    /// The release tags of that commit, lowest precedence first.
    pub tags: Vec<String>,
    /// A queued or running deployment, if any.
    pub in_flight: Option<InFlight>,
}

/// A deployment that has not finished.
#[derive(Debug, Clone, Serialize)]
pub struct InFlight {
    /// Its uuid.
    pub deployment: String,
    /// Its commit, once Coolify resolved it.
    pub commit: Option<CommitSha>,
    /// `queued` or `in_progress`.
    pub status: String,
}

impl Live {
    /// `v1.2.0 (abc1234)`, `abc1234`, or `nothing yet`.
    pub fn describe(&self) -> String {
        match (&self.commit, self.tags.last()) {
            (Some(commit), Some(tag)) => format!("{tag} ({})", commit.short()),
            (Some(commit), None) => commit.short().to_owned(),
            (None, _) => "no finished deployment".to_owned(),
        }
    }
}

impl Live {
    /// The highest release tag of the live commit.
    pub fn current_release(&self, releases: &Releases) -> Option<ReleaseTag> {
        self.tags
            .iter()
            .filter_map(|name| releases.find(name))
            .map(|release| release.tag().clone())
            .max()
    }
}

impl Pipeline {
    /// What production runs once no deployment is in flight: reads what is live, waits for
    /// an in-flight deployment (except in a dry run, which never waits), then reads again.
    pub(crate) async fn settle_production(
        &self,
        releases: &Releases,
        dry_run: crate::DryRun,
    ) -> anyhow::Result<Settled> {
        let before = self.live(EnvironmentName::Production, releases).await?;
        if dry_run.is_dry() || before.in_flight.is_none() {
            return Ok(Settled {
                live: before.clone(),
                before,
                waited: None,
            });
        }
        let waited = self.wait_for_in_flight(EnvironmentName::Production).await?;
        let live = self.live(EnvironmentName::Production, releases).await?;
        Ok(Settled {
            before,
            live,
            waited,
        })
    }

    /// Open the repository and config and build the clients.
    pub(crate) fn open(session: &Session) -> anyhow::Result<Self> {
        let repo = session.open_repo()?;
        let config = session.load_config(&repo)?;
        let token = config.token(&session.environment)?;
        {
            use secrecy::ExposeSecret as _;
            session.output.add_secret(token.expose_secret());
        }
        for environment in EnvironmentName::ALL {
            for (name, value) in config
                .environment(environment)
                .probe
                .headers
                .iter()
                .flatten()
            {
                if is_secret_header(name) {
                    session.output.add_secret(value);
                }
            }
        }
        let coolify = Client::builder(config.coolify.url.as_str(), token)
            .user_agent(concat!("stagegate/", env!("CARGO_PKG_VERSION")))
            .build()
            .context("set up the Coolify client")?;
        let prober = Prober::new().context("set up the health prober")?;
        Ok(Self {
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
        Releases::list(self.repo.git(), &self.config.tags).context("list the release tags")
    }

    /// What an environment runs now.
    pub(crate) async fn live(
        &self,
        environment: EnvironmentName,
        releases: &Releases,
    ) -> anyhow::Result<Live> {
        let app = &self.config.environment(environment).app;
        let finished = self
            .coolify
            .latest_finished_deployment(app)
            .await
            .with_context(|| format!("read {environment}'s deployments"))?;
        let in_flight = self
            .coolify
            .in_flight_deployment(app)
            .await
            .with_context(|| format!("read {environment}'s deployments"))?;
        Ok(self.describe_live(finished.as_ref(), in_flight.as_ref(), releases))
    }

    fn describe_live(
        &self,
        finished: Option<&Deployment>,
        in_flight: Option<&Deployment>,
        releases: &Releases,
    ) -> Live {
        let commit = finished.and_then(Deployment::resolved_commit);
        let tags = commit
            .as_ref()
            .and_then(oid)
            .map(|oid| {
                releases
                    .at_commit(oid)
                    .map(|release| release.tag().name().to_owned())
                    .collect()
            })
            .unwrap_or_default();
        Live {
            commit,
            deployment: finished.map(|d| d.deployment_uuid.to_string()),
            tags,
            in_flight: in_flight.map(|d| InFlight {
                deployment: d.deployment_uuid.to_string(),
                commit: d.resolved_commit(),
                status: d.status.to_string(),
            }),
        }
    }

    /// The placeholders of `expect_json`.
    pub(crate) fn variables(
        environment: EnvironmentName,
        commit: &str,
        tag: Option<&ReleaseTag>,
    ) -> Variables {
        let mut variables = Variables::new()
            .with_identity("commit", commit)
            .with_identity("short_commit", short(commit))
            .with("environment", environment.as_str());
        if let Some(tag) = tag {
            variables.insert_identity("tag", tag.name());
            variables.insert_identity("version", tag.version_str());
        }
        variables
    }

    pub(crate) fn probe_spec(
        &self,
        environment: EnvironmentName,
        commit: &str,
        tag: Option<&ReleaseTag>,
    ) -> anyhow::Result<ProbeSpec> {
        let section = self.config.environment(environment);
        section
            .probe
            .to_spec(
                section.health_url.clone(),
                &Self::variables(environment, commit, tag),
            )
            .map_err(|error| {
                crate::BadInput(format!("{}: [probe]: {error}", self.config.path.display())).into()
            })
    }

    /// Probe an environment until it proves it serves `commit`.
    pub(crate) async fn probe(
        &self,
        environment: EnvironmentName,
        commit: &str,
        tag: Option<&ReleaseTag>,
    ) -> anyhow::Result<Outcome> {
        let spec = self.probe_spec(environment, commit, tag)?;
        let output = self.output.clone();
        output.step(format!(
            "{environment}: probing {} until it reports {}",
            spec.url(),
            short(commit)
        ));
        let outcome = self
            .prober
            .probe_with(&spec, &CancellationToken::new(), |event| {
                report_probe_event(&output, environment, event);
            })
            .await;
        Ok(outcome)
    }

    /// Follow a deployment to its end, reporting status changes.
    pub(crate) async fn follow(
        &self,
        environment: EnvironmentName,
        deployment: &coolify_client::DeploymentUuid,
    ) -> Result<Deployment, coolify_client::Error> {
        let output = self.output.clone();
        // Polls every 750 ms at most: a finished deployment is seen within that, at well under
        // two requests a second.
        let options = FollowOptions::with_deadline(self.config.deploy.timeout).poll(
            PollSchedule::new(Duration::from_millis(500), Duration::from_millis(750)),
        );
        self.coolify
            .follow(deployment, &options, move |event| match event {
                FollowEvent::Status { status, elapsed } => output.progress(format!(
                    "{environment}: deployment {deployment} {status} ({})",
                    seconds(millis(*elapsed))
                )),
                FollowEvent::Commit { commit } => output.detail(format!(
                    "{environment}: deployment {deployment} builds {}",
                    commit.short()
                )),
                _ => {}
            })
            .await
    }

    /// Pin `commit` on an environment, deploy it, follow the deployment and probe until the
    /// health endpoint reports it.
    pub(crate) async fn roll_out(
        &self,
        environment: EnvironmentName,
        sha: &CommitSha,
        tag: Option<&ReleaseTag>,
    ) -> anyhow::Result<Rollout> {
        let commit = sha.as_str();
        let app = &self.config.environment(environment).app;
        // Fail on a bad probe config, and on a token that may not deploy, before anything is
        // changed: a pin followed by a refused deploy would leave production pinned to a
        // commit it does not run (a token without `write` fails the pin itself).
        self.probe_spec(environment, commit, tag)?;
        self.coolify.check_deploy_ability().await.with_context(|| {
            format!(
                "check that the token may deploy {environment} (app {app}); nothing was changed"
            )
        })?;
        let started = Instant::now();
        self.output.step(format!(
            "{environment}: pinning app {app} to {} and deploying",
            short(commit)
        ));
        self.journal.write(format!(
            "pin {environment} (app {app}) to {}",
            short(commit)
        ));
        let deployment = self
            .coolify
            .deploy_commit(app, sha, ForceRebuild::No)
            .await
            .with_context(|| format!("deploy {} to {environment} (app {app})", short(commit)))?;
        self.journal
            .deployment(environment, deployment.deployment.to_string());
        let triggered = Instant::now();
        if deployment.origin == DeploymentOrigin::AlreadyQueued {
            self.output.step(format!(
                "{environment}: a deployment of {} was already queued; following {} instead of stacking another",
                short(commit),
                deployment.deployment
            ));
        }
        let finished = self
            .follow(environment, &deployment.deployment)
            .await
            .with_context(|| {
                format!("follow {environment} deployment {}", deployment.deployment)
            })?;
        if let Some(built) = finished.resolved_commit()
            && !finished.is_of_commit(sha)
        {
            let context = format!(
                "{environment} deployment {} built {} instead of {}",
                deployment.deployment,
                built.short(),
                sha.short()
            );
            return Err(match self.coolify.explain_other_commit(app, sha).await {
                Ok(explanation) => anyhow::Error::new(explanation).context(context),
                Err(error) => anyhow::Error::new(error)
                    .context(format!("{context}; read app {app} to find out why")),
            });
        }
        let deployed = Instant::now();
        self.output.step(format!(
            "{environment}: deployment {} finished in {}",
            deployment.deployment,
            seconds(millis(deployed.duration_since(triggered)))
        ));
        let probe = self.probe(environment, commit, tag).await?;
        let done = Instant::now();
        if !probe.is_healthy() {
            return Err(anyhow::Error::new(ProbeFailed(
                probe.clone(),
                EarlyStop::of(&self.config.environment(environment).probe),
            ))
            .context(format!(
                "probe {}",
                self.config.environment(environment).health_url
            )));
        }
        self.output.step(format!(
            "{environment}: {} serves {} ({} attempts)",
            self.config.environment(environment).health_url,
            short(commit),
            probe.attempt_count()
        ));
        Ok(Rollout {
            environment,
            commit: commit.to_owned(),
            tag: tag.map(|tag| tag.name().to_owned()),
            deployment: deployment.deployment.to_string(),
            joined_existing: deployment.origin == DeploymentOrigin::AlreadyQueued,
            timings: Timings {
                trigger_ms: millis(triggered.duration_since(started)),
                deployment_ms: millis(deployed.duration_since(triggered)),
                probe_ms: millis(done.duration_since(deployed)),
                total_ms: millis(done.duration_since(started)),
            },
            probe,
        })
    }

    /// Wait for an environment's in-flight deployment instead of stacking another; past the
    /// deploy timeout, refuse.
    pub(crate) async fn wait_for_in_flight(
        &self,
        environment: EnvironmentName,
    ) -> anyhow::Result<Option<Waited>> {
        let app = &self.config.environment(environment).app;
        let Some(in_flight) = self
            .coolify
            .in_flight_deployment(app)
            .await
            .with_context(|| format!("read {environment}'s deployments"))?
        else {
            return Ok(None);
        };
        self.output.step(format!(
            "{environment}: deployment {} is {}; waiting for it before deploying",
            in_flight.deployment_uuid, in_flight.status
        ));
        let started = Instant::now();
        let waited = |finished: Option<&Deployment>| Waited {
            deployment: in_flight.deployment_uuid.to_string(),
            commit: finished
                .and_then(Deployment::resolved_commit)
                .or_else(|| in_flight.resolved_commit()),
            finished: finished.is_some(),
            waited: started.elapsed(),
        };
        match self.follow(environment, &in_flight.deployment_uuid).await {
            Ok(finished) => Ok(Some(waited(Some(&finished)))),
            Err(coolify_client::Error::DeploymentFailed { .. })
            | Err(coolify_client::Error::DeploymentCancelled { .. }) => Ok(Some(waited(None))),
            Err(coolify_client::Error::DeadlineExceeded { after, .. }) => Err(Refused(format!(
                "{environment} deployment {} is still in flight after {}; wait for it or cancel it in Coolify, then run this again",
                in_flight.deployment_uuid,
                humantime::format_duration(after)
            ))
            .into()),
            Err(error) => Err(anyhow::Error::new(error)
                .context(format!("wait for {environment} deployment {}", in_flight.deployment_uuid))),
        }
    }

    /// A sentence on what each environment runs now, for the end of a failure message; it
    /// never fails (an unreadable environment is said to be unknown) and takes at most
    /// [`AFTERMATH_BUDGET`].
    pub(crate) async fn aftermath(&self, releases: &Releases) -> String {
        self.aftermath_with(releases, None).await
    }

    /// [`Pipeline::aftermath`], adding what an environment's health endpoint reported when
    /// that differs from what Coolify deployed.
    pub(crate) async fn aftermath_with(
        &self,
        releases: &Releases,
        health: Option<(EnvironmentName, String)>,
    ) -> String {
        let until = tokio::time::Instant::now() + AFTERMATH_BUDGET;
        let mut parts = Vec::new();
        for environment in EnvironmentName::ALL {
            let app = &self.config.environment(environment).app;
            let pinned = match tokio::time::timeout_at(until, self.coolify.application(app)).await {
                Ok(Ok(application)) => application.pinned_commit().map(str::to_owned),
                _ => None,
            };
            let live = tokio::time::timeout_at(until, self.live(environment, releases)).await;
            let text = match live {
                Err(_) => format!(
                    "{environment}: unknown (Coolify did not answer within {})",
                    seconds(millis(AFTERMATH_BUDGET))
                ),
                Ok(Ok(live)) => {
                    let reported = health
                        .as_ref()
                        .filter(|(name, _)| *name == environment)
                        .map(|(_, reported)| reported);
                    let mut text = match reported {
                        Some(reported) => format!(
                            "{environment}'s latest finished Coolify deployment is {}, but its health endpoint still reports {reported}",
                            live.describe()
                        ),
                        None => format!("{environment} runs {}", live.describe()),
                    };
                    if let Some(pinned) = pinned
                        && live.commit.as_ref().map(CommitSha::as_str) != Some(pinned.as_str())
                    {
                        text.push_str(&format!(" (app pinned to {})", short(&pinned)));
                    }
                    if let Some(in_flight) = live.in_flight {
                        text.push_str(&format!(
                            ", deployment {} still {}",
                            in_flight.deployment, in_flight.status
                        ));
                    }
                    text
                }
                Ok(Err(_)) => format!("{environment}: unknown (Coolify unreachable)"),
            };
            parts.push(text);
        }
        parts.join("; ")
    }
}

/// Whether a probe header's value is a credential, to keep out of every output.
fn is_secret_header(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    [
        "auth", "token", "key", "secret", "cookie", "password", "session",
    ]
    .iter()
    .any(|word| name.contains(word))
}

/// A probe that did not prove the commit; its evidence travels with the error, with the
/// rule that can stop a probe early to word such a stop.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{}", .1.describe(&.0.verdict))]
pub struct ProbeFailed(pub Outcome, pub EarlyStop);

/// The failure threshold and the switch-over window a probe ran with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct EarlyStop {
    /// Consecutive counted failures that end the probe (0: none).
    pub failure_threshold: u32,
    /// The window from the start of the probe in which failures do not count.
    pub switch_over: Duration,
}

impl EarlyStop {
    fn of(probe: &health_probe::ProbeConfig) -> Self {
        Self {
            failure_threshold: probe.failure_threshold.unwrap_or(0),
            switch_over: probe.switch_over.unwrap_or_default(),
        }
    }

    /// The verdict in words: an early stop says how many failures after which window.
    fn describe(&self, verdict: &health_probe::Verdict) -> String {
        match verdict {
            health_probe::Verdict::Unhealthy {
                reason,
                stopped_by: health_probe::Stop::FailureThreshold,
            } if self.switch_over.is_zero() => format!(
                "health check failed {} times in a row (last: {reason})",
                self.failure_threshold
            ),
            health_probe::Verdict::Unhealthy {
                reason,
                stopped_by: health_probe::Stop::FailureThreshold,
            } => format!(
                "health check failed {} times in a row after the {} switch-over (last: {reason})",
                self.failure_threshold,
                humantime::format_duration(self.switch_over)
            ),
            other => other.to_string(),
        }
    }
}

fn report_probe_event(output: &Output, environment: EnvironmentName, event: &ProgressEvent) {
    match event {
        ProgressEvent::AttemptFinished {
            attempt,
            consecutive_passes,
            success_threshold,
        } => output.progress(format!(
            "{environment}: health {attempt} ({consecutive_passes}/{success_threshold} passes)"
        )),
        ProgressEvent::Waiting { .. } | ProgressEvent::Started { .. } => {
            output.detail(format!("{environment}: {event}"));
        }
        _ => {}
    }
}
