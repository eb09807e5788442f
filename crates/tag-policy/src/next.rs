//! The next release: bump levels, explicit versions and pre-release series.

use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

use semver::{BuildMetadata, Prerelease, Version};

use crate::error::Error;
use crate::policy::TagPolicy;
use crate::tag::{ReleaseTag, parse_version};

/// How much a release changes the version.
///
/// Levels apply literally, also below 1.0.0: `major` on `0.4.2` gives `1.0.0`, `minor` gives
/// `0.5.0`. The 0.x convention (a breaking change bumps `minor` while the major version is 0)
/// is the caller's choice of level, not something `Bump` does behind its back.
///
/// Bumping a pre-release finishes it when it already is a pre-release of the bumped version,
/// as `npm version` does: `patch` on `1.3.0-rc.2` gives `1.3.0`, and so does `minor`;
/// `major` gives `2.0.0`.
///
/// ```
/// use semver::Version;
/// use tag_policy::Bump;
///
/// let bump: Bump = "minor".parse()?;
/// assert_eq!(bump.apply(&Version::new(1, 2, 3))?, Version::new(1, 3, 0));
/// assert_eq!(bump.apply(&Version::parse("1.3.0-rc.2")?)?, Version::new(1, 3, 0));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Bump {
    /// Bug fixes only: `1.2.3` -> `1.2.4`.
    Patch,
    /// New features, compatible: `1.2.3` -> `1.3.0`.
    Minor,
    /// Breaking changes: `1.2.3` -> `2.0.0`.
    Major,
}

impl Bump {
    /// The version after `version` at this level, without pre-release or build metadata.
    ///
    /// # Errors
    ///
    /// [`Error::VersionOverflow`] when the component to increment is already `u64::MAX`.
    pub fn apply(self, version: &Version) -> Result<Version, Error> {
        let overflow = || Error::VersionOverflow {
            version: version.to_string(),
        };
        let finishing = !version.pre.is_empty();
        let (major, minor, patch) = (version.major, version.minor, version.patch);
        let (major, minor, patch) = match self {
            Self::Patch if finishing => (major, minor, patch),
            Self::Patch => (major, minor, patch.checked_add(1).ok_or_else(overflow)?),
            Self::Minor if finishing && patch == 0 => (major, minor, 0),
            Self::Minor => (major, minor.checked_add(1).ok_or_else(overflow)?, 0),
            Self::Major if finishing && minor == 0 && patch == 0 => (major, 0, 0),
            Self::Major => (major.checked_add(1).ok_or_else(overflow)?, 0, 0),
        };
        Ok(Version::new(major, minor, patch))
    }
}

impl fmt::Display for Bump {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Patch => "patch",
            Self::Minor => "minor",
            Self::Major => "major",
        })
    }
}

impl FromStr for Bump {
    type Err = Error;

    /// Accepts exactly `patch`, `minor` or `major`.
    fn from_str(word: &str) -> Result<Self, Error> {
        match word {
            "patch" => Ok(Self::Patch),
            "minor" => Ok(Self::Minor),
            "major" => Ok(Self::Major),
            _ => Err(Error::InvalidBump {
                word: word.to_owned(),
            }),
        }
    }
}

/// What the next release should be: a bump from the previous release or an explicit version.
///
/// Parses from the words of `release [patch|minor|major|X.Y.Z]`: a bump level or a strict
/// semver version without prefix.
///
/// ```
/// use semver::Version;
/// use tag_policy::{Bump, VersionRequest};
///
/// assert_eq!("major".parse::<VersionRequest>()?, VersionRequest::Bump(Bump::Major));
/// assert_eq!("2.0.0".parse::<VersionRequest>()?, VersionRequest::Exact(Version::new(2, 0, 0)));
/// assert!("2.0".parse::<VersionRequest>().is_err());
/// # Ok::<(), tag_policy::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum VersionRequest {
    /// Bump the previous release by a level.
    Bump(Bump),
    /// Exactly this version.
    Exact(Version),
}

impl fmt::Display for VersionRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Bump(bump) => bump.fmt(f),
            Self::Exact(version) => version.fmt(f),
        }
    }
}

impl FromStr for VersionRequest {
    type Err = Error;

    fn from_str(request: &str) -> Result<Self, Error> {
        if let Ok(bump) = request.parse() {
            return Ok(Self::Bump(bump));
        }
        if request.starts_with(|c: char| c.is_ascii_digit()) {
            return parse_version(request).map(Self::Exact);
        }
        Err(Error::InvalidRequest {
            request: request.to_owned(),
        })
    }
}

/// A pre-release series name such as `rc`, `beta` or `alpha`.
///
/// The next release in a series appends a counter: `rc` gives `-rc.1`, then `-rc.2`.
/// An id is one non-numeric semver identifier: ASCII letters, digits and `-`, no dots.
///
/// ```
/// use tag_policy::PreId;
///
/// let id: PreId = "rc".parse()?;
/// assert_eq!(id.as_str(), "rc");
/// assert!("rc.1".parse::<PreId>().is_err());
/// # Ok::<(), tag_policy::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PreId(String);

impl PreId {
    /// The id as text.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for PreId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for PreId {
    type Err = Error;

    fn from_str(id: &str) -> Result<Self, Error> {
        let invalid = |reason| Error::InvalidPreId {
            id: id.to_owned(),
            reason,
        };
        if id.is_empty() {
            return Err(invalid("is empty"));
        }
        if id.contains('.') {
            return Err(invalid("contains `.`; the counter is added for you"));
        }
        if !id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
            return Err(invalid("may contain only ASCII letters, digits and `-`"));
        }
        if id.bytes().all(|b| b.is_ascii_digit()) {
            return Err(invalid("is a number; it must contain a letter or `-`"));
        }
        Ok(Self(id.to_owned()))
    }
}

impl TagPolicy {
    /// The tag of the next release for `request`: a [`NextRelease`] to say what the release
    /// follows ([`NextRelease::after`]), its pre-release series ([`NextRelease::prerelease`])
    /// and the release tags that exist ([`NextRelease::existing`]), then
    /// [`NextRelease::tag`].
    ///
    /// ```
    /// use tag_policy::{Bump, PreId, TagPolicy, VersionRequest};
    ///
    /// let policy = TagPolicy::default();
    /// let minor = VersionRequest::Bump(Bump::Minor);
    /// let rc: PreId = "rc".parse()?;
    /// let mut existing = vec![policy.parse("v1.2.3")?];
    ///
    /// let first = policy.next_release(&minor).after(existing.last()).prerelease(&rc).existing(&existing).tag()?;
    /// assert_eq!(first.name(), "v1.3.0-rc.1");
    /// existing.push(first);
    /// let second = policy.next_release(&minor).after(existing.last()).prerelease(&rc).existing(&existing).tag()?;
    /// assert_eq!(second.name(), "v1.3.0-rc.2");
    /// existing.push(second);
    /// let done = policy.next_release(&minor).after(existing.last()).existing(&existing).tag()?;
    /// assert_eq!(done.name(), "v1.3.0");
    ///
    /// // A first release: no previous one, so a bump starts from 0.0.0.
    /// assert_eq!(policy.next_release(&minor).tag()?.name(), "v0.1.0");
    /// # Ok::<(), tag_policy::Error>(())
    /// ```
    pub fn next_release<'a>(&'a self, request: &'a VersionRequest) -> NextRelease<'a> {
        NextRelease {
            policy: self,
            request,
            previous: None,
            pre: None,
            existing: Vec::new(),
        }
    }
}

/// The next release being worked out; from [`TagPolicy::next_release`].
#[derive(Debug, Clone)]
#[must_use]
pub struct NextRelease<'a> {
    policy: &'a TagPolicy,
    request: &'a VersionRequest,
    previous: Option<&'a ReleaseTag>,
    pre: Option<&'a PreId>,
    existing: Vec<&'a ReleaseTag>,
}

impl<'a> NextRelease<'a> {
    /// The release the new one follows: for a hotfix, the release its branch is based on (see
    /// `Releases::nearest_reachable` with the `git` feature). A bump starts from its version;
    /// with none (a first release) from `0.0.0`. The new tag must be greater than it.
    pub fn after(mut self, previous: impl Into<Option<&'a ReleaseTag>>) -> Self {
        self.previous = previous.into();
        self
    }

    /// A pre-release series: the version becomes `-ID.N`, where `N` is one more than the
    /// highest existing `-ID.N` of the same version (or 1). Without one (the default) the
    /// release is stable.
    pub fn prerelease(mut self, id: impl Into<Option<&'a PreId>>) -> Self {
        self.pre = id.into();
        self
    }

    /// Release tags that already exist, for example every release tag of the repository:
    /// the new tag must not take a version of one of them, and a pre-release counts on from
    /// them. Adds to those given before.
    pub fn existing(mut self, tags: impl IntoIterator<Item = &'a ReleaseTag>) -> Self {
        self.existing.extend(tags);
        self
    }

    /// The tag.
    ///
    /// # Errors
    ///
    /// - [`Error::VersionExists`] when the version is already tagged (by precedence);
    /// - [`Error::NotGreater`] when it is not greater than the release it follows;
    /// - [`Error::PrereleaseConflict`] for an explicit pre-release version with a pre-release id;
    /// - [`Error::InvalidVersion`] for an explicit version with build metadata;
    /// - [`Error::VersionOverflow`] when a bump would overflow.
    pub fn tag(self) -> Result<ReleaseTag, Error> {
        let Self {
            policy,
            request,
            previous,
            pre,
            mut existing,
        } = self;
        let base = match request {
            VersionRequest::Bump(bump) => {
                let from = previous.map_or(Version::new(0, 0, 0), |tag| tag.version().clone());
                bump.apply(&from)?
            }
            VersionRequest::Exact(version) => {
                let tag = policy.tag_for(version)?;
                if let Some(id) = pre
                    && !version.pre.is_empty()
                {
                    return Err(Error::PrereleaseConflict {
                        version: version.to_string(),
                        id: id.to_string(),
                    });
                }
                tag.version().clone()
            }
        };
        existing.extend(previous);
        let version = match pre {
            None => base,
            Some(id) => {
                let counter = existing
                    .iter()
                    .filter_map(|tag| series_counter(tag.version(), &base, id))
                    .max()
                    .unwrap_or(0)
                    .checked_add(1)
                    .ok_or_else(|| Error::VersionOverflow {
                        version: base.to_string(),
                    })?;
                Version {
                    pre: Prerelease::new(&format!("{id}.{counter}")).map_err(|_| {
                        Error::InvalidPreId {
                            id: id.to_string(),
                            reason: "does not form a valid pre-release",
                        }
                    })?,
                    build: BuildMetadata::EMPTY,
                    ..base
                }
            }
        };
        let next = policy.tag_for(&version)?;
        if let Some(taken) = existing
            .iter()
            .find(|tag| tag.cmp_precedence(&next) == Ordering::Equal)
        {
            return Err(Error::VersionExists {
                tag: taken.name().to_owned(),
            });
        }
        if let Some(previous) = previous
            && next.cmp_precedence(previous) != Ordering::Greater
        {
            return Err(Error::NotGreater {
                tag: next.name().to_owned(),
                previous: previous.name().to_owned(),
            });
        }
        Ok(next)
    }
}

/// `N` when `version` is `base-ID.N`.
fn series_counter(version: &Version, base: &Version, id: &PreId) -> Option<u64> {
    if (version.major, version.minor, version.patch) != (base.major, base.minor, base.patch) {
        return None;
    }
    let (name, counter) = version.pre.as_str().split_once('.')?;
    if name != id.as_str() {
        return None;
    }
    counter.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tags(names: &[&str]) -> Vec<ReleaseTag> {
        names.iter().map(|name| name.parse().unwrap()).collect()
    }

    /// Computes the next tag name after `previous` among `existing`.
    fn check(
        previous: Option<&str>,
        request: &str,
        pre: Option<&str>,
        existing: &[&str],
    ) -> Result<String, Error> {
        let policy = TagPolicy::default();
        let previous = previous.map(|p| p.parse::<ReleaseTag>().unwrap());
        let pre = pre.map(|p| p.parse::<PreId>().unwrap());
        let request = request.parse().unwrap();
        let existing = tags(existing);
        policy
            .next_release(&request)
            .after(previous.as_ref())
            .prerelease(pre.as_ref())
            .existing(&existing)
            .tag()
            .map(|tag| tag.name().to_owned())
    }

    #[test]
    fn bump_levels() {
        let all = ["v1.2.3"];
        assert_eq!(
            check(Some("v1.2.3"), "patch", None, &all).unwrap(),
            "v1.2.4"
        );
        assert_eq!(
            check(Some("v1.2.3"), "minor", None, &all).unwrap(),
            "v1.3.0"
        );
        assert_eq!(
            check(Some("v1.2.3"), "major", None, &all).unwrap(),
            "v2.0.0"
        );
    }

    #[test]
    fn zero_x_bumps_apply_literally() {
        assert_eq!(check(Some("v0.4.2"), "minor", None, &[]).unwrap(), "v0.5.0");
        assert_eq!(check(Some("v0.4.2"), "major", None, &[]).unwrap(), "v1.0.0");
    }

    #[test]
    fn first_release_bumps_from_zero() {
        assert_eq!(check(None, "patch", None, &[]).unwrap(), "v0.0.1");
        assert_eq!(check(None, "minor", None, &[]).unwrap(), "v0.1.0");
        assert_eq!(
            check(None, "major", Some("rc"), &[]).unwrap(),
            "v1.0.0-rc.1"
        );
        assert_eq!(check(None, "1.0.0", None, &[]).unwrap(), "v1.0.0");
    }

    #[test]
    fn prerelease_series() {
        let mut existing = vec!["v1.2.3"];
        assert_eq!(
            check(Some("v1.2.3"), "minor", Some("rc"), &existing).unwrap(),
            "v1.3.0-rc.1"
        );
        existing.push("v1.3.0-rc.1");
        assert_eq!(
            check(Some("v1.3.0-rc.1"), "minor", Some("rc"), &existing).unwrap(),
            "v1.3.0-rc.2"
        );
        existing.push("v1.3.0-rc.2");
        assert_eq!(
            check(Some("v1.3.0-rc.2"), "minor", None, &existing).unwrap(),
            "v1.3.0"
        );
        assert_eq!(
            check(Some("v1.3.0-rc.2"), "patch", None, &existing).unwrap(),
            "v1.3.0"
        );
        assert_eq!(
            check(Some("v1.3.0-rc.2"), "major", None, &existing).unwrap(),
            "v2.0.0"
        );
    }

    #[test]
    fn prerelease_counter_ignores_other_series_and_versions() {
        let existing = ["v1.2.3", "v1.3.0-beta.7", "v1.4.0-rc.9", "v1.3.0-rc.x"];
        assert_eq!(
            check(Some("v1.2.3"), "minor", Some("rc"), &existing).unwrap(),
            "v1.3.0-rc.1"
        );
        assert_eq!(
            check(Some("v1.2.3"), "minor", Some("beta"), &existing).unwrap(),
            "v1.3.0-beta.8"
        );
    }

    #[test]
    fn explicit_version_with_pre_id() {
        let existing = ["v1.2.3", "v2.0.0-rc.1"];
        assert_eq!(
            check(Some("v1.2.3"), "2.0.0", Some("rc"), &existing).unwrap(),
            "v2.0.0-rc.2"
        );
        assert_eq!(
            check(Some("v1.2.3"), "2.0.0-beta.1", None, &existing).unwrap(),
            "v2.0.0-beta.1"
        );
    }

    #[test]
    fn existing_version_is_refused() {
        let error = check(Some("v1.2.3"), "1.3.0", None, &["v1.2.3", "v1.3.0"]).unwrap_err();
        assert_eq!(
            error.to_string(),
            "`v1.3.0` already exists; choose a version that has not been released"
        );
        let error = check(Some("v1.2.3"), "1.2.3", None, &[]).unwrap_err();
        assert!(
            matches!(error, Error::VersionExists { ref tag } if tag == "v1.2.3"),
            "{error}"
        );
    }

    #[test]
    fn not_greater_is_refused() {
        let error = check(Some("v1.2.3"), "1.2.0", None, &["v1.2.3"]).unwrap_err();
        assert_eq!(
            error.to_string(),
            "`v1.2.0` is not greater than the previous release `v1.2.3`; choose a version above it"
        );
        // A beta after an rc of the same version sorts before it.
        let error =
            check(Some("v1.3.0-rc.2"), "minor", Some("beta"), &["v1.3.0-rc.2"]).unwrap_err();
        assert!(matches!(error, Error::NotGreater { .. }), "{error}");
    }

    #[test]
    fn hotfix_patch_from_its_base_is_allowed_below_newer_releases() {
        let existing = ["v1.0.0", "v1.1.0"];
        assert_eq!(
            check(Some("v1.0.0"), "patch", None, &existing).unwrap(),
            "v1.0.1"
        );
    }

    #[test]
    fn explicit_prerelease_conflicts_with_pre_id() {
        let error = check(Some("v1.2.3"), "2.0.0-rc.1", Some("rc"), &[]).unwrap_err();
        assert!(matches!(error, Error::PrereleaseConflict { .. }), "{error}");
    }

    #[test]
    fn explicit_build_metadata_is_refused() {
        let request = VersionRequest::Exact(Version::parse("2.0.0+b").unwrap());
        let error = TagPolicy::default()
            .next_release(&request)
            .tag()
            .unwrap_err();
        assert!(matches!(error, Error::InvalidVersion { .. }), "{error}");
    }

    #[test]
    fn overflow_is_an_error() {
        let previous = format!("v{}.0.0", u64::MAX);
        let error = check(Some(&previous), "major", None, &[]).unwrap_err();
        assert!(matches!(error, Error::VersionOverflow { .. }), "{error}");
        let previous = format!("v1.{}.0", u64::MAX);
        assert!(check(Some(&previous), "minor", None, &[]).is_err());
        let previous = format!("v1.0.{}", u64::MAX);
        assert!(check(Some(&previous), "patch", None, &[]).is_err());
    }

    #[test]
    fn bump_words() {
        for bump in [Bump::Patch, Bump::Minor, Bump::Major] {
            assert_eq!(bump.to_string().parse::<Bump>().unwrap(), bump);
        }
        let error = "Major".parse::<Bump>().unwrap_err();
        assert_eq!(
            error.to_string(),
            "`Major` is not a bump level; use `patch`, `minor` or `major`"
        );
    }

    #[test]
    fn request_words() {
        assert!(matches!(
            "huge".parse::<VersionRequest>(),
            Err(Error::InvalidRequest { .. })
        ));
        assert!(matches!(
            "v1.2.3".parse::<VersionRequest>(),
            Err(Error::InvalidRequest { .. })
        ));
        assert!(matches!(
            "1.02.3".parse::<VersionRequest>(),
            Err(Error::InvalidVersion { .. })
        ));
        let exact: VersionRequest = "1.2.3-rc.1".parse().unwrap();
        assert_eq!(exact.to_string(), "1.2.3-rc.1");
        assert_eq!(VersionRequest::Bump(Bump::Minor).to_string(), "minor");
    }

    #[test]
    fn pre_id_rejections() {
        for (id, expected) in [
            ("", "is empty"),
            ("rc.1", "contains `.`"),
            ("r_c", "may contain only ASCII letters"),
            ("12", "is a number"),
        ] {
            let message = id.parse::<PreId>().unwrap_err().to_string();
            assert!(
                message.starts_with(&format!("pre-release id `{id}` {expected}")),
                "{message}"
            );
        }
        assert_eq!("pre-view".parse::<PreId>().unwrap().to_string(), "pre-view");
    }
}
