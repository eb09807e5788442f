//! Reading a commit range from a git repository: the only module that touches git.

use git2::{Oid, Repository};
use tag_policy::{Channels, Releases, TagPolicy, TaggedRelease};

use crate::commit::Timestamp;
use crate::error::Error;
use crate::notes::{CommitRange, Endpoint};

mod walk;

/// Where a range starts (the excluded end).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub enum RangeStart<'a> {
    /// The previous release tag reachable from `to` (the default of `notes` and `release`);
    /// the whole history when there is none (a first release).
    #[default]
    PreviousRelease,
    /// A revision: a tag, branch or commit id.
    Ref(&'a str),
    /// The root commits: the whole history of `to`.
    Beginning,
}

impl<'a> RangeStart<'a> {
    /// `Ref` for `Some`, `PreviousRelease` for `None`: an optional start, such as one a
    /// command line may or may not give.
    #[must_use]
    pub fn from_flag(flag: Option<&'a str>) -> Self {
        flag.map_or(Self::PreviousRelease, Self::Ref)
    }
}

/// Reads the commits of `from..to` from `repo`, oldest first (parents before children).
///
/// The order is that of `git log --topo-order --reverse FROM..TO` as libgit2 computes it
/// (`Revwalk` with `Sort::TOPOLOGICAL | Sort::REVERSE`); each commit is read from the object
/// database and parsed once. The walk never sets libgit2's process-wide options: a program
/// that reads large ranges can turn off `git2::opts::strict_hash_verification` and
/// `git2::opts::enable_caching`.
///
/// - `to` is any revision (`HEAD`, a branch, a tag, a commit id); tags are peeled to commits.
/// - `from` is a [`RangeStart`]; the previous release of a commit tagged as a release is the
///   release before it on its own line (stable releases only, unless `to` is a pre-release),
///   otherwise the highest stable release reachable from `to`.
/// - Merge commits are read (and later omitted from the notes); the commits they merge appear
///   once each.
/// - Messages and names that are not UTF-8 are decoded lossily; an empty author email reads as
///   none.
///
/// An endpoint whose name is a release tag under `policy` carries its version, which the
/// notes use for the heading and [`crate::ReleaseNotes::bump`].
///
/// # Errors
///
/// - [`Error::UnknownRef`] when `from` or `to` names nothing in the repository;
/// - [`Error::NotAncestor`] when `from` is not an ancestor of `to` (the error carries their merge
///   base, where a range that lists what `to` added would start);
/// - [`Error::Git`] when the repository cannot be read.
pub fn read_range(
    repo: &Repository,
    from: RangeStart<'_>,
    to: &str,
    policy: &TagPolicy,
) -> Result<CommitRange, Error> {
    let releases = Releases::list(repo, policy)?;
    let to_endpoint = resolve(repo, &releases, to)?;
    let to_oid = oid(&to_endpoint)?;
    let from_endpoint = match from {
        RangeStart::Ref(from) => Some(resolve(repo, &releases, from)?),
        RangeStart::PreviousRelease => previous_release(repo, &releases, to_oid)?,
        RangeStart::Beginning => None,
    };
    let from_oid = from_endpoint.as_ref().map(oid).transpose()?;
    let walked = walk::walk(repo, from_oid, to_oid)?;
    // `from` is an ancestor of `to` when they are the same commit or when a commit of the
    // range has `from` as a parent (the range then holds the path from `to` down to `from`).
    // The walk answers this for free; libgit2's `graph_descendant_of` computes merge bases
    // and took most of the time on long histories.
    if let Some(from_oid) = from_oid
        && from_oid != to_oid
        && !walked.reaches_from
    {
        let merge_base = repo
            .merge_base(from_oid, to_oid)
            .ok()
            .map(|oid| oid.to_string());
        let from = match from {
            RangeStart::Ref(from) => from.to_owned(),
            _ => from_endpoint
                .as_ref()
                .map(|e| e.name().to_owned())
                .unwrap_or_default(),
        };
        return Err(Error::NotAncestor {
            from,
            to: to.to_owned(),
            merge_base,
        });
    }
    let commits = walked.commits;
    tracing::debug!(
        from = from_endpoint.as_ref().map(Endpoint::name),
        to = to_endpoint.name(),
        commits = commits.len(),
        "read commit range"
    );
    Ok(CommitRange::new(from_endpoint, to_endpoint, commits))
}

fn oid(endpoint: &Endpoint) -> Result<Oid, Error> {
    Oid::from_str(endpoint.commit()).map_err(|source| Error::git("parse a commit id", source))
}

/// Resolves a revision to its commit. The endpoint is named by the release tag when the
/// revision is one, or when it is another name (`HEAD`, a branch) of a commit tagged as a
/// release; otherwise by the revision as given.
fn resolve(repo: &Repository, releases: &Releases, spec: &str) -> Result<Endpoint, Error> {
    let unknown = || Error::UnknownRef {
        reference: spec.to_owned(),
    };
    if spec.is_empty() || spec.contains("..") {
        return Err(unknown());
    }
    let object = repo.revparse_single(spec).map_err(|_| unknown())?;
    let commit = object.peel_to_commit().map_err(|_| unknown())?;
    let tag_name = spec.strip_prefix("refs/tags/").unwrap_or(spec);
    let release = releases
        .find(tag_name)
        .filter(|release| release.commit() == commit.id())
        .or_else(|| releases.at_commit(commit.id()).next_back());
    match release {
        Some(release) => endpoint_of(repo, release),
        None => Ok(Endpoint::new(
            spec,
            commit.id().to_string(),
            date_of(&commit),
        )),
    }
}

fn date_of(commit: &git2::Commit<'_>) -> crate::commit::Date {
    let time = commit.time();
    Timestamp::new(time.seconds(), time.offset_minutes()).local_date()
}

/// The previous release of `to`: for a commit tagged as a release, the release before it on
/// its own line (stable releases only, unless `to` is a pre-release); otherwise the
/// highest stable release reachable from `to`.
fn previous_release(
    repo: &Repository,
    releases: &Releases,
    to: Oid,
) -> Result<Option<Endpoint>, Error> {
    let previous = match releases.at_commit(to).next_back() {
        Some(own) => {
            let channels = if own.tag().is_prerelease() {
                Channels::All
            } else {
                Channels::StableOnly
            };
            releases.previous(repo, own, channels)?
        }
        None => releases.nearest_reachable(repo, to, Channels::StableOnly)?,
    };
    previous
        .map(|release| endpoint_of(repo, release))
        .transpose()
}

/// The endpoint of a release tag.
fn endpoint_of(repo: &Repository, release: &TaggedRelease) -> Result<Endpoint, Error> {
    let commit = repo
        .find_commit(release.commit())
        .map_err(|source| Error::git("read a tagged commit", source))?;
    Ok(Endpoint::new(
        release.tag().name(),
        release.commit().to_string(),
        date_of(&commit),
    )
    .with_version(release.tag().version().clone()))
}
