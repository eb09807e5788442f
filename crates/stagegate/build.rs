//! Which commit of stagegate's repository the generated workflows pin stagegate's GitHub
//! Action to.
//!
//! `workflows` writes `uses: stagegate/stagegate@<commit> # vX.Y.Z`, and the commit must be
//! the one the release `vX.Y.Z` was cut from. A build learns it, in this order, from:
//!
//! 1. `STAGEGATE_RELEASE_COMMIT` (40 hex digits), for builds outside GitHub Actions;
//! 2. a GitHub Actions run on the tag `v{version}` of this very version (`GITHUB_REF_TYPE`,
//!    `GITHUB_REF_NAME`, `GITHUB_SHA`): the release workflow's archive and wheel builds;
//! 3. `.cargo_vcs_info.json`, which `cargo publish` puts into the published crate with the
//!    commit it was published from (so `cargo install stagegate` knows it too).
//!
//! A build from a checkout without either (a developer's `cargo build`) knows no release
//! commit: its workflows reference the action by version tag, and the action verifies the
//! archive's SHA-256. `git rev-parse HEAD` is deliberately not used: a work tree's HEAD is
//! usually not a release, and reading it would rebuild the crate on every commit.

use std::path::Path;

fn main() {
    for variable in [
        "STAGEGATE_RELEASE_COMMIT",
        "GITHUB_REF_TYPE",
        "GITHUB_REF_NAME",
        "GITHUB_SHA",
    ] {
        println!("cargo::rerun-if-env-changed={variable}");
    }
    let manifest_dir = std::env::var("CARGO_MANIFEST_DIR").unwrap_or_default();
    let vcs_info = Path::new(&manifest_dir).join(".cargo_vcs_info.json");
    println!("cargo::rerun-if-changed={}", vcs_info.display());
    let commit = std::env::var("STAGEGATE_RELEASE_COMMIT")
        .ok()
        .filter(|commit| !commit.is_empty())
        .or_else(release_tag_build)
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

/// The commit of a GitHub Actions run on the tag of this version, e.g. `v1.2.3`.
fn release_tag_build() -> Option<String> {
    let version = std::env::var("CARGO_PKG_VERSION").ok()?;
    let is_tag = std::env::var("GITHUB_REF_TYPE").ok()? == "tag";
    let names_this_version = std::env::var("GITHUB_REF_NAME").ok()? == format!("v{version}");
    (is_tag && names_this_version)
        .then(|| std::env::var("GITHUB_SHA").ok())
        .flatten()
}

/// `"sha1": "<hex>"` of `.cargo_vcs_info.json`, without a JSON parser.
fn sha1_of(text: &str) -> Option<String> {
    let after = &text[text.find("\"sha1\"")? + "\"sha1\"".len()..];
    let start = after.find('"')? + 1;
    let rest = &after[start..];
    Some(rest[..rest.find('"')?].to_owned())
}
