//! `status`: what each environment runs, whether it answers healthy, and how far the branch
//! is ahead of production.

use std::fmt;

use anyhow::Context as _;
use serde::Serialize;

use crate::config::{AppConfig, EnvironmentName};
use crate::engine::cost::RollbackCost;
use crate::engine::record;
use crate::engine::{AppLive, Engine, EnvironmentLive};
pub use crate::engine::{InFlight, Live};
pub use crate::legacy::{DeployOnPush, ProductionDeployOnPush};
use crate::repo::short;
use crate::session::Session;

/// One environment's status.
///
/// Its JSON also carries the first app's fields at the top level (`app`, `live`, `health`,
/// ...), as documents before several apps had them.
#[derive(Debug, Clone)]
pub struct EnvironmentStatus {
    /// Which environment.
    pub environment: EnvironmentName,
    /// Each app, in config order.
    pub apps: Vec<AppStatus>,
}

impl Serialize for EnvironmentStatus {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Head {
            environment: EnvironmentName,
        }
        let head = Head {
            environment: self.environment,
        };
        crate::output::serialize_apps(serializer, head, &self.apps)
    }
}

/// One app's status.
#[derive(Debug, Clone, Serialize)]
pub struct AppStatus {
    /// The Coolify application uuid.
    pub app: String,
    /// Its name in messages (`name` in the config, else the uuid).
    pub label: String,
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
    /// A one-shot health check against the live commit (`None` without a health URL or a
    /// finished deployment).
    pub health: Option<Health>,
    /// Whether the config gives it a health URL.
    pub has_health_url: bool,
    /// For a Docker-image app: the image it is set to, `name:tag`.
    pub image: Option<String>,
}

/// The newest deployment of an app.
#[derive(Debug, Clone, Serialize)]
pub struct LatestDeployment {
    /// Its uuid.
    pub deployment: String,
    /// Its status.
    pub status: String,
    /// Its commit (for a Docker-image app, read back from `image_tag`).
    pub commit: Option<String>,
    /// For a Docker-image app: the image tag the app is set to (Coolify's deployments of an
    /// image app record no tag or commit of their own).
    pub image_tag: Option<String>,
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
    /// Whether the branch contains what production runs (`false` after a hotfix released from
    /// another branch and not merged back; `None` when production runs no known commit).
    pub production_on_branch: Option<bool>,
    /// Workflows of the team's that still deploy production on a push.
    pub production_deploys_on_push: Vec<crate::legacy::ProductionDeployOnPush>,
    /// The releases `rollback` would go back to, newest first (at most three), with what
    /// going back costs on each production app.
    pub rollback_candidates: Vec<RollbackCandidate>,
    /// What the release record says of each environment; `None` without a record.
    pub record: Option<Vec<RecordedState>>,
    /// Why there is no record to show, when there is none.
    pub record_absent: Option<String>,
}

/// What the release record says of one environment.
#[derive(Debug, Clone, Serialize)]
pub struct RecordedState {
    /// Which environment.
    pub environment: EnvironmentName,
    /// The newest verified run: `v1.2.0 (9579fc7)`, when and by whom.
    pub last_verified: Option<String>,
    /// The newest failed run, when it is newer than the newest verified one.
    pub last_failure: Option<String>,
}

/// How many earlier releases `status` prices.
pub(crate) const ROLLBACK_CANDIDATES: usize = 3;

/// An earlier release production could go back to.
#[derive(Debug, Clone, Serialize)]
pub struct RollbackCandidate {
    /// Its tag.
    pub tag: String,
    /// Its commit.
    pub commit: String,
    /// When the release record says it failed in production: how (`rollback` skips it).
    pub failed: Option<String>,
    /// What deploying it costs on each production app.
    pub apps: Vec<RollbackCost>,
}

impl fmt::Display for StatusReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for status in &self.environments {
            let several = status.apps.len() > 1;
            if several {
                writeln!(f, "{}:", status.environment)?;
            }
            for app in &status.apps {
                let indent = if several { "  " } else { "" };
                let name = app.app_name.as_deref().unwrap_or(&app.app);
                let state = app.app_status.as_deref().unwrap_or("status unknown");
                if several {
                    writeln!(f, "  {}: {name} ({state})", app.label)?;
                } else {
                    writeln!(f, "{}: {name} ({state})", status.environment)?;
                }
                writeln!(f, "{indent}  runs       {}", app.live.describe())?;
                if let Some(image) = &app.image {
                    writeln!(f, "{indent}  image      {image}")?;
                }
                if let Some(latest) = &app.latest_deployment {
                    let commit = latest.commit.as_deref().map(short);
                    let what = match (&latest.image_tag, commit) {
                        (Some(tag), Some(commit)) => format!("image tag {tag}, {commit}"),
                        (Some(tag), None) => format!("image tag {tag}, commit unknown"),
                        (None, Some(commit)) => commit.to_owned(),
                        (None, None) => "commit not resolved".to_owned(),
                    };
                    writeln!(
                        f,
                        "{indent}  latest     deployment {} {} ({what})",
                        latest.deployment, latest.status,
                    )?;
                }
                if let Some(pinned) = &app.pinned_commit {
                    writeln!(f, "{indent}  pinned     {}", short(pinned))?;
                }
                if let Some(auto) = app.auto_deploy {
                    writeln!(
                        f,
                        "{indent}  auto-deploy {}",
                        if auto { "on" } else { "off" }
                    )?;
                }
                match &app.health {
                    Some(health) => writeln!(
                        f,
                        "{indent}  health     {} ({})",
                        if health.passed { "ok" } else { "FAILING" },
                        health.detail
                    )?,
                    None if app.has_health_url => {
                        writeln!(f, "{indent}  health     not checked (nothing deployed)")?;
                    }
                    None => writeln!(
                        f,
                        "{indent}  health     no health URL (container status only)"
                    )?,
                }
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
        if self.production_on_branch == Some(false) {
            let production = self
                .environments
                .iter()
                .find(|status| status.environment == EnvironmentName::Production)
                .and_then(|status| status.apps.first())
                .map(|app| app.live.describe())
                .unwrap_or_default();
            write!(
                f,
                "\nwarning: production runs {production}, which is not on {branch} yet: merge the hotfix back into {branch}, or the next release from {branch} drops it",
                branch = self.branch
            )?;
        }
        if !self.rollback_candidates.is_empty() {
            write!(f, "\nrollback candidates:")?;
        }
        for candidate in &self.rollback_candidates {
            let costs: Vec<String> = match candidate.apps.as_slice() {
                [only] => vec![only.cost.to_string()],
                apps => apps
                    .iter()
                    .map(|app| format!("{} {}", app.label, app.cost))
                    .collect(),
            };
            write!(
                f,
                "\n  {} ({}): {}",
                candidate.tag,
                short(&candidate.commit),
                costs.join(", ")
            )?;
            if let Some(failed) = &candidate.failed {
                write!(f, "; {failed} (rollback skips it)")?;
            }
        }
        for state in self.record.iter().flatten() {
            write!(
                f,
                "\n{}: last verified {}",
                state.environment,
                state
                    .last_verified
                    .as_deref()
                    .unwrap_or("never (in the record)")
            )?;
            if let Some(failure) = &state.last_failure {
                write!(f, "; since then {failure}")?;
            }
        }
        if let Some(absent) = &self.record_absent {
            write!(f, "\nno release record: {absent}")?;
        }
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
    let engine = Engine::open(session).context("status")?;
    let releases = engine.releases().context("status")?;
    let mut environments = Vec::new();
    for environment in EnvironmentName::ALL {
        let section = engine.config.environment(environment);
        let mut apps = Vec::new();
        for app in &section.apps {
            apps.push(app_status(&engine, &releases, environment, app).await?);
        }
        environments.push(EnvironmentStatus { environment, apps });
    }
    let branch = engine.config.production.branch.clone();
    let production_live = EnvironmentLive {
        apps: environments
            .iter()
            .filter(|status| status.environment == EnvironmentName::Production)
            .flat_map(|status| &status.apps)
            .map(|app| AppLive {
                app: app.app.clone(),
                label: app.label.clone(),
                runs: app.live.clone(),
            })
            .collect(),
    };
    let ahead = ahead_of_production(&engine, &branch, &production_live);
    let production_on_branch = branch_tip(&engine, &branch).and_then(|tip| {
        let production = crate::repo::oid(production_live.commit()?)?;
        Some(engine.repo.contains(tip, production))
    });
    let production_deploys_on_push = crate::engine::production_deploys_on_push(&engine);
    let (record, record_absent, verdicts) =
        match engine.record.history(&EnvironmentName::ALL, None).await {
            Ok(Some(history)) => (
                Some(
                    EnvironmentName::ALL
                        .into_iter()
                        .map(|environment| recorded_state(history.records(), environment))
                        .collect(),
                ),
                None,
                record::verdicts_of(history.records(), EnvironmentName::Production),
            ),
            Ok(None) => (
                None,
                engine.record.absent().map(str::to_owned),
                Default::default(),
            ),
            Err(error) => (
                None,
                Some(format!(
                    "it could not be read ({})",
                    record::trouble_text(&error)
                )),
                Default::default(),
            ),
        };
    let rollback_candidates =
        rollback_candidates(&engine, &releases, &production_live, &verdicts).await;
    Ok(StatusReport {
        environments,
        branch,
        ahead_of_production: ahead,
        production_on_branch,
        production_deploys_on_push,
        rollback_candidates,
        record,
        record_absent,
    })
}

async fn app_status(
    engine: &Engine,
    releases: &tag_policy::Releases,
    environment: EnvironmentName,
    app: &AppConfig,
) -> anyhow::Result<AppStatus> {
    let application = engine
        .coolify
        .application(&app.uuid)
        .await
        .with_context(|| format!("status: read the {environment} app {}", app.uuid))?;
    let live = engine
        .app_live(environment, app, releases)
        .await
        .with_context(|| format!("status: {environment}"))?;
    let latest = engine
        .coolify
        .deployments(&app.uuid, 0, 1)
        .await
        .with_context(|| format!("status: {environment}"))?
        .deployments
        .into_iter()
        .next()
        .map(|deployment| match &live.image_tag {
            // An image app's deployments say `HEAD`: its tag says what it runs.
            Some(tag) if app.image.is_some() => LatestDeployment {
                deployment: deployment.deployment_uuid.to_string(),
                status: deployment.status.to_string(),
                commit: engine
                    .commit_of_image_tag(app, tag, releases)
                    .map(String::from),
                image_tag: Some(tag.clone()),
            },
            _ => LatestDeployment {
                deployment: deployment.deployment_uuid.to_string(),
                status: deployment.status.to_string(),
                commit: deployment.resolved_commit().map(String::from),
                image_tag: None,
            },
        });
    let health = match &live.commit {
        Some(commit) => {
            let tag = live
                .tags
                .last()
                .and_then(|name| releases.find(name))
                .map(|release| release.tag().clone());
            match engine.probe_spec(environment, app, commit.as_str(), tag.as_ref())? {
                Some(spec) => {
                    let attempt = engine.prober.check(&spec).await;
                    Some(Health {
                        passed: attempt.passed(),
                        detail: attempt.to_string(),
                    })
                }
                None => None,
            }
        }
        None => None,
    };
    Ok(AppStatus {
        app: app.uuid.to_string(),
        label: app.label.clone(),
        app_name: application.name.clone(),
        app_status: application.status.clone(),
        pinned_commit: application.pinned_commit().map(str::to_owned),
        auto_deploy: application.is_auto_deploy_enabled(),
        live,
        latest_deployment: latest,
        health,
        has_health_url: app.health_url.is_some(),
        image: app.image.as_ref().map(|image| {
            format!(
                "{}:{}",
                application
                    .docker_registry_image_name
                    .as_deref()
                    .unwrap_or(image.name.as_str()),
                application
                    .docker_registry_image_tag
                    .as_deref()
                    .unwrap_or("latest")
            )
        }),
    })
}

/// The releases older than production's, newest first, each with what going back costs.
async fn rollback_candidates(
    engine: &Engine,
    releases: &tag_policy::Releases,
    production: &EnvironmentLive,
    verdicts: &std::collections::HashMap<coolify_client::CommitSha, record::Verdict>,
) -> Vec<RollbackCandidate> {
    let Some(mut current) = production.current_release(releases) else {
        return Vec::new();
    };
    let mut targets = Vec::new();
    while targets.len() < ROLLBACK_CANDIDATES {
        let Some(target) = releases.rollback_target(&current) else {
            break;
        };
        current = target.tag().clone();
        targets.push(target);
    }
    if targets.is_empty() {
        return Vec::new();
    }
    let images = engine.server_images(EnvironmentName::Production).await;
    targets
        .into_iter()
        .filter_map(|target| {
            let commit = crate::repo::commit_sha(target.commit()).ok()?;
            Some(RollbackCandidate {
                tag: target.tag().name().to_owned(),
                commit: commit.to_string(),
                failed: verdicts
                    .get(&commit)
                    .filter(|verdict| verdict.failed())
                    .map(|verdict| verdict.describe(EnvironmentName::Production)),
                apps: engine.rollback_costs(
                    EnvironmentName::Production,
                    &images,
                    &commit,
                    Some(target.tag()),
                ),
            })
        })
        .collect()
}

/// The newest verified run of `environment`, and the newest failure when it is newer.
fn recorded_state(
    records: &[release_record::Record],
    environment: EnvironmentName,
) -> RecordedState {
    let runs: Vec<&release_record::Record> = records
        .iter()
        .filter(|run| run.environment().name() == environment.as_str())
        .collect();
    let describe = |run: &release_record::Record| {
        let what = match run.tag() {
            Some(tag) => format!("{tag} ({})", run.commit().short()),
            None => run.commit().short().to_owned(),
        };
        format!(
            "{what} {}",
            run.settled_at()
                .map(record::when)
                .unwrap_or_else(|| "at an unknown time".to_owned())
        )
    };
    let verified = runs
        .iter()
        .position(|run| run.outcome() == release_record::Outcome::Verified);
    let failure = runs
        .iter()
        .position(|run| record::is_failure(run.outcome()))
        .filter(|failure| verified.is_none_or(|verified| *failure < verified));
    RecordedState {
        environment,
        last_verified: verified
            .map(|index| format!("{} by {}", describe(runs[index]), record::by(runs[index]))),
        last_failure: failure.map(|index| {
            let run = runs[index];
            format!(
                "{} {}",
                run.outcome().to_string().replace('_', " "),
                describe(run)
            )
        }),
    }
}

fn ahead_of_production(
    engine: &Engine,
    branch: &str,
    production: &EnvironmentLive,
) -> Option<usize> {
    let production = crate::repo::oid(production.commit()?)?;
    let tip = branch_tip(engine, branch)?;
    engine.repo.commits_ahead(tip, production).ok()
}

/// The branch's tip: the local branch, else origin's, else HEAD.
fn branch_tip(engine: &Engine, branch: &str) -> Option<git2::Oid> {
    [
        format!("refs/heads/{branch}"),
        format!("refs/remotes/origin/{branch}"),
        "HEAD".to_owned(),
    ]
    .iter()
    .find_map(|name| engine.repo.resolve_commit(name).ok())
}
