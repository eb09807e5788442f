//! A temporary repository with a deploy.toml pointing at a fake Coolify, and a session whose
//! output is captured.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use coolify_client::{ApplicationUuid, EnvVarInput};
use coolify_fake::{Ability, FakeApplication, FakeCoolify};
use stagegate::ProcessEnv;
use stagegate::Session;
use stagegate::output::{Format, Output, Style, Verbosity};

/// A token recognizable in any file it might leak into.
pub const TOKEN: &str = "7|stagegate-test-token-do-not-leak";

type Buffer = Arc<Mutex<Vec<u8>>>;

pub struct Fixture {
    pub fake: FakeCoolify,
    pub directory: tempfile::TempDir,
    pub staging: ApplicationUuid,
    pub production: ApplicationUuid,
    stdout: Buffer,
    stderr: Buffer,
}

impl Fixture {
    /// Two apps as a team has them before setup: both on `main`, both deploying on push.
    /// Staging declares ENVIRONMENT and LOG_LEVEL; production ENVIRONMENT and LOG_LEVEL.
    pub async fn new() -> Self {
        Self::with_apps(
            FakeApplication::new("staging-app"),
            FakeApplication::new("production-app"),
        )
        .await
    }

    pub async fn with_apps(staging: FakeApplication, production: FakeApplication) -> Self {
        let fake = FakeCoolify::start_with_token(TOKEN).await.unwrap();
        let staging = fake.add_application(staging);
        let production = fake.add_application(production);
        let directory = tempfile::tempdir().unwrap();
        git2::Repository::init(directory.path()).unwrap();
        let fixture = Self {
            fake,
            directory,
            staging,
            production,
            stdout: Arc::default(),
            stderr: Arc::default(),
        };
        fixture.write_config(
            r#"{ ENVIRONMENT = "staging", LOG_LEVEL = "DEBUG" }"#,
            r#"{ ENVIRONMENT = "production", LOG_LEVEL = "INFO" }"#,
        );
        fixture
    }

    /// Rewrite deploy.toml with these inline tables as the declared variables.
    pub fn write_config(&self, staging_env: &str, production_env: &str) {
        let text = format!(
            r#"[coolify]
url = "{url}"

[environments.staging]
app = "{staging}"
branch = "main"
health_url = "http://127.0.0.1:9/healthz"
env = {staging_env}

[environments.production]
app = "{production}"
branch = "main"
health_url = "http://127.0.0.1:9/production/healthz"
env = {production_env}

[workflows]
preset = "python-uv"
"#,
            url = self.fake.base_url(),
            staging = self.staging,
            production = self.production,
        );
        std::fs::write(self.root().join("deploy.toml"), text).unwrap();
    }

    pub fn root(&self) -> &Path {
        self.directory.path()
    }

    /// Let the token read values (`read:sensitive`).
    pub fn read_sensitive(&self) {
        self.fake.set_abilities(&[
            Ability::Read,
            Ability::ReadSensitive,
            Ability::Write,
            Ability::Deploy,
        ]);
    }

    pub fn set(&self, app: &ApplicationUuid, key: &str, value: &str) {
        self.fake.set_env_var(app, &EnvVarInput::new(key, value));
    }

    pub fn session(&self) -> Session {
        let environment = ProcessEnv::from_pairs([("COOLIFY_TOKEN", TOKEN)]);
        let output = Output::new(
            Format::Text,
            Verbosity::Normal,
            Style::Plain,
            &environment,
            self.stdout.clone(),
            self.stderr.clone(),
        );
        Session::new(environment, output).with_repo(self.root())
    }

    /// Everything the flows wrote to stderr so far.
    pub fn stderr(&self) -> String {
        String::from_utf8(self.stderr.lock().unwrap().clone()).unwrap()
    }

    /// The requests that changed something (not GET).
    pub fn writes(&self) -> Vec<String> {
        self.fake
            .requests()
            .into_iter()
            .filter(|request| request.method() != "GET")
            .map(|request| format!("{} {}", request.method(), request.path()))
            .collect()
    }

    /// The files in the default backup directory, sorted.
    pub fn backups(&self) -> Vec<PathBuf> {
        let directory = self.root().join(".stagegate/backups");
        let Ok(entries) = std::fs::read_dir(directory) else {
            return Vec::new();
        };
        let mut files: Vec<PathBuf> = entries.map(|entry| entry.unwrap().path()).collect();
        files.sort();
        files
    }
}
