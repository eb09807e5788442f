//! The tag policy: which tag names are releases, and which releases may go to production.

use serde::{Deserialize, Serialize};

use crate::error::Error;
use crate::tag::{Channel, ReleaseTag};

/// Whether pre-release tags (such as `v1.3.0-rc.1`) may be deployed to production.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub enum PrereleaseAdmission {
    /// Only stable releases go to production (the default).
    #[default]
    Refused,
    /// Pre-releases may go to production too.
    Allowed,
}

/// The rules for release tags: the prefix and what production accepts.
///
/// A release tag is `PREFIX` followed by a strict semver 2.0.0 version without build metadata,
/// e.g. `v1.4.2` or `v2.0.0-rc.1` under the default prefix `v`.
///
/// It deserializes from a table with the keys `prefix` and `prereleases_to_production`; both are
/// optional, and unknown keys and a bad prefix fail at load time:
///
/// ```
/// use tag_policy::{PrereleaseAdmission, TagPolicy};
///
/// let policy: TagPolicy = toml::from_str(
///     r#"
///     prefix = "release-"
///     prereleases_to_production = true
///     "#,
/// )?;
/// assert_eq!(policy.prefix(), "release-");
/// assert_eq!(policy.prereleases_to_production(), PrereleaseAdmission::Allowed);
///
/// let bad = toml::from_str::<TagPolicy>(r#"prefix = "v 1""#).unwrap_err();
/// assert!(bad.to_string().contains("tag prefix `v 1` contains whitespace"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "TagsTable", into = "TagsTable")]
pub struct TagPolicy {
    prefix: String,
    prereleases: PrereleaseAdmission,
}

impl TagPolicy {
    /// The prefix used when none is configured.
    pub const DEFAULT_PREFIX: &'static str = "v";

    /// A policy with the given prefix (may be empty) and production rule.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidPrefix`] when the prefix could not start a git tag name, contains
    /// whitespace, starts with `refs/`, is longer than 64 bytes, or ends with a digit (which
    /// would make `v1` + `1.0.0` read as `v11.0.0`).
    pub fn new(prefix: &str, prereleases: PrereleaseAdmission) -> Result<Self, Error> {
        validate_prefix(prefix).map_err(|reason| Error::InvalidPrefix {
            prefix: prefix.to_owned(),
            reason,
        })?;
        Ok(Self {
            prefix: prefix.to_owned(),
            prereleases,
        })
    }

    /// The tag prefix, e.g. `v`.
    #[must_use]
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// Whether production accepts pre-release tags.
    #[must_use]
    pub fn prereleases_to_production(&self) -> PrereleaseAdmission {
        self.prereleases
    }

    /// Parses a tag name as a release tag under this policy.
    ///
    /// The rules are semver 2.0.0 exactly, plus the prefix, plus one policy choice: build
    /// metadata (`v1.0.0+build.5`) is refused, see [`Rejection::BuildMetadata`](crate::Rejection::BuildMetadata).
    ///
    /// ```
    /// use tag_policy::TagPolicy;
    ///
    /// let policy = TagPolicy::default();
    /// let tag = policy.parse("v1.10.0-rc.2")?;
    /// assert_eq!(tag.version().to_string(), "1.10.0-rc.2");
    /// assert_eq!(
    ///     policy.parse("v1.02.3").unwrap_err().to_string(),
    ///     "`v1.02.3`: numeric component `02` has a leading zero"
    /// );
    /// # Ok::<(), tag_policy::Error>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`Error::InvalidTag`] with the [`Rejection`](crate::Rejection) that explains the problem.
    pub fn parse(&self, tag: &str) -> Result<ReleaseTag, Error> {
        ReleaseTag::parse_with_prefix(tag, &self.prefix)
    }

    /// The release tag for `version` under this policy (prefix + version).
    ///
    /// # Errors
    ///
    /// [`Error::InvalidVersion`] when the version carries build metadata.
    pub fn tag_for(&self, version: &semver::Version) -> Result<ReleaseTag, Error> {
        ReleaseTag::from_version(&self.prefix, version)
    }

    /// Checks that `tag` may be deployed to production under this policy.
    ///
    /// ```
    /// use tag_policy::TagPolicy;
    ///
    /// let policy = TagPolicy::default();
    /// assert!(policy.admit_to_production(&policy.parse("v1.3.0")?).is_ok());
    /// assert!(policy.admit_to_production(&policy.parse("v1.3.0-rc.1")?).is_err());
    /// # Ok::<(), tag_policy::Error>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`Error::PrereleaseRefused`] for a pre-release when the policy refuses them.
    pub fn admit_to_production(&self, tag: &ReleaseTag) -> Result<(), Error> {
        match (tag.channel(), self.prereleases) {
            (Channel::Stable, _) | (Channel::Prerelease, PrereleaseAdmission::Allowed) => Ok(()),
            (Channel::Prerelease, PrereleaseAdmission::Refused) => Err(Error::PrereleaseRefused {
                tag: tag.name().to_owned(),
            }),
        }
    }

    /// Whether `tag` may be deployed to production under this policy.
    #[must_use]
    pub fn admits_to_production(&self, tag: &ReleaseTag) -> bool {
        self.admit_to_production(tag).is_ok()
    }
}

impl Default for TagPolicy {
    /// Prefix `v`, pre-releases refused in production.
    fn default() -> Self {
        Self {
            prefix: Self::DEFAULT_PREFIX.to_owned(),
            prereleases: PrereleaseAdmission::Refused,
        }
    }
}

/// The policy as written in configuration.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct TagsTable {
    prefix: String,
    prereleases_to_production: bool,
}

impl Default for TagsTable {
    fn default() -> Self {
        TagPolicy::default().into()
    }
}

impl TryFrom<TagsTable> for TagPolicy {
    type Error = Error;

    fn try_from(table: TagsTable) -> Result<Self, Error> {
        let prereleases = if table.prereleases_to_production {
            PrereleaseAdmission::Allowed
        } else {
            PrereleaseAdmission::Refused
        };
        Self::new(&table.prefix, prereleases)
    }
}

impl From<TagPolicy> for TagsTable {
    fn from(policy: TagPolicy) -> Self {
        Self {
            prefix: policy.prefix,
            prereleases_to_production: policy.prereleases == PrereleaseAdmission::Allowed,
        }
    }
}

/// Checks a prefix; the error is a phrase that follows "tag prefix `...`".
fn validate_prefix(prefix: &str) -> Result<(), &'static str> {
    const GIT_FORBIDDEN: &[char] = &['~', '^', ':', '?', '*', '[', '\\'];
    if prefix.len() > 64 {
        return Err("is longer than 64 bytes");
    }
    if prefix.chars().any(|c| c.is_whitespace()) {
        return Err("contains whitespace");
    }
    if prefix.chars().any(char::is_control) {
        return Err("contains a control character");
    }
    if prefix.contains(GIT_FORBIDDEN) {
        return Err("contains a character git refuses in tag names (one of `~ ^ : ? * [ \\`)");
    }
    if prefix.contains("..") || prefix.contains("@{") || prefix.contains("//") {
        return Err("contains `..`, `@{` or `//`, which git refuses in tag names");
    }
    if prefix.starts_with("refs/") {
        return Err("starts with `refs/`: give only what comes before the version in the tag name");
    }
    if prefix.starts_with(['/', '.', '-']) {
        return Err("starts with `/`, `.` or `-`, which git refuses or misreads in tag names");
    }
    if prefix.ends_with(|c: char| c.is_ascii_digit()) {
        return Err("ends with a digit, so the version's major number could not be told from it");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn prefix_error(prefix: &str) -> String {
        TagPolicy::new(prefix, PrereleaseAdmission::Refused)
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn default_is_v_and_refuses_prereleases() {
        let policy = TagPolicy::default();
        assert_eq!(policy.prefix(), "v");
        assert_eq!(
            policy.prereleases_to_production(),
            PrereleaseAdmission::Refused
        );
    }

    #[test]
    fn accepted_prefixes() {
        for prefix in ["", "v", "V", "release-", "app/v", "svc_v", "release."] {
            let policy = TagPolicy::new(prefix, PrereleaseAdmission::Allowed).unwrap();
            assert_eq!(policy.prefix(), prefix);
        }
    }

    #[test]
    fn every_prefix_rejection_is_explained() {
        let cases = [
            ("v 1", "contains whitespace"),
            ("v\u{7}", "control character"),
            ("v:", "character git refuses"),
            ("a..b", "contains `..`"),
            ("a@{b", "contains `..`, `@{`"),
            ("a//b", "contains `..`, `@{` or `//`"),
            ("refs/tags/v", "starts with `refs/`"),
            ("-v", "starts with `/`, `.` or `-`"),
            ("/v", "starts with `/`, `.` or `-`"),
            ("v1", "ends with a digit"),
        ];
        for (prefix, expected) in cases {
            let message = prefix_error(prefix);
            assert!(message.contains(expected), "{prefix:?}: {message}");
            assert!(
                message.starts_with(&format!("tag prefix `{prefix}`")),
                "{message}"
            );
        }
        assert!(prefix_error(&"v".repeat(65)).contains("longer than 64 bytes"));
    }

    #[test]
    fn deserializes_defaults_from_an_empty_table() {
        let policy: TagPolicy = toml::from_str("").unwrap();
        assert_eq!(policy, TagPolicy::default());
    }

    #[test]
    fn deserializes_both_keys() {
        let policy: TagPolicy =
            toml::from_str("prefix = \"\"\nprereleases_to_production = true\n").unwrap();
        assert_eq!(policy.prefix(), "");
        assert_eq!(
            policy.prereleases_to_production(),
            PrereleaseAdmission::Allowed
        );
    }

    #[test]
    fn unknown_key_fails_and_names_it() {
        let message = toml::from_str::<TagPolicy>("prefx = \"v\"\n")
            .unwrap_err()
            .to_string();
        assert!(message.contains("prefx"), "{message}");
    }

    #[test]
    fn bad_prefix_fails_at_load() {
        let message = toml::from_str::<TagPolicy>("prefix = \"v1\"\n")
            .unwrap_err()
            .to_string();
        assert!(
            message.contains("tag prefix `v1` ends with a digit"),
            "{message}"
        );
    }

    #[test]
    fn serializes_back_to_the_table() {
        let policy = TagPolicy::new("release-", PrereleaseAdmission::Allowed).unwrap();
        let text = toml::to_string(&policy).unwrap();
        assert_eq!(
            text,
            "prefix = \"release-\"\nprereleases_to_production = true\n"
        );
        assert_eq!(toml::from_str::<TagPolicy>(&text).unwrap(), policy);
    }

    #[test]
    fn admission_follows_the_policy() {
        let refusing = TagPolicy::default();
        let allowing = TagPolicy::new("v", PrereleaseAdmission::Allowed).unwrap();
        let stable = refusing.parse("v1.0.0").unwrap();
        let rc = refusing.parse("v1.0.0-rc.1").unwrap();
        assert!(refusing.admit_to_production(&stable).is_ok());
        assert!(allowing.admit_to_production(&stable).is_ok());
        assert!(allowing.admit_to_production(&rc).is_ok());
        let message = refusing.admit_to_production(&rc).unwrap_err().to_string();
        assert!(
            message.starts_with("`v1.0.0-rc.1` is a pre-release"),
            "{message}"
        );
        assert!(!refusing.admits_to_production(&rc));
    }
}
