//! The checks the generated workflows run: `test` when `deploy.toml` sets it, else the
//! preset's, which are its default checks plus the linters the repository configures.
//!
//! A preset reads only files at the repository root, so the checks of a commit follow from
//! that commit's files: `workflows --check` in CI sees what `workflows` saw.

use std::path::Path;

use crate::config::{Preset, WorkflowsConfig};

/// One check a preset runs, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Check {
    /// The command line.
    pub(crate) command: String,
    /// The file that asks for it, for a linter the repository configures (`ruff.toml`).
    pub(crate) because: Option<String>,
}

impl Check {
    fn always(command: &str) -> Self {
        Self {
            command: command.to_owned(),
            because: None,
        }
    }

    fn configured(command: &str, because: &str) -> Self {
        Self {
            command: command.to_owned(),
            because: Some(because.to_owned()),
        }
    }
}

/// The commands that check a commit: `test` when set, else the preset's checks for the
/// repository at `root`, else none.
pub(crate) fn checks(table: &WorkflowsConfig, root: &Path) -> Vec<String> {
    match (&table.test, table.preset) {
        (Some(test), _) => test.clone(),
        (None, Some(preset)) => preset_checks(preset, root)
            .into_iter()
            .map(|check| check.command)
            .collect(),
        (None, None) => Vec::new(),
    }
}

/// What `preset` runs in the repository at `root`: the linters its files configure, then its
/// tests.
pub(crate) fn preset_checks(preset: Preset, root: &Path) -> Vec<Check> {
    let read = |name: &str| std::fs::read_to_string(root.join(name)).ok();
    let exists = |name: &str| root.join(name).is_file();
    match preset {
        Preset::PythonUv => {
            let mut checks = Vec::new();
            let pyproject = read("pyproject.toml").unwrap_or_default();
            let ruff_config = ["ruff.toml", ".ruff.toml"]
                .into_iter()
                .find(|name| exists(name))
                .map(str::to_owned)
                .or_else(|| {
                    has_table(&pyproject, "tool.ruff").then(|| "pyproject.toml [tool.ruff]".into())
                });
            if let Some(because) = ruff_config {
                // `uv run` takes the ruff the lock pins; without one, uvx fetches it.
                let locked = read("uv.lock").is_some_and(|lock| locks(&lock, "ruff"));
                let command = if locked {
                    "uv run ruff check"
                } else {
                    "uvx ruff check"
                };
                checks.push(Check::configured(command, &because));
            }
            checks.push(Check::always("uv run pytest"));
            checks
        }
        Preset::NodeNpm => {
            let scripts = read("package.json")
                .and_then(|text| serde_json::from_str::<serde_json::Value>(&text).ok())
                .map(|manifest| manifest["scripts"].clone());
            let has_script = |name: &str| {
                scripts
                    .as_ref()
                    .is_some_and(|scripts| scripts.get(name).is_some_and(|s| s.is_string()))
            };
            let mut checks = Vec::new();
            if has_script("lint") {
                checks.push(Check::configured(
                    "npm run lint",
                    "the `lint` script of package.json",
                ));
            }
            // Without a `test` script `npm test` fails; an unreadable package.json keeps it.
            if scripts.is_none() || has_script("test") {
                checks.push(Check::always("npm test"));
            }
            checks
        }
        Preset::RustCargo => {
            let manifest = read("Cargo.toml").unwrap_or_default();
            let mut checks = Vec::new();
            if let Some(because) = ["rustfmt.toml", ".rustfmt.toml"]
                .into_iter()
                .find(|name| exists(name))
            {
                checks.push(Check::configured("cargo fmt --all --check", because));
            }
            let clippy = ["clippy.toml", ".clippy.toml"]
                .into_iter()
                .find(|name| exists(name))
                .map(str::to_owned)
                .or_else(|| {
                    ["lints.clippy", "workspace.lints.clippy"]
                        .into_iter()
                        .find(|table| has_table(&manifest, table))
                        .map(|table| format!("Cargo.toml [{table}]"))
                });
            if let Some(because) = clippy {
                checks.push(Check::configured(
                    "cargo clippy --workspace --all-targets --locked -- -D warnings",
                    &because,
                ));
            }
            checks.push(Check::always("cargo test --workspace --locked"));
            checks
        }
        Preset::Go => preset
            .default_checks()
            .iter()
            .map(|&command| Check::always(command))
            .collect(),
    }
}

/// Whether TOML `text` has the table `name` (`[tool.ruff]`, `[tool.ruff.lint]`).
fn has_table(text: &str, name: &str) -> bool {
    text.lines().any(|line| {
        let line = line.trim();
        line.strip_prefix('[')
            .and_then(|rest| rest.strip_prefix(name))
            .is_some_and(|rest| rest.starts_with(']') || rest.starts_with('.'))
    })
}

/// Whether a `uv.lock` pins the package `name`.
pub(crate) fn locks(lock: &str, name: &str) -> bool {
    lock.lines()
        .any(|line| line.trim() == format!("name = \"{name}\""))
}

/// The version a `uv.lock` pins the package `name` at.
pub(crate) fn locked_version(lock: &str, name: &str) -> Option<String> {
    let mut lines = lock.lines().map(str::trim);
    while let Some(line) = lines.next() {
        if line == format!("name = \"{name}\"") {
            let version = lines.next()?.strip_prefix("version = \"")?;
            return version.strip_suffix('"').map(str::to_owned);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn commands(preset: Preset, files: &[(&str, &str)]) -> Vec<String> {
        let directory = tempfile::tempdir().unwrap();
        for (name, text) in files {
            std::fs::write(directory.path().join(name), text).unwrap();
        }
        preset_checks(preset, directory.path())
            .into_iter()
            .map(|check| check.command)
            .collect()
    }

    #[test]
    fn each_preset_runs_the_linters_the_repository_configures() {
        assert_eq!(commands(Preset::PythonUv, &[]), ["uv run pytest"]);
        assert_eq!(
            commands(Preset::PythonUv, &[("ruff.toml", "line-length = 100\n")]),
            ["uvx ruff check", "uv run pytest"]
        );
        assert_eq!(
            commands(
                Preset::PythonUv,
                &[
                    (
                        "pyproject.toml",
                        "[project]\nname = \"x\"\n[tool.ruff.lint]\n"
                    ),
                    (
                        "uv.lock",
                        "[[package]]\nname = \"ruff\"\nversion = \"0.9.0\"\n"
                    ),
                ]
            ),
            ["uv run ruff check", "uv run pytest"]
        );
        // `[tool.ruffle]` is another tool.
        assert_eq!(
            commands(Preset::PythonUv, &[("pyproject.toml", "[tool.ruffle]\n")]),
            ["uv run pytest"]
        );
        assert_eq!(
            commands(
                Preset::NodeNpm,
                &[(
                    "package.json",
                    r#"{"scripts": {"lint": "eslint .", "test": "vitest run"}}"#
                )]
            ),
            ["npm run lint", "npm test"]
        );
        assert_eq!(
            commands(
                Preset::NodeNpm,
                &[("package.json", r#"{"scripts": {"build": "tsc"}}"#)]
            ),
            Vec::<String>::new()
        );
        assert_eq!(commands(Preset::NodeNpm, &[]), ["npm test"]);
        assert_eq!(
            commands(
                Preset::RustCargo,
                &[
                    ("Cargo.toml", "[workspace]\n[workspace.lints.clippy]\n"),
                    ("rustfmt.toml", "edition = \"2024\"\n"),
                ]
            ),
            [
                "cargo fmt --all --check",
                "cargo clippy --workspace --all-targets --locked -- -D warnings",
                "cargo test --workspace --locked"
            ]
        );
        assert_eq!(
            commands(Preset::RustCargo, &[("Cargo.toml", "[package]\n")]),
            ["cargo test --workspace --locked"]
        );
        assert_eq!(
            commands(Preset::Go, &[("go.mod", "module x\n")]),
            ["go vet ./...", "go test ./..."]
        );
    }

    #[test]
    fn a_lock_tells_the_version_it_pins() {
        let lock = "[[package]]\nname = \"stagegate-cli\"\nversion = \"0.1.0\"\nsource = { registry = \"https://pypi.org/simple\" }\n";
        assert_eq!(
            locked_version(lock, "stagegate-cli").as_deref(),
            Some("0.1.0")
        );
        assert_eq!(locked_version(lock, "ruff"), None);
    }
}
