//! A deterministic fixture repository built with git2 in a tempdir.

use std::collections::HashMap;

use git2::{Oid, Repository, Signature, Time};
use tempfile::TempDir;

/// A repository whose history and tags are known by name.
pub struct Fixture {
    /// Keeps the directory alive.
    _dir: TempDir,
    pub repo: Repository,
    commits: HashMap<&'static str, Oid>,
    clock: i64,
}

impl Fixture {
    pub fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let repo = Repository::init(dir.path()).unwrap();
        Self {
            _dir: dir,
            repo,
            commits: HashMap::new(),
            clock: 1_700_000_000,
        }
    }

    fn signature(&mut self) -> Signature<'static> {
        self.clock += 60;
        Signature::new(
            "Fixture Author",
            "author@example.com",
            &Time::new(self.clock, 0),
        )
        .unwrap()
    }

    /// Commits on `branch` (created from `parents[0]` when missing); `parents` are names.
    pub fn commit(&mut self, name: &'static str, branch: &str, parents: &[&str]) -> Oid {
        let who = self.signature();
        let blob = self.repo.blob(name.as_bytes()).unwrap();
        let mut builder = self.repo.treebuilder(None).unwrap();
        builder.insert(name, blob, 0o100_644).unwrap();
        let tree = self.repo.find_tree(builder.write().unwrap()).unwrap();
        let parents: Vec<git2::Commit<'_>> = parents
            .iter()
            .map(|p| self.repo.find_commit(self.commits[p]).unwrap())
            .collect();
        let parent_refs: Vec<&git2::Commit<'_>> = parents.iter().collect();
        let oid = self
            .repo
            .commit(
                Some(&format!("refs/heads/{branch}")),
                &who,
                &who,
                &format!("commit {name}"),
                &tree,
                &parent_refs,
            )
            .unwrap();
        drop(parents);
        self.commits.insert(name, oid);
        oid
    }

    /// The commit created under `name`.
    pub fn id(&self, name: &str) -> Oid {
        self.commits[name]
    }

    pub fn lightweight(&self, tag: &str, commit: &str) {
        let object = self.repo.find_object(self.commits[commit], None).unwrap();
        self.repo.tag_lightweight(tag, &object, false).unwrap();
    }

    pub fn annotated(&mut self, tag: &str, target: Oid) -> Oid {
        let who = self.signature();
        let object = self.repo.find_object(target, None).unwrap();
        self.repo
            .tag(tag, &object, &who, &format!("release {tag}"), false)
            .unwrap()
    }
}

/// The standard fixture:
///
/// ```text
/// main:    c1 ── c2 ── c3 ── c4 ── c5 ── c6
///          v0.9.0 v1.0.0     rc.1  v1.1.0, v1.1.1 (tag of the v1.1.0 tag object), latest
///                 └── h1 ── h2                      (branch hotfix)
///                     v1.0.1
/// orphan:  u1 (v3.0.0), u2 (no tag)
/// odd:     v2.0.0 tags a tree; v1.2, release-candidate, latest are not releases
/// ```
pub fn standard() -> Fixture {
    let mut f = Fixture::new();
    f.commit("c1", "main", &[]);
    f.lightweight("v0.9.0", "c1");
    let c2 = f.commit("c2", "main", &["c1"]);
    f.annotated("v1.0.0", c2);
    f.commit("c3", "main", &["c2"]);
    f.lightweight("v1.2", "c3");
    f.commit("c4", "main", &["c3"]);
    f.lightweight("v1.1.0-rc.1", "c4");
    f.lightweight("release-candidate", "c4");
    let c5 = f.commit("c5", "main", &["c4"]);
    let tag_object = f.annotated("v1.1.0", c5);
    f.annotated("v1.1.1", tag_object);
    f.lightweight("latest", "c5");
    f.commit("c6", "main", &["c5"]);

    let h1 = f.commit("h1", "hotfix", &["c2"]);
    f.annotated("v1.0.1", h1);
    f.commit("h2", "hotfix", &["h1"]);

    f.commit("u1", "unrelated", &[]);
    f.lightweight("v3.0.0", "u1");
    f.commit("u2", "lonely", &[]);

    let tree = f.repo.find_commit(c5).unwrap().tree_id();
    f.annotated("v2.0.0", tree);
    f
}
