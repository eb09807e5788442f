//! Release tags in a git repository: the only IO in this crate.
//!
//! Commits are identified by [`git2::Oid`] rather than an own commit-id type: every client of
//! this crate (release-notes, xtask) already holds a [`git2::Repository`] and walks history with
//! `Oid`s, which are `Copy`, `Ord`, `Hash`, print as the full hex SHA and parse from it. A
//! newtype would add a conversion at every boundary and buy nothing; the price is that git2 is a
//! public dependency, pinned once for the workspace and re-exported as `tag_policy::git2`.

use std::collections::{HashMap, HashSet};

use git2::{ObjectType, Oid, Repository};

use crate::error::Error;
use crate::policy::TagPolicy;
use crate::tag::{Channel, ReleaseTag};

/// How a tag is stored in git.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TagKind {
    /// A tag object with its own message, tagger and date (`git tag -a`).
    Annotated,
    /// A plain ref to a commit (`git tag NAME`).
    Lightweight,
}

/// Which releases a query considers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Channels {
    /// Stable releases and pre-releases.
    All,
    /// Stable releases only.
    StableOnly,
}

impl Channels {
    fn admits(self, tag: &ReleaseTag) -> bool {
        self == Self::All || tag.channel() == Channel::Stable
    }
}

/// A release tag together with the commit it peels to.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TaggedRelease {
    tag: ReleaseTag,
    commit: Oid,
    kind: TagKind,
}

impl TaggedRelease {
    /// A release tag on `commit`, for callers that build a [`Releases`] from their own data.
    #[must_use]
    pub fn new(tag: ReleaseTag, commit: Oid, kind: TagKind) -> Self {
        Self { tag, commit, kind }
    }

    /// The release tag.
    #[must_use]
    pub fn tag(&self) -> &ReleaseTag {
        &self.tag
    }

    /// The commit the tag peels to (never the tag object of an annotated tag).
    #[must_use]
    pub fn commit(&self) -> Oid {
        self.commit
    }

    /// Annotated or lightweight.
    #[must_use]
    pub fn kind(&self) -> TagKind {
        self.kind
    }
}

/// The release tags of a repository under one policy, in ascending semver precedence.
///
/// ```
/// # use git2::{Repository, Signature, Time};
/// use tag_policy::{Channels, Releases, TagPolicy};
///
/// # let dir = tempfile::tempdir()?;
/// # let repo = Repository::init(dir.path())?;
/// # let who = Signature::new("Ann", "ann@example.com", &Time::new(1_700_000_000, 0))?;
/// # let tree = repo.find_tree(repo.index()?.write_tree()?)?;
/// # let first = repo.commit(Some("HEAD"), &who, &who, "feat: one", &tree, &[])?;
/// # let parent = repo.find_commit(first)?;
/// # let second = repo.commit(Some("HEAD"), &who, &who, "fix: two", &tree, &[&parent])?;
/// # repo.tag_lightweight("v1.0.0", &repo.find_object(first, None)?, false)?;
/// # repo.tag("v1.1.0", &repo.find_object(second, None)?, &who, "v1.1.0", false)?;
/// # repo.tag_lightweight("latest", &repo.find_object(second, None)?, false)?;
/// // `repo` has v1.0.0 (lightweight) on `first`, v1.1.0 (annotated) and `latest` on `second`.
/// let releases = Releases::list(&repo, &TagPolicy::default())?;
/// let names: Vec<&str> = releases.iter().map(|r| r.tag().name()).collect();
/// assert_eq!(names, ["v1.0.0", "v1.1.0"]);
///
/// let current = releases.find("v1.1.0").expect("listed");
/// assert_eq!(current.commit(), second);
/// let target = releases.rollback_target(current.tag()).expect("an older release");
/// assert_eq!(target.tag().name(), "v1.0.0");
///
/// let previous = releases.previous(&repo, current, Channels::StableOnly)?;
/// assert_eq!(previous.map(|r| r.tag().name()), Some("v1.0.0"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Releases {
    policy: TagPolicy,
    releases: Vec<TaggedRelease>,
}

impl Releases {
    /// Lists the release tags of `repo` under `policy`, each peeled to its commit.
    ///
    /// Tags that are not releases under the policy (`latest`, `v1.2`, another prefix) are
    /// skipped with a `tracing` debug event; a release-named tag that does not lead to a commit
    /// is skipped with a warning.
    ///
    /// # Errors
    ///
    /// [`Error::Git`] when the tag refs or the objects they point at cannot be read.
    pub fn list(repo: &Repository, policy: &TagPolicy) -> Result<Self, Error> {
        let references = repo
            .references_glob("refs/tags/*")
            .map_err(Error::git("listing tags"))?;
        let mut releases = Vec::new();
        for reference in references {
            let reference = reference.map_err(Error::git("listing tags"))?;
            let Some(name) = reference
                .name()
                .ok()
                .and_then(|name| name.strip_prefix("refs/tags/"))
            else {
                tracing::debug!(
                    name = %String::from_utf8_lossy(reference.name_bytes()),
                    "skipping a tag whose name is not UTF-8"
                );
                continue;
            };
            let tag = match policy.parse(name) {
                Ok(tag) => tag,
                Err(error) => {
                    tracing::debug!(tag = name, %error, "skipping a tag that is not a release");
                    continue;
                }
            };
            match peel(repo, &reference, name) {
                Ok((commit, kind)) => releases.push(TaggedRelease { tag, commit, kind }),
                Err(error @ Error::NotACommit { .. }) => {
                    tracing::warn!(tag = name, %error, "skipping a release tag that does not tag a commit");
                }
                Err(error) => return Err(error),
            }
        }
        Ok(Self::new(policy.clone(), releases))
    }

    /// A set of releases from data the caller already has; sorts them by precedence.
    #[must_use]
    pub fn new(policy: TagPolicy, mut releases: Vec<TaggedRelease>) -> Self {
        releases.sort_by(|a, b| a.tag.cmp(&b.tag));
        Self { policy, releases }
    }

    /// The policy the releases were listed under.
    #[must_use]
    pub fn policy(&self) -> &TagPolicy {
        &self.policy
    }

    /// The releases in ascending precedence.
    #[must_use]
    pub fn as_slice(&self) -> &[TaggedRelease] {
        &self.releases
    }

    /// Iterates in ascending precedence.
    pub fn iter(&self) -> std::slice::Iter<'_, TaggedRelease> {
        self.releases.iter()
    }

    /// Iterates over the release tags only, e.g. for [`TagPolicy::next_release`].
    pub fn tags(&self) -> impl DoubleEndedIterator<Item = &ReleaseTag> + '_ {
        self.releases.iter().map(TaggedRelease::tag)
    }

    /// The number of releases.
    #[must_use]
    pub fn len(&self) -> usize {
        self.releases.len()
    }

    /// Whether there are no releases.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.releases.is_empty()
    }

    /// The release with the highest precedence among `channels`.
    #[must_use]
    pub fn newest(&self, channels: Channels) -> Option<&TaggedRelease> {
        self.releases.iter().rev().find(|r| channels.admits(&r.tag))
    }

    /// The release whose tag name is `name`.
    #[must_use]
    pub fn find(&self, name: &str) -> Option<&TaggedRelease> {
        self.releases.iter().find(|r| r.tag.name() == name)
    }

    /// The releases tagged on `commit`, in ascending precedence.
    pub fn at_commit(&self, commit: Oid) -> impl DoubleEndedIterator<Item = &TaggedRelease> + '_ {
        self.releases.iter().filter(move |r| r.commit == commit)
    }

    /// What a rollback from `current` deploys: the newest release older than `current` (by
    /// precedence) that the policy admits to production.
    ///
    /// `current` need not be one of the listed releases.
    #[must_use]
    pub fn rollback_target(&self, current: &ReleaseTag) -> Option<&TaggedRelease> {
        self.releases.iter().rev().find(|r| {
            r.tag.cmp_precedence(current).is_lt() && self.policy.admits_to_production(&r.tag)
        })
    }

    /// Every release a rollback from `current` may deploy, newest first: the releases older
    /// than `current` (by precedence) that the policy admits to production. A caller that
    /// knows a release failed skips it and takes the next.
    pub fn rollback_targets<'a>(
        &'a self,
        current: &'a ReleaseTag,
    ) -> impl Iterator<Item = &'a TaggedRelease> + 'a {
        self.releases.iter().rev().filter(move |r| {
            r.tag.cmp_precedence(current).is_lt() && self.policy.admits_to_production(&r.tag)
        })
    }

    /// The release with the highest precedence among `channels` whose commit is `from` or an
    /// ancestor of it.
    ///
    /// This is the "previous release" of a commit: on a hotfix branch cut from `v1.0.0` it is
    /// `v1.0.0`, even when `v1.1.0` exists on `main`. Highest precedence rather than nearest
    /// in the graph, so that a hotfix merged back into `main` does not hide the newer release.
    ///
    /// # Errors
    ///
    /// [`Error::Git`] when `from` is not a commit of `repo` or history cannot be read.
    pub fn nearest_reachable(
        &self,
        repo: &Repository,
        from: Oid,
        channels: Channels,
    ) -> Result<Option<&TaggedRelease>, Error> {
        self.best_reachable(repo, from, |r| channels.admits(&r.tag))
    }

    /// The release before `release` on its own line: the highest-precedence release among
    /// `channels` that is lower than `release` and reachable from its commit.
    ///
    /// For `v1.0.1` on a hotfix branch this is `v1.0.0`; for `v1.3.0` it skips
    /// `v1.3.0-rc.2` with [`Channels::StableOnly`].
    ///
    /// # Errors
    ///
    /// [`Error::Git`] when the release's commit is not in `repo` or history cannot be read.
    pub fn previous(
        &self,
        repo: &Repository,
        release: &TaggedRelease,
        channels: Channels,
    ) -> Result<Option<&TaggedRelease>, Error> {
        self.best_reachable(repo, release.commit, |r| {
            channels.admits(&r.tag) && r.tag.cmp_precedence(&release.tag).is_lt()
        })
    }

    fn best_reachable(
        &self,
        repo: &Repository,
        from: Oid,
        wanted: impl Fn(&TaggedRelease) -> bool,
    ) -> Result<Option<&TaggedRelease>, Error> {
        // Highest precedence first: the walk may stop as soon as the best candidate shows up.
        let candidates: Vec<&TaggedRelease> =
            self.releases.iter().rev().filter(|r| wanted(r)).collect();
        let Some(best) = candidates.first() else {
            return Ok(None);
        };
        let commits: HashSet<Oid> = candidates.iter().map(|r| r.commit).collect();
        let reachable = reachable_subset(repo, from, &commits, best.commit)?;
        Ok(candidates
            .into_iter()
            .find(|r| reachable.contains(&r.commit)))
    }

    /// Groups the releases by commit, for callers that map many commits to tags.
    #[must_use]
    pub fn by_commit(&self) -> HashMap<Oid, Vec<&TaggedRelease>> {
        let mut map: HashMap<Oid, Vec<&TaggedRelease>> = HashMap::new();
        for release in &self.releases {
            map.entry(release.commit).or_default().push(release);
        }
        map
    }
}

impl<'a> IntoIterator for &'a Releases {
    type Item = &'a TaggedRelease;
    type IntoIter = std::slice::Iter<'a, TaggedRelease>;

    fn into_iter(self) -> Self::IntoIter {
        self.releases.iter()
    }
}

/// Looks up one tag by name, checks it is a release under `policy`, and peels it to its commit.
///
/// # Errors
///
/// - [`Error::InvalidTag`] when the name is not a release tag under the policy;
/// - [`Error::TagNotFound`] when the repository has no such tag;
/// - [`Error::NotACommit`] when the tag points at a tree or a blob;
/// - [`Error::Git`] when the repository cannot be read.
pub fn find_release(
    repo: &Repository,
    policy: &TagPolicy,
    name: &str,
) -> Result<TaggedRelease, Error> {
    let tag = policy.parse(name)?;
    let reference = match repo.find_reference(&format!("refs/tags/{name}")) {
        Ok(reference) => reference,
        Err(error) if error.code() == git2::ErrorCode::NotFound => {
            return Err(Error::TagNotFound {
                tag: name.to_owned(),
            });
        }
        Err(error) => return Err(Error::git(format!("reading tag `{name}`"))(error)),
    };
    let (commit, kind) = peel(repo, &reference, name)?;
    Ok(TaggedRelease { tag, commit, kind })
}

/// How many tag objects deep a tag may be nested before we give up.
const MAX_TAG_CHAIN: usize = 32;

/// The commit a tag ref leads to, and whether the ref is annotated.
fn peel(
    repo: &Repository,
    reference: &git2::Reference<'_>,
    name: &str,
) -> Result<(Oid, TagKind), Error> {
    let read = || Error::git(format!("reading tag `{name}`"));
    let target = reference.resolve().map_err(read())?;
    let Some(oid) = target.target() else {
        return Err(read()(git2::Error::from_str("the tag ref has no target")));
    };
    let mut object = repo.find_object(oid, None).map_err(read())?;
    let kind = match object.kind() {
        Some(ObjectType::Tag) => TagKind::Annotated,
        _ => TagKind::Lightweight,
    };
    // Follow tag objects (a tag of a tag is legal) until something else appears.
    let mut hops = 0;
    while let Some(tag) = object.as_tag() {
        if tag.target_type() == Some(ObjectType::Commit) {
            return Ok((tag.target_id(), kind));
        }
        hops += 1;
        if hops > MAX_TAG_CHAIN {
            return Err(read()(git2::Error::from_str(
                "the chain of tag objects is too long",
            )));
        }
        object = tag.target().map_err(read())?;
    }
    let peeled = match object.kind() {
        Some(ObjectType::Commit) => object.id(),
        other => {
            return Err(Error::NotACommit {
                tag: name.to_owned(),
                kind: other.map_or("unknown object", |kind| kind.str()).to_owned(),
            });
        }
    };
    Ok((peeled, kind))
}

/// Which of `candidates` are `from` or its ancestors.
///
/// Stops walking once all are found, or once `enough` is found (the caller wants nothing else).
fn reachable_subset(
    repo: &Repository,
    from: Oid,
    candidates: &HashSet<Oid>,
    enough: Oid,
) -> Result<HashSet<Oid>, Error> {
    let mut found = HashSet::new();
    let walking = || Error::git(format!("walking history from {from}"));
    let mut walk = repo.revwalk().map_err(walking())?;
    walk.push(from).map_err(walking())?;
    for oid in walk {
        let oid = oid.map_err(walking())?;
        if candidates.contains(&oid) {
            found.insert(oid);
            if oid == enough || found.len() == candidates.len() {
                break;
            }
        }
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn release(name: &str, byte: u8) -> TaggedRelease {
        TaggedRelease::new(
            name.parse().unwrap(),
            Oid::from_bytes(&[byte; 20]).unwrap(),
            TagKind::Lightweight,
        )
    }

    fn releases(policy: TagPolicy) -> Releases {
        Releases::new(
            policy,
            vec![
                release("v1.1.0", 3),
                release("v1.0.0", 1),
                release("v1.1.0-rc.1", 2),
                release("v1.0.1", 4),
                release("v1.2.0-rc.1", 5),
            ],
        )
    }

    fn names<'a>(iter: impl Iterator<Item = &'a TaggedRelease>) -> Vec<&'a str> {
        iter.map(|r| r.tag().name()).collect()
    }

    #[test]
    fn new_sorts_by_precedence() {
        let all = releases(TagPolicy::default());
        assert_eq!(
            names(all.iter()),
            ["v1.0.0", "v1.0.1", "v1.1.0-rc.1", "v1.1.0", "v1.2.0-rc.1"]
        );
        assert_eq!(all.len(), 5);
        assert!(!all.is_empty());
    }

    #[test]
    fn newest_by_channel() {
        let all = releases(TagPolicy::default());
        assert_eq!(
            all.newest(Channels::All).unwrap().tag().name(),
            "v1.2.0-rc.1"
        );
        assert_eq!(
            all.newest(Channels::StableOnly).unwrap().tag().name(),
            "v1.1.0"
        );
    }

    #[test]
    fn rollback_target_skips_prereleases_unless_allowed() {
        let refusing = releases(TagPolicy::default());
        let current: ReleaseTag = "v1.2.0".parse().unwrap();
        assert_eq!(
            refusing.rollback_target(&current).unwrap().tag().name(),
            "v1.1.0"
        );
        let current: ReleaseTag = "v1.1.0".parse().unwrap();
        assert_eq!(
            refusing.rollback_target(&current).unwrap().tag().name(),
            "v1.0.1"
        );
        let current: ReleaseTag = "v1.0.0".parse().unwrap();
        assert!(refusing.rollback_target(&current).is_none());

        let allowing = releases(TagPolicy::new("v", crate::PrereleaseAdmission::Allowed).unwrap());
        let current: ReleaseTag = "v1.1.0".parse().unwrap();
        assert_eq!(
            allowing.rollback_target(&current).unwrap().tag().name(),
            "v1.1.0-rc.1"
        );
    }

    #[test]
    fn at_commit_and_find() {
        let all = releases(TagPolicy::default());
        let commit = Oid::from_bytes(&[3; 20]).unwrap();
        assert_eq!(names(all.at_commit(commit)), ["v1.1.0"]);
        assert_eq!(all.by_commit()[&commit].len(), 1);
        assert!(all.find("v1.0.1").is_some());
        assert!(all.find("v9.9.9").is_none());
    }
}
