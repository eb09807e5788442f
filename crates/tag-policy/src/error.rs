//! The crate's error type and the reasons a tag string is rejected.

use std::fmt;

/// Everything that can go wrong in this crate.
///
/// Each variant names the thing that failed (a tag, a version, a prefix) and its value;
/// the [`Display`](fmt::Display) text also says what to do about it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A tag name is not a release tag under the policy.
    #[error("`{tag}`: {reason}")]
    InvalidTag {
        /// The tag name as given.
        tag: String,
        /// Why it is not a release tag.
        reason: Rejection,
    },
    /// A version string (without prefix) is not a strict semver 2.0.0 version.
    #[error("version `{version}`: {reason}")]
    InvalidVersion {
        /// The version as given.
        version: String,
        /// Why it is not a valid version.
        reason: Rejection,
    },
    /// The configured tag prefix cannot be used.
    #[error("tag prefix `{prefix}` {reason}; choose a prefix such as `v` or `release-`")]
    InvalidPrefix {
        /// The prefix as configured.
        prefix: String,
        /// Why it cannot be used.
        reason: &'static str,
    },
    /// A pre-release tag was offered to production and the policy refuses it.
    #[error(
        "`{tag}` is a pre-release and the policy keeps pre-releases out of production; \
         release a stable version, or set `prereleases_to_production = true` under `[tags]`"
    )]
    PrereleaseRefused {
        /// The pre-release tag.
        tag: String,
    },
    /// A word is not a bump level.
    #[error("`{word}` is not a bump level; use `patch`, `minor` or `major`")]
    InvalidBump {
        /// The word as given.
        word: String,
    },
    /// A version request is neither a bump level nor a version.
    #[error(
        "`{request}` is neither a bump level nor a version; use `patch`, `minor`, `major` or X.Y.Z"
    )]
    InvalidRequest {
        /// The request as given.
        request: String,
    },
    /// A pre-release id (such as `rc`) cannot be used.
    #[error("pre-release id `{id}` {reason}; use a word such as `rc`, `beta` or `alpha`")]
    InvalidPreId {
        /// The id as given.
        id: String,
        /// Why it cannot be used.
        reason: &'static str,
    },
    /// An explicit pre-release version was combined with a pre-release id.
    #[error(
        "version `{version}` already has a pre-release part, so pre-release id `{id}` cannot be added; \
         give the version without `-...` or drop the id"
    )]
    PrereleaseConflict {
        /// The explicit version.
        version: String,
        /// The pre-release id.
        id: String,
    },
    /// The next version would exceed the largest representable number.
    #[error("`{version}` cannot be bumped: a component would overflow; give an explicit version")]
    VersionOverflow {
        /// The version that cannot be bumped.
        version: String,
    },
    /// The next release would reuse a version that is already tagged.
    #[error("`{tag}` already exists; choose a version that has not been released")]
    VersionExists {
        /// The tag that already exists (the existing tag's name).
        tag: String,
    },
    /// The next release would not be greater than the release it follows.
    #[error(
        "`{tag}` is not greater than the previous release `{previous}`; choose a version above it"
    )]
    NotGreater {
        /// The tag that was computed or requested.
        tag: String,
        /// The previous release.
        previous: String,
    },
    /// A tag does not exist in the repository.
    #[error(
        "tag `{tag}` does not exist in the repository; list tags with `git tag --list` or fetch them with `git fetch --tags`"
    )]
    TagNotFound {
        /// The tag name.
        tag: String,
    },
    /// A tag exists but does not lead to a commit (it tags a tree or a blob).
    #[error("tag `{tag}` points at a {kind}, not a commit; release tags must tag a commit")]
    NotACommit {
        /// The tag name.
        tag: String,
        /// The kind of object it peels to.
        kind: String,
    },
    /// A git operation failed.
    #[cfg(feature = "git")]
    #[cfg_attr(docsrs, doc(cfg(feature = "git")))]
    #[error("git: {action}: {source}")]
    Git {
        /// What was being done, e.g. "listing tags".
        action: String,
        /// The error reported by libgit2.
        #[source]
        source: git2::Error,
    },
}

#[cfg(feature = "git")]
impl Error {
    pub(crate) fn git(action: impl Into<String>) -> impl FnOnce(git2::Error) -> Self {
        let action = action.into();
        move |source| Self::Git { action, source }
    }
}

/// One of the three numeric components of a version core.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Part {
    /// `MAJOR` in `MAJOR.MINOR.PATCH`.
    Major,
    /// `MINOR` in `MAJOR.MINOR.PATCH`.
    Minor,
    /// `PATCH` in `MAJOR.MINOR.PATCH`.
    Patch,
}

impl fmt::Display for Part {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Major => "major",
            Self::Minor => "minor",
            Self::Patch => "patch",
        })
    }
}

/// Why a string is not a release tag (or not a strict semver 2.0.0 version).
///
/// The [`Display`](fmt::Display) text is a phrase meant to follow the tag name,
/// as in "`v1.02.3`: numeric component `02` has a leading zero".
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Rejection {
    /// The string is empty.
    Empty,
    /// The string contains whitespace (anywhere, including leading or trailing).
    Whitespace,
    /// The string is a full ref name such as `refs/tags/v1.2.3`.
    FullRefName,
    /// The string does not start with the policy's prefix.
    MissingPrefix {
        /// The expected prefix.
        prefix: String,
    },
    /// Nothing follows the prefix.
    MissingVersion {
        /// The prefix that was found.
        prefix: String,
    },
    /// The version core does not have exactly three components.
    ComponentCount {
        /// The version core as found.
        core: String,
        /// How many dot-separated components it has.
        found: usize,
    },
    /// A core component is empty, as in `1..3`.
    EmptyComponent {
        /// Which component.
        part: Part,
    },
    /// A core component is not a decimal number.
    NotANumber {
        /// Which component.
        part: Part,
        /// The component as found.
        component: String,
    },
    /// A core component has a leading zero, as in `1.02.3`.
    LeadingZero {
        /// The component as found.
        component: String,
    },
    /// A core component does not fit in 64 bits.
    TooLarge {
        /// The component as found.
        component: String,
    },
    /// A `-` is not followed by pre-release identifiers.
    EmptyPrerelease,
    /// A pre-release identifier is empty, as in `1.0.0-rc..1`.
    EmptyIdentifier {
        /// The whole pre-release part.
        prerelease: String,
    },
    /// A pre-release identifier contains a character outside `[0-9A-Za-z-]`.
    InvalidCharacter {
        /// The identifier.
        identifier: String,
        /// The offending character.
        character: char,
    },
    /// A numeric pre-release identifier has a leading zero, as in `1.0.0-rc.01`.
    IdentifierLeadingZero {
        /// The identifier.
        identifier: String,
    },
    /// The tag carries build metadata, which the policy refuses.
    ///
    /// Semver precedence ignores build metadata, so `v1.0.0+build.5` and `v1.0.0+build.6`
    /// would be two tags for one release: ordering, "already exists" and rollback could not
    /// tell them apart.
    BuildMetadata {
        /// The build metadata, without the `+`.
        build: String,
    },
    /// The `semver` crate refused the version for a reason not listed above.
    NotSemver {
        /// The `semver` crate's message.
        detail: String,
    },
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Empty => f.write_str("is empty; give a version such as `v1.2.3`"),
            Self::Whitespace => f.write_str("contains whitespace; remove it"),
            Self::FullRefName => {
                f.write_str("is a full ref name; give the tag name without `refs/tags/`")
            }
            Self::MissingPrefix { prefix } => write!(f, "missing the `{prefix}` prefix"),
            Self::MissingVersion { prefix } => {
                write!(
                    f,
                    "nothing follows the `{prefix}` prefix; add a version such as `1.2.3`"
                )
            }
            Self::ComponentCount { core, found } => write!(
                f,
                "version core `{core}` has {found} component{}; expected three, MAJOR.MINOR.PATCH",
                if *found == 1 { "" } else { "s" }
            ),
            Self::EmptyComponent { part } => write!(f, "the {part} component is empty"),
            Self::NotANumber { part, component } => {
                write!(f, "the {part} component `{component}` is not a number")
            }
            Self::LeadingZero { component } => {
                write!(f, "numeric component `{component}` has a leading zero")
            }
            Self::TooLarge { component } => {
                write!(f, "numeric component `{component}` is larger than 2^64 - 1")
            }
            Self::EmptyPrerelease => {
                f.write_str("`-` is not followed by a pre-release such as `rc.1`")
            }
            Self::EmptyIdentifier { prerelease } => {
                write!(f, "pre-release `{prerelease}` has an empty identifier")
            }
            Self::InvalidCharacter {
                identifier,
                character,
            } => write!(
                f,
                "pre-release identifier `{identifier}` contains `{}`; only ASCII letters, digits and `-` are allowed",
                character.escape_debug()
            ),
            Self::IdentifierLeadingZero { identifier } => {
                write!(
                    f,
                    "numeric pre-release identifier `{identifier}` has a leading zero"
                )
            }
            Self::BuildMetadata { build } => write!(
                f,
                "build metadata `+{build}` is not allowed in a release tag, because semver precedence \
                 ignores it and two releases could not be told apart; drop the `+...` part"
            ),
            Self::NotSemver { detail } => write!(f, "not a semver 2.0.0 version: {detail}"),
        }
    }
}
