//! `init [--staging APP] [--production APP] [--yes] [--force] [--dry-run]`: find this
//! repository's apps in Coolify and write `deploy.toml`.
//!
//! It reads the git remote, lists Coolify's applications, keeps those that build this
//! repository (whatever form Coolify stores the URL in), proposes staging and production from
//! their names, branches and Coolify environment names, and asks on a terminal; with `--yes`
//! or in CI it asks nothing, and a role it cannot tell is an error naming the flag. From each
//! app it takes the branch, a health URL (its first domain, with its scheme, port and path,
//! plus its health check path) and the keys of its variables (never their values). From the
//! team's own workflows it proposes how a commit is checked: wait for their CI workflow when
//! one checks every push (`after`), else run the checks their pull-request workflow runs
//! (`test`), else the preset's, with the linters the repository configures. It writes a
//! commented `deploy.toml` that loads, adds `.stagegate/` to `.gitignore`, and prints the
//! health handler for the detected language, every line of the team's workflows that still
//! deploys on a push, and the next steps.

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

use anyhow::Context as _;
use coolify_client::{Application, Client, ImageName, RepositoryId};
use secrecy::SecretString;
use serde::Serialize;
use url::Url;

pub use crate::config::Preset;
use crate::config::{Config, Install};
use crate::exit::BadInput;
use crate::files::{Existed, Replace, write_atomically};
use crate::health_endpoint::{self, Snippet};
use crate::legacy::{self, DeployOnPush, ProductionDeployOnPush};
use crate::output::Output;
use crate::process_env::ProcessEnv;
pub use crate::prompt::Ask;

mod choose;
mod render;
mod team;

pub use self::team::{ProposalSource, WorkflowsProposal};

use self::choose::{Candidates, Role};
use self::render::{Rest, render_config};
use crate::prompt::LinePrompt;
use crate::session::{DryRun, Session};

/// Whether `init` may ask.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Questions {
    /// Ask on a terminal (never in CI).
    #[default]
    AskOnTerminal,
    /// `--yes`: take every proposal, ask nothing.
    AssumeYes,
}

/// Whether an existing `deploy.toml` may be replaced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Overwrite {
    /// Never (the default).
    #[default]
    No,
    /// `--force`.
    Yes,
}

/// `init`'s options.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct InitOptions {
    /// `--staging APP`: uuid or name.
    pub staging: Option<String>,
    /// `--production APP`: uuid or name.
    pub production: Option<String>,
    /// `--yes`.
    pub questions: Questions,
    /// `--force`.
    pub overwrite: Overwrite,
    /// `--dry-run`.
    pub dry_run: DryRun,
}

/// One chosen app, as written into `deploy.toml`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChosenApp {
    /// The Coolify application uuid.
    pub uuid: String,
    /// Its name.
    pub name: String,
    /// Its Coolify environment, when known.
    pub coolify_environment: Option<String>,
    /// The branch it builds.
    pub branch: String,
    /// The proposed health URL.
    pub health_url: String,
    /// Whether the health URL's path is a guess (`/healthz`) rather than the app's own health
    /// check path, or the domain a placeholder.
    pub health_url_guessed: bool,
    /// The keys of its variables (values are never read into the report).
    pub variables: Vec<String>,
    /// For a Docker-image application: the image it runs, without a tag.
    pub image: Option<String>,
    /// Whether Coolify makes pull-request previews of it (`None` when Coolify does not say).
    pub previews_enabled: Option<bool>,
}

/// What happened to a file `init` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Written {
    /// Written.
    Written,
    /// Already as needed.
    Unchanged,
    /// `--dry-run`: would be written.
    WouldWrite,
}

/// The result of `init`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InitReport {
    /// The repository, as `host/owner/name`.
    pub repository: String,
    /// The config file's path.
    pub config_path: String,
    /// What happened to it.
    pub config: Written,
    /// Its text.
    pub content: String,
    /// What happened to `.gitignore`.
    pub gitignore: Written,
    /// The staging app.
    pub staging: ChosenApp,
    /// The production app.
    pub production: ChosenApp,
    /// The preset picked from the repository's files.
    pub preset: Option<Preset>,
    /// How the generated workflows are proposed to check a commit.
    pub workflows: WorkflowsProposal,
    /// Workflows of the team's that still deploy production on a push.
    pub production_deploys_on_push: Vec<ProductionDeployOnPush>,
    /// Workflows of the team's that deploy staging on a push (each push would build twice
    /// once `staging-deploy.yml` deploys it).
    pub staging_deploys_on_push: Vec<DeployOnPush>,
    /// What to check in the written file before using it.
    pub warnings: Vec<String>,
    /// The health handler for the detected language.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub health_snippet: Option<String>,
    /// What to run next, in order.
    pub next_steps: Vec<String>,
}

impl fmt::Display for InitReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.config == Written::WouldWrite {
            writeln!(f, "--- {} (dry run: not written) ---", self.config_path)?;
            f.write_str(&self.content)?;
            writeln!(f, "---")?;
        }
        for (role, app) in [("staging", &self.staging), ("production", &self.production)] {
            let environment = app
                .coolify_environment
                .as_deref()
                .map(|name| format!(", Coolify environment {name}"))
                .unwrap_or_default();
            writeln!(
                f,
                "{role}: {} ({}{environment}), branch {}, health {}{}",
                app.name,
                app.uuid,
                app.branch,
                app.health_url,
                if app.health_url_guessed {
                    " (a guess: check it)"
                } else {
                    ""
                }
            )?;
            if app.variables.is_empty() {
                writeln!(f, "  no variables in Coolify")?;
            } else {
                writeln!(f, "  variables in Coolify: {}", app.variables.join(", "))?;
            }
        }
        let proposal = &self.workflows;
        let checks = proposal.checks.join(", ");
        let file = proposal.file.as_deref().unwrap_or_default();
        match proposal.source {
            ProposalSource::After => writeln!(
                f,
                "workflows: staging deploys once your workflow {} ({file}) passed on a push (`after`); it runs {checks}",
                proposal.after.as_deref().unwrap_or_default()
            )?,
            ProposalSource::TeamChecks => writeln!(
                f,
                "workflows: the checks of {file} run before each staging deploy (`test`): {checks}"
            )?,
            ProposalSource::Preset => match self.preset {
                Some(preset) => writeln!(
                    f,
                    "workflows: preset {preset} (found {}) runs {checks}",
                    preset.marker_file()
                )?,
                None => writeln!(f, "workflows: {checks}")?,
            },
            ProposalSource::Nothing => writeln!(
                f,
                "workflows: no uv.lock, package-lock.json, Cargo.toml or go.mod found, and no workflow of yours with checks; fill in `test` or `after` under [workflows]"
            )?,
        }
        let verb = |written: Written, what: &str| match written {
            Written::Written => format!("wrote {what}"),
            Written::Unchanged => format!("{what} already as needed"),
            Written::WouldWrite => format!("dry run: would write {what}"),
        };
        writeln!(f, "{}", verb(self.config, &self.config_path))?;
        writeln!(
            f,
            "{}",
            match self.gitignore {
                Written::Unchanged => ".gitignore already lists .stagegate/".to_owned(),
                other => verb(other, ".gitignore (adds .stagegate/, where backups go)"),
            }
        )?;
        for warning in &self.warnings {
            writeln!(f, "warning: {warning}")?;
        }
        for finding in self
            .production_deploys_on_push
            .iter()
            .chain(&self.staging_deploys_on_push)
        {
            writeln!(f, "warning: {finding}")?;
        }
        if let Some(snippet) = &self.health_snippet {
            writeln!(
                f,
                "\nMake the health endpoint report the commit Coolify deployed:\n\n{snippet}"
            )?;
        }
        writeln!(f, "\nNext steps:")?;
        for (number, step) in self.next_steps.iter().enumerate() {
            writeln!(f, "  {}. {step}", number + 1)?;
        }
        Ok(())
    }
}

/// Run `init`, asking on the process's terminal when there is one.
///
/// # Errors
///
/// As [`init_with`].
pub async fn init(session: &Session, options: &InitOptions) -> anyhow::Result<InitReport> {
    let mut terminal = match options.questions {
        Questions::AskOnTerminal => LinePrompt::terminal(&session.process_env),
        Questions::AssumeYes => None,
    };
    init_with(
        session,
        options,
        terminal.as_mut().map(|prompt| prompt as &mut dyn Ask),
    )
    .await
}

/// Run `init`, asking `ask` when given (`None`: ask nothing).
///
/// # Errors
///
/// [`BadInput`] (exit 2) for an existing `deploy.toml` without `--force`, no git remote,
/// `COOLIFY_URL` or the token unset, no app of this repository, an app flag matching no app
/// or several, or a role that cannot be told without asking; Coolify unreachable or a file
/// that cannot be written (exit 1).
pub async fn init_with(
    session: &Session,
    options: &InitOptions,
    ask: Option<&mut dyn Ask>,
) -> anyhow::Result<InitReport> {
    let repo = session.open_repo().context("init")?;
    let config_path = session.config_path(&repo);
    let invocation = &session.invocation;
    if config_path.exists() && options.overwrite == Overwrite::No && !options.dry_run.is_dry() {
        return Err(BadInput(format!(
            "init: {} exists already and init never replaces it: edit it, or pass --force to write a new one (`{}`)",
            config_path.display(),
            invocation.command("init --force")
        ))
        .into());
    }
    let repository = remote_repository(&repo.git())?;
    let (coolify_url, client) = connect(&session.process_env, &session.output)?;
    let applications = client
        .applications()
        .await
        .context("init: list the Coolify applications")?;
    let environment_names = match client.environment_names().await {
        Ok(names) => names,
        Err(error) => {
            session.output.warn(format!(
                "init: cannot read Coolify's projects ({error}); proposing from names and branches only"
            ));
            BTreeMap::new()
        }
    };
    let candidates: Vec<&Application> = applications
        .iter()
        .filter(|app| {
            app.git_repository
                .as_deref()
                .and_then(RepositoryId::parse)
                .is_some_and(|id| id == repository)
        })
        .collect();
    let environment_of = |app: &Application| {
        app.environment_id
            .and_then(|id| environment_names.get(&id).cloned())
    };

    let apps = Candidates {
        applications: &applications,
        candidates: &candidates,
        environment_of: &environment_of,
        repository: &repository,
        invocation,
    };
    let mut ask = ask;
    let staging = apps.choose(Role::Staging, options.staging.as_deref(), None)?;
    let staging = apps.resolve(
        staging,
        Role::Staging,
        ask.as_mut().map(|ask| &mut **ask as &mut dyn Ask),
    )?;
    let production = apps.choose(
        Role::Production,
        options.production.as_deref(),
        Some(staging.uuid.as_str()),
    )?;
    let production = apps.resolve(
        production,
        Role::Production,
        ask.as_mut().map(|ask| &mut **ask as &mut dyn Ask),
    )?;
    if staging.uuid == production.uuid {
        return Err(BadInput(format!(
            "init: {} ({}) cannot be both staging and production: pass --staging APP and --production APP with two different apps",
            staging.name.as_deref().unwrap_or_default(),
            staging.uuid
        ))
        .into());
    }

    let mut staging = describe(&client, staging, environment_of(staging)).await?;
    let mut production = describe(&client, production, environment_of(production)).await?;
    let mut warnings = Vec::new();
    if staging.health_url == production.health_url {
        // A probe of a shared URL cannot tell which environment answered: deploy.toml refuses
        // it, so each gets a placeholder to fill in.
        warnings.push(format!(
            "staging and production would both be probed at {} (their Coolify domains and health check paths give the same URL): fill in each environment's `health_url` with the URL its own app serves",
            staging.health_url
        ));
        for app in [&mut staging, &mut production] {
            app.health_url = placeholder_health_url(&app.uuid);
            app.health_url_guessed = true;
        }
    }
    let root = repo.root();
    let preset = detect_preset(root);
    let lock = std::fs::read_to_string(root.join("uv.lock")).unwrap_or_default();
    let install = match preset {
        Some(Preset::RustCargo) if embeds_stagegate(root) => Install::CargoXtask,
        Some(Preset::PythonUv)
            if crate::workflows::locked_version(&lock, "stagegate-cli").as_deref()
                == Some(env!("CARGO_PKG_VERSION")) =>
        {
            Install::Uv
        }
        _ => Install::Action,
    };
    let apps = legacy::Apps {
        staging: vec![staging.uuid.clone()],
        production: vec![production.uuid.clone()],
    };
    let preset_checks = preset
        .map(|preset| crate::workflows::preset_checks(preset, root))
        .unwrap_or_default();
    let proposal = team::propose(&team::team_workflows(root, &apps), preset, &preset_checks);
    let repository_url = format!("https://{repository}");
    let content = render_config(
        &coolify_url,
        &staging,
        &production,
        &Rest {
            preset,
            install,
            proposal: &proposal,
            preset_checks: &preset_checks,
            repository_url: Some(&repository_url),
        },
    );
    // What init writes must load: check it as `deploy staging` would read it.
    Config::parse(&content, &config_path, &ProcessEnv::default())
        .context("init: the generated deploy.toml does not load (a bug in init)")?;

    let gitignore_path = root.join(".gitignore");
    let gitignore_text = std::fs::read_to_string(&gitignore_path).unwrap_or_default();
    let gitignore_needed = !gitignore_text.lines().any(|line| {
        matches!(
            line.trim(),
            ".stagegate" | ".stagegate/" | "/.stagegate" | "/.stagegate/" | ".stagegate/*"
        )
    });
    let (config_state, gitignore_state) = if options.dry_run.is_dry() {
        (
            Written::WouldWrite,
            if gitignore_needed {
                Written::WouldWrite
            } else {
                Written::Unchanged
            },
        )
    } else {
        write_config(&config_path, &content, options.overwrite)?;
        let state = if gitignore_needed {
            let mut text = gitignore_text.clone();
            if !text.is_empty() && !text.ends_with('\n') {
                text.push('\n');
            }
            text.push_str("# stagegate's backups of Coolify settings (may hold variable values)\n.stagegate/\n");
            write_atomically(&gitignore_path, &text, Replace::Yes)
                .context("init: add .stagegate/ to .gitignore")?;
            Written::Written
        } else {
            Written::Unchanged
        };
        (Written::Written, state)
    };

    let (production_deploys_on_push, staging_deploys_on_push): (Vec<_>, Vec<_>) =
        legacy::deploys_on_push(root, &apps)
            .into_iter()
            .partition(|finding| finding.environment == crate::config::EnvironmentName::Production);
    let manifest = std::fs::read_to_string(root.join("pyproject.toml")).unwrap_or_default();
    let health_snippet = preset
        .and_then(|preset| health_endpoint::for_preset(preset, &manifest))
        .map(|Snippet { title, code }| format!("{title}:\n\n{code}"));
    let config_name = config_path
        .strip_prefix(root)
        .unwrap_or(&config_path)
        .display()
        .to_string();
    let mut next_steps = vec![
        format!(
            "Back up both apps' settings: `{}` and `{}`",
            invocation.command("backup staging -o .stagegate/staging.json"),
            invocation.command("backup production -o .stagegate/production.json")
        ),
        format!(
            "See what setup changes, then apply it (production auto-deploy off, branches, variables): `{}`, then `{}`",
            invocation.command("setup --dry-run"),
            invocation.command("setup")
        ),
        format!(
            "Generate the GitHub workflows: `{}`, then `{}`",
            invocation.command("workflows --dry-run"),
            invocation.command("workflows")
        ),
        format!(
            "In GitHub, create the environments `staging` and `production` and give each the secret {}",
            "COOLIFY_TOKEN"
        ),
    ];
    let mut deploying: std::collections::BTreeMap<&str, Vec<String>> = Default::default();
    for finding in production_deploys_on_push
        .iter()
        .chain(&staging_deploys_on_push)
    {
        deploying
            .entry(finding.file.as_str())
            .or_default()
            .push(finding.line.to_string());
    }
    for (file, lines) in &deploying {
        next_steps.push(format!(
            "Retire the old pipeline: remove the deploy steps of {file} (line{} {}, see the warnings above), or the whole file if it does nothing else, so that only stagegate's workflows deploy",
            if lines.len() > 1 { "s" } else { "" },
            lines.join(", ")
        ));
    }
    next_steps.push(format!(
        "Commit {config_name}, .gitignore and .github/workflows, then verify staging from here: `{}`",
        invocation.command("deploy staging")
    ));
    Ok(InitReport {
        repository: repository.to_string(),
        config_path: config_path.display().to_string(),
        config: config_state,
        content,
        gitignore: gitignore_state,
        staging,
        production,
        preset,
        workflows: proposal,
        production_deploys_on_push,
        staging_deploys_on_push,
        warnings,
        health_snippet,
        next_steps,
    })
}

/// The repository of the `origin` remote, or of the only remote.
fn remote_repository(git: &git2::Repository) -> anyhow::Result<RepositoryId> {
    let names = git.remotes().context("init: list the git remotes")?;
    let names: Vec<&str> = (0..names.len())
        .filter_map(|index| names.get(index).ok().flatten())
        .collect();
    let name = if names.contains(&"origin") {
        "origin"
    } else {
        match names.as_slice() {
            [only] => only,
            [] => {
                return Err(BadInput(
                    "init: this repository has no git remote, and init finds the Coolify apps by the repository they build: add it with `git remote add origin URL`".to_owned(),
                )
                .into());
            }
            several => {
                return Err(BadInput(format!(
                    "init: this repository has the remotes {} and none is `origin`: rename the one Coolify builds to origin (`git remote rename NAME origin`)",
                    several.join(", ")
                ))
                .into());
            }
        }
    };
    let remote = git
        .find_remote(name)
        .with_context(|| format!("init: read the remote {name}"))?;
    let url = remote.url().unwrap_or_default();
    RepositoryId::parse(url).ok_or_else(|| {
        BadInput(format!(
            "init: the remote {name} is `{url}`, which is not a repository URL; set it with `git remote set-url {name} https://github.com/OWNER/REPO`"
        ))
        .into()
    })
}

/// The Coolify URL and a client, from `COOLIFY_URL` and `COOLIFY_TOKEN`.
fn connect(environment: &ProcessEnv, output: &Output) -> anyhow::Result<(Url, Client)> {
    let text = environment.get("COOLIFY_URL").ok_or_else(|| {
        BadInput(
            "init: COOLIFY_URL is not set: export the address of your Coolify, e.g. COOLIFY_URL=https://coolify.example.com".to_owned(),
        )
    })?;
    let url = Url::parse(text).map_err(|error| {
        BadInput(format!(
            "init: COOLIFY_URL `{text}` is not a URL ({error}); set it like https://coolify.example.com"
        ))
    })?;
    crate::config::check_coolify_url(&url)
        .map_err(|message| BadInput(format!("init: COOLIFY_URL: {message}")))?;
    let token = environment
        .get("COOLIFY_TOKEN")
        .map(|token| SecretString::from(token.to_owned()))
        .ok_or_else(|| {
            BadInput(
                "init: COOLIFY_TOKEN is not set: export a Coolify API token with the read ability (setup and deploy need write and deploy too)".to_owned(),
            )
        })?;
    let client =
        crate::engine::coolify_client(&url, token, coolify_client::PlainHttp::LoopbackOnly, output)
            .context("init: set up the Coolify client")?;
    Ok((url, client))
}

/// What `deploy.toml` needs of an app, and its variable keys.
async fn describe(
    client: &Client,
    app: &Application,
    coolify_environment: Option<String>,
) -> anyhow::Result<ChosenApp> {
    let variables = client
        .env_vars(&app.uuid)
        .await
        .with_context(|| format!("init: list the variables of {}", app.uuid))?;
    let mut keys: Vec<String> = variables
        .into_iter()
        .filter(|variable| !variable.is_preview)
        .map(|variable| variable.key)
        .collect();
    keys.sort();
    keys.dedup();
    let (health_url, health_url_guessed) = health_url(app);
    Ok(ChosenApp {
        uuid: app.uuid.to_string(),
        name: app.name.clone().unwrap_or_else(|| app.uuid.to_string()),
        coolify_environment,
        branch: app
            .git_branch
            .clone()
            .filter(|branch| !branch.is_empty())
            .unwrap_or_else(|| "main".to_owned()),
        health_url,
        health_url_guessed,
        variables: keys,
        image: image_of(app),
        previews_enabled: app.previews_enabled(),
    })
}

/// The image a Docker-image application runs, as `deploy.toml`'s `image` (no tag); `None` for
/// a git application, or a name stagegate would refuse (the user then writes it).
fn image_of(app: &Application) -> Option<String> {
    app.is_image_app()
        .then(|| app.docker_registry_image_name.clone())
        .flatten()
        .filter(|name| ImageName::new(name.as_str()).is_ok())
}

/// The first domain (scheme, host, port and path, as Coolify routes it) plus the health
/// check path when one is set, else `/healthz`.
fn health_url(app: &Application) -> (String, bool) {
    let path = app
        .health_check_path
        .as_deref()
        .map(str::trim)
        .filter(|path| !path.is_empty() && *path != "/");
    // Coolify serves an app on its first domain.
    let domain = app
        .domains()
        .into_iter()
        .next()
        .and_then(|domain| Url::parse(domain.trim()).ok());
    let guessed_path = path.is_none();
    let Some(mut url) = domain else {
        return (placeholder_health_url(app.uuid.as_str()), true);
    };
    let path = path.unwrap_or("/healthz");
    let base = url.path().trim_end_matches('/').to_owned();
    url.set_path(&format!("{base}/{}", path.trim_start_matches('/')));
    url.set_query(None);
    url.set_fragment(None);
    (url.to_string(), guessed_path)
}

/// A health URL to fill in, named after the app: staging and production may not share one.
fn placeholder_health_url(uuid: &str) -> String {
    format!("https://replace-with-the-domain-of-{uuid}.example.com/healthz")
}

/// The preset whose marker file is at the repository root.
pub(crate) fn detect_preset(root: &Path) -> Option<Preset> {
    Preset::ALL
        .into_iter()
        .find(|preset| root.join(preset.marker_file()).is_file())
}

/// Whether a Rust workspace runs stagegate through its own `cargo xtask`.
fn embeds_stagegate(root: &Path) -> bool {
    std::fs::read_to_string(root.join("xtask/Cargo.toml"))
        .is_ok_and(|manifest| manifest.contains("stagegate"))
}

/// Write the config through a temporary file; without `--force` never over an existing file,
/// even one created since the check.
fn write_config(path: &Path, content: &str, overwrite: Overwrite) -> anyhow::Result<()> {
    let replace = match overwrite {
        Overwrite::Yes => Replace::Yes,
        Overwrite::No => Replace::No,
    };
    write_atomically(path, content, replace).map_err(|error| {
        if error.is::<Existed>() {
            anyhow::Error::new(BadInput(format!(
                "init: {} appeared while init ran; it was left as it is (pass --force to replace it)",
                path.display()
            )))
        } else {
            error.context("init: write the config")
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::PreviewWorkflow;

    fn app(json: serde_json::Value) -> Application {
        serde_json::from_value(json).unwrap()
    }

    #[test]
    fn the_health_url_is_the_first_domain_and_the_check_path() {
        let with_path = app(
            serde_json::json!({"uuid": "a", "fqdn": "https://api.example.com,https://www.example.com", "health_check_path": "/health"}),
        );
        assert_eq!(
            health_url(&with_path),
            ("https://api.example.com/health".to_owned(), false)
        );
        let default_path = app(
            serde_json::json!({"uuid": "a", "fqdn": "https://api.example.com", "health_check_path": "/"}),
        );
        assert_eq!(
            health_url(&default_path),
            ("https://api.example.com/healthz".to_owned(), true)
        );
        let no_domain = app(serde_json::json!({"uuid": "a", "fqdn": null}));
        assert!(health_url(&no_domain).1);
        // Coolify's domain may carry a port and a path: both stay, the check path goes after.
        let with_port_and_path = app(serde_json::json!({
            "uuid": "a",
            "fqdn": "http://127.0.0.1:18765/apps/a-uuid,https://www.example.com",
            "health_check_path": "healthz",
        }));
        assert_eq!(
            health_url(&with_port_and_path),
            (
                "http://127.0.0.1:18765/apps/a-uuid/healthz".to_owned(),
                false
            )
        );
        let trailing_slash =
            app(serde_json::json!({"uuid": "a", "fqdn": "https://example.com/api/"}));
        assert_eq!(
            health_url(&trailing_slash).0,
            "https://example.com/api/healthz"
        );
    }

    #[test]
    fn every_rendered_config_loads() {
        let app = |uuid: &str, variables: &[&str]| ChosenApp {
            uuid: uuid.to_owned(),
            name: format!("{uuid} \"quoted\""),
            coolify_environment: None,
            branch: "main".to_owned(),
            health_url: format!("https://replace-with-the-domain-of-{uuid}.example.com/healthz"),
            health_url_guessed: true,
            variables: variables.iter().map(|&key| key.to_owned()).collect(),
            image: None,
            previews_enabled: None,
        };
        let url = Url::parse("https://coolify.example.com/").unwrap();
        let presets = Preset::ALL.into_iter().map(Some).chain([None]);
        let checks = vec!["uv run pytest".to_owned(), "it's \"quoted\"".to_owned()];
        for preset in presets {
            for source in [
                ProposalSource::After,
                ProposalSource::TeamChecks,
                ProposalSource::Preset,
                ProposalSource::Nothing,
            ] {
                if preset.is_none() && source == ProposalSource::Preset {
                    continue;
                }
                let proposal = WorkflowsProposal {
                    source,
                    file: Some(".github/workflows/ci.yml".to_owned()),
                    checks: checks.clone(),
                    after: Some("CI/CD".to_owned()),
                };
                for (install, previews) in [
                    (Install::Action, Some(true)),
                    (Install::CargoXtask, Some(false)),
                    (Install::Uv, None),
                ] {
                    let staging = ChosenApp {
                        previews_enabled: previews,
                        ..app("stg", &["A", "B"])
                    };
                    let text = render_config(
                        &url,
                        &staging,
                        &app("prd", &[]),
                        &Rest {
                            preset,
                            install,
                            proposal: &proposal,
                            preset_checks: &[],
                            repository_url: Some("https://github.com/acme/api"),
                        },
                    );
                    let config =
                        Config::parse(&text, Path::new("deploy.toml"), &ProcessEnv::default())
                            .unwrap_or_else(|error| {
                                panic!("{preset:?} {source:?} {install:?}: {error}\n{text}")
                            });
                    let workflows = config.workflows.unwrap();
                    assert_eq!(workflows.preset, preset);
                    assert!(text.contains("#   A, B"), "{text}");
                    assert_eq!(
                        config
                            .notes
                            .repository_url
                            .map(|url| url.to_string())
                            .as_deref(),
                        Some("https://github.com/acme/api")
                    );
                    if preset.is_some() {
                        assert_eq!(workflows.stagegate, install);
                    }
                    // Proposed when Coolify makes previews of the staging app, else offered.
                    let expected = if previews == Some(true) {
                        PreviewWorkflow::Generate
                    } else {
                        assert!(text.contains("# previews = true"), "{text}");
                        PreviewWorkflow::Skip
                    };
                    assert_eq!(workflows.previews, expected, "{text}");
                    match source {
                        ProposalSource::After => {
                            assert_eq!(workflows.after.as_deref(), Some("CI/CD"));
                            assert_eq!(workflows.test, None);
                        }
                        ProposalSource::TeamChecks => {
                            assert_eq!(workflows.test.as_deref(), Some(checks.as_slice()));
                            assert!(text.contains("# after = \"CI/CD\""), "{text}");
                        }
                        ProposalSource::Preset => {
                            assert_eq!(workflows.test, None);
                            assert!(text.contains("# test = [\"uv run pytest\""), "{text}");
                        }
                        ProposalSource::Nothing => {
                            assert_eq!(workflows.test, Some(Vec::new()));
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn a_docker_image_app_gets_its_image_in_the_config() {
        let chosen = |uuid: &str| ChosenApp {
            uuid: uuid.to_owned(),
            name: uuid.to_owned(),
            coolify_environment: None,
            branch: "main".to_owned(),
            health_url: format!("https://{uuid}.api.example.com/healthz"),
            health_url_guessed: false,
            variables: Vec::new(),
            image: Some("ghcr.io/acme/api".to_owned()),
            previews_enabled: None,
        };
        let url = Url::parse("https://coolify.example.com/").unwrap();
        let proposal = WorkflowsProposal {
            source: ProposalSource::Preset,
            file: None,
            checks: vec!["uv run pytest".to_owned()],
            after: None,
        };
        let text = render_config(
            &url,
            &chosen("stg"),
            &chosen("prd"),
            &Rest {
                preset: Some(Preset::PythonUv),
                install: Install::Action,
                proposal: &proposal,
                preset_checks: &[],
                repository_url: None,
            },
        );
        let config = Config::parse(&text, Path::new("deploy.toml"), &ProcessEnv::default())
            .unwrap_or_else(|error| panic!("{error}\n{text}"));
        for environment in [&config.staging, &config.production] {
            let image = environment.apps[0].image.as_ref().expect("an image app");
            assert_eq!(image.name.as_str(), "ghcr.io/acme/api");
        }
        assert!(text.contains("SOURCE_COMMIT is not set"), "{text}");
    }

    #[test]
    fn only_a_docker_image_app_with_a_valid_image_name_gets_an_image() {
        let image_app = |name: &str| {
            app(serde_json::json!({
                "uuid": "a",
                "build_pack": "dockerimage",
                "docker_registry_image_name": name,
                "docker_registry_image_tag": "sha-0123",
            }))
        };
        assert_eq!(
            image_of(&image_app("ghcr.io/acme/api")).as_deref(),
            Some("ghcr.io/acme/api")
        );
        // A name with a tag would be refused at load time: the user writes `image` instead.
        assert_eq!(image_of(&image_app("ghcr.io/acme/api:1.5")), None);
        let git_app = app(serde_json::json!({
            "uuid": "b",
            "build_pack": "nixpacks",
            "docker_registry_image_name": "ghcr.io/acme/api",
        }));
        assert_eq!(image_of(&git_app), None);
    }

    #[test]
    fn roles_come_from_words_of_names_branches_and_environments() {
        let staging =
            app(serde_json::json!({"uuid": "a", "name": "api-stg", "git_branch": "main"}));
        assert!(Role::Staging.matches(&staging, None));
        assert!(!Role::Production.matches(&staging, None));
        let plain = app(serde_json::json!({"uuid": "b", "name": "api", "git_branch": "main"}));
        assert!(Role::Production.matches(&plain, Some("production")));
        assert!(!Role::Staging.matches(&plain, Some("production")));
        // `prod` inside a word is no evidence.
        let product = app(serde_json::json!({"uuid": "c", "name": "products-api"}));
        assert!(!Role::Production.matches(&product, None));
    }
}
