//! The scenario's git repository: fixed author, fixed dates, Conventional Commits.

use std::cell::Cell;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use git2::{Oid, Repository, Signature, Time};

/// The first commit's time (2024-01-01T00:00:00Z); each later commit is a minute after.
const EPOCH: i64 = 1_704_067_200;

/// A git repository in a temporary directory whose commits are reproducible.
pub struct FixtureRepo {
    root: PathBuf,
    repository: Repository,
    commits: Cell<i64>,
}

impl std::fmt::Debug for FixtureRepo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FixtureRepo")
            .field("root", &self.root)
            .finish_non_exhaustive()
    }
}

impl FixtureRepo {
    /// Create an empty repository at `root` with `main` as its first branch.
    ///
    /// # Errors
    ///
    /// When git cannot create it.
    pub fn init(root: &Path) -> anyhow::Result<Self> {
        let mut options = git2::RepositoryInitOptions::new();
        options.initial_head("main");
        let repository = Repository::init_opts(root, &options).context("git init")?;
        {
            let mut config = repository.config()?;
            config.set_str("user.name", "Scenario Author")?;
            config.set_str("user.email", "author@example.com")?;
        }
        Ok(Self {
            root: root.to_path_buf(),
            repository,
            commits: Cell::new(0),
        })
    }

    /// The work tree.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The repository.
    pub fn git(&self) -> &Repository {
        &self.repository
    }

    fn signature(&self) -> anyhow::Result<Signature<'static>> {
        let count = self.commits.get();
        self.commits.set(count + 1);
        Ok(Signature::new(
            "Scenario Author",
            "author@example.com",
            &Time::new(EPOCH + 60 * count, 0),
        )?)
    }

    /// Write `contents` to `file` (relative to the root) and commit it with `message`;
    /// returns the full SHA.
    ///
    /// # Errors
    ///
    /// When the file or the commit cannot be written.
    pub fn commit_file(&self, file: &str, contents: &str, message: &str) -> anyhow::Result<String> {
        let path = self.root.join(file);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(&path, contents)?;
        let mut index = self.repository.index()?;
        index.add_path(Path::new(file))?;
        index.write()?;
        let tree = self.repository.find_tree(index.write_tree()?)?;
        let signature = self.signature()?;
        let parent = match self.repository.head() {
            Ok(head) => Some(head.peel_to_commit()?),
            Err(_) => None,
        };
        let parents: Vec<&git2::Commit<'_>> = parent.iter().collect();
        let oid = self
            .repository
            .commit(
                Some("HEAD"),
                &signature,
                &signature,
                message,
                &tree,
                &parents,
            )
            .with_context(|| format!("commit {message:?}"))?;
        Ok(oid.to_string())
    }

    /// Commit every change of the work tree (as `git add -A && git commit`, honouring
    /// `.gitignore`); returns the full SHA.
    ///
    /// # Errors
    ///
    /// When the commit cannot be written.
    pub fn commit_all(&self, message: &str) -> anyhow::Result<String> {
        let mut index = self.repository.index()?;
        index.add_all(["*"], git2::IndexAddOption::DEFAULT, None)?;
        index.update_all(["*"], None)?;
        index.write()?;
        let tree = self.repository.find_tree(index.write_tree()?)?;
        let signature = self.signature()?;
        let parent = self.repository.head()?.peel_to_commit()?;
        let oid = self
            .repository
            .commit(
                Some("HEAD"),
                &signature,
                &signature,
                message,
                &tree,
                &[&parent],
            )
            .with_context(|| format!("commit {message:?}"))?;
        Ok(oid.to_string())
    }

    /// Append `message`'s subject to `file` and commit it; returns the full SHA.
    ///
    /// # Errors
    ///
    /// When the file or the commit cannot be written.
    pub fn commit(&self, file: &str, message: &str) -> anyhow::Result<String> {
        let mut text = std::fs::read_to_string(self.root.join(file)).unwrap_or_default();
        text.push_str(message.lines().next().unwrap_or_default());
        text.push('\n');
        self.commit_file(file, &text, message)
    }

    /// The full SHA of a revision.
    ///
    /// # Errors
    ///
    /// When the revision does not resolve to a commit.
    pub fn resolve(&self, revision: &str) -> anyhow::Result<String> {
        Ok(self
            .repository
            .revparse_single(revision)?
            .peel_to_commit()?
            .id()
            .to_string())
    }

    /// Create `branch` at `revision` and check it out.
    ///
    /// # Errors
    ///
    /// When the revision is unknown or the checkout fails.
    pub fn branch_from(&self, branch: &str, revision: &str) -> anyhow::Result<()> {
        let commit = self
            .repository
            .find_commit(Oid::from_str(&self.resolve(revision)?)?)?;
        self.repository.branch(branch, &commit, false)?;
        self.switch(branch)
    }

    /// Check out an existing branch.
    ///
    /// # Errors
    ///
    /// When the branch is unknown or the checkout fails.
    pub fn switch(&self, branch: &str) -> anyhow::Result<()> {
        self.repository.set_head(&format!("refs/heads/{branch}"))?;
        self.repository
            .checkout_head(Some(git2::build::CheckoutBuilder::new().force()))?;
        Ok(())
    }

    /// A lightweight tag on a revision, made the way a hand-made tag would be.
    ///
    /// # Errors
    ///
    /// When the revision is unknown or the tag exists.
    pub fn tag_lightweight(&self, name: &str, revision: &str) -> anyhow::Result<()> {
        let object = self.repository.revparse_single(revision)?;
        self.repository.tag_lightweight(name, &object, false)?;
        Ok(())
    }

    /// The message of an annotated tag, `None` when the tag is missing or lightweight.
    pub fn tag_message(&self, name: &str) -> Option<String> {
        let reference = self
            .repository
            .find_reference(&format!("refs/tags/{name}"))
            .ok()?;
        let tag = reference.peel_to_tag().ok()?;
        tag.message().ok().flatten().map(str::to_owned)
    }

    /// Every tag name, sorted.
    pub fn tags(&self) -> Vec<String> {
        let mut names: Vec<String> = self
            .repository
            .tag_names(None)
            .map(|names| {
                names
                    .iter()
                    .flatten()
                    .flatten()
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default();
        names.sort();
        names
    }
}
