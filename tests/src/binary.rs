//! The built `stagegate` binary, for the scenarios that go through the command line.
//!
//! Cargo only hands `CARGO_BIN_EXE_<name>` to the integration tests of the package that owns
//! the binary, and this package is not `stagegate`. So the binary is built once per test process
//! with the very `cargo` that runs the tests (`cargo build -p stagegate --bin stagegate`, the build
//! `cargo install --path crates/stagegate` makes, in the dev profile) and found through Cargo's JSON
//! messages, which name the executable wherever the target directory is.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use anyhow::Context as _;

/// The workspace root: the parent of this package.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map_or_else(|| PathBuf::from(".."), Path::to_path_buf)
}

/// The path of the `stagegate` executable, built on first use.
///
/// `CARGO_BIN_EXE_stagegate` in the environment wins (to test a binary built elsewhere).
///
/// # Errors
///
/// When Cargo cannot build it or names no executable.
pub fn stagegate_binary() -> anyhow::Result<PathBuf> {
    static BINARY: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    BINARY
        .get_or_init(|| locate().map_err(|error| format!("{error:#}")))
        .clone()
        .map_err(anyhow::Error::msg)
}

fn locate() -> anyhow::Result<PathBuf> {
    if let Some(path) = std::env::var_os("CARGO_BIN_EXE_stagegate") {
        return Ok(PathBuf::from(path));
    }
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let output = Command::new(cargo)
        .args([
            "build",
            "--quiet",
            "--package",
            "stagegate",
            "--bin",
            "stagegate",
            "--message-format=json-render-diagnostics",
        ])
        .current_dir(workspace_root())
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .context("run cargo build -p stagegate")?;
    anyhow::ensure!(
        output.status.success(),
        "cargo build -p stagegate failed ({})",
        output.status
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    stdout
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|message| message["reason"] == "compiler-artifact")
        .filter(|message| message["target"]["name"] == "stagegate")
        .find_map(|message| message["executable"].as_str().map(PathBuf::from))
        .context("cargo build -p stagegate named no stagegate executable")
}
