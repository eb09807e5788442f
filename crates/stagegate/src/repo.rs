//! The git operations of the flows that are not about release tags or notes: resolving a
//! revision, checking the work tree, creating and pushing one tag.
//!
//! Reading tags and walking history belongs to `tag-policy` and `release-notes`; this module
//! only does what the flows need around them.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, PoisonError};

use anyhow::{Context as _, bail};
use coolify_client::CommitSha;
use git2::{Oid, Repository, StatusOptions};

use crate::exit::BadInput;

/// How long `git push` of one tag may take before it is stopped.
pub(crate) const PUSH_DEADLINE: std::time::Duration = std::time::Duration::from_secs(120);

/// An open repository and where it lives.
///
/// libgit2's handle may be used from one thread at a time: it sits behind a mutex, so that a
/// flow holding a `&Repo` across an `.await` stays `Send`. Each use locks it briefly and never
/// across an `.await`.
pub(crate) struct Repo {
    repository: Mutex<Repository>,
    root: PathBuf,
}

impl std::fmt::Debug for Repo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Repo").field("root", &self.root).finish()
    }
}

impl Repo {
    /// Open the repository at `path`, or discover it from the current directory.
    ///
    /// # Errors
    ///
    /// [`BadInput`] when there is no git repository there.
    pub fn open(path: Option<&Path>) -> anyhow::Result<Self> {
        let start = match path {
            Some(path) => path.to_path_buf(),
            None => std::env::current_dir().context("read the current directory")?,
        };
        let repository = Repository::discover(&start).map_err(|error| {
            BadInput(format!(
                "no git repository at or above {} ({}); run inside a clone or pass --repo PATH",
                start.display(),
                error.message()
            ))
        })?;
        let root = repository
            .workdir()
            .unwrap_or_else(|| repository.path())
            .to_path_buf();
        Ok(Self {
            repository: Mutex::new(repository),
            root,
        })
    }

    /// The git2 repository, locked for as long as the guard lives.
    pub(crate) fn git(&self) -> MutexGuard<'_, Repository> {
        self.repository
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// The work tree's root directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Resolve a revision (`HEAD`, a branch, a tag, a short SHA) to the full SHA of a commit.
    ///
    /// # Errors
    ///
    /// [`BadInput`] when the revision is unknown or does not name a commit.
    pub fn resolve_commit(&self, revision: &str) -> anyhow::Result<Oid> {
        let git = self.git();
        let object = git.revparse_single(revision).map_err(|_| {
            BadInput(format!(
                "unknown revision `{revision}`: give a commit SHA, a branch or a tag that exists in {}",
                self.root.display()
            ))
        })?;
        let commit = object.peel_to_commit().map_err(|_| {
            BadInput(format!(
                "`{revision}` does not point at a commit; give a commit SHA, a branch or a tag"
            ))
        })?;
        Ok(commit.id())
    }

    /// Paths with uncommitted changes to tracked files (untracked files do not count).
    ///
    /// # Errors
    ///
    /// When git cannot read the status.
    pub fn uncommitted_changes(&self) -> anyhow::Result<Vec<String>> {
        let git = self.git();
        let mut options = StatusOptions::new();
        options.include_untracked(false).include_ignored(false);
        let statuses = git
            .statuses(Some(&mut options))
            .context("read the work tree status")?;
        Ok(statuses
            .iter()
            .filter(|entry| !entry.status().is_ignored())
            .map(|entry| entry.path().unwrap_or("(non UTF-8 path)").to_owned())
            .collect())
    }

    /// Whether a tag of that name exists.
    pub fn tag_exists(&self, name: &str) -> bool {
        let git = self.git();
        git.find_reference(&format!("refs/tags/{name}")).is_ok()
    }

    /// Create an annotated tag `name` on `commit` with `message`, signed by the repository's
    /// configured identity.
    ///
    /// # Errors
    ///
    /// When the tag exists already, or git has no identity configured.
    pub fn create_annotated_tag(
        &self,
        name: &str,
        commit: Oid,
        message: &str,
    ) -> anyhow::Result<()> {
        if self.tag_exists(name) {
            return Err(BadInput(format!(
                "tag `{name}` already exists; choose another version (tags are never moved)"
            ))
            .into());
        }
        let git = self.git();
        let signature = git.signature().map_err(|_| {
            BadInput(
                "git has no identity for the tag: set user.name and user.email (git config user.email you@example.com)"
                    .to_owned(),
            )
        })?;
        let target = git
            .find_object(commit, None)
            .with_context(|| format!("find commit {commit}"))?;
        git.tag(name, &target, &signature, message, false)
            .with_context(|| format!("create tag {name}"))?;
        Ok(())
    }

    /// The repository the `origin` remote (or the only remote) names, when it parses as one.
    pub(crate) fn origin_repository(&self) -> Option<coolify_client::RepositoryId> {
        let git = self.git();
        let names = git.remotes().ok()?;
        let names: Vec<&str> = names.iter().flatten().flatten().collect();
        let name = match names.as_slice() {
            _ if names.contains(&"origin") => "origin",
            [only] => only,
            _ => return None,
        };
        let remote = git.find_remote(name).ok()?;
        coolify_client::RepositoryId::parse(remote.url().ok()?)
    }

    /// Push exactly one tag with the `git` command line, so the user's credential helpers and
    /// SSH agent apply. It runs as a child process the runtime waits on (an interruption is
    /// seen while it runs), and is killed after [`PUSH_DEADLINE`].
    ///
    /// # Errors
    ///
    /// When `git push` fails (its stderr is part of the message) or outlives the deadline.
    pub(crate) async fn push_tag(&self, remote: &str, name: &str) -> anyhow::Result<()> {
        let refspec = format!("refs/tags/{name}:refs/tags/{name}");
        let push = tokio::process::Command::new("git")
            .arg("-C")
            .arg(&self.root)
            .args(["push", "--no-follow-tags", remote, &refspec])
            // Never wait for a password prompt nobody can answer.
            .env("GIT_TERMINAL_PROMPT", "0")
            .stdin(std::process::Stdio::null())
            .kill_on_drop(true)
            .output();
        let output = tokio::time::timeout(PUSH_DEADLINE, push)
            .await
            .map_err(|_| {
                anyhow::anyhow!(
                    "git push {remote} {refspec} did not finish within {}; it was stopped",
                    humantime::format_duration(PUSH_DEADLINE)
                )
            })?
            .context("run `git push` (is git installed and on PATH?)")?;
        if !output.status.success() {
            bail!(
                "git push {remote} {refspec} failed: {}",
                String::from_utf8_lossy(&output.stderr).trim()
            );
        }
        Ok(())
    }

    /// Whether the remote's push URL has the tag `name` (`git ls-remote`, with the user's
    /// credential helpers, killed after [`PUSH_DEADLINE`]).
    ///
    /// # Errors
    ///
    /// When git cannot ask the remote (its stderr is part of the message).
    pub(crate) async fn remote_has_tag(&self, remote: &str, name: &str) -> anyhow::Result<bool> {
        let git = |arguments: Vec<String>| {
            let command = tokio::process::Command::new("git")
                .arg("-C")
                .arg(&self.root)
                .args(arguments)
                .env("GIT_TERMINAL_PROMPT", "0")
                .stdin(std::process::Stdio::null())
                .kill_on_drop(true)
                .output();
            async move {
                let output = tokio::time::timeout(PUSH_DEADLINE, command)
                    .await
                    .map_err(|_| {
                        anyhow::anyhow!(
                            "git did not answer within {}",
                            humantime::format_duration(PUSH_DEADLINE)
                        )
                    })?
                    .context("run `git` (is git installed and on PATH?)")?;
                if !output.status.success() {
                    bail!("{}", String::from_utf8_lossy(&output.stderr).trim());
                }
                Ok(String::from_utf8_lossy(&output.stdout).into_owned())
            }
        };
        // Where `git push` sends the tag, which may differ from where fetches come from.
        let url = git(vec![
            "remote".into(),
            "get-url".into(),
            "--push".into(),
            remote.into(),
        ])
        .await
        .with_context(|| format!("read the push URL of the remote {remote}"))?;
        let listed = git(vec![
            "ls-remote".into(),
            "--tags".into(),
            url.trim().to_owned(),
            format!("refs/tags/{name}"),
        ])
        .await
        .with_context(|| format!("ask {remote} for refs/tags/{name}"))?;
        Ok(!listed.trim().is_empty())
    }

    /// The message of the annotated tag `name`, if it is one.
    pub fn tag_message(&self, name: &str) -> Option<String> {
        let git = self.git();
        let reference = git.find_reference(&format!("refs/tags/{name}")).ok()?;
        let tag = reference.peel_to_tag().ok()?;
        tag.message().ok().flatten().map(str::to_owned)
    }

    /// Whether some remote-tracking branch contains `commit`; `None` when the clone has no
    /// remote-tracking branches at all (nothing to tell).
    ///
    /// Coolify clones from the remote, so a commit that exists only locally cannot be built.
    pub fn is_on_a_remote_branch(&self, commit: Oid) -> Option<bool> {
        let git = self.git();
        let references = git.references_glob("refs/remotes/*").ok()?;
        let mut any = false;
        for reference in references.flatten() {
            let Some(tip) = reference.target() else {
                continue;
            };
            any = true;
            if tip == commit || git.graph_descendant_of(tip, commit).unwrap_or(false) {
                return Some(true);
            }
        }
        any.then_some(false)
    }

    /// Whether `commit` is `tip` or one of its ancestors.
    pub fn contains(&self, tip: Oid, commit: Oid) -> bool {
        tip == commit || self.git().graph_descendant_of(tip, commit).unwrap_or(false)
    }

    /// How many commits `ahead` has that `base` does not.
    ///
    /// # Errors
    ///
    /// When git cannot compare the two.
    pub fn commits_ahead(&self, ahead: Oid, base: Oid) -> anyhow::Result<usize> {
        let git = self.git();
        let (ahead_count, _) = git
            .graph_ahead_behind(ahead, base)
            .with_context(|| format!("count commits between {base} and {ahead}"))?;
        Ok(ahead_count)
    }
}

/// The first 7 hex digits of a SHA.
pub fn short(commit: &str) -> &str {
    commit.get(..7).unwrap_or(commit)
}

/// The id Coolify takes for a git commit: git's and Coolify's commit ids are converted only
/// here and in [`oid`], through their text.
pub(crate) fn commit_sha(oid: Oid) -> anyhow::Result<CommitSha> {
    oid.to_string()
        .parse()
        .with_context(|| format!("commit {oid} as a Coolify commit sha"))
}

/// The git id of a commit Coolify reported; `None` only if git cannot hold it.
pub(crate) fn oid(sha: &CommitSha) -> Option<Oid> {
    Oid::from_str(sha.as_str()).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commit_ids_convert_between_git_and_coolify_both_ways() {
        let oid = Oid::from_str("0123456789abcdef0123456789abcdef01234567").unwrap();
        let sha = commit_sha(oid).unwrap();
        assert_eq!(sha.as_str(), "0123456789abcdef0123456789abcdef01234567");
        assert_eq!(super::oid(&sha), Some(oid));
    }

    fn fixture() -> (tempfile::TempDir, Repo, Oid) {
        let directory = tempfile::tempdir().unwrap();
        let repository = Repository::init(directory.path()).unwrap();
        let mut config = repository.config().unwrap();
        config.set_str("user.name", "Ada").unwrap();
        config.set_str("user.email", "ada@example.com").unwrap();
        std::fs::write(directory.path().join("a.txt"), "one").unwrap();
        let mut index = repository.index().unwrap();
        index.add_path(Path::new("a.txt")).unwrap();
        index.write().unwrap();
        let tree = repository.find_tree(index.write_tree().unwrap()).unwrap();
        let signature =
            git2::Signature::new("Ada", "ada@example.com", &git2::Time::new(1_700_000_000, 0))
                .unwrap();
        let commit = repository
            .commit(
                Some("HEAD"),
                &signature,
                &signature,
                "feat: one",
                &tree,
                &[],
            )
            .unwrap();
        drop(tree);
        let repo = Repo::open(Some(directory.path())).unwrap();
        (directory, repo, commit)
    }

    #[test]
    fn resolves_revisions_to_full_commits() {
        let (_directory, repo, commit) = fixture();
        assert_eq!(repo.resolve_commit("HEAD").unwrap(), commit);
        assert_eq!(
            repo.resolve_commit(&commit.to_string()[..8]).unwrap(),
            commit
        );
        let error = repo.resolve_commit("no-such-branch").unwrap_err();
        assert!(error.is::<BadInput>());
        assert!(error.to_string().contains("`no-such-branch`"));
    }

    #[test]
    fn annotated_tags_are_created_once() {
        let (_directory, repo, commit) = fixture();
        repo.create_annotated_tag("v1.0.0", commit, "notes")
            .unwrap();
        assert!(repo.tag_exists("v1.0.0"));
        {
            let git = repo.git();
            let tag = git
                .find_reference("refs/tags/v1.0.0")
                .unwrap()
                .peel_to_tag()
                .unwrap();
            assert_eq!(tag.message().unwrap(), Some("notes"));
            assert_eq!(tag.target_id(), commit);
        }
        let error = repo
            .create_annotated_tag("v1.0.0", commit, "again")
            .unwrap_err();
        assert!(error.to_string().contains("already exists"));
    }

    #[test]
    fn a_modified_tracked_file_is_an_uncommitted_change() {
        let (directory, repo, _) = fixture();
        assert!(repo.uncommitted_changes().unwrap().is_empty());
        std::fs::write(directory.path().join("untracked.txt"), "x").unwrap();
        assert!(repo.uncommitted_changes().unwrap().is_empty());
        std::fs::write(directory.path().join("a.txt"), "two").unwrap();
        assert_eq!(
            repo.uncommitted_changes().unwrap(),
            vec!["a.txt".to_owned()]
        );
    }

    #[test]
    fn a_commit_is_on_a_remote_branch_when_a_remote_ref_contains_it() {
        let (_directory, repo, commit) = fixture();
        assert_eq!(repo.is_on_a_remote_branch(commit), None);
        repo.git()
            .reference("refs/remotes/origin/main", commit, false, "test")
            .unwrap();
        assert_eq!(repo.is_on_a_remote_branch(commit), Some(true));
        let git = repo.git();
        let tree = git.find_commit(commit).unwrap().tree().unwrap();
        let signature =
            git2::Signature::new("Ada", "ada@example.com", &git2::Time::new(1_700_000_100, 0))
                .unwrap();
        let parent = git.find_commit(commit).unwrap();
        let local = git
            .commit(
                Some("HEAD"),
                &signature,
                &signature,
                "fix: local only",
                &tree,
                &[&parent],
            )
            .unwrap();
        drop(parent);
        drop(tree);
        drop(git);
        assert_eq!(repo.is_on_a_remote_branch(local), Some(false));
    }

    #[test]
    fn short_shas() {
        assert_eq!(short("0123456789abcdef"), "0123456");
        assert_eq!(short("abc"), "abc");
    }
}
