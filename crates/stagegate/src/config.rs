//! `deploy.toml`: typed at load time, so a bad value fails before anything is contacted and
//! names its key and line.
//!
//! The `[tags]` table is `tag-policy`'s own type and the `[probe]` tables are
//! `health-probe`'s: this module only adds what belongs to the flows (Coolify, deploy
//! deadlines, environments). `docs/CONFIG.md` documents every key and default.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use coolify_client::ApplicationUuid;
use health_probe::ProbeConfig;
use secrecy::SecretString;
use serde::Deserialize;
use tag_policy::TagPolicy;
use url::Url;

use crate::environment::Environment;
use crate::exit::BadInput;
use crate::image::{DEFAULT_TAG_TEMPLATE, ImageConfig, TagTemplate};

/// `probe.interval` when the config sets none.
pub const DEFAULT_PROBE_INTERVAL: Duration = Duration::from_secs(1);

/// `probe.confirm_interval` when the config sets none.
pub const DEFAULT_CONFIRM_INTERVAL: Duration = Duration::from_millis(250);

/// `probe.switch_over` when the config sets none (half the deadline if that is shorter): the
/// time after Coolify reports a deployment finished during which a proxy's 502/503, a refused
/// connection or a timeout does not count toward `probe.failure_threshold`.
pub const DEFAULT_SWITCH_OVER: Duration = Duration::from_secs(15);

/// `probe.failure_threshold` when the config sets none: with the 1 s interval, a release that
/// keeps failing after the switch-over is given up on about 20 s after its deployment finished.
pub const DEFAULT_FAILURE_THRESHOLD: u32 = 5;

/// The file name looked for at the repository root.
pub const FILE_NAME: &str = "deploy.toml";

/// A loaded, validated `deploy.toml`.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// Where it was read from.
    pub path: PathBuf,
    /// `[coolify]`, with `COOLIFY_URL` applied.
    pub coolify: CoolifyConfig,
    /// `[tags]`.
    pub tags: TagPolicy,
    /// `[deploy]`.
    pub deploy: DeployConfig,
    /// `[notes]`.
    pub notes: NotesConfig,
    /// `[environments.staging]`.
    pub staging: EnvironmentConfig,
    /// `[environments.production]`.
    pub production: EnvironmentConfig,
    /// `[workflows]`, when the file has the table.
    pub workflows: Option<WorkflowsConfig>,
}

/// `[workflows]`: how the generated GitHub Actions workflows check a commit before the staging
/// deploy, and how they run stagegate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkflowsConfig {
    /// `preset`: the language setup (and default checks) of the repository.
    pub preset: Option<Preset>,
    /// `test`: commands that replace the preset's checks.
    pub test: Option<Vec<String>>,
    /// `after`: the name of the team's CI workflow; staging then deploys when it succeeds on
    /// the branch, instead of running checks of its own.
    pub after: Option<String>,
    /// `stagegate`: how the deploy jobs run stagegate.
    pub stagegate: Install,
    /// `pr_validation`: whether `pr-validation.yml` is generated.
    pub pr_validation: PrValidation,
}

impl WorkflowsConfig {
    /// The commands that check a commit: `test` when set, else the preset's.
    pub fn checks(&self) -> Vec<String> {
        match (&self.test, self.preset) {
            (Some(test), _) => test.clone(),
            (None, Some(preset)) => preset
                .default_checks()
                .iter()
                .map(|&check| check.to_owned())
                .collect(),
            (None, None) => Vec::new(),
        }
    }
}

/// A language preset of `[workflows]`: the setup action pinned by commit, the install command
/// and the default checks.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, Deserialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum Preset {
    /// Python with uv (`uv.lock`).
    PythonUv,
    /// Node with npm (`package-lock.json`).
    NodeNpm,
    /// Rust with cargo (`Cargo.toml`).
    RustCargo,
    /// Go modules (`go.mod`).
    Go,
}

impl Preset {
    /// Every preset.
    pub const ALL: [Self; 4] = [Self::PythonUv, Self::NodeNpm, Self::RustCargo, Self::Go];

    /// The name `deploy.toml` uses.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::PythonUv => "python-uv",
            Self::NodeNpm => "node-npm",
            Self::RustCargo => "rust-cargo",
            Self::Go => "go",
        }
    }

    /// The file whose presence at the repository root picks this preset.
    pub fn marker_file(self) -> &'static str {
        match self {
            Self::PythonUv => "uv.lock",
            Self::NodeNpm => "package-lock.json",
            Self::RustCargo => "Cargo.toml",
            Self::Go => "go.mod",
        }
    }

    /// The checks run when `test` is not set.
    pub fn default_checks(self) -> &'static [&'static str] {
        match self {
            Self::PythonUv => &["uv run pytest"],
            Self::NodeNpm => &["npm test"],
            Self::RustCargo => &["cargo test --workspace --locked"],
            Self::Go => &["go vet ./...", "go test ./..."],
        }
    }
}

impl fmt::Display for Preset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How the generated deploy jobs run stagegate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, serde::Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Install {
    /// Install the prebuilt `stagegate` of the version that generated the workflows with
    /// stagegate's GitHub Action (the default; no Rust toolchain).
    #[default]
    Action,
    /// `cargo xtask`, for a Rust workspace whose `xtask` embeds stagegate (with a cache step).
    CargoXtask,
}

/// Whether `workflows` generates `pr-validation.yml`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum PrValidation {
    /// Leave pull requests to the team's own workflows (the default).
    #[default]
    Skip,
    /// Generate it, running the checks on every pull request to the branch.
    Generate,
}

/// `[coolify]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CoolifyConfig {
    /// The Coolify instance (without `/api/v1`).
    pub url: Url,
    /// The environment variable holding the API token.
    pub token_env: String,
}

/// `[deploy]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeployConfig {
    /// Deadline for one Coolify deployment to reach a terminal status.
    pub timeout: Duration,
    /// Whether production needs a finished staging deployment of the same commit.
    pub staging_gate: StagingGate,
}

/// Whether production needs a finished staging deployment of the same commit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StagingGate {
    /// Production only takes commits staging finished deploying (the default).
    Required,
    /// The gate is off for every production deploy.
    Off,
}

/// `[notes]`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct NotesConfig {
    /// The repository's web URL, for compare links (e.g. `https://github.com/org/app`).
    pub repository_url: Option<Url>,
}

/// Which environment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum EnvironmentName {
    /// Every push to main.
    Staging,
    /// Release tags only.
    Production,
}

impl EnvironmentName {
    /// Both, in pipeline order.
    pub const ALL: [Self; 2] = [Self::Staging, Self::Production];

    /// `staging` or `production`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Staging => "staging",
            Self::Production => "production",
        }
    }
}

impl fmt::Display for EnvironmentName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for EnvironmentName {
    type Err = BadInput;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text {
            "staging" => Ok(Self::Staging),
            "production" => Ok(Self::Production),
            other => Err(BadInput(format!(
                "unknown environment `{other}`: use `staging` or `production`"
            ))),
        }
    }
}

/// `[environments.NAME]`.
#[derive(Debug, Clone, PartialEq)]
pub struct EnvironmentConfig {
    /// Which one.
    pub name: EnvironmentName,
    /// The git branch Coolify builds.
    pub branch: String,
    /// The Coolify applications that move together, in the order the config lists them (one
    /// for the single-app form `app = "..."`); never empty, and at least one has a health URL.
    pub apps: Vec<AppConfig>,
}

/// One Coolify application of an environment.
#[derive(Debug, Clone, PartialEq)]
pub struct AppConfig {
    /// Its uuid.
    pub uuid: ApplicationUuid,
    /// Its name in messages: `name`, or the uuid.
    pub label: String,
    /// The health endpoint that reports the running commit; `None` for an app that serves no
    /// HTTP (a worker): then its deployment and container status are the evidence.
    pub health_url: Option<Url>,
    /// `[probe]` with the environment's and then this app's overrides applied.
    pub probe: ProbeConfig,
    /// Declared environment variables: the environment's, with this app's added or overriding.
    pub env: BTreeMap<String, String>,
    /// For a Docker-image application: its image and the template of its tags.
    pub image: Option<ImageConfig>,
}

impl EnvironmentConfig {
    /// The apps that have a health URL, with it.
    pub fn probed_apps(&self) -> impl Iterator<Item = (&AppConfig, &Url)> {
        self.apps
            .iter()
            .filter_map(|app| app.health_url.as_ref().map(|url| (app, url)))
    }

    /// Whether the config lists several apps (messages then name each one).
    pub fn has_several_apps(&self) -> bool {
        self.apps.len() > 1
    }
}

impl Config {
    /// The default location: `deploy.toml` at the repository root.
    pub fn default_path(repository_root: &Path) -> PathBuf {
        repository_root.join(FILE_NAME)
    }

    /// Read and validate a config file; `COOLIFY_URL` in `environment` overrides
    /// `coolify.url`.
    ///
    /// # Errors
    ///
    /// [`BadInput`] naming the file, the key (with its line) and the fix.
    pub fn load(path: &Path, environment: &Environment) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|error| {
            BadInput(if error.kind() == std::io::ErrorKind::NotFound {
                format!(
                    "no config at {}: copy deploy.toml from the stagegate repository and fill in your apps, or pass --config PATH",
                    path.display()
                )
            } else {
                format!("cannot read {}: {error}", path.display())
            })
        })?;
        Self::parse(&text, path, environment)
    }

    /// Validate config text as if read from `path`.
    ///
    /// # Errors
    ///
    /// [`BadInput`] naming the file, the key (with its line) and the fix.
    pub fn parse(text: &str, path: &Path, environment: &Environment) -> anyhow::Result<Self> {
        let raw: RawConfig =
            toml::from_str(text).map_err(|error| describe_toml_error(text, path, &error))?;
        let invalid =
            |key: &str, message: String| BadInput(format!("{}: {key}: {message}", path.display()));

        let mut url = raw.coolify.url;
        if let Some(overridden) = environment.get("COOLIFY_URL") {
            url = Url::parse(overridden).map_err(|error| {
                BadInput(format!(
                    "COOLIFY_URL `{overridden}` is not a URL ({error}); set it like https://coolify.example.com"
                ))
            })?;
        }
        check_coolify_url(&url).map_err(|message| invalid("coolify.url", message))?;

        let token_env = raw
            .coolify
            .token_env
            .unwrap_or_else(|| "COOLIFY_TOKEN".to_owned());
        if token_env.is_empty()
            || !token_env
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_')
        {
            return Err(invalid(
                "coolify.token_env",
                format!(
                    "`{token_env}` is not an environment variable name; use e.g. COOLIFY_TOKEN"
                ),
            )
            .into());
        }

        let deploy = raw.deploy.unwrap_or_default();
        let mut environments = raw.environments;
        let source = Source { text, path };
        let mut take = |name: EnvironmentName| -> anyhow::Result<EnvironmentConfig> {
            let section = environments.remove(name.as_str()).ok_or_else(|| {
                invalid(
                    &format!("environments.{name}"),
                    format!("missing; add an [environments.{name}] table with app, branch and health_url"),
                )
            })?;
            source.environment(name, section, &raw.probe)
        };
        let staging = take(EnvironmentName::Staging)?;
        let production = take(EnvironmentName::Production)?;
        if let Some(unknown) = environments.keys().next() {
            return Err(invalid(
                &format!("environments.{unknown}"),
                "unknown environment; only `staging` and `production` exist".to_owned(),
            )
            .into());
        }
        if let Some(shared) = production
            .apps
            .iter()
            .find(|app| staging.apps.iter().any(|other| other.uuid == app.uuid))
        {
            return Err(invalid(
                "environments.production.app",
                format!(
                    "`{}` is also the staging app; staging and production must be different Coolify applications",
                    shared.uuid
                ),
            )
            .into());
        }

        let timeout = match deploy.timeout {
            Some(timeout) if timeout.get_ref().0.is_zero() => {
                let line = text[..timeout.span().start.min(text.len())]
                    .matches('\n')
                    .count()
                    + 1;
                return Err(BadInput(format!(
                    "{}, line {line}: `deploy.timeout`: \"0s\" would give up on every deployment at once; write a positive duration, e.g. \"20m\"",
                    path.display()
                ))
                .into());
            }
            Some(timeout) => timeout.into_inner().0,
            None => Duration::from_secs(20 * 60),
        };

        Ok(Self {
            path: path.to_path_buf(),
            coolify: CoolifyConfig { url, token_env },
            tags: raw.tags,
            deploy: DeployConfig {
                timeout,
                staging_gate: if deploy.staging_gate.unwrap_or(true) {
                    StagingGate::Required
                } else {
                    StagingGate::Off
                },
            },
            notes: NotesConfig {
                repository_url: raw.notes.and_then(|notes| notes.repository_url),
            },
            staging,
            production,
            workflows: raw
                .workflows
                .map(|workflows| workflows.validate(path))
                .transpose()?,
        })
    }

    /// One environment's section.
    pub fn environment(&self, name: EnvironmentName) -> &EnvironmentConfig {
        match name {
            EnvironmentName::Staging => &self.staging,
            EnvironmentName::Production => &self.production,
        }
    }

    /// The Coolify token from the variable `coolify.token_env` names.
    ///
    /// # Errors
    ///
    /// [`BadInput`] when the variable is unset or empty.
    pub fn token(&self, environment: &Environment) -> anyhow::Result<SecretString> {
        let name = &self.coolify.token_env;
        environment
            .get(name)
            .map(|token| SecretString::from(token.to_owned()))
            .ok_or_else(|| {
                BadInput(format!(
                    "{name} is not set: export a Coolify API token with the read, write and deploy abilities as {name}"
                ))
                .into()
            })
    }
}

/// Whether a probe table sets a check of the answer's body.
fn has_expectation(probe: &ProbeConfig) -> bool {
    probe.expect_json.is_some()
        || probe.expect_json_matches.is_some()
        || probe.expect_body_contains.is_some()
}

/// The variable names of an `env` table that Coolify would refuse, as a message.
fn check_env_keys(env: &BTreeMap<String, String>) -> Result<(), String> {
    for key in env.keys() {
        if let Err(error) = coolify_client::validate_env_key(key) {
            let reason = match error {
                coolify_client::Error::InvalidInput { reason, .. } => reason,
                other => other.to_string(),
            };
            return Err(format!("`{key}` is not a valid variable name ({reason})"));
        }
    }
    Ok(())
}

/// The line of `key = ...` directly in the `[table]` section, if the text has it there.
fn key_line_in(text: &str, table: &str, key: &str) -> Option<usize> {
    let lines: Vec<&str> = text.lines().collect();
    let header = lines.iter().position(|line| {
        line.trim()
            .strip_prefix('[')
            .and_then(|rest| rest.strip_suffix(']'))
            .is_some_and(|header| header.trim() == table)
    })?;
    lines[header + 1..]
        .iter()
        .take_while(|line| !line.trim_start().starts_with('['))
        .position(|line| {
            line.trim_start()
                .strip_prefix(key)
                .is_some_and(|rest| rest.trim_start().starts_with('='))
        })
        .map(|offset| header + 2 + offset)
}

/// The 1-based line of a byte offset.
fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

/// A load-time error on `key`, with its line when known.
fn at_line(path: &Path, line: Option<usize>, key: &str, message: String) -> BadInput {
    match line {
        Some(line) => BadInput(format!(
            "{}, line {line}: `{key}`: {message}",
            path.display()
        )),
        None => BadInput(format!("{}: `{key}`: {message}", path.display())),
    }
}

/// A refused per-app probe table's message, with where a release placeholder can go instead.
fn app_probe_message(environment: EnvironmentName, error: &health_probe::Error) -> String {
    let mut message = error.to_string();
    if let health_probe::Error::UnknownPlaceholder { name, .. } = error
        && environment == EnvironmentName::Staging
        && matches!(name.as_str(), "tag" | "version")
    {
        message.push_str(&format!(
            "; a staging deploy has no release tag, so `{{{name}}}` is known in production only: move the check to production's apps"
        ));
    }
    message
}

/// The text of `deploy.toml` and where it was read from, for errors that name a line.
#[derive(Clone, Copy)]
struct Source<'a> {
    text: &'a str,
    path: &'a Path,
}

/// What every app of an environment inherits from its section.
struct Inherited<'a> {
    environment: EnvironmentName,
    /// `[probe]` with the section's overrides and stagegate's defaults.
    probe: &'a ProbeConfig,
    /// Whether `[probe]` or the section's probe sets an `expect_*` check of its own.
    expectation_set: bool,
    /// Whether the section has a probe table (for the line of a probe error).
    section_has_probe: bool,
    /// The section's `env`.
    env: &'a BTreeMap<String, String>,
}

/// An app's entry before it is checked: its dotted key, its line, and the raw values.
type RawEntry = (String, Option<usize>, RawApp);

impl Source<'_> {
    fn invalid(&self, key: &str, message: String) -> BadInput {
        BadInput(format!("{}: {key}: {message}", self.path.display()))
    }

    fn at_line(&self, line: Option<usize>, key: &str, message: String) -> BadInput {
        at_line(self.path, line, key, message)
    }

    /// One `[environments.NAME]` section, with `[probe]` under its own probe table.
    fn environment(
        &self,
        name: EnvironmentName,
        mut section: RawEnvironment,
        shared_probe: &ProbeConfig,
    ) -> anyhow::Result<EnvironmentConfig> {
        let expectation_set =
            has_expectation(shared_probe) || section.probe.as_ref().is_some_and(has_expectation);
        let section_has_probe = section.probe.is_some();
        let probe = environment_probe(shared_probe, section.probe.take());
        let branch = section.branch.take().unwrap_or_else(|| "main".to_owned());
        if branch.is_empty() || branch == "HEAD" || branch.contains("..") || branch.starts_with('/')
        {
            return Err(self
                .invalid(
                    &format!("environments.{name}.branch"),
                    format!("`{branch}` is not a branch Coolify can build; use e.g. main"),
                )
                .into());
        }
        check_env_keys(&section.env)
            .map_err(|message| self.invalid(&format!("environments.{name}.env"), message))?;
        let section_line =
            line_in_table(self.text, &format!("environments.{name}"), None).map(|(line, _)| line);
        let entries = self.entries(name, section_line, &mut section)?;
        let inherited = Inherited {
            environment: name,
            probe: &probe,
            expectation_set,
            section_has_probe,
            env: &section.env,
        };
        let mut apps: Vec<AppConfig> = Vec::with_capacity(entries.len());
        for entry in entries {
            let app = self.app(&inherited, &apps, entry)?;
            apps.push(app);
        }
        if !apps.iter().any(|app| app.health_url.is_some()) {
            return Err(self
                .at_line(
                    section_line,
                    &format!("environments.{name}.apps"),
                    "no app has a health_url: without an endpoint that reports the running commit nothing proves which commit runs; give the app that serves HTTP a health_url".to_owned(),
                )
                .into());
        }
        Ok(EnvironmentConfig { name, branch, apps })
    }

    /// The section's apps: the entries of `apps`, or the single app of `app = "..."`; never
    /// both.
    fn entries(
        &self,
        name: EnvironmentName,
        section_line: Option<usize>,
        section: &mut RawEnvironment,
    ) -> anyhow::Result<Vec<RawEntry>> {
        let at_section = |key: &str, message: String| self.at_line(section_line, key, message);
        if section.apps.is_some()
            && let Some((key, _)) = [("image", &section.image), ("image_tag", &section.image_tag)]
                .into_iter()
                .find(|(_, value)| value.is_some())
        {
            return Err(at_section(
                &format!("environments.{name}.{key}"),
                format!("is set next to `apps`; with several apps each entry of `apps` names its own image: move `{key}` into the entry of the app that runs it"),
            )
            .into());
        }
        Ok(match (section.apps.take(), section.app.take()) {
            (Some(_), _) if section.health_url.is_some() => {
                return Err(at_section(
                    &format!("environments.{name}.health_url"),
                    "is set next to `apps`; with several apps each entry of `apps` has its own health_url: move it into the entry of the app it belongs to".to_owned(),
                )
                .into());
            }
            (Some(_), Some(app)) => {
                return Err(at_section(
                    &format!("environments.{name}.app"),
                    format!("`{app}` is set next to `apps`; list every app in `apps` (e.g. apps = [{{ app = \"{app}\", health_url = \"...\" }}]) and remove `app`"),
                )
                .into());
            }
            (Some(apps), None) => {
                if apps.is_empty() {
                    return Err(at_section(
                        &format!("environments.{name}.apps"),
                        "is empty; list at least the app that serves the health endpoint, e.g. apps = [{ app = \"uuid\", health_url = \"https://...\" }]".to_owned(),
                    )
                    .into());
                }
                apps.into_iter()
                    .enumerate()
                    .map(|(index, app)| {
                        let line = line_of(self.text, app.span().start);
                        (
                            format!("environments.{name}.apps[{index}]"),
                            Some(line),
                            app.into_inner(),
                        )
                    })
                    .collect()
            }
            (None, Some(app)) => {
                let Some(health_url) = section.health_url.take() else {
                    return Err(at_section(
                        &format!("environments.{name}.health_url"),
                        "missing; give the URL of the endpoint that reports the running commit, e.g. health_url = \"https://api.example.com/healthz\" (an app without one, such as a worker, goes in `apps` next to one that has it)".to_owned(),
                    )
                    .into());
                };
                vec![(
                    format!("environments.{name}"),
                    section_line,
                    RawApp {
                        app,
                        name: None,
                        health_url: Some(health_url),
                        probe: None,
                        env: BTreeMap::new(),
                        image: section.image.take(),
                        image_tag: section.image_tag.take(),
                    },
                )]
            }
            (None, None) => {
                return Err(at_section(
                    &format!("environments.{name}.app"),
                    "missing; set the Coolify application with app = \"uuid\" and health_url, or list several apps with apps = [...]".to_owned(),
                )
                .into());
            }
        })
    }

    /// One app, checked against the apps before it in the section.
    fn app(
        &self,
        inherited: &Inherited<'_>,
        before: &[AppConfig],
        (key, line, raw_app): RawEntry,
    ) -> anyhow::Result<AppConfig> {
        let name = inherited.environment;
        let label = match raw_app.name {
            Some(label) if label.trim().is_empty() || label.chars().any(char::is_control) => {
                return Err(self
                    .at_line(
                        line,
                        &format!("{key}.name"),
                        format!("{label:?} is not a name; write a short label such as \"web\" or \"worker\", or leave it out to use the uuid"),
                    )
                    .into());
            }
            Some(label) => label,
            None => raw_app.app.to_string(),
        };
        if let Some(other) = before.iter().find(|other| other.uuid == raw_app.app) {
            return Err(self
                .at_line(
                    line,
                    &format!("{key}.app"),
                    format!(
                        "`{}` is listed twice (also as {}); list each Coolify application once",
                        raw_app.app, other.label
                    ),
                )
                .into());
        }
        if before.iter().any(|other| other.label == label) {
            return Err(self
                .at_line(
                    line,
                    &format!("{key}.name"),
                    format!("`{label}` names two apps; give each app its own name"),
                )
                .into());
        }
        let probe = app_probe(
            inherited.probe,
            raw_app.probe.as_ref(),
            inherited.expectation_set,
        );
        // Every probe setting is checked now, not after the first Coolify reads.
        if let Some(health_url) = &raw_app.health_url
            && let Err(error) = probe.to_spec(health_url.clone(), &placeholder_examples(name))
        {
            return Err(match raw_app.probe {
                Some(_) => self.at_line(
                    line,
                    &format!("{key}.probe"),
                    app_probe_message(name, &error),
                ),
                None => probe_error(
                    self.text,
                    self.path,
                    name,
                    inherited.section_has_probe,
                    &error,
                ),
            }
            .into());
        }
        check_env_keys(&raw_app.env)
            .map_err(|message| self.at_line(line, &format!("{key}.env"), message))?;
        // In the single-app form the key's own line; in `apps`, the entry's.
        let key_line = |field: &str| {
            if key == format!("environments.{name}") {
                key_line_in(self.text, &key, field).or(line)
            } else {
                line
            }
        };
        let image = match (raw_app.image, raw_app.image_tag) {
            (None, None) => None,
            (None, Some(_)) => {
                return Err(self
                    .at_line(
                        key_line("image_tag"),
                        &format!("{key}.image_tag"),
                        "is set without `image`; name the image the app runs, e.g. image = \"ghcr.io/acme/api\"".to_owned(),
                    )
                    .into());
            }
            (Some(image), template) => {
                let image = crate::image::parse_name(&image).map_err(|message| {
                    self.at_line(key_line("image"), &format!("{key}.image"), message)
                })?;
                let template = template.unwrap_or_else(|| DEFAULT_TAG_TEMPLATE.to_owned());
                let tag = TagTemplate::parse(&template, name).map_err(|message| {
                    self.at_line(key_line("image_tag"), &format!("{key}.image_tag"), message)
                })?;
                Some(ImageConfig { name: image, tag })
            }
        };
        let mut env = inherited.env.clone();
        env.extend(raw_app.env);
        Ok(AppConfig {
            uuid: raw_app.app,
            label,
            health_url: raw_app.health_url,
            probe,
            env,
            image,
        })
    }
}

/// `[probe]` under an environment's own probe table, with stagegate's defaults.
fn environment_probe(shared: &ProbeConfig, overrides: Option<ProbeConfig>) -> ProbeConfig {
    let mut probe = match overrides {
        Some(overrides) => shared.overlay(&overrides),
        None => shared.clone(),
    };
    // stagegate's own defaults: detect a new version within a second of it answering
    // and confirm it quickly, so a verified deploy is not intervals slower than Coolify.
    let interval = *probe.interval.get_or_insert(DEFAULT_PROBE_INTERVAL);
    probe
        .confirm_interval
        .get_or_insert(DEFAULT_CONFIRM_INTERVAL.min(interval));
    // A release that keeps failing once the rolling update has switched over leaves
    // within seconds instead of at the deadline.
    let deadline = probe.deadline.unwrap_or(health_probe::DEFAULT_DEADLINE);
    probe
        .switch_over
        .get_or_insert(DEFAULT_SWITCH_OVER.min(deadline / 2));
    probe
        .failure_threshold
        .get_or_insert(DEFAULT_FAILURE_THRESHOLD);
    // A probe that checks no version would pass against the old container.
    if !has_expectation(&probe) {
        probe.expect_json = Some(BTreeMap::from([(
            "/commit".to_owned(),
            serde_json::Value::String("{commit}".to_owned()),
        )]));
    }
    probe
}

/// An app's probe: the environment's under the app's own overrides.
fn app_probe(
    environment: &ProbeConfig,
    overrides: Option<&ProbeConfig>,
    expectation_set: bool,
) -> ProbeConfig {
    let Some(overrides) = overrides else {
        return environment.clone();
    };
    let mut probe = environment.overlay(overrides);
    // The confirm interval follows a shorter interval of the app's own.
    if let (Some(interval), None) = (overrides.interval, overrides.confirm_interval)
        && let Some(confirm) = probe.confirm_interval.as_mut()
    {
        *confirm = (*confirm).min(interval);
    }
    // The switch-over window stays within a shorter deadline of the app's own.
    if let (Some(deadline), None) = (overrides.deadline, overrides.switch_over)
        && let Some(window) = probe.switch_over.as_mut()
    {
        *window = (*window).min(deadline / 2);
    }
    // The default commit check gives way to the app's own checks.
    if !expectation_set && has_expectation(overrides) && overrides.expect_json.is_none() {
        probe.expect_json = None;
    }
    probe
}

/// Values for every placeholder an environment's probe can expand, to check its table at load
/// time: a staging deploy has no release tag, so `{tag}` and `{version}` exist for production
/// only (as `pipeline::variables` fills them).
fn placeholder_examples(environment: EnvironmentName) -> health_probe::Variables {
    let commit = "0".repeat(40);
    let variables = health_probe::Variables::new()
        .with("commit", &commit)
        .with("short_commit", &commit[..7])
        .with("environment", environment.as_str());
    match environment {
        EnvironmentName::Staging => variables,
        EnvironmentName::Production => variables.with("tag", "v0.0.0").with("version", "0.0.0"),
    }
}

/// A probe table that `health-probe` refused: the table (and the line) that sets the value,
/// and, for a release placeholder in staging's probe, where it can go instead.
fn probe_error(
    text: &str,
    path: &Path,
    environment: EnvironmentName,
    section_has_probe: bool,
    error: &health_probe::Error,
) -> BadInput {
    use health_probe::Error;
    let needle = match error {
        Error::InvalidSetting { key, .. } => Some((*key).to_owned()),
        Error::InvalidHeader { name, .. } => Some(name.clone()),
        Error::InvalidPointer { pointer }
        | Error::UnknownPlaceholder { pointer, .. }
        | Error::UnclosedPlaceholder { pointer, .. } => Some(pointer.clone()),
        _ => None,
    };
    let own_table = format!("environments.{environment}.probe");
    let own = section_has_probe
        .then(|| line_in_table(text, &own_table, needle.as_deref()))
        .flatten();
    let shared = line_in_table(text, "probe", needle.as_deref());
    // The environment's table wins when it sets the value; otherwise it came from `[probe]`.
    let (table, line) = match (own, shared) {
        (Some((_, Some(line))), _) => (own_table.as_str(), Some(line)),
        (_, Some((_, Some(line)))) => ("probe", Some(line)),
        (Some((line, None)), _) => (own_table.as_str(), Some(line)),
        (None, Some((line, None))) if !section_has_probe => ("probe", Some(line)),
        _ if section_has_probe => (own_table.as_str(), None),
        _ => ("probe", None),
    };
    let mut message = error.to_string();
    if let Error::UnknownPlaceholder { name, .. } = error
        && environment == EnvironmentName::Staging
        && matches!(name.as_str(), "tag" | "version")
    {
        message.push_str(&format!(
            "; a staging deploy has no release tag, so `{{{name}}}` is known in production only: move the check to [environments.production.probe]"
        ));
        if table == "probe" {
            message.push_str(" (the shared [probe] table applies to staging too)");
        }
    }
    let location = match line {
        Some(line) => format!("{}, line {line}", path.display()),
        None => path.display().to_string(),
    };
    BadInput(format!("{location}: `{table}`: {message}"))
}

/// The line of the TOML table `table` (a `[table]` header, or a `key = { ... }` inline table
/// in the parent table) and the line in it that holds `needle`, if any; `None` when the text
/// has no such table.
fn line_in_table(text: &str, table: &str, needle: Option<&str>) -> Option<(usize, Option<usize>)> {
    let lines: Vec<&str> = text.lines().collect();
    let is_header = |line: &str, name: &str| {
        line.trim()
            .strip_prefix('[')
            .and_then(|rest| rest.strip_suffix(']'))
            .is_some_and(|header| header.trim() == name)
    };
    let table_end = |start: usize| {
        lines[start + 1..]
            .iter()
            .position(|line| line.trim_start().starts_with('['))
            .map_or(lines.len(), |offset| start + 1 + offset)
    };
    let (start, end) = if let Some(start) = lines.iter().position(|line| is_header(line, table)) {
        (start, table_end(start))
    } else {
        // `probe = { ... }` inside `[environments.NAME]`.
        let (parent, key) = table.rsplit_once('.')?;
        let parent_start = lines.iter().position(|line| is_header(line, parent))?;
        let offset = lines[parent_start + 1..table_end(parent_start)]
            .iter()
            .position(|line| {
                line.trim_start()
                    .strip_prefix(key)
                    .is_some_and(|rest| rest.trim_start().starts_with('='))
            })?;
        let start = parent_start + 1 + offset;
        (start, start + 1)
    };
    let within = needle.and_then(|needle| {
        lines[start..end]
            .iter()
            .position(|line| line.contains(needle))
            .map(|offset| start + offset + 1)
    });
    Some((start + 1, within))
}

/// The key of an inline table written on its own line in an array (`apps[1]`), with the field
/// the message names (`apps[1].colour`).
fn inline_entry_key(text: &str, line_start: usize, message: &str) -> Option<String> {
    let before: Vec<&str> = text[..line_start].lines().collect();
    let array_line = before.iter().rposition(|line| line.contains("= ["))?;
    let array = before[array_line]
        .split_once('=')?
        .0
        .trim()
        .trim_matches('"');
    let index = before[array_line + 1..]
        .iter()
        .filter(|line| line.trim_start().starts_with('{'))
        .count();
    let field = message
        .split_once("field `")
        .and_then(|(_, rest)| rest.split_once('`'))
        .map(|(field, _)| field);
    Some(match field {
        Some(field) => format!("{array}[{index}].{field}"),
        None => format!("{array}[{index}]"),
    })
}

/// A TOML error with its line, the dotted key it concerns, and what to write instead.
fn describe_toml_error(text: &str, path: &Path, error: &toml::de::Error) -> BadInput {
    let Some(span) = error.span() else {
        return BadInput(format!("{}: {}", path.display(), error.message()));
    };
    let start = span.start.min(text.len());
    let line = text[..start].matches('\n').count() + 1;
    let line_start = text[..start].rfind('\n').map_or(0, |index| index + 1);
    let line_text = text[line_start..].lines().next().unwrap_or_default();
    let key = if line_text.trim_start().starts_with('{') {
        // An inline table in an array, one entry per line: `apps = [\n  { ... },\n]`.
        inline_entry_key(text, line_start, error.message())
    } else {
        line_text
            .split_once('=')
            .map(|(key, _)| key.trim().trim_matches('"').to_owned())
            .filter(|key| !key.is_empty() && !key.starts_with('['))
    };
    let table = text[..line_start]
        .lines()
        .rev()
        .map(str::trim)
        .find_map(|line| {
            line.strip_prefix('[')
                .and_then(|rest| rest.strip_suffix(']'))
        })
        .map(|table| table.trim_matches(['[', ']']).trim().to_owned());
    let message = error.message().trim_end_matches('\n');
    let Some(key) = key else {
        return BadInput(format!("{}, line {line}: {message}", path.display()));
    };
    let dotted = match table {
        Some(table) if !table.is_empty() => format!("{table}.{key}"),
        _ => key.clone(),
    };
    let fix = if [
        "expected u8",
        "expected u16",
        "expected u32",
        "expected u64",
        "expected usize",
        "expected i32",
        "expected i64",
        "expected an integer",
    ]
    .iter()
    .any(|expected| message.contains(expected))
    {
        format!("; write a whole number without quotes, e.g. `{key} = 2`")
    } else if message.contains("expected a boolean") {
        format!("; write `{key} = true` or `{key} = false`")
    } else if message.contains("invalid type") {
        "; see docs/CONFIG.md for the type of this key".to_owned()
    } else {
        String::new()
    };
    BadInput(format!(
        "{}, line {line}: `{dotted}`: {message}{fix}",
        path.display()
    ))
}

/// The Coolify URL, checked as coolify-client checks it (https, or http only for a Coolify on
/// this machine; no credentials, query or fragment).
pub(crate) fn check_coolify_url(url: &Url) -> Result<(), String> {
    coolify_client::api_base_url(url.as_str(), coolify_client::PlainHttp::LoopbackOnly)
        .map(drop)
        .map_err(|error| match error {
            // The client's value has any credentials taken out.
            coolify_client::Error::InvalidConfig { value, reason, .. } => {
                format!("`{value}`: {reason}")
            }
            other => other.to_string(),
        })
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    coolify: RawCoolify,
    #[serde(default)]
    tags: TagPolicy,
    deploy: Option<RawDeploy>,
    #[serde(default)]
    probe: ProbeConfig,
    notes: Option<RawNotes>,
    #[serde(default)]
    environments: BTreeMap<String, RawEnvironment>,
    workflows: Option<RawWorkflows>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawWorkflows {
    preset: Option<Preset>,
    test: Option<Vec<String>>,
    after: Option<String>,
    #[serde(default)]
    stagegate: Install,
    #[serde(default)]
    pr_validation: bool,
}

impl RawWorkflows {
    fn validate(self, path: &Path) -> Result<WorkflowsConfig, BadInput> {
        let invalid = |key: &str, message: &str| {
            BadInput(format!("{}: workflows.{key}: {message}", path.display()))
        };
        if self.preset.is_none() && self.test.is_none() && self.after.is_none() {
            return Err(BadInput(format!(
                "{}: [workflows] says neither how to check a commit nor which workflow to wait for: set `preset` (python-uv, node-npm, rust-cargo or go), `test` (the commands) or `after` (the name of your CI workflow)",
                path.display()
            )));
        }
        if let Some(after) = &self.after {
            if after.trim().is_empty() || after.contains(['\n', '\r']) || after.contains("${{") {
                return Err(invalid(
                    "after",
                    &format!(
                        "`{after}` is not a workflow name; write the `name:` of your CI workflow, e.g. \"CI\""
                    ),
                ));
            }
            if self.test.is_some() {
                return Err(invalid(
                    "test",
                    "is not run when `after` is set (staging waits for your CI workflow instead); remove one of them",
                ));
            }
        }
        for command in self.test.iter().flatten() {
            if command.trim().is_empty() || command.contains(['\n', '\r']) {
                return Err(invalid(
                    "test",
                    &format!(
                        "{command:?} is not one command line; write one list item per command"
                    ),
                ));
            }
            if command.contains("${{") {
                return Err(invalid(
                    "test",
                    &format!(
                        "`{command}` holds a `${{{{` expression, which GitHub would paste into the script; read the value from an environment variable instead"
                    ),
                ));
            }
        }
        let pr_validation = if self.pr_validation {
            PrValidation::Generate
        } else {
            PrValidation::Skip
        };
        if pr_validation == PrValidation::Generate && self.preset.is_none() && self.test.is_none() {
            return Err(invalid(
                "pr_validation",
                "needs checks to run: set `preset` or `test` too",
            ));
        }
        Ok(WorkflowsConfig {
            preset: self.preset,
            test: self.test,
            after: self.after,
            stagegate: self.stagegate,
            pr_validation,
        })
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCoolify {
    url: Url,
    token_env: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDeploy {
    timeout: Option<toml::Spanned<HumanDuration>>,
    staging_gate: Option<bool>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawNotes {
    repository_url: Option<Url>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEnvironment {
    app: Option<ApplicationUuid>,
    branch: Option<String>,
    health_url: Option<Url>,
    #[serde(default)]
    env: BTreeMap<String, String>,
    probe: Option<ProbeConfig>,
    image: Option<String>,
    image_tag: Option<String>,
    apps: Option<Vec<toml::Spanned<RawApp>>>,
}

/// One entry of `apps = [...]` (or `[[environments.NAME.apps]]`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawApp {
    app: ApplicationUuid,
    name: Option<String>,
    health_url: Option<Url>,
    probe: Option<ProbeConfig>,
    #[serde(default)]
    env: BTreeMap<String, String>,
    image: Option<String>,
    image_tag: Option<String>,
}

/// A humantime duration such as `20m`.
#[derive(Debug, Clone, Copy)]
struct HumanDuration(Duration);

impl<'de> Deserialize<'de> for HumanDuration {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        humantime::parse_duration(&text)
            .map(HumanDuration)
            .map_err(|error| {
                serde::de::Error::custom(format!(
                    "`{text}` is not a duration ({error}); write e.g. \"20m\" or \"90s\""
                ))
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXAMPLE: &str = r#"
[coolify]
url = "https://coolify.example.com"

[environments.staging]
app = "staging-app-uuid"
health_url = "https://staging.example.com/healthz"
env = { ENVIRONMENT = "staging" }

[environments.production]
app = "production-app-uuid"
health_url = "https://example.com/healthz"
"#;

    fn parse(text: &str) -> anyhow::Result<Config> {
        Config::parse(text, Path::new("deploy.toml"), &Environment::default())
    }

    fn error(text: &str) -> String {
        let error = parse(text).unwrap_err();
        assert!(error.is::<BadInput>(), "{error:?}");
        error.to_string()
    }

    const TWO_APPS: &str = r#"
[coolify]
url = "https://coolify.example.com"

[environments.staging]
env = { ENVIRONMENT = "staging" }
apps = [
  { app = "staging-web", name = "web", health_url = "https://staging.example.com/healthz", env = { ROLE = "web" } },
  { app = "staging-worker", name = "worker", env = { ROLE = "worker", QUEUE = "jobs" } },
]

[environments.production]
app = "production-app-uuid"
health_url = "https://example.com/healthz"
"#;

    #[test]
    fn several_apps_parse_with_labels_merged_env_and_one_probe_each() {
        let config = parse(TWO_APPS).unwrap();
        let apps = &config.staging.apps;
        assert_eq!(apps.len(), 2);
        assert_eq!(apps[0].uuid.as_str(), "staging-web");
        assert_eq!(apps[0].label, "web");
        assert_eq!(apps[1].health_url, None);
        assert_eq!(apps[0].env["ENVIRONMENT"], "staging");
        assert_eq!(apps[0].env["ROLE"], "web");
        assert_eq!(apps[1].env["ROLE"], "worker");
        assert!(!apps[0].env.contains_key("QUEUE"));
        assert!(config.staging.has_several_apps());
        assert_eq!(config.staging.probed_apps().count(), 1);
        // The single-app form is one app labelled by its uuid.
        assert_eq!(config.production.apps.len(), 1);
        assert_eq!(config.production.apps[0].label, "production-app-uuid");
    }

    #[test]
    fn an_array_of_tables_reads_like_the_inline_array() {
        let tables = TWO_APPS.replace(
            "apps = [\n  { app = \"staging-web\", name = \"web\", health_url = \"https://staging.example.com/healthz\", env = { ROLE = \"web\" } },\n  { app = \"staging-worker\", name = \"worker\", env = { ROLE = \"worker\", QUEUE = \"jobs\" } },\n]\n",
            "\n[[environments.staging.apps]]\napp = \"staging-web\"\nname = \"web\"\nhealth_url = \"https://staging.example.com/healthz\"\nenv = { ROLE = \"web\" }\n\n[[environments.staging.apps]]\napp = \"staging-worker\"\nname = \"worker\"\nenv = { ROLE = \"worker\", QUEUE = \"jobs\" }\n",
        );
        assert_ne!(tables, TWO_APPS);
        assert_eq!(
            parse(&tables).unwrap().staging,
            parse(TWO_APPS).unwrap().staging
        );
    }

    #[test]
    fn an_app_probe_overlays_the_environment_probe() {
        let text = TWO_APPS.replace(
            "name = \"web\", health_url",
            "name = \"web\", probe = { interval = \"100ms\", expect_body_contains = \"{short_commit}\" }, health_url",
        );
        let text = format!("{text}\n[probe]\ndeadline = \"1m\"\n");
        let config = parse(&text).unwrap();
        let probe = &config.staging.apps[0].probe;
        assert_eq!(probe.deadline, Some(Duration::from_secs(60)));
        assert_eq!(probe.interval, Some(Duration::from_millis(100)));
        assert_eq!(probe.confirm_interval, Some(Duration::from_millis(100)));
        // The app's own check replaces the default commit check.
        assert_eq!(probe.expect_json, None);
        assert_eq!(
            config.staging.apps[1].probe.interval,
            Some(DEFAULT_PROBE_INTERVAL)
        );
        // An app's own short deadline keeps room after the switch-over window.
        let text = TWO_APPS.replace(
            "name = \"web\", health_url",
            "name = \"web\", probe = { deadline = \"4s\" }, health_url",
        );
        let config = parse(&text).unwrap();
        assert_eq!(
            config.staging.apps[0].probe.switch_over,
            Some(Duration::from_secs(2))
        );
        assert_eq!(
            config.staging.apps[1].probe.switch_over,
            Some(DEFAULT_SWITCH_OVER)
        );
    }

    #[test]
    fn apps_next_to_the_single_app_keys_is_refused_naming_the_fix() {
        let message = error(&TWO_APPS.replace(
            "env = { ENVIRONMENT = \"staging\" }\n",
            "env = { ENVIRONMENT = \"staging\" }\napp = \"staging-web\"\n",
        ));
        assert!(
            message.contains("deploy.toml, line 5: `environments.staging.app`"),
            "{message}"
        );
        assert!(message.contains("list every app in `apps`"), "{message}");
        let message = error(&TWO_APPS.replace(
            "env = { ENVIRONMENT = \"staging\" }\n",
            "env = { ENVIRONMENT = \"staging\" }\nhealth_url = \"https://staging.example.com/healthz\"\n",
        ));
        assert!(
            message.contains("line 5: `environments.staging.health_url`: is set next to `apps`"),
            "{message}"
        );
    }

    #[test]
    fn an_environment_needs_an_app_with_a_health_url() {
        let message =
            error(&TWO_APPS.replace("health_url = \"https://staging.example.com/healthz\", ", ""));
        for expected in [
            "line 5: `environments.staging.apps`",
            "no app has a health_url",
            "give the app that serves HTTP a health_url",
        ] {
            assert!(message.contains(expected), "{expected:?} in {message}");
        }
        let message =
            error(&TWO_APPS.replace("health_url = \"https://example.com/healthz\"\n", ""));
        assert!(
            message.contains("`environments.production.health_url`: missing"),
            "{message}"
        );
        let message = error(&EXAMPLE.replace("app = \"production-app-uuid\"\n", ""));
        assert!(
            message.contains("`environments.production.app`: missing"),
            "{message}"
        );
        let message = error(&TWO_APPS.replace(
            "apps = [\n  { app = \"staging-web\", name = \"web\", health_url = \"https://staging.example.com/healthz\", env = { ROLE = \"web\" } },\n  { app = \"staging-worker\", name = \"worker\", env = { ROLE = \"worker\", QUEUE = \"jobs\" } },\n]\n",
            "apps = []\n",
        ));
        assert!(
            message.contains("`environments.staging.apps`: is empty"),
            "{message}"
        );
    }

    #[test]
    fn apps_are_listed_once_with_distinct_names_and_never_shared() {
        let message = error(&TWO_APPS.replace("\"staging-worker\"", "\"staging-web\""));
        assert!(
            message.contains("line 9: `environments.staging.apps[1].app`: `staging-web` is listed twice (also as web)"),
            "{message}"
        );
        let message = error(&TWO_APPS.replace("name = \"worker\"", "name = \"web\""));
        assert!(
            message.contains("line 9: `environments.staging.apps[1].name`: `web` names two apps"),
            "{message}"
        );
        let message = error(&TWO_APPS.replace("name = \"worker\"", "name = \" \""));
        assert!(message.contains("apps[1].name"), "{message}");
        let message = error(&TWO_APPS.replace("production-app-uuid", "staging-worker"));
        assert!(
            message.contains("`staging-worker` is also the staging app"),
            "{message}"
        );
    }

    #[test]
    fn a_bad_app_probe_or_env_key_names_the_app_and_its_line() {
        let message = error(&TWO_APPS.replace(
            "name = \"web\", health_url",
            "name = \"web\", probe = { expect_body_contains = \"{version}\" }, health_url",
        ));
        for expected in [
            "line 8: `environments.staging.apps[0].probe`",
            "`{version}`",
            "known in production only",
        ] {
            assert!(message.contains(expected), "{expected:?} in {message}");
        }
        let message = error(&TWO_APPS.replace("QUEUE = ", "\"1QUEUE\" = "));
        assert!(
            message.contains(
                "line 9: `environments.staging.apps[1].env`: `1QUEUE` is not a valid variable name"
            ),
            "{message}"
        );
        let message =
            error(&TWO_APPS.replace("name = \"worker\"", "name = \"worker\", colour = \"red\""));
        assert!(
            message
                .contains("line 9: `environments.staging.apps[1].colour`: unknown field `colour`"),
            "{message}"
        );
    }

    #[test]
    fn an_image_app_names_its_image_and_tag_template() {
        let text = EXAMPLE.replace(
            "app = \"production-app-uuid\"\n",
            "app = \"production-app-uuid\"\nimage = \"ghcr.io/acme/api\"\nimage_tag = \"{version}\"\n",
        );
        let text = text.replace(
            "app = \"staging-app-uuid\"\n",
            "app = \"staging-app-uuid\"\nimage = \"ghcr.io/acme/api\"\n",
        );
        let config = parse(&text).unwrap();
        let staging = config.staging.apps[0].image.as_ref().unwrap();
        assert_eq!(staging.name.as_str(), "ghcr.io/acme/api");
        assert_eq!(staging.tag.as_str(), "sha-{commit}");
        let production = config.production.apps[0].image.as_ref().unwrap();
        assert_eq!(production.tag.as_str(), "{version}");
        assert_eq!(parse(EXAMPLE).unwrap().staging.apps[0].image, None);
    }

    #[test]
    fn image_errors_name_the_key_its_line_and_the_fix() {
        let with = |extra: &str| {
            EXAMPLE.replace(
                "app = \"staging-app-uuid\"\n",
                &format!("app = \"staging-app-uuid\"\n{extra}\n"),
            )
        };
        for (extra, expected) in [
            (
                "image = \"ghcr.io/acme/api:1.5\"",
                "line 7: `environments.staging.image`: `ghcr.io/acme/api:1.5`",
            ),
            ("image = \"ghcr.io/acme/api:1.5\"", "image_tag"),
            (
                "image = \"ghcr.io/acme/api\"\nimage_tag = \"{version}\"",
                "line 8: `environments.staging.image_tag`: `{version}` uses `{version}`, but a staging deploy",
            ),
            (
                "image = \"ghcr.io/acme/api\"\nimage_tag = \"{sha}\"",
                "unknown placeholder `{sha}`",
            ),
            (
                "image = \"ghcr.io/acme/api\"\nimage_tag = \"release:{commit}\"",
                "gives tags Coolify refuses",
            ),
            (
                "image = \"ghcr.io/acme/api\"\nimage_tag = \"latest\"",
                "no placeholder",
            ),
            (
                "image_tag = \"sha-{commit}\"",
                "`environments.staging.image_tag`: is set without `image`",
            ),
        ] {
            let message = error(&with(extra));
            assert!(
                message.contains(expected),
                "{extra}: {expected:?} in {message}"
            );
        }
        let message = error(&TWO_APPS.replace(
            "env = { ENVIRONMENT = \"staging\" }\n",
            "env = { ENVIRONMENT = \"staging\" }\nimage = \"ghcr.io/acme/api\"\n",
        ));
        assert!(
            message.contains("line 5: `environments.staging.image`: is set next to `apps`"),
            "{message}"
        );
        let message = error(&TWO_APPS.replace(
            "name = \"worker\",",
            "name = \"worker\", image = \"ghcr.io/acme/Worker\",",
        ));
        assert!(
            message.contains("line 9: `environments.staging.apps[1].image`"),
            "{message}"
        );
        assert!(message.contains("lowercase"), "{message}");
    }

    #[test]
    fn defaults_are_filled_in() {
        let config = parse(EXAMPLE).unwrap();
        assert_eq!(config.coolify.token_env, "COOLIFY_TOKEN");
        assert_eq!(config.deploy.timeout, Duration::from_secs(1200));
        assert_eq!(config.deploy.staging_gate, StagingGate::Required);
        assert_eq!(config.staging.branch, "main");
        assert_eq!(config.staging.apps[0].env["ENVIRONMENT"], "staging");
        assert_eq!(
            config.production.apps[0].uuid.to_string(),
            "production-app-uuid"
        );
    }

    #[test]
    fn the_repository_example_is_valid() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../deploy.toml");
        Config::load(&path, &Environment::default()).unwrap();
    }

    #[test]
    fn unknown_keys_name_the_key_and_line() {
        let message = error(&format!("{EXAMPLE}\n[deploy]\ntimout = \"5m\"\n"));
        assert!(message.contains("timout"), "{message}");
        assert!(
            message.contains("deploy.toml, line 15: `deploy.timout`: unknown field `timout`"),
            "{message}"
        );
    }

    #[test]
    fn an_app_uuid_that_is_a_path_is_bad_input_naming_the_key() {
        let text = EXAMPLE.replace("staging-app-uuid", "x y/../../../version");
        let error = parse(&text).unwrap_err();
        assert_eq!(crate::exit::Exit::of(&error).code(), 2, "{error:?}");
        let message = error.to_string();
        assert!(
            message.contains("line 6: `environments.staging.app`"),
            "{message}"
        );
        assert!(message.contains("x y/../../../version"), "{message}");
    }

    #[test]
    fn bad_durations_say_how_to_write_one() {
        let message = error(&format!("{EXAMPLE}\n[deploy]\ntimeout = \"soon\"\n"));
        assert!(message.contains("`soon` is not a duration"), "{message}");
    }

    #[test]
    fn the_probe_checks_the_commit_unless_told_otherwise() {
        let config = parse(EXAMPLE).unwrap();
        let expected = BTreeMap::from([("/commit".to_owned(), serde_json::json!("{commit}"))]);
        assert_eq!(config.staging.apps[0].probe.expect_json, Some(expected));
        let config = parse(&format!(
            "{EXAMPLE}\n[probe]\nexpect_body_contains = \"{{short_commit}}\"\n"
        ))
        .unwrap();
        assert_eq!(config.production.apps[0].probe.expect_json, None);
    }

    #[test]
    fn http_is_refused_except_for_loopback() {
        let message =
            error(&EXAMPLE.replace("https://coolify.example.com", "http://coolify.example.com"));
        assert!(message.contains("clear text"), "{message}");
        parse(&EXAMPLE.replace("https://coolify.example.com", "http://127.0.0.1:8000")).unwrap();
        parse(&EXAMPLE.replace("https://coolify.example.com", "http://localhost:8000")).unwrap();
    }

    #[test]
    fn a_coolify_url_with_credentials_is_refused_at_load_time() {
        let message = error(&EXAMPLE.replace(
            "https://coolify.example.com",
            "https://user:pass@coolify.example.com",
        ));
        assert!(message.contains("coolify.url"), "{message}");
        assert!(message.contains("credentials in the URL"), "{message}");
        assert!(!message.contains("pass@"), "{message}");
    }

    #[test]
    fn an_env_key_coolify_refuses_is_refused_at_load_time_naming_it() {
        let message = error(&EXAMPLE.replace("ENVIRONMENT = ", "\"1ST KEY\" = "));
        assert!(
            message.contains(
                "environments.staging.env: `1ST KEY` is not a valid variable name (letters, digits, `_` and `.`, not starting with a digit)"
            ),
            "{message}"
        );
    }

    #[test]
    fn coolify_url_overrides_the_file() {
        let environment = Environment::from_pairs([("COOLIFY_URL", "http://127.0.0.1:9")]);
        let config = Config::parse(EXAMPLE, Path::new("deploy.toml"), &environment).unwrap();
        assert_eq!(config.coolify.url.as_str(), "http://127.0.0.1:9/");
        let environment = Environment::from_pairs([("COOLIFY_URL", "http://coolify.internal")]);
        assert!(Config::parse(EXAMPLE, Path::new("deploy.toml"), &environment).is_err());
    }

    #[test]
    fn both_environments_are_required_and_distinct() {
        let message = error(&EXAMPLE.replace("[environments.production]", "[environments.prod]"));
        assert!(
            message.contains("environments.production: missing"),
            "{message}"
        );
        let message = error(&EXAMPLE.replace("production-app-uuid", "staging-app-uuid"));
        assert!(message.contains("also the staging app"), "{message}");
    }

    #[test]
    fn the_token_comes_from_the_named_variable_only() {
        let config = parse(EXAMPLE).unwrap();
        let message = config
            .token(&Environment::default())
            .unwrap_err()
            .to_string();
        assert!(message.contains("COOLIFY_TOKEN is not set"), "{message}");
        let environment = Environment::from_pairs([("COOLIFY_TOKEN", "1|secret")]);
        use secrecy::ExposeSecret as _;
        assert_eq!(
            config.token(&environment).unwrap().expose_secret(),
            "1|secret"
        );
    }

    #[test]
    fn environment_probe_tables_override_the_defaults() {
        let text = format!(
            "{EXAMPLE}\n[probe]\ndeadline = \"1m\"\n[environments.production.probe]\ndeadline = \"10m\"\n"
        )
        .replace(
            "[environments.production]\napp = \"production-app-uuid\"\nhealth_url = \"https://example.com/healthz\"\n",
            "",
        );
        let text = format!(
            "{text}\n[environments.production]\napp = \"production-app-uuid\"\nhealth_url = \"https://example.com/healthz\"\n"
        );
        // A table may only be defined once; the override form above is a sub-table.
        let config = parse(&text).unwrap();
        assert_ne!(
            config.staging.apps[0].probe,
            config.production.apps[0].probe
        );
    }

    #[test]
    fn a_failing_release_is_given_up_on_after_the_switch_over() {
        let config = parse(EXAMPLE).unwrap();
        let probe = &config.production.apps[0].probe;
        assert_eq!(probe.switch_over, Some(DEFAULT_SWITCH_OVER));
        assert_eq!(probe.failure_threshold, Some(DEFAULT_FAILURE_THRESHOLD));
        // Within 30 s of the deployment finishing: the window, then one interval per failure.
        assert!(
            DEFAULT_SWITCH_OVER + DEFAULT_PROBE_INTERVAL * DEFAULT_FAILURE_THRESHOLD
                < Duration::from_secs(30)
        );
        // A short deadline keeps room for failures to count.
        let config = parse(&format!("{EXAMPLE}\n[probe]\ndeadline = \"10s\"\n")).unwrap();
        assert_eq!(
            config.staging.apps[0].probe.switch_over,
            Some(Duration::from_secs(5))
        );
        // What the config sets wins, `0` included.
        let config = parse(&format!(
            "{EXAMPLE}\n[probe]\nswitch_over = \"0s\"\nfailure_threshold = 0\n"
        ))
        .unwrap();
        assert_eq!(
            config.staging.apps[0].probe.switch_over,
            Some(Duration::ZERO)
        );
        assert_eq!(config.staging.apps[0].probe.failure_threshold, Some(0));
        let message = error(&format!(
            "{EXAMPLE}\n[probe]\ndeadline = \"1m\"\nswitch_over = \"1m\"\n"
        ));
        assert!(
            message.contains("line 16: `probe`: invalid probe setting `switch_over`"),
            "{message}"
        );
    }

    #[test]
    fn probe_defaults_follow_an_environment_interval() {
        let config = parse(EXAMPLE).unwrap();
        assert_eq!(
            config.staging.apps[0].probe.interval,
            Some(DEFAULT_PROBE_INTERVAL)
        );
        assert_eq!(
            config.staging.apps[0].probe.confirm_interval,
            Some(DEFAULT_CONFIRM_INTERVAL)
        );
        let text = EXAMPLE.replace(
            "health_url = \"https://example.com/healthz\"\n",
            "health_url = \"https://example.com/healthz\"\nprobe = { interval = \"100ms\" }\n",
        );
        let config = parse(&text).unwrap();
        let probe = &config.production.apps[0].probe;
        assert_eq!(probe.confirm_interval, Some(Duration::from_millis(100)));
        let url = config.production.apps[0].health_url.clone().unwrap();
        let variables = health_probe::Variables::new().with("commit", "abc");
        probe.to_spec(url, &variables).unwrap();
    }

    #[test]
    fn declared_variable_names_are_checked() {
        let message = error(&EXAMPLE.replace("ENVIRONMENT = ", "\"1BAD\" = "));
        assert!(message.contains("`1BAD`"), "{message}");
    }

    #[test]
    fn every_duration_must_be_positive_and_names_its_line() {
        let message = error(&format!("{EXAMPLE}\n[deploy]\ntimeout = \"0s\"\n"));
        assert!(
            message.contains("deploy.toml, line 15: `deploy.timeout`: \"0s\""),
            "{message}"
        );
        assert!(message.contains("e.g. \"20m\""), "{message}");
        for (key, value) in [
            ("interval", "0s"),
            ("attempt_timeout", "0s"),
            ("confirm_interval", "0s"),
            ("latency_budget", "0s"),
            ("deadline", "0s"),
        ] {
            let message = error(&format!("{EXAMPLE}\n[probe]\n{key} = \"{value}\"\n"));
            assert!(
                message.contains(&format!(
                    "deploy.toml, line 15: `probe`: invalid probe setting `{key}`"
                )),
                "{key}: {message}"
            );
        }
    }

    #[test]
    fn unknown_placeholders_are_refused_naming_the_known_ones() {
        let message = error(&format!(
            "{EXAMPLE}\n[probe]\ninterval = \"2s\"\nexpect_json = {{ \"/commit\" = \"{{sha}}\" }}\n"
        ));
        for expected in [
            "deploy.toml, line 16: `probe`",
            "`{sha}`",
            "{commit}, {environment}, {short_commit}",
        ] {
            assert!(message.contains(expected), "{expected:?} in: {message}");
        }
    }

    #[test]
    fn release_placeholders_are_refused_where_staging_would_expand_them() {
        let shared =
            format!("{EXAMPLE}\n[probe]\nexpect_json = {{ \"/version\" = \"{{version}}\" }}\n");
        let message = error(&shared);
        for expected in [
            "line 15: `probe`",
            "`{version}`",
            "a staging deploy has no release tag",
            "[environments.production.probe]",
        ] {
            assert!(message.contains(expected), "{expected:?} in: {message}");
        }
        let staging = EXAMPLE.replace(
            "env = { ENVIRONMENT = \"staging\" }\n",
            "env = { ENVIRONMENT = \"staging\" }\nprobe = { expect_body_contains = \"{tag}\" }\n",
        );
        let message = error(&staging);
        assert!(
            message.contains("line 9: `environments.staging.probe`"),
            "{message}"
        );
        assert!(message.contains("`{tag}`"), "{message}");
        // Where a tag is known, the same check loads.
        let production = EXAMPLE.replace(
            "health_url = \"https://example.com/healthz\"\n",
            "health_url = \"https://example.com/healthz\"\nprobe = { expect_json = { \"/version\" = \"{version}\" } }\n",
        );
        parse(&production).unwrap();
    }

    #[test]
    fn a_setting_inherited_from_the_shared_table_is_reported_there() {
        let text = EXAMPLE.replace(
            "health_url = \"https://example.com/healthz\"\n",
            "health_url = \"https://example.com/healthz\"\nprobe = { deadline = \"1m\" }\n",
        );
        let message = error(&format!("{text}\n[probe]\nattempt_timeout = \"0s\"\n"));
        assert!(message.contains("line 16: `probe`"), "{message}");
    }
}
