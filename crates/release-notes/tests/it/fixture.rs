//! Fixture repositories in a tempdir with fixed authors and dates.

use git2::{Oid, Repository, RepositoryInitOptions, Signature, Time};
use tempfile::TempDir;

/// The first commit's time: 2023-11-14T22:13:20Z; each commit is one minute later.
pub const BASE_TIME: i64 = 1_700_000_000;

pub const ADA: (&str, &str) = ("Ada Lovelace", "ada@example.com");
pub const GRACE: (&str, &str) = ("Grace Hopper", "grace@example.com");

pub struct Fixture {
    /// Keeps the repository on disk for the fixture's lifetime.
    _dir: TempDir,
    pub repo: Repository,
    clock: i64,
}

impl Fixture {
    pub fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let mut options = RepositoryInitOptions::new();
        options.initial_head("main");
        let repo = Repository::init_opts(dir.path(), &options).unwrap();
        Self {
            _dir: dir,
            repo,
            clock: BASE_TIME,
        }
    }

    fn signature(&mut self, who: (&str, &str)) -> Signature<'static> {
        self.clock += 60;
        Signature::new(who.0, who.1, &Time::new(self.clock, 0)).unwrap()
    }

    /// Commits `message` by Ada on top of `branch` (created on first use).
    pub fn commit(&mut self, branch: &str, message: &str) -> Oid {
        self.commit_as(branch, ADA, message)
    }

    /// Commits `message` by `who` on top of `branch`.
    pub fn commit_as(&mut self, branch: &str, who: (&str, &str), message: &str) -> Oid {
        let parent = self.tip(branch);
        let parents: Vec<Oid> = parent.into_iter().collect();
        self.commit_with_parents(branch, who, message.as_bytes(), &parents)
    }

    /// Merges `other` into `branch` with a merge commit.
    pub fn merge(&mut self, branch: &str, other: Oid, message: &str) -> Oid {
        let parent = self.tip(branch).unwrap();
        self.commit_with_parents(branch, ADA, message.as_bytes(), &[parent, other])
    }

    /// Writes a commit with raw bytes as message (for invalid UTF-8) and any author, even one
    /// with an empty email, which `git2::Signature` refuses.
    pub fn commit_with_parents(
        &mut self,
        branch: &str,
        who: (&str, &str),
        message: &[u8],
        parents: &[Oid],
    ) -> Oid {
        self.clock += 60;
        let mut tree = self.repo.treebuilder(None).unwrap();
        let blob = self
            .repo
            .blob(format!("{}\n", self.clock).as_bytes())
            .unwrap();
        tree.insert("file.txt", blob, 0o100_644).unwrap();
        let tree = tree.write().unwrap();
        let mut buffer = format!("tree {tree}\n");
        for parent in parents {
            buffer.push_str(&format!("parent {parent}\n"));
        }
        let person = format!("{} <{}> {} +0000", who.0, who.1, self.clock);
        buffer.push_str(&format!("author {person}\ncommitter {person}\n\n"));
        let mut buffer = buffer.into_bytes();
        buffer.extend_from_slice(message);
        let oid = self
            .repo
            .odb()
            .unwrap()
            .write(git2::ObjectType::Commit, &buffer)
            .unwrap();
        self.repo
            .reference(&format!("refs/heads/{branch}"), oid, true, "fixture")
            .unwrap();
        oid
    }

    pub fn tip(&self, branch: &str) -> Option<Oid> {
        self.repo
            .find_reference(&format!("refs/heads/{branch}"))
            .ok()
            .and_then(|r| r.target())
    }

    /// Creates an annotated tag on `target`.
    pub fn tag(&mut self, name: &str, target: Oid) {
        let signature = self.signature(ADA);
        let object = self.repo.find_object(target, None).unwrap();
        self.repo
            .tag(name, &object, &signature, &format!("{name}\n"), false)
            .unwrap();
    }

    /// Creates a lightweight tag on `target`.
    pub fn lightweight_tag(&self, name: &str, target: Oid) {
        let object = self.repo.find_object(target, None).unwrap();
        self.repo.tag_lightweight(name, &object, false).unwrap();
    }
}
