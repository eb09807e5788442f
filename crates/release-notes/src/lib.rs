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
//! Only [`read_range`] touches git; everything else works on in-memory [`Commit`]s.
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
//! Against a repository, [`read_range`] builds the [`CommitRange`]; `from` defaults to the
//! previous release tag reachable from `to`:
//!
//! ```no_run
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let repo = git2::Repository::discover(".")?;
//! let policy = tag_policy::TagPolicy::default();
//! let from = release_notes::RangeStart::PreviousRelease; // or RangeStart::from_flag(--from)
//! let range = release_notes::read_range(&repo, from, "HEAD", &policy)?;
//! let notes = release_notes::ReleaseNotes::new(&range)
//!     .with_repository_url("https://github.com/stagegate/stagegate".parse()?);
//! print!("{}", notes.to_markdown());
//! # Ok(())
//! # }
//! ```

pub use crate::commit::{Commit, Date, Person, Timestamp};
pub use crate::error::Error;
pub use crate::git::{RangeStart, read_range};
pub use crate::message::{Footer, FooterSeparator, Header, Message};
pub use crate::notes::{
    CommitRange, Endpoint, Entry, OmitReason, Omitted, ReleaseNotes, Section, SectionKind,
    infer_bump,
};
pub use crate::render::JSON_SCHEMA_VERSION;
pub use tag_policy::Bump;

mod commit;
mod error;
mod git;
mod message;
mod notes;
mod render;
