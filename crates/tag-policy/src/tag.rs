//! Release tags: strict parsing, classification and precedence order.

use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

use semver::{BuildMetadata, Prerelease, Version};

use crate::error::{Error, Part, Rejection};
use crate::policy::TagPolicy;

/// Whether a release is stable or a pre-release.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Channel {
    /// A pre-release such as `v1.3.0-rc.1`.
    Prerelease,
    /// A stable release such as `v1.3.0`.
    Stable,
}

/// A tag name that is a release under a [`TagPolicy`]: prefix + strict semver 2.0.0 version.
///
/// Values are built only by parsing ([`TagPolicy::parse`], or [`FromStr`] with the default
/// policy) or from a version ([`TagPolicy::tag_for`]), so a `ReleaseTag` is always valid, and
/// [`Display`](fmt::Display) prints the tag name exactly as parsed.
///
/// # Order and build metadata
///
/// `Ord` is semver precedence ([`Version::cmp_precedence`]): `v1.10.0 > v1.9.0`,
/// `v1.0.0-rc.1 < v1.0.0`, `v1.0.0-alpha.beta < v1.0.0-beta`. It is not string order and not
/// tag date. Semver precedence ignores build metadata (the `semver` crate's own `Ord` does not),
/// and two tags like `v1.0.0+build.5` and `v1.0.0+build.6` would be equal in precedence yet
/// different tags. The policy therefore refuses build metadata in release tags
/// ([`Rejection::BuildMetadata`]); without it, equal precedence means equal versions, and `Ord`
/// agrees with `Eq` (tags with equal versions but different prefixes are ordered by name).
///
/// ```
/// use tag_policy::{Channel, ReleaseTag};
///
/// let mut tags: Vec<ReleaseTag> = ["v1.10.0", "v1.9.0", "v1.10.0-rc.1"]
///     .iter()
///     .map(|name| name.parse())
///     .collect::<Result<_, _>>()?;
/// tags.sort();
/// let names: Vec<&str> = tags.iter().map(ReleaseTag::name).collect();
/// assert_eq!(names, ["v1.9.0", "v1.10.0-rc.1", "v1.10.0"]);
/// assert_eq!(tags[1].channel(), Channel::Prerelease);
/// assert!("v1.0.0+build.5".parse::<ReleaseTag>().is_err());
/// # Ok::<(), tag_policy::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ReleaseTag {
    name: String,
    prefix_len: usize,
    version: Version,
}

impl ReleaseTag {
    pub(crate) fn parse_with_prefix(tag: &str, prefix: &str) -> Result<Self, Error> {
        let invalid = |reason| Error::InvalidTag {
            tag: tag.to_owned(),
            reason,
        };
        if tag.is_empty() {
            return Err(invalid(Rejection::Empty));
        }
        if tag.chars().any(char::is_whitespace) {
            return Err(invalid(Rejection::Whitespace));
        }
        if tag.starts_with("refs/") {
            return Err(invalid(Rejection::FullRefName));
        }
        let Some(rest) = tag.strip_prefix(prefix) else {
            return Err(invalid(Rejection::MissingPrefix {
                prefix: prefix.to_owned(),
            }));
        };
        if rest.is_empty() {
            return Err(invalid(Rejection::MissingVersion {
                prefix: prefix.to_owned(),
            }));
        }
        let version = parse_strict(rest).map_err(invalid)?;
        Ok(Self {
            name: tag.to_owned(),
            prefix_len: prefix.len(),
            version,
        })
    }

    pub(crate) fn from_version(prefix: &str, version: &Version) -> Result<Self, Error> {
        if !version.build.is_empty() {
            return Err(Error::InvalidVersion {
                version: version.to_string(),
                reason: Rejection::BuildMetadata {
                    build: version.build.to_string(),
                },
            });
        }
        Ok(Self {
            name: format!("{prefix}{version}"),
            prefix_len: prefix.len(),
            version: version.clone(),
        })
    }

    /// The full tag name, e.g. `v1.4.2`.
    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The prefix part of the name, e.g. `v`.
    #[must_use]
    pub fn prefix(&self) -> &str {
        self.name.get(..self.prefix_len).unwrap_or_default()
    }

    /// The version without the prefix, as text, e.g. `1.4.2` (the `{version}` placeholder).
    #[must_use]
    pub fn version_str(&self) -> &str {
        self.name.get(self.prefix_len..).unwrap_or_default()
    }

    /// The semver version; never has build metadata.
    #[must_use]
    pub fn version(&self) -> &Version {
        &self.version
    }

    /// Stable release or pre-release.
    #[must_use]
    pub fn channel(&self) -> Channel {
        if self.version.pre.is_empty() {
            Channel::Stable
        } else {
            Channel::Prerelease
        }
    }

    /// Whether this is a pre-release (`channel() == Channel::Prerelease`).
    #[must_use]
    pub fn is_prerelease(&self) -> bool {
        self.channel() == Channel::Prerelease
    }

    /// Compares by semver precedence only, ignoring the prefix.
    #[must_use]
    pub fn cmp_precedence(&self, other: &Self) -> Ordering {
        self.version.cmp_precedence(&other.version)
    }
}

impl Ord for ReleaseTag {
    fn cmp(&self, other: &Self) -> Ordering {
        self.cmp_precedence(other)
            .then_with(|| self.name.cmp(&other.name))
    }
}

impl PartialOrd for ReleaseTag {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Display for ReleaseTag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)
    }
}

impl FromStr for ReleaseTag {
    type Err = Error;

    /// Parses under [`TagPolicy::default`] (prefix `v`); use [`TagPolicy::parse`] for others.
    fn from_str(tag: &str) -> Result<Self, Error> {
        TagPolicy::default().parse(tag)
    }
}

impl serde::Serialize for ReleaseTag {
    /// Serializes as the tag name.
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.name)
    }
}

/// Parses a strict semver 2.0.0 version without build metadata, explaining any rejection.
pub(crate) fn parse_version(text: &str) -> Result<Version, Error> {
    let invalid = |reason| Error::InvalidVersion {
        version: text.to_owned(),
        reason,
    };
    if text.is_empty() {
        return Err(invalid(Rejection::Empty));
    }
    if text.chars().any(char::is_whitespace) {
        return Err(invalid(Rejection::Whitespace));
    }
    parse_strict(text).map_err(invalid)
}

fn parse_strict(text: &str) -> Result<Version, Rejection> {
    let (without_build, build) = match text.split_once('+') {
        Some((head, build)) => (head, Some(build)),
        None => (text, None),
    };
    let (core, pre) = match without_build.split_once('-') {
        Some((core, pre)) => (core, Some(pre)),
        None => (without_build, None),
    };
    let components: Vec<&str> = core.split('.').collect();
    let [major, minor, patch] = components[..] else {
        return Err(Rejection::ComponentCount {
            core: core.to_owned(),
            found: components.len(),
        });
    };
    let major = parse_component(Part::Major, major)?;
    let minor = parse_component(Part::Minor, minor)?;
    let patch = parse_component(Part::Patch, patch)?;
    let pre = match pre {
        None => Prerelease::EMPTY,
        Some(pre) => parse_prerelease(pre)?,
    };
    if let Some(build) = build {
        return Err(Rejection::BuildMetadata {
            build: build.to_owned(),
        });
    }
    Ok(Version {
        major,
        minor,
        patch,
        pre,
        build: BuildMetadata::EMPTY,
    })
}

fn parse_component(part: Part, component: &str) -> Result<u64, Rejection> {
    if component.is_empty() {
        return Err(Rejection::EmptyComponent { part });
    }
    if !component.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Rejection::NotANumber {
            part,
            component: component.to_owned(),
        });
    }
    if component.len() > 1 && component.starts_with('0') {
        return Err(Rejection::LeadingZero {
            component: component.to_owned(),
        });
    }
    component.parse().map_err(|_| Rejection::TooLarge {
        component: component.to_owned(),
    })
}

fn parse_prerelease(pre: &str) -> Result<Prerelease, Rejection> {
    if pre.is_empty() {
        return Err(Rejection::EmptyPrerelease);
    }
    for identifier in pre.split('.') {
        if identifier.is_empty() {
            return Err(Rejection::EmptyIdentifier {
                prerelease: pre.to_owned(),
            });
        }
        if let Some(character) = identifier
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || *c == '-'))
        {
            return Err(Rejection::InvalidCharacter {
                identifier: identifier.to_owned(),
                character,
            });
        }
        if identifier.len() > 1
            && identifier.starts_with('0')
            && identifier.bytes().all(|b| b.is_ascii_digit())
        {
            return Err(Rejection::IdentifierLeadingZero {
                identifier: identifier.to_owned(),
            });
        }
    }
    Prerelease::new(pre).map_err(|error| Rejection::NotSemver {
        detail: error.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Parses `tag` under prefix `v` and returns the error's Display text.
    fn check_rejected(tag: &str, expected: &str) {
        let error = TagPolicy::default().parse(tag).unwrap_err();
        assert_eq!(error.to_string(), expected, "tag {tag:?}");
        assert!(matches!(error, Error::InvalidTag { tag: ref t, .. } if t == tag));
    }

    fn reason(tag: &str) -> Rejection {
        match TagPolicy::default().parse(tag) {
            Err(Error::InvalidTag { reason, .. }) => reason,
            other => panic!("{tag:?}: expected InvalidTag, got {other:?}"),
        }
    }

    #[test]
    fn rejection_empty() {
        check_rejected("", "``: is empty; give a version such as `v1.2.3`");
    }

    #[test]
    fn rejection_whitespace() {
        for tag in [" v1.2.3", "v1.2.3 ", "v1.2.3\n", "v1. 2.3", "v1.2.3\u{a0}"] {
            assert_eq!(reason(tag), Rejection::Whitespace, "{tag:?}");
        }
        check_rejected("v1.2.3 ", "`v1.2.3 `: contains whitespace; remove it");
    }

    #[test]
    fn rejection_full_ref_name() {
        assert_eq!(reason("refs/tags/v1.2.3"), Rejection::FullRefName);
    }

    #[test]
    fn rejection_missing_prefix() {
        check_rejected("1.2.3", "`1.2.3`: missing the `v` prefix");
        assert!(matches!(reason("V1.2.3"), Rejection::MissingPrefix { .. }));
        let custom = TagPolicy::new("release-", crate::PrereleaseAdmission::Refused).unwrap();
        let message = custom.parse("v1.2.3").unwrap_err().to_string();
        assert_eq!(message, "`v1.2.3`: missing the `release-` prefix");
    }

    #[test]
    fn rejection_missing_version() {
        check_rejected(
            "v",
            "`v`: nothing follows the `v` prefix; add a version such as `1.2.3`",
        );
    }

    #[test]
    fn rejection_component_count() {
        check_rejected(
            "v1.2",
            "`v1.2`: version core `1.2` has 2 components; expected three, MAJOR.MINOR.PATCH",
        );
        assert!(matches!(
            reason("v1"),
            Rejection::ComponentCount { found: 1, .. }
        ));
        assert!(matches!(
            reason("v1.2.3.4"),
            Rejection::ComponentCount { found: 4, .. }
        ));
        assert!(matches!(
            reason("v1.2-rc.1"),
            Rejection::ComponentCount { found: 2, .. }
        ));
    }

    #[test]
    fn rejection_empty_component() {
        check_rejected("v1..3", "`v1..3`: the minor component is empty");
        assert_eq!(
            reason("v.1.2"),
            Rejection::EmptyComponent { part: Part::Major }
        );
        assert_eq!(
            reason("v1.2."),
            Rejection::EmptyComponent { part: Part::Patch }
        );
    }

    #[test]
    fn rejection_not_a_number() {
        check_rejected(
            "v1.x.3",
            "`v1.x.3`: the minor component `x` is not a number",
        );
        assert!(matches!(
            reason("vv1.2.3"),
            Rejection::NotANumber {
                part: Part::Major,
                ..
            }
        ));
        assert!(matches!(reason("v1.2.a3"), Rejection::NotANumber { .. }));
        assert!(matches!(
            reason("v1.2.3_rc1"),
            Rejection::NotANumber {
                part: Part::Patch,
                ..
            }
        ));
        assert!(matches!(reason("v1.2.٣"), Rejection::NotANumber { .. }));
    }

    #[test]
    fn rejection_leading_zero() {
        check_rejected(
            "v1.02.3",
            "`v1.02.3`: numeric component `02` has a leading zero",
        );
        assert!(matches!(reason("v00.1.2"), Rejection::LeadingZero { .. }));
        assert!(TagPolicy::default().parse("v0.0.0").is_ok());
    }

    #[test]
    fn rejection_too_large() {
        check_rejected(
            "v18446744073709551616.0.0",
            "`v18446744073709551616.0.0`: numeric component `18446744073709551616` is larger than 2^64 - 1",
        );
        assert!(
            TagPolicy::default()
                .parse("v18446744073709551615.0.0")
                .is_ok()
        );
    }

    #[test]
    fn rejection_empty_prerelease() {
        check_rejected(
            "v1.2.3-",
            "`v1.2.3-`: `-` is not followed by a pre-release such as `rc.1`",
        );
    }

    #[test]
    fn rejection_empty_identifier() {
        check_rejected(
            "v1.2.3-rc..1",
            "`v1.2.3-rc..1`: pre-release `rc..1` has an empty identifier",
        );
        assert!(matches!(
            reason("v1.2.3-rc."),
            Rejection::EmptyIdentifier { .. }
        ));
        assert!(matches!(
            reason("v1.2.3-.rc"),
            Rejection::EmptyIdentifier { .. }
        ));
    }

    #[test]
    fn rejection_invalid_character() {
        check_rejected(
            "v1.2.3-rc_1",
            "`v1.2.3-rc_1`: pre-release identifier `rc_1` contains `_`; only ASCII letters, digits and `-` are allowed",
        );
        assert!(matches!(
            reason("v1.2.3-rç"),
            Rejection::InvalidCharacter {
                character: 'ç', ..
            }
        ));
    }

    #[test]
    fn rejection_identifier_leading_zero() {
        check_rejected(
            "v1.2.3-rc.01",
            "`v1.2.3-rc.01`: numeric pre-release identifier `01` has a leading zero",
        );
        // Alphanumeric identifiers may start with zero, and `0` alone is fine.
        assert!(TagPolicy::default().parse("v1.2.3-0a.0").is_ok());
    }

    #[test]
    fn rejection_build_metadata() {
        check_rejected(
            "v1.0.0+build.5",
            "`v1.0.0+build.5`: build metadata `+build.5` is not allowed in a release tag, because semver \
             precedence ignores it and two releases could not be told apart; drop the `+...` part",
        );
        assert!(matches!(
            reason("v1.0.0-rc.1+b"),
            Rejection::BuildMetadata { .. }
        ));
        assert!(matches!(reason("v1.0.0+"), Rejection::BuildMetadata { .. }));
        // Problems before the `+` are reported first.
        assert!(matches!(
            reason("v1.0+build"),
            Rejection::ComponentCount { .. }
        ));
    }

    #[test]
    fn build_metadata_is_refused_when_building_from_a_version() {
        let version = Version::parse("1.0.0+build.5").unwrap();
        let error = TagPolicy::default().tag_for(&version).unwrap_err();
        assert!(matches!(
            error,
            Error::InvalidVersion {
                reason: Rejection::BuildMetadata { .. },
                ..
            }
        ));
    }

    #[test]
    fn accessors() {
        let tag = TagPolicy::new("release-", crate::PrereleaseAdmission::Refused)
            .unwrap()
            .parse("release-2.0.0-rc.1")
            .unwrap();
        assert_eq!(tag.name(), "release-2.0.0-rc.1");
        assert_eq!(tag.prefix(), "release-");
        assert_eq!(tag.version_str(), "2.0.0-rc.1");
        assert_eq!(tag.version(), &Version::parse("2.0.0-rc.1").unwrap());
        assert_eq!(tag.channel(), Channel::Prerelease);
        assert_eq!(tag.to_string(), "release-2.0.0-rc.1");
    }

    #[test]
    fn empty_prefix() {
        let policy = TagPolicy::new("", crate::PrereleaseAdmission::Refused).unwrap();
        let tag = policy.parse("1.2.3").unwrap();
        assert_eq!(tag.prefix(), "");
        assert!(matches!(
            policy.parse("v1.2.3").unwrap_err(),
            Error::InvalidTag {
                reason: Rejection::NotANumber { .. },
                ..
            }
        ));
    }

    #[test]
    fn precedence_examples_from_the_spec() {
        let ordered = [
            "v1.0.0-alpha",
            "v1.0.0-alpha.1",
            "v1.0.0-alpha.beta",
            "v1.0.0-beta",
            "v1.0.0-beta.2",
            "v1.0.0-beta.11",
            "v1.0.0-rc.1",
            "v1.0.0",
            "v1.9.0",
            "v1.10.0",
            "v2.0.0",
        ];
        let tags: Vec<ReleaseTag> = ordered.iter().map(|t| t.parse().unwrap()).collect();
        for pair in tags.windows(2) {
            assert!(pair[0] < pair[1], "{} < {}", pair[0], pair[1]);
        }
        let mut shuffled = tags.clone();
        shuffled.reverse();
        shuffled.sort();
        assert_eq!(shuffled, tags);
    }

    #[test]
    fn same_version_different_prefix_is_ordered_by_name() {
        let a = TagPolicy::default().parse("v1.0.0").unwrap();
        let b = TagPolicy::new("w", crate::PrereleaseAdmission::Refused)
            .unwrap()
            .parse("w1.0.0")
            .unwrap();
        assert_eq!(a.cmp_precedence(&b), Ordering::Equal);
        assert_eq!(a.cmp(&b), Ordering::Less);
        assert_ne!(a, b);
    }

    #[test]
    fn parse_version_without_prefix() {
        assert_eq!(parse_version("1.3.0").unwrap(), Version::new(1, 3, 0));
        let message = parse_version("1.3").unwrap_err().to_string();
        assert!(
            message.starts_with("version `1.3`: version core"),
            "{message}"
        );
        assert!(parse_version("").is_err());
        assert!(parse_version(" 1.2.3").is_err());
    }
}
