//! `workflows [--check]`: the GitHub Actions workflows, generated from `deploy.toml`.
//!
//! Four files under `.github/workflows/`: `pr-validation.yml` (fmt, clippy, tests, zizmor,
//! `cargo deny check`), `staging-deploy.yml` (every push to the staging branch),
//! `production-deploy.yml` (release tags of the policy's prefix, or a tag given by hand) and
//! `rollback.yml`. What they share, and why:
//!
//! - `permissions: {}` at the top and the least each job needs (`contents: write` only where
//!   `gh release create` runs), so a compromised step holds no more than its job.
//! - One `concurrency` group per environment that never cancels a running deploy: a rollback
//!   and a production deploy never overlap, and a deploy is never stopped half-way.
//! - `actions/checkout` pinned by commit with `persist-credentials: false`; no other action.
//! - No `${{ }}` inside `run:`: every value reaches the script through `env:`, so a tag or an
//!   input can never become shell code.
//! - The Coolify token comes from the secret named like `coolify.token_env`, only in jobs that
//!   run in the `staging` or `production` environment, where reviewers can be required.
//!
//! `--check` writes nothing and fails when a committed file differs, so CI catches a
//! `deploy.toml` change whose workflows were not regenerated.

use std::fmt;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use serde::Serialize;

use crate::config::Config;
use crate::session::Session;

/// Where the workflows live, relative to the repository root.
pub const DIRECTORY: &str = ".github/workflows";

/// `actions/checkout` v7.0.1.
const CHECKOUT: &str = "actions/checkout@3d3c42e5aac5ba805825da76410c181273ba90b1 # v7.0.1";

/// `--check`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Mode {
    /// Write the files.
    #[default]
    Write,
    /// Write nothing; fail when a committed file differs.
    Check,
}

/// What happened to one file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FileState {
    /// It already had the generated content.
    Unchanged,
    /// It was written (created or replaced).
    Written,
}

/// One workflow file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WorkflowFile {
    /// Its path, relative to the repository root.
    pub path: String,
    /// What happened to it.
    pub state: FileState,
}

/// The result of `workflows`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WorkflowsReport {
    /// Every generated file.
    pub files: Vec<WorkflowFile>,
}

impl fmt::Display for WorkflowsReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let written: Vec<&str> = self
            .files
            .iter()
            .filter(|file| file.state == FileState::Written)
            .map(|file| file.path.as_str())
            .collect();
        if written.is_empty() {
            write!(
                f,
                "the {} workflows match deploy.toml: nothing to change",
                self.files.len()
            )
        } else {
            write!(
                f,
                "wrote {}; commit them with deploy.toml",
                written.join(", ")
            )
        }
    }
}

/// The generated files, as (path relative to the repository root, content).
pub fn render(config: &Config) -> Vec<(String, String)> {
    let tag_pattern = format!("{}[0-9]*", escape_glob(config.tags.prefix()));
    let replace = |template: &str| {
        template
            .replace("@CHECKOUT@", CHECKOUT)
            .replace("@BRANCH@", &yaml_quote(&config.staging.branch))
            .replace("@TAG_PATTERN@", &yaml_quote(&tag_pattern))
            .replace("@TOKEN_ENV@", &config.coolify.token_env)
    };
    [
        ("pr-validation.yml", PR_VALIDATION),
        ("staging-deploy.yml", STAGING_DEPLOY),
        ("production-deploy.yml", PRODUCTION_DEPLOY),
        ("rollback.yml", ROLLBACK),
    ]
    .into_iter()
    .map(|(name, template)| {
        (
            format!("{DIRECTORY}/{name}"),
            format!("{HEADER}{}", replace(template)),
        )
    })
    .collect()
}

/// Write the workflows into the repository, or with [`Mode::Check`] compare them.
///
/// # Errors
///
/// A bad config ([`crate::BadInput`]); with [`Mode::Check`], a file that is missing or
/// differs (exit 1, naming the file and the `workflows` command); a file that cannot be
/// read or written.
pub fn workflows(session: &Session, mode: Mode) -> anyhow::Result<WorkflowsReport> {
    let repo = session.open_repo().context("workflows")?;
    let config = session.load_config(&repo).context("workflows")?;
    write_or_check(&session.invocation, repo.root(), &config, mode).context("workflows")
}

fn write_or_check(
    invocation: &crate::Invocation,
    root: &Path,
    config: &Config,
    mode: Mode,
) -> anyhow::Result<WorkflowsReport> {
    let mut files = Vec::new();
    for (relative, content) in render(config) {
        let path: PathBuf = root.join(&relative);
        let current = match std::fs::read_to_string(&path) {
            Ok(text) => Some(text),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => None,
            Err(error) => {
                return Err(anyhow::Error::new(error).context(format!("read {relative}")));
            }
        };
        if current.as_deref() == Some(content.as_str()) {
            files.push(WorkflowFile {
                path: relative,
                state: FileState::Unchanged,
            });
            continue;
        }
        if mode == Mode::Check {
            let what = if current.is_none() {
                "is missing"
            } else {
                "differs from what deploy.toml generates"
            };
            anyhow::bail!(
                "{relative} {what}: run `{}` and commit the result",
                invocation.command("workflows")
            );
        }
        if let Some(directory) = path.parent() {
            std::fs::create_dir_all(directory)
                .with_context(|| format!("create {}", directory.display()))?;
        }
        crate::notes::write_atomically(&path, &content)?;
        files.push(WorkflowFile {
            path: relative,
            state: FileState::Written,
        });
    }
    Ok(WorkflowsReport { files })
}

/// Escape the characters GitHub's filter patterns treat specially.
fn escape_glob(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '*' | '?' | '+' | '[' | ']' | '!' | '\\') {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    escaped
}

/// A single-quoted YAML scalar.
fn yaml_quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

const HEADER: &str = "\
# Generated by stagegate's `workflows` command from deploy.toml.
# Change deploy.toml and run the command again instead of editing this file;
# `workflows --check` fails while they differ.
";

const PR_VALIDATION: &str = r#"
name: PR validation

on:
  pull_request:
    branches: [@BRANCH@]

permissions: {}

concurrency:
  group: pr-validation-${{ github.event.pull_request.number }}
  cancel-in-progress: true

jobs:
  check:
    name: fmt, clippy, tests
    runs-on: ubuntu-latest
    permissions:
      contents: read
    steps:
      - uses: @CHECKOUT@
        with:
          persist-credentials: false
      - name: Rust toolchain
        run: rustup toolchain install stable --profile minimal --component rustfmt,clippy && rustup default stable
      - name: cargo fmt
        run: cargo fmt --all --check
      - name: cargo clippy
        run: cargo clippy --workspace --all-targets --all-features -- -D warnings
      - name: cargo test
        run: cargo test --workspace --all-features
      - name: Workflows match deploy.toml
        run: cargo xtask workflows --check

  zizmor:
    name: zizmor
    runs-on: ubuntu-latest
    permissions:
      contents: read
    steps:
      - uses: @CHECKOUT@
        with:
          persist-credentials: false
      - name: Install zizmor
        run: python3 -m pip install --user --quiet zizmor
      - name: Audit the workflows
        run: zizmor --offline .github/workflows

  deny:
    name: cargo deny
    runs-on: ubuntu-latest
    permissions:
      contents: read
    steps:
      - uses: @CHECKOUT@
        with:
          persist-credentials: false
      - name: Rust toolchain
        run: rustup toolchain install stable --profile minimal && rustup default stable
      - name: Install cargo-deny
        run: cargo install --locked cargo-deny
      - name: Advisories, licenses, bans and sources
        run: cargo deny check
"#;

const STAGING_DEPLOY: &str = r#"
name: Staging deploy

on:
  push:
    branches: [@BRANCH@]

permissions: {}

concurrency:
  group: deploy-staging
  cancel-in-progress: false

jobs:
  test:
    name: tests
    runs-on: ubuntu-latest
    permissions:
      contents: read
    steps:
      - uses: @CHECKOUT@
        with:
          persist-credentials: false
      - name: Rust toolchain
        run: rustup toolchain install stable --profile minimal && rustup default stable
      - name: cargo test
        run: cargo test --workspace --all-features

  deploy:
    name: deploy staging
    needs: test
    runs-on: ubuntu-latest
    environment: staging
    permissions:
      contents: read
    steps:
      - uses: @CHECKOUT@
        with:
          fetch-depth: 0
          persist-credentials: false
      - name: Rust toolchain
        run: rustup toolchain install stable --profile minimal && rustup default stable
      - name: Deploy the pushed commit to staging
        env:
          @TOKEN_ENV@: ${{ secrets.@TOKEN_ENV@ }}
          COMMIT: ${{ github.sha }}
        run: cargo xtask deploy staging --commit "$COMMIT"
"#;

const PRODUCTION_DEPLOY: &str = r#"
name: Production deploy

on:
  push:
    tags: [@TAG_PATTERN@]
  workflow_dispatch:
    inputs:
      tag:
        description: The release tag to deploy again, e.g. v1.4.2
        required: true
        type: string

permissions: {}

concurrency:
  group: deploy-production
  cancel-in-progress: false

jobs:
  deploy:
    name: deploy production
    runs-on: ubuntu-latest
    environment: production
    permissions:
      contents: write # gh release create
    steps:
      - uses: @CHECKOUT@
        with:
          fetch-depth: 0
          persist-credentials: false
      - name: Rust toolchain
        run: rustup toolchain install stable --profile minimal && rustup default stable
      - name: Deploy the tag to production, rolling back on failure
        env:
          @TOKEN_ENV@: ${{ secrets.@TOKEN_ENV@ }}
          TAG: ${{ inputs.tag || github.ref_name }}
        run: cargo xtask deploy production --tag "$TAG" --auto-rollback
      - name: Release notes
        env:
          TAG: ${{ inputs.tag || github.ref_name }}
        run: cargo xtask notes --to "$TAG" -o notes.md
      - name: GitHub release
        env:
          GH_TOKEN: ${{ github.token }}
          GH_REPO: ${{ github.repository }}
          TAG: ${{ inputs.tag || github.ref_name }}
        run: |
          if gh release view "$TAG" > /dev/null 2>&1; then
            echo "release $TAG exists already"
          else
            gh release create "$TAG" --verify-tag --title "$TAG" --notes-file notes.md
          fi
"#;

const ROLLBACK: &str = r#"
name: Rollback

on:
  workflow_dispatch:
    inputs:
      to:
        description: The release tag to return to (empty for the release before the one production runs)
        required: false
        type: string

permissions: {}

concurrency:
  group: deploy-production
  cancel-in-progress: false

jobs:
  rollback:
    name: roll production back
    runs-on: ubuntu-latest
    environment: production
    permissions:
      contents: read
    steps:
      - uses: @CHECKOUT@
        with:
          fetch-depth: 0
          persist-credentials: false
      - name: Rust toolchain
        run: rustup toolchain install stable --profile minimal && rustup default stable
      - name: Roll production back
        env:
          @TOKEN_ENV@: ${{ secrets.@TOKEN_ENV@ }}
          TO: ${{ inputs.to }}
        run: |
          if [ -n "$TO" ]; then
            cargo xtask rollback --to "$TO"
          else
            cargo xtask rollback
          fi
"#;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::environment::Environment;

    fn config(prefix: &str, branch: &str) -> Config {
        let text = format!(
            r#"
[coolify]
url = "https://coolify.example.com"
token_env = "MY_COOLIFY"

[tags]
prefix = "{prefix}"

[environments.staging]
app = "staging-app"
branch = "{branch}"
health_url = "https://staging.example.com/healthz"

[environments.production]
app = "production-app"
branch = "{branch}"
health_url = "https://example.com/healthz"
"#
        );
        Config::parse(&text, Path::new("deploy.toml"), &Environment::default()).unwrap()
    }

    fn file<'a>(files: &'a [(String, String)], name: &str) -> &'a str {
        &files
            .iter()
            .find(|(path, _)| path.ends_with(name))
            .unwrap()
            .1
    }

    #[test]
    fn the_config_reaches_the_triggers_and_secrets() {
        let files = render(&config("release-", "trunk"));
        assert_eq!(files.len(), 4);
        let production = file(&files, "production-deploy.yml");
        assert!(
            production.contains("tags: ['release-[0-9]*']"),
            "{production}"
        );
        assert!(production.contains("MY_COOLIFY: ${{ secrets.MY_COOLIFY }}"));
        let staging = file(&files, "staging-deploy.yml");
        assert!(staging.contains("branches: ['trunk']"), "{staging}");
    }

    #[test]
    fn no_expression_is_interpolated_into_a_script() {
        for (path, content) in render(&config("v", "main")) {
            let mut in_run_block = false;
            for line in content.lines() {
                let trimmed = line.trim_start();
                if trimmed.starts_with("run:") {
                    in_run_block = trimmed == "run: |";
                    assert!(!trimmed.contains("${{"), "{path}: {line}");
                } else if in_run_block && line.starts_with("          ") {
                    assert!(!line.contains("${{"), "{path}: {line}");
                } else {
                    in_run_block = false;
                }
            }
        }
    }

    #[test]
    fn every_checkout_is_pinned_and_drops_credentials() {
        for (path, content) in render(&config("v", "main")) {
            let uses: Vec<&str> = content
                .lines()
                .filter(|line| line.contains("uses:"))
                .collect();
            assert!(!uses.is_empty(), "{path}");
            for line in uses {
                assert!(line.ends_with(CHECKOUT), "{path}: {line}");
            }
            assert_eq!(
                content.matches("persist-credentials: false").count(),
                content.matches("uses:").count(),
                "{path}"
            );
            assert!(content.contains("\npermissions: {}\n"), "{path}");
        }
    }

    #[test]
    fn glob_characters_of_a_prefix_are_escaped() {
        assert_eq!(escape_glob("v"), "v");
        assert_eq!(escape_glob("r+[x]"), "r\\+\\[x\\]");
        assert_eq!(yaml_quote("it's"), "'it''s'");
    }

    #[test]
    fn check_names_the_differing_file_and_write_fixes_it() {
        let directory = tempfile::tempdir().unwrap();
        let config = config("v", "main");
        let error = write_or_check(
            &crate::Invocation::stagegate(),
            directory.path(),
            &config,
            Mode::Check,
        )
        .unwrap_err();
        assert!(
            error.to_string().contains("pr-validation.yml is missing"),
            "{error}"
        );
        let report = write_or_check(
            &crate::Invocation::stagegate(),
            directory.path(),
            &config,
            Mode::Write,
        )
        .unwrap();
        assert!(report.files.iter().all(|f| f.state == FileState::Written));
        let report = write_or_check(
            &crate::Invocation::stagegate(),
            directory.path(),
            &config,
            Mode::Check,
        )
        .unwrap();
        assert!(report.files.iter().all(|f| f.state == FileState::Unchanged));
        assert!(report.to_string().contains("nothing to change"));
    }
}
