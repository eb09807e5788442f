//! `[workflows]`: how the generated GitHub Actions workflows check a commit and run stagegate.

use std::fmt;

use serde::Deserialize;

use super::source::{KeyPath, Source};
use crate::exit::BadInput;

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
    /// `previews`: whether `preview.yml` is generated.
    pub previews: PreviewWorkflow,
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
    pub(crate) fn marker_file(self) -> &'static str {
        match self {
            Self::PythonUv => "uv.lock",
            Self::NodeNpm => "package-lock.json",
            Self::RustCargo => "Cargo.toml",
            Self::Go => "go.mod",
        }
    }

    /// The checks it always runs (the repository's own linters come on top:
    /// `commands/workflows/checks.rs`).
    pub(crate) fn default_checks(self) -> &'static [&'static str] {
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
    /// `uv run --locked stagegate`: the `stagegate-cli` the repository's `uv.lock` pins, with
    /// the hashes of its wheels, for a team that already sets up uv.
    Uv,
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

/// Whether `workflows` generates `preview.yml`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum PreviewWorkflow {
    /// No preview workflow (the default).
    #[default]
    Skip,
    /// Generate it: each pull request to the staging branch from this repository gets a
    /// verified preview, removed when the pull request closes.
    Generate,
}

/// `[workflows]` as serde reads it.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawWorkflows {
    pub(super) preset: Option<Preset>,
    pub(super) test: Option<Vec<String>>,
    pub(super) after: Option<String>,
    #[serde(default)]
    pub(super) stagegate: Install,
    #[serde(default)]
    pub(super) pr_validation: bool,
    #[serde(default)]
    pub(super) previews: bool,
}

impl RawWorkflows {
    /// The table, checked.
    ///
    /// # Errors
    ///
    /// [`BadInput`] naming the key, its line and the fix.
    pub(super) fn validate(self, source: &Source<'_>) -> Result<WorkflowsConfig, BadInput> {
        let table = KeyPath::of(&["workflows"]);
        if self.preset.is_none() && self.test.is_none() && self.after.is_none() {
            return Err(source.error(
                &table,
                "says neither how to check a commit nor which workflow to wait for: set `preset` (python-uv, node-npm, rust-cargo or go), `test` (the commands) or `after` (the name of your CI workflow)",
            ));
        }
        if let Some(after) = &self.after {
            if after.trim().is_empty() || after.contains(['\n', '\r']) || after.contains("${{") {
                return Err(source.error(
                    &table.key("after"),
                    format!(
                        "`{after}` is not a workflow name; write the `name:` of your CI workflow, e.g. \"CI\""
                    ),
                ));
            }
            if self.test.is_some() {
                return Err(source.error(
                    &table.key("test"),
                    format!(
                        "is not run when `after` is set ({}): staging waits for your CI workflow instead; remove one of them",
                        source.mention(&table.key("after"))
                    ),
                ));
            }
        }
        for (index, command) in self.test.iter().flatten().enumerate() {
            let key = table.key("test").index(index);
            if command.trim().is_empty() || command.contains(['\n', '\r']) {
                return Err(source.error(
                    &key,
                    format!("{command:?} is not one command line; write one list item per command"),
                ));
            }
            if command.contains("${{") {
                return Err(source.error(
                    &key,
                    format!(
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
            return Err(source.error(
                &table.key("pr_validation"),
                "needs checks to run: set `preset` or `test` too",
            ));
        }
        Ok(WorkflowsConfig {
            preset: self.preset,
            test: self.test,
            after: self.after,
            stagegate: self.stagegate,
            pr_validation,
            previews: if self.previews {
                PreviewWorkflow::Generate
            } else {
                PreviewWorkflow::Skip
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use crate::config::test_support::*;

    fn with_workflows(table: &str) -> String {
        format!("{EXAMPLE}\n[workflows]\n{table}\n")
    }

    #[test]
    fn a_table_that_checks_nothing_names_its_line() {
        let message = error(&with_workflows("stagegate = \"action\""));
        assert!(
            message.contains(
                "deploy.toml, line 14: `workflows`: says neither how to check a commit nor which workflow to wait for"
            ),
            "{message}"
        );
    }

    #[test]
    fn each_refused_key_names_its_line_and_the_fix() {
        for (table, expected) in [
            (
                "after = \" \"",
                "line 15: `workflows.after`: ` ` is not a workflow name; write the `name:` of your CI workflow",
            ),
            (
                "after = \"CI\"\ntest = [\"make\"]",
                "line 16: `workflows.test`: is not run when `after` is set (`workflows.after` on line 15)",
            ),
            (
                "test = [\n  \"make\",\n  \"make lint\\nmake test\",\n]",
                "line 17: `workflows.test[1]`: \"make lint\\nmake test\" is not one command line; write one list item per command",
            ),
            (
                "test = [\"echo ${{ github.head_ref }}\"]",
                "line 15: `workflows.test[0]`: `echo ${{ github.head_ref }}` holds a `${{` expression",
            ),
            (
                "after = \"CI\"\npr_validation = true",
                "line 16: `workflows.pr_validation`: needs checks to run: set `preset` or `test` too",
            ),
        ] {
            let message = error(&with_workflows(table));
            assert!(message.contains(expected), "{table}: {message}");
        }
        parse(&with_workflows("after = \"CI\"")).unwrap();
    }
}
