//! `status`: what each environment runs, whether it answers healthy, and how far the branch
//! is ahead of production.

use std::fmt;

use anyhow::Context as _;
use serde::Serialize;

use crate::config::EnvironmentName;
use crate::pipeline::{Live, Pipeline};
use crate::repo::short;
use crate::session::Session;

/// One environment's status.
#[derive(Debug, Clone, Serialize)]
pub struct EnvironmentStatus {
    /// Which environment.
    pub environment: EnvironmentName,
    /// The Coolify application uuid.
    pub app: String,
    /// Its name in Coolify.
    pub app_name: Option<String>,
    /// Coolify's container status, e.g. `running:healthy`.
    pub app_status: Option<String>,
    /// The commit the app is pinned to (`HEAD` or absent: the branch head).
    pub pinned_commit: Option<String>,
    /// Whether a push deploys it automatically.
    pub auto_deploy: Option<bool>,
    /// What its newest finished deployment built.
    pub live: Live,
    /// The newest deployment of any status.
    pub latest_deployment: Option<LatestDeployment>,
    /// A one-shot health check against the live commit.
    pub health: Option<Health>,
}

/// The newest deployment of an app.
#[derive(Debug, Clone, Serialize)]
pub struct LatestDeployment {
    /// Its uuid.
    pub deployment: String,
    /// Its status.
    pub status: String,
    /// Its commit.
    pub commit: Option<String>,
}

/// One health check.
#[derive(Debug, Clone, Serialize)]
pub struct Health {
    /// Whether the answer passed every assertion.
    pub passed: bool,
    /// What it was.
    pub detail: String,
}

/// The result of `status`.
#[derive(Debug, Clone, Serialize)]
pub struct StatusReport {
    /// Both environments.
    pub environments: Vec<EnvironmentStatus>,
    /// The branch production follows.
    pub branch: String,
    /// Commits on the branch that production does not run.
    pub ahead_of_production: Option<usize>,
    /// Workflows of the team's that still deploy production on a push.
    pub production_deploys_on_push: Vec<crate::legacy::ProductionDeployOnPush>,
}

impl fmt::Display for StatusReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for status in &self.environments {
            writeln!(
                f,
                "{}: {} ({})",
                status.environment,
                status.app_name.as_deref().unwrap_or(&status.app),
                status.app_status.as_deref().unwrap_or("status unknown")
            )?;
            writeln!(f, "  runs       {}", status.live.describe())?;
            if let Some(latest) = &status.latest_deployment {
                writeln!(
                    f,
                    "  latest     deployment {} {} ({})",
                    latest.deployment,
                    latest.status,
                    latest
                        .commit
                        .as_deref()
                        .map(short)
                        .unwrap_or("commit not resolved")
                )?;
            }
            if let Some(pinned) = &status.pinned_commit {
                writeln!(f, "  pinned     {}", short(pinned))?;
            }
            if let Some(auto) = status.auto_deploy {
                writeln!(f, "  auto-deploy {}", if auto { "on" } else { "off" })?;
            }
            match &status.health {
                Some(health) => writeln!(
                    f,
                    "  health     {} ({})",
                    if health.passed { "ok" } else { "FAILING" },
                    health.detail
                )?,
                None => writeln!(f, "  health     not checked (nothing deployed)")?,
            }
        }
        match self.ahead_of_production {
            Some(ahead) => write!(
                f,
                "{} is {ahead} commit(s) ahead of production",
                self.branch
            ),
            None => write!(f, "{}: production runs no known commit", self.branch),
        }?;
        for finding in &self.production_deploys_on_push {
            write!(f, "\nwarning: {finding}")?;
        }
        Ok(())
    }
}

/// Read both environments and check their health once.
///
/// # Errors
///
/// A bad config; Coolify errors.
pub async fn status(session: &Session) -> anyhow::Result<StatusReport> {
    let pipeline = Pipeline::open(session).context("status")?;
    let releases = pipeline.releases().context("status")?;
    let mut environments = Vec::new();
    for environment in EnvironmentName::ALL {
        let section = pipeline.config.environment(environment);
        let application = pipeline
            .coolify
            .application(&section.app)
            .await
            .with_context(|| format!("status: read the {environment} app {}", section.app))?;
        let live = pipeline
            .live(environment, &releases)
            .await
            .with_context(|| format!("status: {environment}"))?;
        let latest = pipeline
            .coolify
            .deployments(&section.app, 0, 1)
            .await
            .with_context(|| format!("status: {environment}"))?
            .deployments
            .into_iter()
            .next()
            .map(|deployment| LatestDeployment {
                deployment: deployment.deployment_uuid.to_string(),
                status: deployment.status.to_string(),
                commit: deployment.resolved_commit().map(String::from),
            });
        let health = match &live.commit {
            Some(commit) => {
                let tag = live
                    .tags
                    .last()
                    .and_then(|name| releases.find(name))
                    .map(|release| release.tag().clone());
                let spec = pipeline.probe_spec(environment, commit.as_str(), tag.as_ref())?;
                let attempt = pipeline.prober.check(&spec).await;
                Some(Health {
                    passed: attempt.passed(),
                    detail: attempt.to_string(),
                })
            }
            None => None,
        };
        environments.push(EnvironmentStatus {
            environment,
            app: section.app.to_string(),
            app_name: application.name.clone(),
            app_status: application.status.clone(),
            pinned_commit: application.pinned_commit().map(str::to_owned),
            auto_deploy: application.is_auto_deploy_enabled(),
            live,
            latest_deployment: latest,
            health,
        });
    }
    let branch = pipeline.config.production.branch.clone();
    let ahead = environments
        .iter()
        .find(|status| status.environment == EnvironmentName::Production)
        .and_then(|production| ahead_of_production(&pipeline, &branch, &production.live));
    Ok(StatusReport {
        environments,
        branch,
        ahead_of_production: ahead,
        production_deploys_on_push: crate::legacy::production_deploys_on_push(
            pipeline.repo.root(),
            pipeline.config.production.app.as_str(),
        ),
    })
}

fn ahead_of_production(pipeline: &Pipeline, branch: &str, production: &Live) -> Option<usize> {
    let production = crate::repo::oid(production.commit.as_ref()?)?;
    let tip = [
        format!("refs/heads/{branch}"),
        format!("refs/remotes/origin/{branch}"),
        "HEAD".to_owned(),
    ]
    .iter()
    .find_map(|name| pipeline.repo.resolve_commit(name).ok())?;
    pipeline.repo.commits_ahead(tip, production).ok()
}
