//! Coolify's version strings (`4.3.11`, `4.0.0-beta.474`), ordered as releases are.

use std::cmp::Ordering;

/// A Coolify version: `major.minor.patch`, and the beta number of a pre-release.
///
/// A beta comes before its release (`4.0.0-beta.474 < 4.0.0`); a text that does not read as a
/// version counts as newer than every version (an unknown build is taken to have every feature).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Version {
    release: (u64, u64, u64),
    beta: Option<u64>,
    unreadable: bool,
}

impl Version {
    pub(crate) const fn new(major: u64, minor: u64, patch: u64) -> Self {
        Self {
            release: (major, minor, patch),
            beta: None,
            unreadable: false,
        }
    }

    pub(crate) const fn beta(major: u64, minor: u64, patch: u64, beta: u64) -> Self {
        Self {
            release: (major, minor, patch),
            beta: Some(beta),
            unreadable: false,
        }
    }

    pub(crate) fn parse(text: &str) -> Self {
        let text = text.trim().trim_start_matches('v');
        let (release, pre) = text.split_once('-').unwrap_or((text, ""));
        let mut parts = release.split('.').map(|part| part.parse::<u64>().ok());
        let (Some(Some(major)), Some(Some(minor))) = (parts.next(), parts.next()) else {
            return Self {
                release: (0, 0, 0),
                beta: None,
                unreadable: true,
            };
        };
        let patch = parts.next().flatten().unwrap_or(0);
        let beta = pre
            .strip_prefix("beta.")
            .and_then(|number| number.parse::<u64>().ok());
        Self {
            release: (major, minor, patch),
            beta,
            unreadable: false,
        }
    }
}

impl PartialOrd for Version {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Version {
    fn cmp(&self, other: &Self) -> Ordering {
        self.unreadable
            .cmp(&other.unreadable)
            .then(self.release.cmp(&other.release))
            .then(match (self.beta, other.beta) {
                (None, None) => Ordering::Equal,
                (None, Some(_)) => Ordering::Greater,
                (Some(_), None) => Ordering::Less,
                (Some(left), Some(right)) => left.cmp(&right),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn betas_come_before_their_release_and_unreadable_text_is_newest() {
        let ordered = [
            "4.0.0-beta.420",
            "4.0.0-beta.436",
            "v4.0.0-beta.474",
            "4.0.0",
            "4.1.0",
            "4.3.6",
            "4.3.7",
            "4.3.11",
            "nightly",
        ];
        for pair in ordered.windows(2) {
            assert!(
                Version::parse(pair[0]) < Version::parse(pair[1]),
                "{} < {}",
                pair[0],
                pair[1]
            );
        }
        assert_eq!(Version::parse("4.3.7"), Version::new(4, 3, 7));
        assert_eq!(
            Version::parse("4.0.0-beta.436"),
            Version::beta(4, 0, 0, 436)
        );
        assert_eq!(Version::parse("4.3"), Version::new(4, 3, 0));
    }
}
