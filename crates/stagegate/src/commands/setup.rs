//! `setup [--dry-run]`: configure Coolify for the staged flow.
//!
//! Production's auto-deploy goes off (so a push never reaches production), both apps build
//! their configured branch, and the variables `deploy.toml` declares are present with their
//! values. The plan is printed first; before the first change both apps are backed up; after
//! the changes everything is read back and planned again, which must come out empty. A second
//! run finds nothing to change and says so.
//!
//! Staging's auto-deploy goes off too once the repository has stagegate's `staging-deploy.yml`,
//! which deploys every push itself: with both, each push is built twice. Before that it is left
//! on and the report says so.
//!
//! With a `[preview]` table, the app previews are made of gets preview deployments on when it
//! builds from git (Coolify's webhook creates its previews only then).
//!
//! Variables whose values Coolify hides are left as they are (they are reported, never
//! overwritten blindly).

use std::fmt;
use std::path::PathBuf;
use std::time::SystemTime;

use anyhow::Context as _;
use coolify_client::{
    Application, ApplicationPatch, ApplicationUuid, AutoDeploy, Client, PreviewDeployments,
};
use serde::Serialize;

use crate::backup::{self, BackupLocation, Values};
use crate::config::{AppConfig, EnvironmentConfig, EnvironmentName};
use crate::engine::Engine;
use crate::env::{self, EnvWrite, KeyState, Prune};
use crate::session::{DryRun, Session};

/// Options of `setup`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SetupOptions {
    /// `--dry-run`.
    pub dry_run: DryRun,
    /// Where the backups go.
    pub backup: BackupLocation,
}

/// One change `setup` makes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Change {
    /// Turn production's auto-deploy off.
    AutoDeployOff {
        /// Which environment.
        environment: EnvironmentName,
        /// Its app.
        app: String,
        /// What Coolify reported (`None`: it did not say).
        from: Option<bool>,
    },
    /// Build another branch.
    Branch {
        /// Which environment.
        environment: EnvironmentName,
        /// Its app.
        app: String,
        /// The branch it builds now.
        from: Option<String>,
        /// The configured branch.
        to: String,
    },
    /// Run another image (a Docker-image application's `docker_registry_image_name`).
    Image {
        /// Which environment.
        environment: EnvironmentName,
        /// Its app.
        app: String,
        /// The image it runs now.
        from: Option<String>,
        /// The configured image.
        to: String,
    },
    /// Turn preview deployments on, so that pull requests get previews (`[preview]`).
    PreviewsOn {
        /// Which environment.
        environment: EnvironmentName,
        /// Its app.
        app: String,
        /// What Coolify reported (`None`: it did not say).
        from: Option<bool>,
    },
    /// Create or update a declared variable.
    Variable {
        /// Which environment.
        environment: EnvironmentName,
        /// Its app.
        app: String,
        /// The write (never with its value).
        write: EnvWrite,
    },
}

impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::AutoDeployOff {
                environment,
                app,
                from,
            } => {
                let now = match from {
                    Some(true) => "on",
                    Some(false) => "off",
                    None => "not reported",
                };
                match environment {
                    EnvironmentName::Production => write!(
                        f,
                        "{environment} (app {app}): turn auto-deploy off (now {now}), so a push never deploys {environment}"
                    ),
                    EnvironmentName::Staging => write!(
                        f,
                        "{environment} (app {app}): turn auto-deploy off (now {now}): staging-deploy.yml deploys and verifies each push, and with both every push is built twice"
                    ),
                }
            }
            Self::Branch {
                environment,
                app,
                from,
                to,
            } => write!(
                f,
                "{environment} (app {app}): build branch {to} instead of {}",
                from.as_deref().unwrap_or("none")
            ),
            Self::Image {
                environment,
                app,
                from,
                to,
            } => write!(
                f,
                "{environment} (app {app}): run image {to} instead of {}",
                from.as_deref().unwrap_or("none")
            ),
            Self::PreviewsOn {
                environment,
                app,
                from,
            } => write!(
                f,
                "{environment} (app {app}): turn preview deployments on (now {}), so that pull requests get previews",
                if *from == Some(false) {
                    "off"
                } else {
                    "not reported"
                }
            ),
            Self::Variable {
                environment,
                app,
                write,
            } => write!(f, "{environment} (app {app}): {write}"),
        }
    }
}

/// What `setup` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SetupAction {
    /// The plan was applied and verified.
    Applied,
    /// Coolify was already set up.
    NothingToChange,
    /// `--dry-run`: only planned.
    Planned,
}

/// The result of `setup`.
#[derive(Debug, Clone, Serialize)]
pub struct SetupReport {
    /// What was done.
    pub action: SetupAction,
    /// The changes made (or planned).
    pub changes: Vec<Change>,
    /// The backups written before the first change (with `--dry-run`: where they would go).
    pub backups: Vec<PathBuf>,
    /// Declared variables whose values Coolify hides, as `environment.KEY`: left as they are.
    pub unknown: Vec<String>,
    /// Workflows of the team's that still deploy production on a push, whatever Coolify's
    /// auto-deploy says: part of the plan, to remove by hand.
    pub production_deploys_on_push: Vec<crate::legacy::ProductionDeployOnPush>,
    /// Staging apps whose auto-deploy setup leaves on because the repository has no
    /// `staging-deploy.yml` of stagegate's yet (it turns it off once it has).
    pub staging_auto_deploy_left_on: Vec<String>,
    /// How the user runs stagegate, for the command the text names.
    #[serde(skip)]
    pub invocation: crate::Invocation,
}

impl fmt::Display for SetupReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.action {
            SetupAction::NothingToChange => write!(
                f,
                "Coolify is set up for staged releases: nothing to change"
            )?,
            SetupAction::Planned => {
                write!(
                    f,
                    "dry run: setup would make {}:",
                    changes(self.changes.len())
                )?;
                for change in &self.changes {
                    write!(f, "\n  - {change}")?;
                }
                for backup in &self.backups {
                    write!(f, "\nafter backing up to {}", backup.display())?;
                }
            }
            SetupAction::Applied => {
                write!(
                    f,
                    "setup made and verified {}:",
                    changes(self.changes.len())
                )?;
                for change in &self.changes {
                    write!(f, "\n  - {change}")?;
                }
                write!(f, "\nthe state before is backed up in:")?;
                for backup in &self.backups {
                    write!(f, "\n  {}", backup.display())?;
                }
            }
        }
        if !self.unknown.is_empty() {
            write!(
                f,
                "\nleft as is, values hidden by Coolify: {} (compare them with a read:sensitive token and `{}`)",
                self.unknown.join(", "),
                self.invocation.command("env diff ENV")
            )?;
        }
        if !self.staging_auto_deploy_left_on.is_empty() {
            write!(
                f,
                "\nstaging's auto-deploy is still on ({}): once stagegate's staging-deploy.yml is committed (`{}`), run setup again to turn it off, or every push is built twice",
                self.staging_auto_deploy_left_on.join(", "),
                self.invocation.command("workflows")
            )?;
        }
        if !self.production_deploys_on_push.is_empty() {
            write!(
                f,
                "\nnot done by setup: production still deploys on a push through workflows of yours, whatever its auto-deploy setting:"
            )?;
            for finding in &self.production_deploys_on_push {
                write!(f, "\n  - {finding}")?;
            }
        }
        Ok(())
    }
}

/// `1 change`, `3 changes`.
fn changes(count: usize) -> String {
    super::counted(count, "change")
}

/// One app's plan.
struct AppPlan<'a> {
    section: &'a EnvironmentConfig,
    app: &'a AppConfig,
    patch: ApplicationPatch,
    writes: Vec<EnvWrite>,
    changes: Vec<Change>,
    unknown: Vec<String>,
    /// Staging's auto-deploy is on and stays on (no `staging-deploy.yml` of stagegate's yet).
    left_on: bool,
}

/// Whether staging's auto-deploy should go off: when the repository has stagegate's own
/// `staging-deploy.yml`, which deploys every push.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum StagingWorkflow {
    Generated,
    Missing,
}

impl StagingWorkflow {
    fn of(root: &std::path::Path) -> Self {
        let path = root
            .join(crate::workflows::DIRECTORY)
            .join("staging-deploy.yml");
        match std::fs::read_to_string(path) {
            Ok(text) if crate::workflows::is_generated(&text) => Self::Generated,
            _ => Self::Missing,
        }
    }
}

async fn plan_app<'a>(
    client: &Client,
    section: &'a EnvironmentConfig,
    app_config: &'a AppConfig,
    staging_workflow: StagingWorkflow,
    previews: Option<&ApplicationUuid>,
) -> anyhow::Result<AppPlan<'a>> {
    let environment = section.name;
    let app = &app_config.uuid;
    let application: Application = client
        .application(app)
        .await
        .with_context(|| format!("read {environment} app {app}"))?;
    let variables = client
        .env_vars(app)
        .await
        .with_context(|| format!("read the variables of {environment} app {app}"))?;
    let mut patch = ApplicationPatch::new();
    let mut changes = Vec::new();
    let auto_deploy_off = match environment {
        EnvironmentName::Production => true,
        EnvironmentName::Staging => staging_workflow == StagingWorkflow::Generated,
    };
    let left_on = environment == EnvironmentName::Staging
        && !auto_deploy_off
        && application.is_auto_deploy_enabled() == Some(true);
    if auto_deploy_off && application.is_auto_deploy_enabled() != Some(false) {
        patch = patch.auto_deploy(AutoDeploy::Disabled);
        changes.push(Change::AutoDeployOff {
            environment,
            app: app.to_string(),
            from: application.is_auto_deploy_enabled(),
        });
    }
    if let Some(image) = &app_config.image {
        // A Docker-image app builds no branch; its image is what setup keeps right.
        if application.docker_registry_image_name.as_deref() != Some(image.name.as_str()) {
            patch = patch.docker_registry_image_name(&image.name);
            changes.push(Change::Image {
                environment,
                app: app.to_string(),
                from: application.docker_registry_image_name.clone(),
                to: image.name.to_string(),
            });
        }
    } else if application.git_branch.as_deref() != Some(section.branch.as_str()) {
        patch = patch.git_branch(section.branch.clone());
        changes.push(Change::Branch {
            environment,
            app: app.to_string(),
            from: application.git_branch.clone(),
            to: section.branch.clone(),
        });
    }
    // A git app's previews come from Coolify's webhook, only with preview deployments on.
    if previews == Some(app)
        && app_config.image.is_none()
        && application.previews_enabled() != Some(true)
    {
        patch = patch.preview_deployments(PreviewDeployments::Enabled);
        changes.push(Change::PreviewsOn {
            environment,
            app: app.to_string(),
            from: application.previews_enabled(),
        });
    }
    let writes = coolify_client::env_plan(&app_config.env, &variables, Prune::No);
    changes.extend(writes.iter().map(|write| Change::Variable {
        environment,
        app: app.to_string(),
        write: write.clone(),
    }));
    let unknown = coolify_client::env_diff(&app_config.env, &variables)
        .into_iter()
        .filter(|diff| diff.state == KeyState::Unknown)
        .map(|diff| format!("{environment}.{}", diff.key))
        .collect();
    Ok(AppPlan {
        section,
        app: app_config,
        patch,
        writes,
        changes,
        unknown,
        left_on,
    })
}

/// Plan, back up, apply and verify the Coolify configuration of both environments.
///
/// # Errors
///
/// A bad config or missing token ([`crate::BadInput`]); Coolify unreachable, an app unknown,
/// a change refused (the token needs `write`), a backup not written, or the read-back still
/// differing from the plan.
pub async fn setup(session: &Session, options: &SetupOptions) -> anyhow::Result<SetupReport> {
    let engine = Engine::open(session).context("setup")?;
    let client = &engine.coolify;
    let staging_workflow = StagingWorkflow::of(engine.repo.root());
    let previews = (engine.config.preview.declared == crate::config::Declared::Yes)
        .then_some(&engine.preview_app().uuid);
    let mut plans = Vec::new();
    for environment in EnvironmentName::ALL {
        let section = engine.config.environment(environment);
        for app in &section.apps {
            plans.push(
                plan_app(client, section, app, staging_workflow, previews)
                    .await
                    .context("setup: plan")?,
            );
        }
    }
    let mut report = SetupReport {
        action: SetupAction::NothingToChange,
        changes: plans.iter().flat_map(|plan| plan.changes.clone()).collect(),
        backups: Vec::new(),
        unknown: plans.iter().flat_map(|plan| plan.unknown.clone()).collect(),
        production_deploys_on_push: crate::engine::production_deploys_on_push(&engine),
        staging_auto_deploy_left_on: plans
            .iter()
            .filter(|plan| plan.left_on)
            .map(|plan| plan.app.uuid.to_string())
            .collect(),
        invocation: engine.invocation.clone(),
    };
    if report.changes.is_empty() {
        return Ok(report);
    }
    for change in &report.changes {
        engine.output.step(format!("plan: {change}"));
    }
    let now = SystemTime::now();
    report.backups = EnvironmentName::ALL
        .into_iter()
        .map(|environment| {
            options
                .backup
                .path_for(engine.repo.root(), environment, now)
        })
        .collect();
    if options.dry_run.is_dry() {
        report.action = SetupAction::Planned;
        return Ok(report);
    }

    // Back up both apps before the first change, even one that needs none.
    for (environment, path) in EnvironmentName::ALL.into_iter().zip(&report.backups) {
        let section = engine.config.environment(environment);
        let document = backup::take(client, section, Values::Redacted)
            .await
            .context("setup: back up")?;
        backup::write(path, &document).context("setup: back up")?;
        for app in &section.apps {
            engine.output.step(format!(
                "{environment}: backed up app {} to {}",
                app.uuid,
                path.display()
            ));
        }
    }

    for plan in &plans {
        let environment = plan.section.name;
        let app = &plan.app.uuid;
        if !plan.patch.is_empty() {
            for change in plan
                .changes
                .iter()
                .filter(|change| !matches!(change, Change::Variable { .. }))
            {
                engine.output.step(format!("apply: {change}"));
            }
            client
                .update_application(app, &plan.patch)
                .await
                .with_context(|| format!("setup: update {environment} app {app}"))?;
        }
        if !plan.writes.is_empty() {
            env::apply(client, app, environment, &plan.writes, &engine.output)
                .await
                .with_context(|| format!("setup: {environment} variables"))?;
        }
    }

    // Verify: the plan made from what Coolify reports now must be empty.
    let mut remaining = Vec::new();
    for environment in EnvironmentName::ALL {
        let section = engine.config.environment(environment);
        for app in &section.apps {
            let plan = plan_app(client, section, app, staging_workflow, previews)
                .await
                .context("setup: verify")?;
            remaining.extend(plan.changes);
        }
    }
    if !remaining.is_empty() {
        let list: Vec<String> = remaining.iter().map(ToString::to_string).collect();
        anyhow::bail!(
            "setup: verify: Coolify still differs after the changes: {}; check the apps in Coolify (the state before is in {})",
            list.join("; "),
            report
                .backups
                .iter()
                .map(|path| path.display().to_string())
                .collect::<Vec<_>>()
                .join(" and ")
        );
    }
    report.action = SetupAction::Applied;
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes_read_as_sentences() {
        let change = Change::AutoDeployOff {
            environment: EnvironmentName::Production,
            app: "prod".to_owned(),
            from: Some(true),
        };
        assert_eq!(
            change.to_string(),
            "production (app prod): turn auto-deploy off (now on), so a push never deploys production"
        );
        let change = Change::Branch {
            environment: EnvironmentName::Staging,
            app: "stage".to_owned(),
            from: Some("develop".to_owned()),
            to: "main".to_owned(),
        };
        assert_eq!(
            change.to_string(),
            "staging (app stage): build branch main instead of develop"
        );
        let json = serde_json::to_value(&change).unwrap();
        assert_eq!(json["kind"], "branch");
        assert_eq!(json["to"], "main");
    }

    #[test]
    fn nothing_to_change_says_so() {
        let report = SetupReport {
            action: SetupAction::NothingToChange,
            changes: Vec::new(),
            backups: Vec::new(),
            unknown: vec!["production.API_KEY".to_owned()],
            production_deploys_on_push: Vec::new(),
            staging_auto_deploy_left_on: Vec::new(),
            invocation: crate::Invocation::cargo_xtask(),
        };
        let text = report.to_string();
        assert!(text.contains("nothing to change"), "{text}");
        assert!(text.contains("production.API_KEY"), "{text}");
        assert!(text.contains("`cargo xtask env diff ENV`"), "{text}");
    }

    #[test]
    fn one_change_is_one_change() {
        assert_eq!(changes(1), "1 change");
        assert_eq!(changes(2), "2 changes");
        let report = SetupReport {
            action: SetupAction::Planned,
            changes: vec![Change::AutoDeployOff {
                environment: EnvironmentName::Staging,
                app: "stage".to_owned(),
                from: Some(true),
            }],
            backups: Vec::new(),
            unknown: Vec::new(),
            production_deploys_on_push: Vec::new(),
            staging_auto_deploy_left_on: Vec::new(),
            invocation: crate::Invocation::stagegate(),
        };
        let text = report.to_string();
        assert!(
            text.starts_with("dry run: setup would make 1 change:"),
            "{text}"
        );
        assert!(text.contains("every push is built twice"), "{text}");
    }
}
