//! What an environment runs, as far as Coolify knows: each app's newest finished and in-flight
//! deployment, its release tags, and waiting out a deployment in flight before deploying.

use std::time::Duration;

use tokio::time::Instant;

use anyhow::Context as _;
use coolify_client::{CommitSha, Deployment, DeploymentUuid, FollowEvent};
use serde::Serialize;
use tag_policy::{ReleaseTag, Releases};

use super::Engine;
use crate::config::Placeholder;
use crate::config::{AppConfig, EnvironmentName};
use crate::exit::Refused;
use crate::repo::{commit_sha, oid};

/// What production looked like before and after waiting for an in-flight deployment.
#[derive(Debug, Clone)]
pub(crate) struct Settled {
    /// Before any wait.
    pub(crate) before: EnvironmentLive,
    /// Once no deployment is in flight (or, in a dry run, the same as `before`).
    pub(crate) live: EnvironmentLive,
    /// The in-flight deployments that were waited for, one per app that had one.
    pub(crate) waited: Vec<Waited>,
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
    /// For a Docker-image app: the image tag it is set to (its commit is read from the tag
    /// through `image_tag`, when the tag has the template's shape).
    pub image_tag: Option<String>,
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
    /// `v1.2.0 (abc1234)`, `abc1234`, `image tag latest (commit unknown)`, or `no finished
    /// deployment`.
    pub fn describe(&self) -> String {
        match (&self.commit, self.tags.last(), &self.image_tag) {
            (Some(commit), Some(tag), _) => format!("{tag} ({})", commit.short()),
            (Some(commit), None, _) => commit.short().to_owned(),
            (None, _, Some(image_tag)) if self.deployment.is_some() => {
                format!("image tag {image_tag} (commit unknown)")
            }
            (None, _, _) => "no finished deployment".to_owned(),
        }
    }
}

impl Live {
    /// The highest release tag of the live commit.
    pub(crate) fn current_release(&self, releases: &Releases) -> Option<ReleaseTag> {
        self.tags
            .iter()
            .filter_map(|name| releases.find(name))
            .map(|release| release.tag().clone())
            .max()
    }
}

/// What one app of an environment runs.
#[derive(Debug, Clone, Serialize)]
pub struct AppLive {
    /// The Coolify application uuid.
    pub app: String,
    /// Its name in messages.
    pub label: String,
    /// What it runs.
    pub runs: Live,
}

/// What an environment runs: each app, in config order.
#[derive(Debug, Clone, Default, Serialize)]
pub struct EnvironmentLive {
    /// One entry per app.
    pub apps: Vec<AppLive>,
}

impl EnvironmentLive {
    /// The commit every app runs, when they all run the same one.
    pub fn commit(&self) -> Option<&CommitSha> {
        let first = self.apps.first()?.runs.commit.as_ref()?;
        self.apps
            .iter()
            .all(|app| app.runs.commit.as_ref() == Some(first))
            .then_some(first)
    }

    /// Whether no app has a finished deployment.
    pub fn is_empty(&self) -> bool {
        self.apps.iter().all(|app| app.runs.commit.is_none())
    }

    /// The first in-flight deployment of any app, with the app's label.
    pub fn in_flight(&self) -> Option<(&str, &InFlight)> {
        self.apps.iter().find_map(|app| {
            app.runs
                .in_flight
                .as_ref()
                .map(|in_flight| (app.label.as_str(), in_flight))
        })
    }

    /// The highest release any app runs.
    pub(crate) fn current_release(&self, releases: &Releases) -> Option<ReleaseTag> {
        self.apps
            .iter()
            .filter_map(|app| app.runs.current_release(releases))
            .max()
    }

    /// `v1.2.0 (abc1234)` when every app runs it, else `web v1.2.0 (abc1234), worker v1.1.0
    /// (def5678)`; `no finished deployment` when no app has one.
    pub fn describe(&self) -> String {
        match self.apps.as_slice() {
            [only] => only.runs.describe(),
            apps if self.commit().is_some() => apps[0].runs.describe(),
            apps => apps
                .iter()
                .map(|app| format!("{} {}", app.label, app.runs.describe()))
                .collect::<Vec<_>>()
                .join(", "),
        }
    }
}

/// The release tags of a commit, lowest precedence first (none for no commit).
fn release_tags(commit: Option<&CommitSha>, releases: &Releases) -> Vec<String> {
    commit
        .and_then(oid)
        .map(|oid| {
            releases
                .at_commit(oid)
                .map(|release| release.tag().name().to_owned())
                .collect()
        })
        .unwrap_or_default()
}

impl Engine {
    /// What production runs once no deployment is in flight: reads what is live, waits for
    /// an in-flight deployment (except in a dry run, which never waits), then reads again.
    pub(crate) async fn settle_production(
        &self,
        releases: &Releases,
        dry_run: crate::DryRun,
    ) -> anyhow::Result<Settled> {
        let before = self.live(EnvironmentName::Production, releases).await?;
        if dry_run.is_dry() || before.in_flight().is_none() {
            return Ok(Settled {
                live: before.clone(),
                before,
                waited: Vec::new(),
            });
        }
        let waited = self
            .wait_for_in_flight(EnvironmentName::Production, &before)
            .await?;
        let live = self.live(EnvironmentName::Production, releases).await?;
        Ok(Settled {
            before,
            live,
            waited,
        })
    }

    /// What an environment runs now: each app's newest finished and in-flight deployment (one
    /// request per app, two for an image app). The first app is read alone, the others
    /// together: by then the client knows Coolify's rate limit and paces them.
    pub(crate) async fn live(
        &self,
        environment: EnvironmentName,
        releases: &Releases,
    ) -> anyhow::Result<EnvironmentLive> {
        let section = self.config.environment(environment);
        let mut read = Vec::with_capacity(section.apps.len());
        if let Some((first, others)) = section.apps.split_first() {
            read.push(self.app_live(environment, first, releases).await);
            read.extend(
                super::join_all(
                    others
                        .iter()
                        .map(|app| self.app_live(environment, app, releases)),
                )
                .await,
            );
        }
        let mut apps = Vec::with_capacity(read.len());
        for (app, runs) in section.apps.iter().zip(read) {
            apps.push(AppLive {
                app: app.uuid.to_string(),
                label: app.label.clone(),
                runs: runs?,
            });
        }
        Ok(EnvironmentLive { apps })
    }

    /// What one app runs now.
    pub(crate) async fn app_live(
        &self,
        environment: EnvironmentName,
        app: &AppConfig,
        releases: &Releases,
    ) -> anyhow::Result<Live> {
        let context = || {
            if self.config.environment(environment).has_several_apps() {
                format!("read the deployments of {environment}'s {}", app.label)
            } else {
                format!("read {environment}'s deployments")
            }
        };
        let current = self
            .coolify
            .current_deployments(&app.uuid)
            .await
            .with_context(context)?;
        let finished = current.finished;
        let mut live = self.describe_live(finished.as_ref(), current.in_flight.as_ref(), releases);
        if app.image.is_some() {
            // A Docker-image app's deployments say `HEAD`: its tag says what it runs.
            let application = self
                .coolify
                .application(&app.uuid)
                .await
                .with_context(context)?;
            let image_tag = application
                .docker_registry_image_tag
                .clone()
                .unwrap_or_else(|| "latest".to_owned());
            live.commit = finished
                .as_ref()
                .and_then(|_| self.commit_of_image_tag(app, &image_tag, releases));
            live.tags = release_tags(live.commit.as_ref(), releases);
            live.image_tag = Some(image_tag);
            if let Some(in_flight) = live.in_flight.as_mut() {
                in_flight.commit = None;
            }
        }
        Ok(live)
    }

    /// The commit an image tag stands for, read through the app's `image_tag` template: the
    /// full SHA of `{commit}`, the commit `{short_commit}` names in this repository, or the
    /// release of `{version}`.
    pub(crate) fn commit_of_image_tag(
        &self,
        app: &AppConfig,
        image_tag: &str,
        releases: &Releases,
    ) -> Option<CommitSha> {
        let captures = app.image.as_ref()?.tag.captures(image_tag)?;
        let mut found: Option<git2::Oid> = None;
        for (placeholder, value) in captures {
            let commit = match placeholder {
                Placeholder::Commit => git2::Oid::from_str(&value).ok(),
                Placeholder::ShortCommit => self.repo.resolve_commit(&value).ok(),
                Placeholder::Version => releases
                    .iter()
                    .find(|release| release.tag().version_str() == value)
                    .map(|release| release.commit()),
            }?;
            if found.is_some_and(|found| found != commit) {
                return None;
            }
            found = Some(commit);
        }
        commit_sha(found?).ok()
    }

    fn describe_live(
        &self,
        finished: Option<&Deployment>,
        in_flight: Option<&Deployment>,
        releases: &Releases,
    ) -> Live {
        let commit = finished.and_then(Deployment::resolved_commit);
        let tags = release_tags(commit.as_ref(), releases);
        Live {
            commit,
            deployment: finished.map(|d| d.deployment_uuid.to_string()),
            tags,
            in_flight: in_flight.map(|d| InFlight {
                deployment: d.deployment_uuid.to_string(),
                commit: d.resolved_commit(),
                status: d.status.to_string(),
            }),
            image_tag: None,
        }
    }

    /// Wait for every in-flight deployment of an environment's apps (as `live` found them)
    /// instead of stacking another, all followed with one poll; past the deploy timeout,
    /// refuse.
    pub(crate) async fn wait_for_in_flight(
        &self,
        environment: EnvironmentName,
        live: &EnvironmentLive,
    ) -> anyhow::Result<Vec<Waited>> {
        let mut waiting = Vec::new();
        for (app, live) in self
            .config
            .environment(environment)
            .apps
            .iter()
            .zip(&live.apps)
        {
            let Some(in_flight) = &live.runs.in_flight else {
                continue;
            };
            let deployment: DeploymentUuid = in_flight.deployment.parse().with_context(|| {
                format!("read {environment}'s deployment {}", in_flight.deployment)
            })?;
            self.output.step(format!(
                "{}: deployment {deployment} is {}; waiting for it before deploying",
                self.name_of(environment, app),
                in_flight.status
            ));
            waiting.push((app, deployment, in_flight.commit.clone()));
        }
        if waiting.is_empty() {
            return Ok(Vec::new());
        }
        let started = Instant::now();
        let deployments: Vec<DeploymentUuid> = waiting
            .iter()
            .map(|(_, deployment, _)| deployment.clone())
            .collect();
        let output = self.output.clone();
        let ended = self
            .coolify
            .follow_many(&deployments, &self.watch_options(), |deployment, event| {
                if let FollowEvent::Status { status, elapsed } = event {
                    output.progress(format!(
                        "{environment}: deployment {deployment} {status} ({})",
                        super::seconds(super::millis(*elapsed))
                    ));
                }
            })
            .await
            .with_context(|| format!("wait for {environment}'s deployments in flight"))?;
        let mut all = Vec::with_capacity(ended.len());
        for ((_, deployment, commit), (_, outcome)) in waiting.iter().zip(ended) {
            let finished = match outcome {
                Ok(finished) => Some(finished),
                Err(coolify_client::Error::DeploymentFailed { .. })
                | Err(coolify_client::Error::DeploymentCancelled { .. }) => None,
                Err(coolify_client::Error::DeadlineExceeded { after, .. }) => {
                    return Err(Refused(format!(
                        "{environment} deployment {deployment} is still in flight after {}; wait for it or cancel it in Coolify, then run this again",
                        humantime::format_duration(after)
                    ))
                    .into());
                }
                Err(error) => {
                    return Err(anyhow::Error::new(error)
                        .context(format!("wait for {environment} deployment {deployment}")));
                }
            };
            all.push(Waited {
                deployment: deployment.to_string(),
                commit: finished
                    .as_ref()
                    .and_then(Deployment::resolved_commit)
                    .or_else(|| commit.clone()),
                finished: finished.is_some(),
                waited: started.elapsed(),
            });
        }
        Ok(all)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_environment_reads_as_one_release_only_when_every_app_runs_it() {
        let commit = |c: char| CommitSha::new(c.to_string().repeat(40)).unwrap();
        let app = |label: &str, commit: Option<CommitSha>, tags: &[&str]| AppLive {
            app: format!("{label}-uuid"),
            label: label.to_owned(),
            runs: Live {
                commit,
                deployment: Some("d".to_owned()),
                tags: tags.iter().map(|tag| (*tag).to_owned()).collect(),
                ..Live::default()
            },
        };
        let same = EnvironmentLive {
            apps: vec![
                app("web", Some(commit('a')), &["v1.0.0"]),
                app("worker", Some(commit('a')), &["v1.0.0"]),
            ],
        };
        assert_eq!(same.commit(), Some(&commit('a')));
        assert_eq!(same.describe(), "v1.0.0 (aaaaaaa)");
        let mixed = EnvironmentLive {
            apps: vec![
                app("web", Some(commit('b')), &["v1.1.0"]),
                app("worker", Some(commit('a')), &["v1.0.0"]),
            ],
        };
        assert_eq!(mixed.commit(), None);
        assert_eq!(
            mixed.describe(),
            "web v1.1.0 (bbbbbbb), worker v1.0.0 (aaaaaaa)"
        );
        assert!(!mixed.is_empty());
        assert!(EnvironmentLive::default().is_empty());
    }
}
