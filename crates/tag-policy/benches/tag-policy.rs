//! Times listing and classifying the release tags of a repository with 1,000 release tags.
//!
//! Run with `cargo bench -p tag-policy --bench tag-policy`. The fixture repository (1,000
//! commits, 1,000 release tags of which half annotated and a tenth pre-releases, plus 100
//! non-release tags) is generated once under `target/tag-policy-bench/`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use git2::{Repository, Signature, Time};
use tag_policy::{Channels, Releases, TagKind, TagPolicy, TaggedRelease};

const RELEASES: u64 = 1_000;
const ROUNDS: usize = 50;

fn fixture_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target"),
        PathBuf::from,
    );
    target
        .join("tag-policy-bench")
        .join(format!("repo-{RELEASES}"))
}

/// Builds the fixture in a scratch directory and renames it into place, so an interrupted
/// build is never mistaken for a finished one.
fn fixture() -> Repository {
    let dir = fixture_dir();
    if let Ok(repo) = Repository::open(&dir) {
        return repo;
    }
    let scratch = dir.with_extension(format!("tmp{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&scratch);
    std::fs::create_dir_all(&scratch).unwrap();
    {
        let repo = Repository::init(&scratch).unwrap();
        let mut parent: Option<git2::Oid> = None;
        for index in 0..RELEASES {
            let who = Signature::new(
                "Bench",
                "bench@example.com",
                &Time::new(1_700_000_000 + 60 * index as i64, 0),
            )
            .unwrap();
            let blob = repo.blob(format!("{index}").as_bytes()).unwrap();
            let mut tree = repo.treebuilder(None).unwrap();
            tree.insert("file", blob, 0o100_644).unwrap();
            let tree = repo.find_tree(tree.write().unwrap()).unwrap();
            let parents: Vec<git2::Commit<'_>> = parent
                .iter()
                .map(|p| repo.find_commit(*p).unwrap())
                .collect();
            let parent_refs: Vec<&git2::Commit<'_>> = parents.iter().collect();
            let commit = repo
                .commit(
                    Some("refs/heads/main"),
                    &who,
                    &who,
                    &format!("fix: change {index}"),
                    &tree,
                    &parent_refs,
                )
                .unwrap();
            let object = repo.find_object(commit, None).unwrap();
            let (major, minor, patch) = (index / 100, (index / 10) % 10, index % 10);
            let name = if index % 10 == 9 {
                format!("v{major}.{minor}.{patch}-rc.1")
            } else {
                format!("v{major}.{minor}.{patch}")
            };
            if index % 2 == 0 {
                repo.tag(&name, &object, &who, &format!("release {name}"), false)
                    .unwrap();
            } else {
                repo.tag_lightweight(&name, &object, false).unwrap();
            }
            if index % 10 == 0 {
                repo.tag_lightweight(&format!("build-{index}"), &object, false)
                    .unwrap();
            }
            parent = Some(commit);
        }
    }
    std::fs::rename(&scratch, &dir).unwrap();
    Repository::open(&dir).unwrap()
}

fn time<T>(label: &str, mut run: impl FnMut() -> T) {
    let mut samples: Vec<Duration> = (0..ROUNDS)
        .map(|_| {
            let start = Instant::now();
            black_box(run());
            start.elapsed()
        })
        .collect();
    samples.sort();
    let median = samples[samples.len() / 2];
    let min = samples[0];
    let max = samples[samples.len() - 1];
    println!(
        "{label:<52} median {median:>10.3?}  min {min:>10.3?}  max {max:>10.3?}  ({ROUNDS} rounds)"
    );
}

fn main() {
    let build = Instant::now();
    let repo = fixture();
    println!(
        "fixture {} ready in {:.3?}",
        fixture_dir().display(),
        build.elapsed()
    );
    let policy = TagPolicy::default();

    let releases = Releases::list(&repo, &policy).unwrap();
    assert_eq!(releases.len(), RELEASES as usize);
    let head = repo.refname_to_id("refs/heads/main").unwrap();

    time("list + classify 1,000 release tags", || {
        let releases = Releases::list(&repo, &policy).unwrap();
        releases
            .iter()
            .filter(|r| policy.admits_to_production(r.tag()))
            .count()
    });
    time("nearest stable release from HEAD", || {
        releases
            .nearest_reachable(&repo, head, Channels::StableOnly)
            .unwrap()
            .map(|r| r.commit())
    });
    // Worst case for reachability: the best candidate is not an ancestor (a release on another
    // branch), so the walk visits all 1,000 commits.
    let elsewhere = TaggedRelease::new(
        policy.parse("v99.0.0").unwrap(),
        git2::Oid::from_bytes(&[7; 20]).unwrap(),
        TagKind::Lightweight,
    );
    let mut with_elsewhere = releases.as_slice().to_vec();
    with_elsewhere.push(elsewhere);
    let with_elsewhere = Releases::new(policy.clone(), with_elsewhere);
    time("nearest release, best one unreachable (full walk)", || {
        with_elsewhere
            .nearest_reachable(&repo, head, Channels::All)
            .unwrap()
            .map(|r| r.commit())
    });
    let newest = releases.newest(Channels::All).unwrap().tag().clone();
    time("rollback target of the newest release", || {
        releases.rollback_target(&newest).map(|r| r.commit())
    });
}
