//! Which commit of stagegate's repository the generated workflows pin stagegate's GitHub
//! Action to.
//!
//! `workflows` writes `uses: stagegate/stagegate@<commit> # vX.Y.Z`, and the commit must be
//! the one the release `vX.Y.Z` was cut from. A build learns it, in this order, from:
//!
//! 1. `STAGEGATE_RELEASE_COMMIT` (40 hex digits), which the release workflow sets to the
//!    tagged commit when it builds the archives and wheels;
//! 2. `.cargo_vcs_info.json`, which `cargo publish` puts into the published crate with the
//!    commit it was published from (so `cargo install stagegate` knows it too).
//!
//! A build from a checkout without either (a developer's `cargo build`) knows no release
//! commit: its workflows reference the action by version tag, and the action verifies the
//! archive's SHA-256. `git rev-parse HEAD` is deliberately not used: a work tree's HEAD is
//! usually not a release, and reading it would rebuild the crate on every commit.

use std::path::Path;

fn main() {
    println!("cargo::rerun-if-env-changed=STAGEGATE_RELEASE_COMMIT");
    let manifest_dir = std::env::var("CARGO_MANIFEST_DIR").unwrap_or_default();
    let vcs_info = Path::new(&manifest_dir).join(".cargo_vcs_info.json");
    println!("cargo::rerun-if-changed={}", vcs_info.display());
    let commit = std::env::var("STAGEGATE_RELEASE_COMMIT")
        .ok()
        .filter(|commit| !commit.is_empty())
        .or_else(|| {
            std::fs::read_to_string(&vcs_info)
                .ok()
                .and_then(|text| sha1_of(&text))
        });
    if let Some(commit) = commit {
        if commit.len() == 40 && commit.chars().all(|c| c.is_ascii_hexdigit()) {
            println!(
                "cargo::rustc-env=STAGEGATE_ACTION_COMMIT={}",
                commit.to_ascii_lowercase()
            );
        } else {
            println!(
                "cargo::warning=STAGEGATE_RELEASE_COMMIT `{commit}` is not a 40-digit commit; the generated workflows pin stagegate's action by version"
            );
        }
    }
}

/// `"sha1": "<hex>"` of `.cargo_vcs_info.json`, without a JSON parser.
fn sha1_of(text: &str) -> Option<String> {
    let after = &text[text.find("\"sha1\"")? + "\"sha1\"".len()..];
    let start = after.find('"')? + 1;
    let rest = &after[start..];
    Some(rest[..rest.find('"')?].to_owned())
}
