//! `workflows [--check] [--dry-run]`: the GitHub Actions workflows, generated from the
//! `[workflows]` table of `deploy.toml` for the repository's own language.
//!
//! Up to four files under `.github/workflows/`: `staging-deploy.yml` (every push to the
//! staging branch, after the repository's checks or after the team's own CI workflow),
//! `production-deploy.yml` (release tags of the policy's prefix, or a tag given by hand),
//! `rollback.yml`, and `pr-validation.yml` only when `pr_validation = true`. What they share,
//! and why:
//!
//! - Each carries [`HEADER`]. `workflows` writes, checks and removes only files that start with
//!   it: a workflow of the same name that the team wrote is left untouched and reported.
//! - The checks run with the preset's setup action pinned by commit (uv, npm, cargo or Go) and
//!   no other toolchain; the deploy jobs install the prebuilt `stagegate` of the version that
//!   generated them with stagegate's GitHub Action, or run `cargo xtask` in a Rust workspace
//!   that embeds stagegate.
//! - `permissions: {}` at the top and the least each job needs (`contents: write` only where
//!   `gh release create` runs), so a compromised step holds no more than its job.
//! - One `concurrency` group per environment that never cancels a running deploy: a rollback
//!   and a production deploy never overlap, and a deploy is never stopped half-way.
//! - Every action pinned by commit; `actions/checkout` with `persist-credentials: false`.
//! - No `${{ }}` inside `run:`: every value reaches the script through `env:`, so a tag or an
//!   input can never become shell code.
//! - The Coolify token comes from the secret named like `coolify.token_env`, only in jobs that
//!   run in the `staging` or `production` environment, where reviewers can be required.
//!
//! `--check` writes nothing and fails when a generated file differs, so CI catches a
//! `deploy.toml` change whose workflows were not regenerated. `--dry-run` prints each file that
//! would change with a diff against what is there.

use std::fmt;
use std::path::Path;

use anyhow::Context as _;
use serde::Serialize;

use crate::config::{Config, Install, WorkflowsConfig};
use crate::exit::BadInput;
use crate::session::{DryRun, Session};

mod checks;
mod render;

pub(crate) use self::checks::{Check, locked_version, preset_checks};

#[cfg(test)]
pub(crate) use self::render::HEADER;
pub(crate) use self::render::{ActionPin, DIRECTORY, FILE_NAMES, HEADER_MARK, render};

/// `--check`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Mode {
    /// Write the files (or with `--dry-run`, print them).
    #[default]
    Write,
    /// Write nothing; fail when a generated file differs.
    Check,
}

/// `workflows`' options.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct WorkflowsOptions {
    /// `--check`.
    pub mode: Mode,
    /// `--dry-run`.
    pub dry_run: DryRun,
}

impl WorkflowsOptions {
    /// Write the files.
    pub fn write() -> Self {
        Self::default()
    }

    /// `--check`.
    pub fn check() -> Self {
        Self {
            mode: Mode::Check,
            dry_run: DryRun::No,
        }
    }

    /// `--dry-run`.
    pub fn dry_run() -> Self {
        Self {
            mode: Mode::Write,
            dry_run: DryRun::Yes,
        }
    }
}

/// What happened to one file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FileState {
    /// It already had the generated content.
    Unchanged,
    /// It was written (created or replaced).
    Written,
    /// `--dry-run`: it would be written.
    WouldWrite,
    /// A file of that name without stagegate's header: the team's own, left untouched.
    UserOwned,
    /// A generated file the config no longer asks for, removed.
    Removed,
    /// `--dry-run`: it would be removed.
    WouldRemove,
}

/// One workflow file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WorkflowFile {
    /// Its path, relative to the repository root.
    pub path: String,
    /// What happened to it.
    pub state: FileState,
    /// `--dry-run`: the content it would get (none for a removal).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content: Option<String>,
    /// `--dry-run`: a unified diff from what is there to what would be.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub diff: Option<String>,
}

/// The result of `workflows`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WorkflowsReport {
    /// Every file the config generates or once generated.
    pub files: Vec<WorkflowFile>,
    /// Lines of the team's own workflows that still deploy production on a push.
    pub production_deploys_on_push: Vec<crate::legacy::DeployOnPush>,
    /// Lines of the team's own workflows that deploy staging on a push, which
    /// `staging-deploy.yml` now does (each push would build twice).
    pub staging_deploys_on_push: Vec<crate::legacy::DeployOnPush>,
    /// How the user runs stagegate, for the advice in the text.
    #[serde(skip)]
    pub command: String,
}

impl WorkflowsReport {
    fn with_state(&self, state: FileState) -> Vec<&str> {
        self.files
            .iter()
            .filter(|file| file.state == state)
            .map(|file| file.path.as_str())
            .collect()
    }
}

impl fmt::Display for WorkflowsReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for file in &self.files {
            if let Some(content) = &file.content {
                writeln!(f, "--- {} (would be written) ---", file.path)?;
                f.write_str(content)?;
            }
            if let Some(diff) = &file.diff {
                writeln!(f, "--- diff of {} ---", file.path)?;
                f.write_str(diff)?;
            }
        }
        let mut lines = Vec::new();
        let written = self.with_state(FileState::Written);
        if !written.is_empty() {
            lines.push(format!(
                "wrote {}; commit them with deploy.toml",
                written.join(", ")
            ));
        }
        let removed = self.with_state(FileState::Removed);
        if !removed.is_empty() {
            lines.push(format!(
                "removed {} (generated earlier; deploy.toml no longer asks for it)",
                removed.join(", ")
            ));
        }
        let would_write = self.with_state(FileState::WouldWrite);
        if !would_write.is_empty() {
            lines.push(format!("dry run: would write {}", would_write.join(", ")));
        }
        let would_remove = self.with_state(FileState::WouldRemove);
        if !would_remove.is_empty() {
            lines.push(format!("dry run: would remove {}", would_remove.join(", ")));
        }
        if lines.is_empty() {
            lines.push(format!(
                "the {} generated workflows match deploy.toml: nothing to change",
                self.with_state(FileState::Unchanged).len()
            ));
        }
        for path in self.with_state(FileState::UserOwned) {
            lines.push(format!(
                "left {path} untouched: it is your own file (it lacks stagegate's header); rename or delete it and run `{}` to have stagegate generate one",
                self.command
            ));
        }
        for finding in self
            .production_deploys_on_push
            .iter()
            .chain(&self.staging_deploys_on_push)
        {
            lines.push(format!("warning: {finding}"));
        }
        write!(f, "{}", lines.join("\n"))
    }
}

/// Whether a workflow file is one `workflows` generated.
pub(crate) fn is_generated(content: &str) -> bool {
    content.starts_with(HEADER_MARK)
}

/// The `[workflows]` table of `config`.
///
/// # Errors
///
/// [`BadInput`] naming the table and what to write when the config has none.
pub(crate) fn table<'a>(
    config: &'a Config,
    invocation: &crate::Invocation,
) -> anyhow::Result<&'a WorkflowsConfig> {
    config.workflows.as_ref().ok_or_else(|| {
        BadInput(format!(
            "{} has no [workflows] table, so stagegate cannot tell how this repository runs its checks: add one with `preset = \"python-uv\"` (or node-npm, rust-cargo, go), `test = [\"your test command\"]` or `after = \"CI\"` (docs/CONFIG.md, [workflows]), or let `{}` write a new deploy.toml",
            config.path.display(),
            invocation.command("init --dry-run")
        ))
        .into()
    })
}

/// Write the workflows into the repository, or with [`Mode::Check`] compare them; with
/// `--dry-run`, print what would change.
///
/// # Errors
///
/// A bad config or one without `[workflows]` ([`crate::BadInput`]); with [`Mode::Check`], a
/// generated file that is missing, differs or is no longer asked for (exit 1, naming the file
/// and the `workflows` command); a file that cannot be read or written.
pub fn workflows(session: &Session, options: WorkflowsOptions) -> anyhow::Result<WorkflowsReport> {
    let repo = session.open_repo().context("workflows")?;
    let config = session.load_config(&repo).context("workflows")?;
    let table = table(&config, &session.invocation).context("workflows")?;
    if table.stagegate == Install::Uv {
        check_uv_lock(repo.root(), &config).context("workflows")?;
    }
    let checks = checks::checks(table, repo.root());
    let files = render(&config, table, &ActionPin::this_build(), &checks);
    let mut report =
        write_or_check(&session.invocation, repo.root(), &files, options).context("workflows")?;
    let (production, staging): (Vec<_>, Vec<_>) =
        crate::legacy::deploys_on_push(repo.root(), &crate::legacy::Apps::of(&config))
            .into_iter()
            .partition(|finding| finding.environment == crate::config::EnvironmentName::Production);
    report.production_deploys_on_push = production;
    report.staging_deploys_on_push = staging;
    Ok(report)
}

/// With `stagegate = "uv"` the deploy jobs run the `stagegate-cli` that `uv.lock` pins: it must
/// pin this very version, whose commands the workflows call.
///
/// # Errors
///
/// [`BadInput`] naming `uv.lock`, what it pins and the `uv add` that fixes it.
fn check_uv_lock(root: &Path, config: &Config) -> anyhow::Result<()> {
    let version = env!("CARGO_PKG_VERSION");
    let add = format!("uv add --dev stagegate-cli=={version}");
    let lock = std::fs::read_to_string(root.join("uv.lock")).unwrap_or_default();
    let problem = match checks::locked_version(&lock, "stagegate-cli") {
        Some(locked) if locked == version => return Ok(()),
        Some(locked) => format!("uv.lock pins stagegate-cli {locked}, not {version}"),
        None if lock.is_empty() => "there is no uv.lock".to_owned(),
        None => "uv.lock does not pin stagegate-cli".to_owned(),
    };
    Err(BadInput(format!(
        "{}: `workflows.stagegate = \"uv\"` runs the stagegate-cli of uv.lock (its wheels' hashes checked), but {problem}: run `{add}` and commit uv.lock, or use `stagegate = \"action\"`",
        config.path.display()
    ))
    .into())
}

/// Apply `files` (from [`render`]) to the repository at `root`.
///
/// # Errors
///
/// As [`workflows`].
pub(crate) fn write_or_check(
    invocation: &crate::Invocation,
    root: &Path,
    files: &[(String, String)],
    options: WorkflowsOptions,
) -> anyhow::Result<WorkflowsReport> {
    let dry = options.dry_run.is_dry();
    let mut report = Vec::new();
    for name in FILE_NAMES {
        let relative = format!("{DIRECTORY}/{name}");
        let path = root.join(&relative);
        let current = read_if_present(&path).with_context(|| format!("read {relative}"))?;
        let wanted = files
            .iter()
            .find(|(candidate, _)| *candidate == relative)
            .map(|(_, content)| content.as_str());
        let entry = |state: FileState| WorkflowFile {
            path: relative.clone(),
            state,
            content: None,
            diff: None,
        };
        match (current.as_deref(), wanted) {
            (None, None) => {}
            (Some(existing), _) if !is_generated(existing) => {
                // The team's own file: never written, never checked.
                if wanted.is_some() {
                    report.push(entry(FileState::UserOwned));
                }
            }
            (Some(existing), Some(content)) if existing == content => {
                report.push(entry(FileState::Unchanged));
            }
            (current, Some(content)) => {
                if options.mode == Mode::Check {
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
                if dry {
                    report.push(WorkflowFile {
                        content: Some(content.to_owned()),
                        diff: Some(unified_diff(
                            &relative,
                            current.unwrap_or_default(),
                            content,
                        )),
                        ..entry(FileState::WouldWrite)
                    });
                    continue;
                }
                if let Some(directory) = path.parent() {
                    std::fs::create_dir_all(directory)
                        .with_context(|| format!("create {}", directory.display()))?;
                }
                crate::files::write_atomically(&path, content, crate::files::Replace::Yes)?;
                report.push(entry(FileState::Written));
            }
            (Some(existing), None) => {
                if options.mode == Mode::Check {
                    anyhow::bail!(
                        "{relative} was generated by stagegate but deploy.toml no longer asks for it: run `{}` to remove it and commit the result",
                        invocation.command("workflows")
                    );
                }
                if dry {
                    report.push(WorkflowFile {
                        diff: Some(unified_diff(&relative, existing, "")),
                        ..entry(FileState::WouldRemove)
                    });
                    continue;
                }
                std::fs::remove_file(&path).with_context(|| format!("remove {relative}"))?;
                report.push(entry(FileState::Removed));
            }
        }
    }
    Ok(WorkflowsReport {
        files: report,
        production_deploys_on_push: Vec::new(),
        staging_deploys_on_push: Vec::new(),
        command: invocation.command("workflows"),
    })
}

fn read_if_present(path: &Path) -> std::io::Result<Option<String>> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(Some(text)),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(error) => Err(error),
    }
}

/// A unified diff of `before` to `after` (three lines of context).
pub(crate) fn unified_diff(path: &str, before: &str, after: &str) -> String {
    let diff = similar::TextDiff::from_lines(before, after);
    let mut unified = diff.unified_diff();
    unified
        .context_radius(3)
        .header(&format!("a/{path}"), &format!("b/{path}"));
    unified.to_string()
}

#[cfg(test)]
mod tests {
    use super::render::*;
    use super::*;
    use crate::config::Preset;
    use crate::process_env::ProcessEnv;

    fn config(prefix: &str, branch: &str, workflows: &str) -> Config {
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

[workflows]
{workflows}
"#
        );
        Config::parse(&text, Path::new("deploy.toml"), &ProcessEnv::default()).unwrap()
    }

    fn rendered(config: &Config) -> Vec<(String, String)> {
        let table = config.workflows.as_ref().unwrap();
        let empty = tempfile::tempdir().unwrap();
        render(
            config,
            table,
            &ActionPin::commit("1.2.3", "0123456789abcdef0123456789abcdef01234567"),
            &checks::checks(table, empty.path()),
        )
    }

    fn file<'a>(files: &'a [(String, String)], name: &str) -> &'a str {
        &files
            .iter()
            .find(|(path, _)| path.ends_with(name))
            .unwrap()
            .1
    }

    fn every_setting() -> Vec<Config> {
        let mut configs = Vec::new();
        for preset in Preset::ALL {
            for extra in ["", "pr_validation = true", "stagegate = \"cargo-xtask\""] {
                configs.push(config(
                    "v",
                    "main",
                    &format!("preset = \"{preset}\"\n{extra}"),
                ));
            }
        }
        configs.push(config("v", "main", "after = \"CI\""));
        configs.push(config("v", "main", "test = []"));
        configs.push(config(
            "v",
            "main",
            "preset = \"python-uv\"\nstagegate = \"uv\"\npr_validation = true",
        ));
        configs.push(config(
            "v",
            "main",
            "test = [\"make check\", \"./it's fine\"]",
        ));
        configs
    }

    #[test]
    fn the_config_reaches_the_triggers_and_secrets() {
        let files = rendered(&config("release-", "trunk", "preset = \"go\""));
        assert_eq!(files.len(), 3, "no pr-validation.yml unless asked");
        let production = file(&files, "production-deploy.yml");
        assert!(
            production.contains("tags: ['release-[0-9]*']"),
            "{production}"
        );
        assert!(production.contains("MY_COOLIFY: ${{ secrets.MY_COOLIFY }}"));
        let staging = file(&files, "staging-deploy.yml");
        assert!(staging.contains("branches: ['trunk']"), "{staging}");
        assert!(staging.contains("run: 'go test ./...'"), "{staging}");
        assert!(staging.contains("needs: test"), "{staging}");
    }

    #[test]
    fn a_non_rust_repository_gets_no_rust_and_the_pinned_action() {
        for preset in [Preset::PythonUv, Preset::NodeNpm, Preset::Go] {
            let files = rendered(&config(
                "v",
                "main",
                &format!("preset = \"{preset}\"\npr_validation = true"),
            ));
            assert_eq!(files.len(), 4);
            for (path, content) in &files {
                for rust in ["cargo", "rustup", "xtask"] {
                    assert!(!content.contains(rust), "{preset}: {path} mentions {rust}");
                }
                if !path.ends_with("pr-validation.yml") {
                    assert!(
                        content.contains("uses: stagegate/stagegate@0123456789abcdef0123456789abcdef01234567 # v1.2.3\n        with:\n          version: 1.2.3\n"),
                        "{path}: {content}"
                    );
                }
            }
        }
        let python = rendered(&config("v", "main", "preset = \"python-uv\""));
        let staging = file(&python, "staging-deploy.yml");
        assert!(
            staging.contains(SETUP_UV) && staging.contains("run: 'uv run pytest'"),
            "{staging}"
        );
        let node = rendered(&config(
            "v",
            "main",
            "preset = \"node-npm\"\ntest = [\"npm run lint\", \"npm test\"]",
        ));
        let staging = file(&node, "staging-deploy.yml");
        assert!(
            staging.contains(SETUP_NODE) && staging.contains("run: 'npm run lint'"),
            "{staging}"
        );
    }

    #[test]
    fn without_a_commit_the_action_is_pinned_by_version_and_says_why() {
        let config = config("v", "main", "preset = \"go\"");
        let files = render(
            &config,
            config.workflows.as_ref().unwrap(),
            &ActionPin::version_only("1.2.3"),
            &["go test ./...".to_owned()],
        );
        let staging = file(&files, "staging-deploy.yml");
        assert!(
            staging.contains("uses: stagegate/stagegate@v1.2.3 # zizmor: ignore[unpinned-uses]"),
            "{staging}"
        );
    }

    #[test]
    fn cargo_xtask_mode_caches_and_never_installs_the_action() {
        let files = rendered(&config(
            "v",
            "main",
            "preset = \"rust-cargo\"\nstagegate = \"cargo-xtask\"",
        ));
        for (path, content) in &files {
            assert!(!content.contains("stagegate/stagegate@"), "{path}");
        }
        let production = file(&files, "production-deploy.yml");
        assert!(
            production
                .contains("run: cargo xtask deploy production --tag \"$TAG\" --auto-rollback")
        );
        assert!(
            production.contains(CACHE_RESTORE),
            "a deploy job only restores the cache"
        );
    }

    #[test]
    fn after_the_teams_ci_staging_waits_for_its_success() {
        let files = rendered(&config("v", "main", "after = \"CI\""));
        let staging = file(&files, "staging-deploy.yml");
        assert!(staging.contains("workflows: ['CI']"), "{staging}");
        assert!(staging.contains("github.event.workflow_run.conclusion == 'success'"));
        assert!(staging.contains("ref: ${{ inputs.ref || github.event.workflow_run.head_sha }}"));
        assert!(staging.contains("COMMIT: ${{ steps.commit.outputs.sha }}"));
        assert!(!staging.contains("needs: test"));
        // A dispatched ref deploys only once the team's workflow passed on it.
        assert!(staging.contains("workflow_dispatch:"), "{staging}");
        assert!(
            staging.contains(
                "gh run list --workflow \"$WORKFLOW\" --commit \"$COMMIT\" --status success"
            ),
            "{staging}"
        );
        assert!(staging.contains("actions: read"), "{staging}");
    }

    #[test]
    fn every_deploy_job_records_with_the_workflow_token_and_no_job_deployment() {
        for config in every_setting() {
            for (path, content) in rendered(&config) {
                if path.ends_with("pr-validation.yml") {
                    assert!(!content.contains("deployments: write"), "{path}");
                    assert!(!content.contains("GITHUB_TOKEN"), "{path}");
                    continue;
                }
                assert!(
                    content.contains("    environment:\n      name: ")
                        && content.contains("      deployment: false\n"),
                    "{path}: {content}"
                );
                assert_eq!(
                    content.matches("deployments: write").count(),
                    1,
                    "{path}: {content}"
                );
                // Every step that runs a recording command gets the token, and only those.
                let runs = ["deploy staging", "deploy production", "rollback"]
                    .iter()
                    .map(|command| content.matches(&format!("{command} ")).count())
                    .sum::<usize>();
                let tokens = content.matches("GITHUB_TOKEN: ${{ github.token }}").count();
                assert!(tokens >= 1, "{path}: {content}");
                assert!(runs >= tokens, "{path}: {content}");
                assert!(!content.contains("secrets.GITHUB_TOKEN"), "{path}");
            }
        }
    }

    #[test]
    fn a_hotfix_ref_is_checked_then_that_very_commit_deployed() {
        let files = rendered(&config("v", "main", "preset = \"python-uv\""));
        let staging = file(&files, "staging-deploy.yml");
        assert!(
            staging.contains("  workflow_dispatch:\n    inputs:\n      ref:\n"),
            "{staging}"
        );
        assert!(
            staging.contains("ref: ${{ inputs.ref || github.sha }}"),
            "{staging}"
        );
        assert!(
            staging.contains("commit: ${{ steps.commit.outputs.sha }}"),
            "{staging}"
        );
        assert!(
            staging.contains("ref: ${{ needs.test.outputs.commit }}")
                && staging.contains("COMMIT: ${{ needs.test.outputs.commit }}"),
            "{staging}"
        );
    }

    #[test]
    fn no_expression_is_interpolated_into_a_script() {
        for config in every_setting() {
            for (path, content) in rendered(&config) {
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
    }

    #[test]
    fn every_action_is_pinned_by_commit_and_checkout_drops_credentials() {
        for config in every_setting() {
            for (path, content) in rendered(&config) {
                for line in content.lines().filter(|line| line.contains("uses:")) {
                    let reference = line.split('@').nth(1).unwrap_or_default();
                    let commit: String = reference
                        .chars()
                        .take_while(char::is_ascii_hexdigit)
                        .collect();
                    assert_eq!(commit.len(), 40, "{path}: {line}");
                    assert!(line.contains(" # v"), "{path}: {line}");
                }
                assert_eq!(
                    content.matches("persist-credentials: false").count(),
                    content.matches(CHECKOUT).count(),
                    "{path}"
                );
                assert!(content.contains("\npermissions: {}\n"), "{path}");
                assert!(is_generated(&content));
            }
        }
    }

    #[test]
    fn a_command_with_an_expression_is_refused() {
        let text = "[coolify]\nurl = \"https://c.example.com\"\n[environments.staging]\napp = \"a\"\nhealth_url = \"https://s.example.com\"\n[environments.production]\napp = \"b\"\nhealth_url = \"https://p.example.com\"\n[workflows]\ntest = [\"echo ${{ github.head_ref }}\"]\n";
        let error =
            Config::parse(text, Path::new("deploy.toml"), &ProcessEnv::default()).unwrap_err();
        assert!(error.to_string().contains("workflows.test"), "{error}");
    }

    #[test]
    fn glob_characters_of_a_prefix_are_escaped() {
        assert_eq!(escape_glob("v"), "v");
        assert_eq!(escape_glob("r+[x]"), "r\\+\\[x\\]");
        assert_eq!(yaml_quote("it's"), "'it''s'");
    }

    #[test]
    fn user_files_are_left_alone_and_generated_ones_checked() {
        let directory = tempfile::tempdir().unwrap();
        let workflows_dir = directory.path().join(DIRECTORY);
        std::fs::create_dir_all(&workflows_dir).unwrap();
        let theirs = "name: PR validation\non: pull_request\njobs: {}\n";
        std::fs::write(workflows_dir.join("pr-validation.yml"), theirs).unwrap();
        let config = config("v", "main", "preset = \"python-uv\"\npr_validation = true");
        let files = rendered(&config);
        let invocation = crate::Invocation::stagegate();
        let check = WorkflowsOptions {
            mode: Mode::Check,
            dry_run: DryRun::No,
        };
        let write = WorkflowsOptions::default();

        let error = write_or_check(&invocation, directory.path(), &files, check).unwrap_err();
        assert!(
            error.to_string().contains("staging-deploy.yml is missing"),
            "{error}"
        );

        let dry = write_or_check(
            &invocation,
            directory.path(),
            &files,
            WorkflowsOptions {
                mode: Mode::Write,
                dry_run: DryRun::Yes,
            },
        )
        .unwrap();
        assert!(dry.files.iter().any(|f| {
            f.state == FileState::WouldWrite
                && f.diff
                    .as_deref()
                    .is_some_and(|d| d.contains("+name: Staging deploy"))
        }));
        assert!(
            !workflows_dir.join("staging-deploy.yml").exists(),
            "a dry run writes nothing"
        );

        let report = write_or_check(&invocation, directory.path(), &files, write).unwrap();
        let states: Vec<(&str, FileState)> = report
            .files
            .iter()
            .map(|f| (f.path.as_str(), f.state))
            .collect();
        assert_eq!(
            states[0],
            (".github/workflows/pr-validation.yml", FileState::UserOwned)
        );
        assert!(
            states[1..]
                .iter()
                .all(|(_, state)| *state == FileState::Written)
        );
        assert!(
            report
                .to_string()
                .contains("left .github/workflows/pr-validation.yml untouched"),
            "{report}"
        );
        assert_eq!(
            std::fs::read_to_string(workflows_dir.join("pr-validation.yml")).unwrap(),
            theirs
        );

        let report = write_or_check(&invocation, directory.path(), &files, check).unwrap();
        assert!(
            report
                .files
                .iter()
                .all(|f| matches!(f.state, FileState::Unchanged | FileState::UserOwned))
        );

        // Asking for fewer files removes only the generated one no longer wanted.
        let fewer = rendered(&config_without_pr());
        std::fs::remove_file(workflows_dir.join("pr-validation.yml")).unwrap();
        write_or_check(&invocation, directory.path(), &files, write).unwrap();
        let error = write_or_check(&invocation, directory.path(), &fewer, check).unwrap_err();
        assert!(
            error.to_string().contains("no longer asks for it"),
            "{error}"
        );
        let report = write_or_check(&invocation, directory.path(), &fewer, write).unwrap();
        assert_eq!(report.files[0].state, FileState::Removed);
        assert!(!workflows_dir.join("pr-validation.yml").exists());
    }

    #[test]
    fn stagegate_run_by_uv_needs_this_version_in_uv_lock() {
        let config = config("v", "main", "preset = \"python-uv\"\nstagegate = \"uv\"");
        let root = tempfile::tempdir().unwrap();
        let error = check_uv_lock(root.path(), &config).unwrap_err();
        assert!(error.is::<BadInput>());
        let version = env!("CARGO_PKG_VERSION");
        assert!(
            error.to_string().contains(&format!(
                "there is no uv.lock: run `uv add --dev stagegate-cli=={version}`"
            )),
            "{error}"
        );
        let lock = root.path().join("uv.lock");
        std::fs::write(
            &lock,
            "[[package]]\nname = \"stagegate-cli\"\nversion = \"0.0.1\"\n",
        )
        .unwrap();
        let error = check_uv_lock(root.path(), &config).unwrap_err();
        assert!(
            error
                .to_string()
                .contains("uv.lock pins stagegate-cli 0.0.1, not"),
            "{error}"
        );
        std::fs::write(
            &lock,
            format!("[[package]]\nname = \"stagegate-cli\"\nversion = \"{version}\"\n"),
        )
        .unwrap();
        check_uv_lock(root.path(), &config).unwrap();
        let staging = file(&rendered(&config), "staging-deploy.yml").to_owned();
        assert!(
            staging.contains("run: uv run --locked stagegate deploy staging --commit \"$COMMIT\""),
            "{staging}"
        );
        assert!(!staging.contains("stagegate/stagegate@"), "{staging}");
    }

    fn config_without_pr() -> Config {
        config("v", "main", "preset = \"python-uv\"")
    }
}
