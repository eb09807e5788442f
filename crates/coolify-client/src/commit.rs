//! The commit id Coolify pins, builds and reports.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::Error;

/// A full git commit id as Coolify receives and reports it: 40 hexadecimal digits, kept in
/// lowercase.
///
/// [`Client::deploy_commit`](crate::Client::deploy_commit) pins one,
/// [`Deployment::resolved_commit`](crate::Deployment::resolved_commit) reads one back, and the
/// lookups by commit take one, so a caller parses a commit id once and compares typed values
/// after that.
/// Uppercase digits are accepted and lowercased; [`FromStr`] and [`Display`](fmt::Display)
/// round-trip the lowercase form.
/// A caller holding a `git2::Oid` converts with `oid.to_string().parse()` and back with
/// `git2::Oid::from_str(sha.as_str())`; this crate does not depend on git.
///
/// ```
/// use coolify_client::CommitSha;
///
/// let sha: CommitSha = "4F2A9C1E0B7D3A5F6C8E9D0A1B2C3D4E5F6A7B8C".parse().unwrap();
/// assert_eq!(sha.as_str(), "4f2a9c1e0b7d3a5f6c8e9d0a1b2c3d4e5f6a7b8c");
/// assert_eq!(sha.short(), "4f2a9c1");
/// assert!("HEAD".parse::<CommitSha>().is_err());
/// assert!("4f2a9c1".parse::<CommitSha>().is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct CommitSha(String);

/// The number of hexadecimal digits of a SHA-1 commit id.
const LEN: usize = 40;

impl CommitSha {
    /// A commit id from its 40 hexadecimal digits (either case).
    ///
    /// # Errors
    ///
    /// [`Error::InvalidInput`] when the value is not exactly 40 hexadecimal digits (a branch,
    /// `HEAD` or an abbreviated id is refused: Coolify would build whatever it resolves to).
    pub fn new(value: impl Into<String>) -> Result<Self, Error> {
        let mut value = value.into();
        let reason = if value.len() != LEN {
            format!("it has {} characters, not {LEN}", value.chars().count())
        } else if !value.bytes().all(|byte| byte.is_ascii_hexdigit()) {
            "only hexadecimal digits may appear".to_owned()
        } else {
            value.make_ascii_lowercase();
            return Ok(Self(value));
        };
        Err(Error::InvalidInput {
            what: "commit sha",
            value,
            reason: format!("{reason}; pass the full id of a commit (`git rev-parse <commit>`)"),
        })
    }

    /// The 40 lowercase hexadecimal digits.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The first 7 digits, as git abbreviates a commit.
    #[must_use]
    pub fn short(&self) -> &str {
        self.0.get(..7).unwrap_or(&self.0)
    }
}

impl FromStr for CommitSha {
    type Err = Error;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        Self::new(value)
    }
}

impl TryFrom<String> for CommitSha {
    type Error = Error;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::new(value)
    }
}

impl From<CommitSha> for String {
    fn from(value: CommitSha) -> Self {
        value.0
    }
}

impl AsRef<str> for CommitSha {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for CommitSha {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHA: &str = "0123456789abcdef0123456789abcdef01234567";

    #[test]
    fn a_full_id_round_trips_through_from_str_display_and_serde() {
        let sha: CommitSha = SHA.parse().unwrap();
        assert_eq!(sha.to_string(), SHA);
        let json = serde_json::to_string(&sha).unwrap();
        assert_eq!(json, format!("\"{SHA}\""));
        assert_eq!(serde_json::from_str::<CommitSha>(&json).unwrap(), sha);
        assert_eq!(SHA.to_uppercase().parse::<CommitSha>().unwrap(), sha);
    }

    #[test]
    fn anything_but_forty_hex_digits_is_refused_naming_the_value() {
        for bad in [
            "",
            "HEAD",
            "0123456",
            "main",
            &format!("{SHA}0"),
            &SHA.replace('0', "g"),
        ] {
            let error = bad.parse::<CommitSha>().unwrap_err();
            assert!(
                matches!(&error, Error::InvalidInput { what: "commit sha", value, .. } if value == bad),
                "{bad}: {error:?}"
            );
        }
        let error = serde_json::from_str::<CommitSha>("\"HEAD\"").unwrap_err();
        assert!(error.to_string().contains("commit sha"), "{error}");
    }
}
