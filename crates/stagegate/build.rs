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
//! archive's SHA-256. An official release build must know it, and fails otherwise: a GitHub
//! Actions run of stagegate's own repository on a tag (which must be `v{version}`), or any
//! build with `STAGEGATE_REQUIRE_RELEASE_COMMIT` set (`build/release_commit.rs`). `git rev-parse HEAD` is deliberately not used: a work tree's HEAD is
//! usually not a release, and reading it would rebuild the crate on every commit.

use std::path::Path;

#[path = "build/release_commit.rs"]
mod release_commit;

fn main() {
    for variable in [
        "STAGEGATE_RELEASE_COMMIT",
        "STAGEGATE_REQUIRE_RELEASE_COMMIT",
        "GITHUB_REPOSITORY",
        "GITHUB_REF_TYPE",
        "GITHUB_REF_NAME",
        "GITHUB_SHA",
    ] {
        println!("cargo::rerun-if-env-changed={variable}");
    }
    let manifest_dir = std::env::var("CARGO_MANIFEST_DIR").unwrap_or_default();
    let vcs_info = Path::new(&manifest_dir).join(".cargo_vcs_info.json");
    println!("cargo::rerun-if-changed={}", vcs_info.display());
    let version = std::env::var("CARGO_PKG_VERSION").unwrap_or_default();
    let vcs_info = std::fs::read_to_string(&vcs_info).ok();
    match release_commit::release_commit(
        &|name| std::env::var(name).ok(),
        &version,
        vcs_info.as_deref(),
    ) {
        Ok(Some(commit)) => println!("cargo::rustc-env=STAGEGATE_ACTION_COMMIT={commit}"),
        Ok(None) => {}
        Err(message) => {
            println!("cargo::error={message}");
        }
    }
}
