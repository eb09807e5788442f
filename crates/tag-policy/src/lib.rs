//! Release tags for staged deployments: which tags are releases, how they order, what comes
//! next, and what a rollback goes back to.
//!
//! A release tag is a prefix (default `v`) followed by a strict semver 2.0.0 version, such as
//! `v1.4.2` or `v2.0.0-rc.1`. A [`TagPolicy`] (a prefix, and whether pre-releases may reach
//! production; it deserializes from a table of configuration) parses tag names into
//! [`ReleaseTag`]s, explaining every rejection in words, and decides which releases
//! may go to production. [`TagPolicy::next_release`] computes the next tag from a [`Bump`] or an
//! explicit version, with pre-release series (`rc.1`, `rc.2`, ...). [`Releases`] lists the
//! release tags of a git repository with the commits they peel to, and answers the questions
//! the release flows ask: the previous release of a commit, the rollback target, the tags of a
//! commit. Everything except [`Releases::list`], the reachability queries and
//! [`find_release`] is pure, and builds without libgit2 when the `git` feature is off.
//!
//! # Example
//!
//! ```
//! use tag_policy::{Bump, Channel, PreId, TagPolicy, VersionRequest};
//!
//! // A policy from configuration (or TagPolicy::new).
//! let policy: TagPolicy = toml::from_str("prefix = \"v\"\nprereleases_to_production = false")?;
//!
//! // Parse and classify.
//! let rc = policy.parse("v1.3.0-rc.1")?;
//! assert_eq!(rc.channel(), Channel::Prerelease);
//! assert!(policy.admit_to_production(&rc).is_err());
//! assert_eq!(
//!     policy.parse("1.2.3").unwrap_err().to_string(),
//!     "`1.2.3`: missing the `v` prefix"
//! );
//!
//! // Order by semver precedence, not by string.
//! assert!(policy.parse("v1.10.0")? > policy.parse("v1.9.0")?);
//! assert!(rc < policy.parse("v1.3.0")?);
//!
//! // The next minor release after the rc: the stable one, or the next rc of the series.
//! let existing = [policy.parse("v1.2.3")?, rc.clone()];
//! let minor = VersionRequest::Bump(Bump::Minor);
//! let next = policy.next_release(&minor).after(&rc).existing(&existing).tag()?;
//! assert_eq!(next.name(), "v1.3.0");
//! let series: PreId = "rc".parse()?;
//! let rc2 = policy.next_release(&minor).after(&rc).prerelease(&series).existing(&existing).tag()?;
//! assert_eq!(rc2.name(), "v1.3.0-rc.2");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! With a repository (the `git` feature, on by default):
//!
//! ```
//! # #[cfg(feature = "git")] {
//! use tag_policy::git2::{Repository, Signature, Time};
//! use tag_policy::{Channels, Releases, TagPolicy, find_release};
//!
//! // A repository with two releases and one commit after them.
//! let dir = tempfile::tempdir()?;
//! let repo = Repository::init(dir.path())?;
//! let who = Signature::new("Ann", "ann@example.com", &Time::new(1_700_000_000, 0))?;
//! let tree = repo.find_tree(repo.index()?.write_tree()?)?;
//! let mut parents = Vec::new();
//! for (message, tag) in [("feat: one", Some("v1.4.1")), ("fix: two", Some("v1.4.2")), ("docs: three", None)] {
//!     let parent_commits: Vec<_> = parents.iter().map(|id| repo.find_commit(*id)).collect::<Result<_, _>>()?;
//!     let parent_refs: Vec<_> = parent_commits.iter().collect();
//!     let id = repo.commit(Some("HEAD"), &who, &who, message, &tree, &parent_refs)?;
//!     if let Some(tag) = tag {
//!         repo.tag(tag, &repo.find_object(id, None)?, &who, tag, false)?;
//!     }
//!     parents = vec![id];
//! }
//!
//! let policy = TagPolicy::default();
//! let releases = Releases::list(&repo, &policy)?;
//! let head = repo.head()?.peel_to_commit()?.id();
//! let previous = releases.nearest_reachable(&repo, head, Channels::StableOnly)?;
//! assert_eq!(previous.map(|r| r.tag().name()), Some("v1.4.2"));
//! let live = find_release(&repo, &policy, "v1.4.2")?;
//! let rollback = releases.rollback_target(live.tag());
//! assert_eq!(rollback.map(|r| r.tag().name()), Some("v1.4.1"));
//! # }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Features
//!
//! - `git` (default): [`Releases::list`], [`find_release`] and the reachability queries, with
//!   libgit2 through [`git2`] (re-exported, since the signatures name its types). Without it
//!   (`default-features = false`) the crate is the pure logic and does not build libgit2.

#![cfg_attr(docsrs, feature(doc_cfg))]

pub use crate::error::{Error, Part, Rejection};
#[cfg(feature = "git")]
#[cfg_attr(docsrs, doc(cfg(feature = "git")))]
pub use crate::git::{Channels, Releases, TagKind, TaggedRelease, find_release};
pub use crate::next::{Bump, NextRelease, PreId, VersionRequest};
pub use crate::policy::{PrereleaseAdmission, TagPolicy};
pub use crate::tag::{Channel, ReleaseTag};

#[cfg(feature = "git")]
#[cfg_attr(docsrs, doc(cfg(feature = "git")))]
pub use git2;

mod error;
#[cfg(feature = "git")]
mod git;
mod next;
mod policy;
mod tag;

/// The README's examples, compiled as doctests.
#[cfg(all(doctest, feature = "git"))]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
