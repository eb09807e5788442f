//! `init [--staging APP] [--production APP] [--yes] [--force] [--dry-run]`: find this
//! repository's apps in Coolify and write `deploy.toml`.
//!
//! It reads the git remote, lists Coolify's applications, keeps those that build this
//! repository (whatever form Coolify stores the URL in), proposes staging and production from
//! their names, branches and Coolify environment names, and asks on a terminal; with `--yes`
//! or in CI it asks nothing, and a role it cannot tell is an error naming the flag. From each
//! app it takes the branch, a health URL (its first domain plus its health check path) and the
//! keys of its variables (never their values). It writes a commented `deploy.toml` that loads,
//! adds `.stagegate/` to `.gitignore`, and prints the health handler for the detected language,
//! any workflow of the team's that still deploys production on push, and the next steps.

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
use crate::legacy::{self, ProductionDeployOnPush};
use crate::output::Output;
use crate::process_env::ProcessEnv;
pub use crate::prompt::Ask;
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
    /// Workflows of the team's that still deploy production on a push.
    pub production_deploys_on_push: Vec<ProductionDeployOnPush>,
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
        match self.preset {
            Some(preset) => writeln!(
                f,
                "workflows: preset {preset} (found {})",
                preset.marker_file()
            )?,
            None => writeln!(
                f,
                "workflows: no uv.lock, package-lock.json, Cargo.toml or go.mod found; fill in `test` or `after` under [workflows]"
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
        for finding in &self.production_deploys_on_push {
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

    let staging = choose(
        Role::Staging,
        options.staging.as_deref(),
        &applications,
        &candidates,
        &environment_of,
        None,
        &repository,
        invocation,
    )?;
    let mut ask = ask;
    let staging = resolve(
        staging,
        Role::Staging,
        &candidates,
        &environment_of,
        ask.as_mut().map(|ask| &mut **ask as &mut dyn Ask),
    )?;
    let production = choose(
        Role::Production,
        options.production.as_deref(),
        &applications,
        &candidates,
        &environment_of,
        Some(staging.uuid.as_str()),
        &repository,
        invocation,
    )?;
    let production = resolve(
        production,
        Role::Production,
        &candidates,
        &environment_of,
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

    let staging = describe(&client, staging, environment_of(staging)).await?;
    let production = describe(&client, production, environment_of(production)).await?;
    let root = repo.root();
    let preset = detect_preset(root);
    let install = match preset {
        Some(Preset::RustCargo) if embeds_stagegate(root) => Install::CargoXtask,
        _ => Install::Action,
    };
    let content = render_config(&coolify_url, &staging, &production, preset, install);
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

    let production_deploys_on_push = legacy::production_deploys_on_push(root, &production.uuid);
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
    if !production_deploys_on_push.is_empty() {
        next_steps.push(format!(
            "Remove the production deploy from {} (see the warnings above)",
            production_deploys_on_push
                .iter()
                .map(|finding| finding.file.as_str())
                .collect::<std::collections::BTreeSet<_>>()
                .into_iter()
                .collect::<Vec<_>>()
                .join(", ")
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
        production_deploys_on_push,
        health_snippet,
        next_steps,
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Staging,
    Production,
}

impl Role {
    fn flag(self) -> &'static str {
        match self {
            Self::Staging => "--staging",
            Self::Production => "--production",
        }
    }

    fn name(self) -> &'static str {
        match self {
            Self::Staging => "staging",
            Self::Production => "production",
        }
    }

    /// Whether a word of the app's name, branch or Coolify environment says this role.
    fn matches(self, app: &Application, environment: Option<&str>) -> bool {
        let words: &[&str] = match self {
            Self::Staging => &[
                "staging", "stage", "stg", "dev", "develop", "preview", "test", "qa",
            ],
            Self::Production => &["production", "prod", "prd", "live"],
        };
        [app.name.as_deref(), app.git_branch.as_deref(), environment]
            .into_iter()
            .flatten()
            .flat_map(|text| {
                text.split(|c: char| !c.is_ascii_alphanumeric())
                    .map(str::to_ascii_lowercase)
                    .collect::<Vec<_>>()
            })
            .any(|word| words.contains(&word.as_str()))
    }
}

/// The outcome of looking at flags and proposals for one role.
enum Pick<'a> {
    /// Decided (a flag, or one clear proposal).
    Decided(&'a Application, Source),
    /// Several candidates and a proposal at most: ask, or fail naming the flag.
    Undecided(Option<&'a Application>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Source {
    Flag,
    Proposal,
}

#[allow(clippy::too_many_arguments)]
fn choose<'a>(
    role: Role,
    flag: Option<&str>,
    applications: &'a [Application],
    candidates: &[&'a Application],
    environment_of: &dyn Fn(&Application) -> Option<String>,
    taken: Option<&str>,
    repository: &RepositoryId,
    invocation: &crate::Invocation,
) -> anyhow::Result<Pick<'a>> {
    if let Some(wanted) = flag {
        return find_app(applications, wanted, role).map(|app| Pick::Decided(app, Source::Flag));
    }
    if candidates.is_empty() {
        let listed: Vec<String> = applications
            .iter()
            .map(|app| {
                format!(
                    "{} ({}, {})",
                    app.name.as_deref().unwrap_or("unnamed"),
                    app.uuid,
                    app.git_repository.as_deref().unwrap_or("no repository")
                )
            })
            .collect();
        return Err(BadInput(format!(
            "init: no Coolify application builds {repository}; the apps there are: {}. Pass them as `{}`, or point the apps at this repository in Coolify",
            if listed.is_empty() { "none".to_owned() } else { listed.join("; ") },
            invocation.command("init --staging APP --production APP"),
        ))
        .into());
    }
    let open: Vec<&Application> = candidates
        .iter()
        .copied()
        .filter(|app| Some(app.uuid.as_str()) != taken)
        .collect();
    let matching: Vec<&Application> = open
        .iter()
        .copied()
        .filter(|app| role.matches(app, environment_of(app).as_deref()))
        .filter(|app| {
            // An app that also reads as the other role is no proposal.
            let other = match role {
                Role::Staging => Role::Production,
                Role::Production => Role::Staging,
            };
            !other.matches(app, environment_of(app).as_deref())
        })
        .collect();
    Ok(match (matching.as_slice(), open.as_slice()) {
        ([only], _) => Pick::Decided(only, Source::Proposal),
        // Production is what is left once staging is chosen.
        ([], [only]) if role == Role::Production => Pick::Decided(only, Source::Proposal),
        ([], _) => Pick::Undecided(None),
        ([first, ..], _) => Pick::Undecided(Some(first)),
    })
}

fn resolve<'a>(
    pick: Pick<'a>,
    role: Role,
    candidates: &[&'a Application],
    environment_of: &dyn Fn(&Application) -> Option<String>,
    ask: Option<&mut dyn Ask>,
) -> anyhow::Result<&'a Application> {
    let label = |app: &Application| {
        let environment = environment_of(app)
            .map(|name| format!(", environment {name}"))
            .unwrap_or_default();
        format!(
            "{} ({}, branch {}{environment})",
            app.name.as_deref().unwrap_or("unnamed"),
            app.uuid,
            app.git_branch.as_deref().unwrap_or("?")
        )
    };
    let (proposal, decided) = match pick {
        Pick::Decided(app, Source::Flag) => return Ok(app),
        Pick::Decided(app, Source::Proposal) => (Some(app), true),
        Pick::Undecided(proposal) => (proposal, false),
    };
    match (ask, proposal) {
        (Some(ask), _) => {
            let options: Vec<String> = candidates.iter().map(|app| label(app)).collect();
            let default = proposal
                .and_then(|proposal| candidates.iter().position(|app| app.uuid == proposal.uuid));
            let index = ask
                .choose(
                    &format!("Which Coolify app is {}?", role.name()),
                    &options,
                    default,
                )
                .context("init: ask on the terminal")?;
            Ok(candidates[index])
        }
        (None, Some(app)) if decided => Ok(app),
        (None, _) => Err(BadInput(format!(
            "init: cannot tell which app is {}: pass {} APP with the uuid or name of one of {}",
            role.name(),
            role.flag(),
            candidates
                .iter()
                .map(|app| label(app))
                .collect::<Vec<_>>()
                .join("; ")
        ))
        .into()),
    }
}

/// The app a flag names: its uuid, else its name (which must be unique).
fn find_app<'a>(
    applications: &'a [Application],
    wanted: &str,
    role: Role,
) -> anyhow::Result<&'a Application> {
    if let Some(app) = applications.iter().find(|app| app.uuid.as_str() == wanted) {
        return Ok(app);
    }
    let named: Vec<&Application> = applications
        .iter()
        .filter(|app| app.name.as_deref() == Some(wanted))
        .collect();
    match named.as_slice() {
        [only] => Ok(only),
        [] => Err(BadInput(format!(
            "init: {} {wanted}: no Coolify application has that uuid or name; the apps there are: {}",
            role.flag(),
            applications
                .iter()
                .map(|app| format!("{} ({})", app.name.as_deref().unwrap_or("unnamed"), app.uuid))
                .collect::<Vec<_>>()
                .join(", ")
        ))
        .into()),
        several => Err(BadInput(format!(
            "init: {} {wanted}: {} applications have that name; pass the uuid of one: {}",
            role.flag(),
            several.len(),
            several
                .iter()
                .map(|app| app.uuid.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ))
        .into()),
    }
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
    let client = crate::engine::coolify_client(&url, token, output)
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

/// The first domain plus the health check path when one is set, else `/healthz`.
fn health_url(app: &Application) -> (String, bool) {
    let path = app
        .health_check_path
        .as_deref()
        .map(str::trim)
        .filter(|path| !path.is_empty() && *path != "/");
    let domain = app
        .domains()
        .into_iter()
        .find_map(|domain| Url::parse(domain).ok());
    let guessed_path = path.is_none();
    let Some(mut url) = domain else {
        // Named after the app: staging and production may not share a health URL.
        return (
            format!(
                "https://replace-with-the-domain-of-{}.example.com/healthz",
                app.uuid
            ),
            true,
        );
    };
    let path = path.unwrap_or("/healthz");
    url.set_path(&format!("/{}", path.trim_start_matches('/')));
    (url.to_string(), guessed_path)
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

fn toml_string(text: &str) -> String {
    let mut quoted = String::with_capacity(text.len() + 2);
    quoted.push('"');
    for c in text.chars() {
        match c {
            '"' => quoted.push_str("\\\""),
            '\\' => quoted.push_str("\\\\"),
            c if c.is_control() => quoted.push_str(&format!("\\u{:04X}", u32::from(c))),
            c => quoted.push(c),
        }
    }
    quoted.push('"');
    quoted
}

/// `code`, then `comment` from the column the repository's own deploy.toml uses.
fn commented(code: &str, comment: &str) -> String {
    format!("{code:<37} # {comment}\n")
}

fn render_config(
    coolify_url: &Url,
    staging: &ChosenApp,
    production: &ChosenApp,
    preset: Option<Preset>,
    install: Install,
) -> String {
    let url = coolify_url.as_str().trim_end_matches('/');
    let environment = |role: &str, app: &ChosenApp| {
        let origin = app
            .coolify_environment
            .as_deref()
            .map(|name| format!(", Coolify environment {name}"))
            .unwrap_or_default();
        let health_note = if app.health_url_guessed {
            "a guess: the endpoint that reports the running commit"
        } else {
            "the app's domain and its Coolify health check path"
        };
        let variables = if app.variables.is_empty() {
            "# Coolify has no variables for this app yet.\n".to_owned()
        } else {
            format!(
                "# Variables Coolify has for this app (declare those stagegate should manage in `env`):\n#   {}\n",
                app.variables.join(", ")
            )
        };
        let image = match &app.image {
            Some(image) => format!(
                "{}{}# The image must report its commit: SOURCE_COMMIT is not set for Docker-image apps,\n# so bake it in at build time (docs/ADOPTING.md).\n",
                commented(
                    &format!("image = {}", toml_string(image)),
                    "a Docker-image app: deploys set the commit's tag"
                ),
                commented(
                    "# image_tag = \"sha-{commit}\"",
                    "the tag CI pushes for each commit (the default)"
                ),
            ),
            None => String::new(),
        };
        format!(
            "[environments.{role}]\n# {name}{origin}\n{app_line}{branch_line}{health_line}{image}{variables}env = {{}}\n",
            name = app.name,
            app_line = commented(
                &format!("app = {}", toml_string(&app.uuid)),
                "the Coolify application uuid"
            ),
            branch_line = commented(
                &format!("branch = {}", toml_string(&app.branch)),
                "the branch Coolify builds; setup sets it"
            ),
            health_line = commented(
                &format!("health_url = {}", toml_string(&app.health_url)),
                health_note
            ),
        )
    };
    let workflows = match preset {
        Some(preset) => {
            let stagegate = match install {
                Install::Action => commented(
                    "# stagegate = \"action\"",
                    "deploy jobs install the prebuilt stagegate (the default)",
                ),
                Install::CargoXtask => commented(
                    "stagegate = \"cargo-xtask\"",
                    "deploy jobs run this workspace's `cargo xtask`",
                ),
            };
            format!(
                "{preset_line}{test_line}{after_line}{stagegate}{pr_line}",
                preset_line = commented(
                    &format!("preset = \"{preset}\""),
                    &format!(
                        "found {}; the toolchain setup, pinned by commit",
                        preset.marker_file()
                    ),
                ),
                test_line = commented(
                    &format!(
                        "# test = [\"{}\"]",
                        preset.default_checks().first().copied().unwrap_or_default()
                    ),
                    "replaces the preset's checks, one command per item",
                ),
                after_line = commented(
                    "# after = \"CI\"",
                    "or: deploy staging once your own CI workflow passes",
                ),
                pr_line = commented(
                    "pr_validation = false",
                    "true also generates pr-validation.yml (yours is never touched)",
                ),
            )
        }
        None => format!(
            "# No uv.lock, package-lock.json, Cargo.toml or go.mod here: list the commands that check a\n# commit, or replace `test` by `after = \"NAME\"` to deploy once your own CI workflow passes.\ntest = []\n{}",
            commented(
                "pr_validation = false",
                "true also generates pr-validation.yml (yours is never touched)"
            ),
        ),
    };
    format!(
        "# stagegate's deploy config, written by `stagegate init`; docs/CONFIG.md documents every key.\n\n[coolify]\n{url_line}{token_line}\n[tags]\n{prefix_line}\n[deploy]\n{timeout_line}{gate_line}\n[probe]\n{probe_line}\n{staging}\n{production}\n[workflows]\n{workflows}",
        url_line = commented(
            &format!("url = {}", toml_string(url)),
            "COOLIFY_URL overrides it"
        ),
        token_line = commented(
            "token_env = \"COOLIFY_TOKEN\"",
            "the token is read from this variable, never from a file"
        ),
        prefix_line = commented(
            "prefix = \"v\"",
            "release tags are PREFIX + semver, e.g. v1.4.2"
        ),
        timeout_line = commented("timeout = \"20m\"", "deadline for one Coolify deployment"),
        gate_line = commented(
            "staging_gate = true",
            "production takes only commits staging finished deploying"
        ),
        probe_line = commented(
            "expect_json = { \"/commit\" = \"{commit}\" }",
            "the health endpoint must report the deployed commit"
        ),
        staging = environment("staging", staging),
        production = environment("production", production),
    )
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
        };
        let url = Url::parse("https://coolify.example.com/").unwrap();
        let presets = Preset::ALL.into_iter().map(Some).chain([None]);
        for preset in presets {
            for install in [Install::Action, Install::CargoXtask] {
                let text = render_config(
                    &url,
                    &app("stg", &["A", "B"]),
                    &app("prd", &[]),
                    preset,
                    install,
                );
                let config = Config::parse(&text, Path::new("deploy.toml"), &ProcessEnv::default())
                    .unwrap_or_else(|error| panic!("{preset:?} {install:?}: {error}\n{text}"));
                let workflows = config.workflows.unwrap();
                assert_eq!(workflows.preset, preset);
                assert!(text.contains("#   A, B"), "{text}");
                if preset.is_some() {
                    assert_eq!(workflows.stagegate, install);
                } else {
                    assert_eq!(workflows.test, Some(Vec::new()));
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
        };
        let url = Url::parse("https://coolify.example.com/").unwrap();
        let text = render_config(
            &url,
            &chosen("stg"),
            &chosen("prd"),
            Some(Preset::PythonUv),
            Install::Action,
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
