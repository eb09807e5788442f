//! Release notes from git history.
//!
//! `release-notes` reads the commits between two refs, parses their messages as
//! [Conventional Commits 1.0.0](https://www.conventionalcommits.org/en/v1.0.0/), groups them
//! into sections in a fixed order (breaking changes, features, bug fixes, performance, reverts,
//! then docs, refactoring, build, CI, tests, chores, style and other changes), infers the semver
//! bump level, and renders Markdown (for an annotated tag, a GitHub release, a CI step summary)
//! or JSON with a documented, stable schema.
//!
//! Nothing is dropped silently: a commit that is not conventional lands under "Other changes";
//! merges, reverts cancelled by a later commit of the same range and `fixup!` commits folded into
//! their target are listed in [`ReleaseNotes::omitted`]. The same repository always gives
//! byte-identical output.
//!
//! Only [`read_range`] touches git (the default `git` feature); everything else works on
//! in-memory [`Commit`]s and builds without libgit2.
//!
//! # Example
//!
//! ```
//! use release_notes::{Commit, CommitRange, Endpoint, Person, ReleaseNotes, Timestamp};
//!
//! let ada = Person::new("Ada Lovelace", Some("ada@example.com".to_owned()));
//! let at = Timestamp::new(1_714_550_400, 0); // 2024-05-01
//! let commits = vec![
//!     Commit::new("1a2b3c4d5e6f", ada.clone(), at, "feat(cli): add --json\n"),
//!     Commit::new("2b3c4d5e6f7a", ada.clone(), at, "fix: keep the exit code\n\nRefs #12\n"),
//!     Commit::new("3c4d5e6f7a8b", ada, at, "Update the README\n"),
//! ];
//! let to = Endpoint::new("HEAD", "3c4d5e6f7a8b", at.local_date());
//! let notes = ReleaseNotes::new(&CommitRange::new(None, to, commits)).with_version("v1.0.0");
//!
//! let markdown = [
//!     "## v1.0.0 (2024-05-01)",
//!     "",
//!     "### Features",
//!     "",
//!     "- **cli:** add --json (`1a2b3c4`, Ada Lovelace)",
//!     "",
//!     "### Bug fixes",
//!     "",
//!     "- keep the exit code (`2b3c4d5`, Ada Lovelace)",
//!     "",
//!     "### Other changes",
//!     "",
//!     "- Update the README (`3c4d5e6`, Ada Lovelace)",
//!     "",
//!     "### Contributors",
//!     "",
//!     "- Ada Lovelace",
//!     "",
//! ];
//! assert_eq!(notes.to_markdown(), markdown.join("\n"));
//! assert_eq!(notes.bump(), Some(release_notes::Bump::Minor));
//! ```
//!
//! Against a repository (the `git` feature), [`read_range`] builds the [`CommitRange`]; `from`
//! defaults to the previous release tag reachable from `to`:
//!
//! ```
//! # #[cfg(feature = "git")] {
//! use release_notes::git2::{Repository, Signature, Time};
//! use release_notes::tag_policy::TagPolicy;
//! use release_notes::{RangeStart, ReleaseNotes, read_range};
//!
//! // A repository with a release and two commits after it.
//! let dir = tempfile::tempdir()?;
//! let repo = Repository::init(dir.path())?;
//! let ada = Signature::new("Ada Lovelace", "ada@example.com", &Time::new(1_714_550_400, 0))?;
//! let tree = repo.find_tree(repo.index()?.write_tree()?)?;
//! let mut parent = None;
//! for message in ["feat: first release", "fix: keep the exit code", "feat(cli): add --json"] {
//!     let parents: Vec<_> = parent.iter().map(|id| repo.find_commit(*id)).collect::<Result<_, _>>()?;
//!     let parents: Vec<_> = parents.iter().collect();
//!     let id = repo.commit(Some("HEAD"), &ada, &ada, message, &tree, &parents)?;
//!     if parent.is_none() {
//!         repo.tag("v1.0.0", &repo.find_object(id, None)?, &ada, "v1.0.0", false)?;
//!     }
//!     parent = Some(id);
//! }
//!
//! let from = RangeStart::PreviousRelease; // or RangeStart::Ref("v1.0.0")
//! let range = read_range(&repo, from, "HEAD", &TagPolicy::default())?;
//! let notes = ReleaseNotes::new(&range)
//!     .with_version("v1.1.0")
//!     .with_repository_url("https://github.com/stagegate/stagegate".parse()?);
//! assert_eq!(notes.bump(), Some(release_notes::Bump::Minor));
//! let markdown = notes.to_markdown();
//! assert!(markdown.starts_with("## v1.1.0 (2024-05-01)\n\n### Features\n\n- **cli:** add --json"));
//! assert!(markdown.ends_with("/compare/v1.0.0...v1.1.0\n"));
//! # }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! [`ReleaseNotes`] implements `serde::Serialize` with the fields of the JSON document of
//! [`ReleaseNotes::to_json`], so it can be embedded in a larger document.
//!
//! # Features
//!
//! - `git` (default): [`read_range`] and [`RangeStart`], with libgit2 through [`git2`]
//!   (re-exported, since the signatures name its types), and `tag-policy`'s own `git` feature.
//!   Without it (`default-features = false`) the crate parses, groups and renders commits it is
//!   given, and does not build libgit2.

#![cfg_attr(docsrs, feature(doc_cfg))]

pub use crate::commit::{Commit, Date, Person, Timestamp};
pub use crate::error::Error;
#[cfg(feature = "git")]
#[cfg_attr(docsrs, doc(cfg(feature = "git")))]
pub use crate::git::{RangeStart, read_range};
pub use crate::message::{Footer, FooterSeparator, Header, Message};
pub use crate::notes::{
    CommitRange, Endpoint, Entry, OmitReason, Omitted, ReleaseNotes, Section, SectionKind,
    infer_bump,
};
pub use crate::render::JSON_SCHEMA_VERSION;
pub use tag_policy::Bump;

/// The git library [`read_range`] takes a repository of.
#[cfg(feature = "git")]
#[cfg_attr(docsrs, doc(cfg(feature = "git")))]
pub use git2;
/// The release tag policy [`read_range`] takes (with its `git` feature when this crate has
/// one), and [`Bump`]'s crate.
pub use tag_policy;

mod commit;
mod error;
#[cfg(feature = "git")]
mod git;
mod message;
mod notes;
mod render;

/// The README's examples, compiled as doctests.
#[cfg(all(doctest, feature = "git"))]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
