//! Following many deployments for the cost of one: one `GET /deployments` per poll.
//!
//! Coolify's `GET /deployments` lists every queued and in-progress deployment of the team in
//! one answer. A followed deployment in that list reports its status and commit from it; one
//! that left the list has ended, and one read of it (`GET /deployments/{uuid}`) gives its final
//! status. So following N deployments costs one request per poll plus one per deployment once,
//! whatever N is.

use std::collections::VecDeque;
use std::time::Duration;

use tokio::time::Instant;

use crate::models::{Deployment, DeploymentStatus};
use crate::operations::{FollowEvent, PollSchedule};
use crate::{Client, DeploymentUuid, Error};

/// How a [`DeploymentWatch`] polls and how long it waits for each deployment.
///
/// `#[non_exhaustive]`: build one with [`WatchOptions::default`] or
/// [`WatchOptions::with_deadline`], then [`WatchOptions::poll`].
///
/// ```compile_fail
/// let options = coolify_client::WatchOptions {
///     deadline: std::time::Duration::from_secs(60),
///     poll: coolify_client::PollSchedule::default(),
/// };
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct WatchOptions {
    /// How long each deployment is followed, from when it is added (default 20 min); past it,
    /// it ends with [`Error::DeadlineExceeded`].
    pub deadline: Duration,
    /// The polling schedule: immediately, then `first`, growing by half each poll up to `max`,
    /// and back to `first` when a deployment is added (default 500 ms growing to 2 s: a
    /// deployment that ends is seen within 2 s, and a long build costs 30 requests a minute
    /// whatever the number of deployments).
    pub poll: PollSchedule,
}

impl Default for WatchOptions {
    fn default() -> Self {
        Self {
            deadline: Duration::from_secs(20 * 60),
            poll: PollSchedule::new(Duration::from_millis(500), Duration::from_secs(2)),
        }
    }
}

impl WatchOptions {
    /// The default schedule with another deadline.
    #[must_use]
    pub fn with_deadline(deadline: Duration) -> Self {
        Self {
            deadline,
            ..Self::default()
        }
    }

    /// These options with another polling schedule.
    #[must_use]
    pub fn poll(mut self, poll: PollSchedule) -> Self {
        self.poll = poll;
        self
    }
}

/// What a [`DeploymentWatch`] saw.
#[derive(Debug)]
#[non_exhaustive]
// A few updates per deployment, each moved once to the caller: boxing would cost callers a
// deref for nothing.
#[allow(clippy::large_enum_variant)]
pub enum WatchUpdate {
    /// A followed deployment's status changed, or its commit was resolved: the events of
    /// [`Client::follow`].
    Event {
        /// The deployment.
        deployment: DeploymentUuid,
        /// What happened.
        event: FollowEvent,
    },
    /// A followed deployment ended, with the outcome [`Client::follow`] would give: the
    /// deployment when it finished, else [`Error::DeploymentFailed`],
    /// [`Error::DeploymentCancelled`], [`Error::DeadlineExceeded`], [`Error::NotFound`] (a
    /// uuid Coolify does not have), or the error of its last read.
    Ended {
        /// The deployment.
        deployment: DeploymentUuid,
        /// How it ended.
        outcome: Result<Deployment, Error>,
    },
}

/// Follows many deployments with one request per poll; from [`Client::watch`].
///
/// Add deployments at any time ([`DeploymentWatch::add`], for example as a wave of deploys
/// makes room for the next), and take what it sees with [`DeploymentWatch::next`] until it
/// returns `None`: every deployment added has then ended.
///
/// ```no_run
/// use coolify_client::{ApplicationUuid, Client, DeployOutcome, ForceRebuild, WatchOptions, WatchUpdate};
///
/// # async fn run(client: &Client, apps: &[ApplicationUuid]) -> Result<(), coolify_client::Error> {
/// let mut watch = client.watch(WatchOptions::default());
/// for app in apps {
///     if let DeployOutcome::Queued(deployment) = client.deploy(app, ForceRebuild::No).await? {
///         watch.add(deployment);
///     }
/// }
/// while let Some(update) = watch.next().await {
///     if let WatchUpdate::Ended { deployment, outcome } = update? {
///         match outcome {
///             Ok(finished) => println!("{deployment} finished: {finished:?}"),
///             Err(error) => eprintln!("{deployment}: {error}"),
///         }
///     }
/// }
/// # Ok(())
/// # }
/// ```
#[derive(Debug)]
pub struct DeploymentWatch {
    client: Client,
    options: WatchOptions,
    followed: Vec<Followed>,
    updates: VecDeque<WatchUpdate>,
    interval: Duration,
    next_poll: Option<Instant>,
    failed: bool,
    /// The last list request the pacing did not let go before a deadline: what a deployment
    /// never seen ends with.
    throttled: Option<(String, Duration)>,
}

#[derive(Debug)]
struct Followed {
    deployment: DeploymentUuid,
    started: Instant,
    deadline: Instant,
    last_status: Option<DeploymentStatus>,
    commit_reported: bool,
}

impl Client {
    /// A watch that follows deployments with one `GET /deployments` per poll, whatever their
    /// number; see [`DeploymentWatch`].
    #[must_use]
    pub fn watch(&self, options: WatchOptions) -> DeploymentWatch {
        DeploymentWatch {
            client: self.clone(),
            options,
            followed: Vec::new(),
            updates: VecDeque::new(),
            interval: options.poll.first(),
            next_poll: None,
            failed: false,
            throttled: None,
        }
    }

    /// Follow `deployments` to their ends together, reporting each one's status changes and
    /// resolved commit to `on_event`, and return how each ended, in the order given
    /// (a uuid given twice is followed and listed once).
    ///
    /// It costs one `GET /deployments` per poll plus one read per deployment when it ends, so
    /// following 100 deployments costs about what following one does. Each deployment's
    /// outcome is the one [`Client::follow`] would give it.
    ///
    /// # Errors
    ///
    /// The errors that concern every deployment: the list's request failing (a missing `read`
    /// ability, an answer that is not Coolify's, a transient failure past the client's retry
    /// policy), and [`Error::Unanswered`] (naming the first deployment left) when Coolify
    /// stops answering until a deadline passes.
    pub async fn follow_many<F>(
        &self,
        deployments: &[DeploymentUuid],
        options: &WatchOptions,
        mut on_event: F,
    ) -> Result<Vec<(DeploymentUuid, Result<Deployment, Error>)>, Error>
    where
        F: FnMut(&DeploymentUuid, &FollowEvent) + Send,
    {
        let mut watch = self.watch(*options);
        let mut order: Vec<DeploymentUuid> = Vec::new();
        for deployment in deployments {
            if !order.contains(deployment) {
                order.push(deployment.clone());
                watch.add(deployment.clone());
            }
        }
        let mut ended: Vec<(DeploymentUuid, Result<Deployment, Error>)> = Vec::new();
        while let Some(update) = watch.next().await {
            match update? {
                WatchUpdate::Event { deployment, event } => on_event(&deployment, &event),
                WatchUpdate::Ended {
                    deployment,
                    outcome,
                } => ended.push((deployment, outcome)),
            }
        }
        ended.sort_by_key(|(deployment, _)| order.iter().position(|given| given == deployment));
        Ok(ended)
    }
}

impl DeploymentWatch {
    /// Follow `deployment` too, from now on (its deadline counts from now). One already
    /// followed is not added twice.
    pub fn add(&mut self, deployment: DeploymentUuid) {
        if self
            .followed
            .iter()
            .any(|followed| followed.deployment == deployment)
        {
            return;
        }
        let now = Instant::now();
        self.followed.push(Followed {
            deployment,
            started: now,
            deadline: now + self.options.deadline,
            last_status: None,
            commit_reported: false,
        });
        // Something new: poll briskly again, and soon.
        self.interval = self.options.poll.first();
        self.next_poll = self.next_poll.map(|at| at.min(now + self.interval));
    }

    /// How many deployments it follows that have not ended.
    #[must_use]
    pub fn len(&self) -> usize {
        self.followed.len()
    }

    /// Whether every deployment added has ended.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.followed.is_empty()
    }

    /// The next thing seen: polls as its schedule says until something happens. `None` once
    /// every deployment added has ended (or after an error).
    ///
    /// Cancel-safe: dropping the future (a `tokio::select!` that took another branch) loses
    /// no deployment and no update; the next call goes on where it stopped, and deployments
    /// may be added in between.
    ///
    /// # Errors
    ///
    /// As [`Client::follow_many`]; after an error the watch is over.
    pub async fn next(&mut self) -> Option<Result<WatchUpdate, Error>> {
        loop {
            if let Some(update) = self.updates.pop_front() {
                return Some(Ok(update));
            }
            if self.failed || self.followed.is_empty() {
                return None;
            }
            if let Some(at) = self.next_poll {
                let earliest = self.earliest_deadline().unwrap_or(at);
                tokio::time::sleep_until(at.min(earliest)).await;
            }
            if let Err(error) = self.poll().await {
                self.failed = true;
                return Some(Err(error));
            }
        }
    }

    fn earliest_deadline(&self) -> Option<Instant> {
        self.followed.iter().map(|followed| followed.deadline).min()
    }

    /// One poll: the deadlines that passed, the list, a read of each deployment that left it,
    /// then the deadlines again.
    async fn poll(&mut self) -> Result<(), Error> {
        // A deployment whose deadline passed since the last poll ends before anything is sent.
        self.end_late();
        let Some(until) = self.earliest_deadline() else {
            return Ok(());
        };
        let listed = match self.client.deployments_in_flight_until(Some(until)).await {
            Ok(listed) => {
                self.throttled = None;
                Some(listed)
            }
            // No poll fits before the earliest deadline: let the deadlines speak.
            Err(Error::Throttled { endpoint, wait }) => {
                tokio::time::sleep_until(until).await;
                self.throttled = Some((endpoint, wait));
                None
            }
            Err(error) if error.is_transient() && Instant::now() >= until => {
                let first = self
                    .followed
                    .iter()
                    .min_by_key(|followed| followed.deadline);
                return Err(match first {
                    Some(first) => Error::Unanswered {
                        deployment: first.deployment.clone(),
                        after: self.options.deadline,
                        last_status: first.last_status.clone(),
                        source: Box::new(error),
                    },
                    None => error,
                });
            }
            Err(error) => return Err(error),
        };
        if let Some(listed) = listed {
            // Each followed deployment stays in `self.followed` until it ends, so that a poll
            // dropped while it reads one (a caller's `select!`) loses nothing.
            let mut index = 0;
            while let Some(followed) = self.followed.get(index) {
                let (deployment, deadline) = (followed.deployment.clone(), followed.deadline);
                let current = match listed
                    .iter()
                    .find(|listed| listed.deployment_uuid == deployment)
                {
                    Some(current) => current.clone(),
                    // Gone from the list: it ended; one read says how.
                    None => match self
                        .client
                        .deployment_until(&deployment, Some(deadline))
                        .await
                    {
                        Ok(current) => current,
                        Err(error) => {
                            let followed = self.followed.remove(index);
                            self.end(&followed, Err(error));
                            continue;
                        }
                    },
                };
                let mut followed = self.followed.remove(index);
                self.observe(&mut followed, &current);
                match verdict(&followed.deployment, current) {
                    Some(outcome) => self.end(&followed, outcome),
                    None => {
                        self.followed.insert(index, followed);
                        index += 1;
                    }
                }
            }
        }
        self.end_late();
        self.next_poll = Some(Instant::now() + self.interval);
        self.interval = self.options.poll.next_after(self.interval);
        Ok(())
    }

    /// End every followed deployment whose deadline has passed, as [`Client::follow`] does.
    fn end_late(&mut self) {
        let now = Instant::now();
        let (late, on_time): (Vec<Followed>, Vec<Followed>) = std::mem::take(&mut self.followed)
            .into_iter()
            .partition(|followed| now >= followed.deadline);
        self.followed = on_time;
        for followed in late {
            let outcome = match followed.last_status.clone() {
                Some(last_status) => Error::DeadlineExceeded {
                    deployment: followed.deployment.clone(),
                    after: self.options.deadline,
                    last_status,
                },
                // Never seen: only when no poll fitted before its deadline.
                None => {
                    let (endpoint, wait) = self
                        .throttled
                        .clone()
                        .unwrap_or_else(|| ("GET /api/v1/deployments".to_owned(), Duration::ZERO));
                    Error::Unanswered {
                        deployment: followed.deployment.clone(),
                        after: self.options.deadline,
                        last_status: None,
                        source: Box::new(Error::Throttled { endpoint, wait }),
                    }
                }
            };
            self.end(&followed, Err(outcome));
        }
    }

    /// Report what changed about a followed deployment.
    fn observe(&mut self, followed: &mut Followed, current: &Deployment) {
        if followed.last_status.as_ref() != Some(&current.status) {
            tracing::info!(deployment = %followed.deployment, status = %current.status, "deployment status");
            self.updates.push_back(WatchUpdate::Event {
                deployment: followed.deployment.clone(),
                event: FollowEvent::Status {
                    status: current.status.clone(),
                    elapsed: followed.started.elapsed(),
                },
            });
            followed.last_status = Some(current.status.clone());
        }
        if !followed.commit_reported
            && let Some(commit) = current.resolved_commit()
        {
            followed.commit_reported = true;
            self.updates.push_back(WatchUpdate::Event {
                deployment: followed.deployment.clone(),
                event: FollowEvent::Commit { commit },
            });
        }
    }

    fn end(&mut self, followed: &Followed, outcome: Result<Deployment, Error>) {
        self.updates.push_back(WatchUpdate::Ended {
            deployment: followed.deployment.clone(),
            outcome,
        });
    }
}

/// How a deployment ended, as [`Client::follow`] reports it; `None` while it runs (or has a
/// status this crate does not know).
fn verdict(deployment: &DeploymentUuid, current: Deployment) -> Option<Result<Deployment, Error>> {
    match current.status {
        DeploymentStatus::Finished => Some(Ok(current)),
        DeploymentStatus::Failed => Some(Err(Error::DeploymentFailed {
            deployment: deployment.clone(),
            commit: current.resolved_commit(),
        })),
        DeploymentStatus::CancelledByUser => Some(Err(Error::DeploymentCancelled {
            deployment: deployment.clone(),
            commit: current.resolved_commit(),
        })),
        _ => None,
    }
}
