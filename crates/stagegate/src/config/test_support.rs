//! Config texts and helpers the unit tests share.

use std::path::Path;

use super::Config;
use crate::exit::BadInput;
use crate::process_env::ProcessEnv;

pub(super) const EXAMPLE: &str = r#"
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

pub(super) fn parse(text: &str) -> anyhow::Result<Config> {
    Config::parse(text, Path::new("deploy.toml"), &ProcessEnv::default())
}

pub(super) fn error(text: &str) -> String {
    let error = parse(text).unwrap_err();
    assert!(error.is::<BadInput>(), "{error:?}");
    error.to_string()
}

pub(super) const TWO_APPS: &str = r#"
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
