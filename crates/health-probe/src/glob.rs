//! A small glob matcher for expected values: `*` matches any run of characters (also none),
//! `?` matches exactly one character, everything else matches itself.
//!
//! There is no escape and no character class: health bodies carry versions and commits, and
//! `1.4.*` or `v?.*` is all a rollout check needs. Keeping it this small keeps a regex engine
//! out of the command line's cold build.

use std::{convert::Infallible, fmt, str::FromStr};

use serde::{Deserialize, Serialize};

/// A glob pattern over a whole string: `*` is any run of characters, `?` is one character.
///
/// ```
/// use health_probe::Glob;
///
/// let pattern = Glob::new("1.4.*");
/// assert!(pattern.is_match("1.4.2"));
/// assert!(!pattern.is_match("1.5.0"));
/// assert!(Glob::new("v?.?.?").is_match("v1.4.2"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Glob {
    pattern: String,
}

impl Glob {
    /// A pattern from its text; every text is a valid pattern.
    pub fn new(pattern: impl Into<String>) -> Self {
        Self {
            pattern: pattern.into(),
        }
    }

    /// The pattern as written.
    pub fn as_str(&self) -> &str {
        &self.pattern
    }

    /// Whether the whole of `text` matches the pattern.
    ///
    /// Runs in `O(pattern × text)` at worst, with no recursion.
    pub fn is_match(&self, text: &str) -> bool {
        let pattern: Vec<char> = self.pattern.chars().collect();
        let text: Vec<char> = text.chars().collect();
        let (mut p, mut t) = (0, 0);
        // Where the last `*` was, and the text position it currently swallows up to.
        let mut backtrack: Option<(usize, usize)> = None;
        while t < text.len() {
            match pattern.get(p) {
                Some('*') => {
                    backtrack = Some((p, t));
                    p += 1;
                }
                Some('?') => {
                    p += 1;
                    t += 1;
                }
                Some(&literal) if literal == text[t] => {
                    p += 1;
                    t += 1;
                }
                _ => match backtrack {
                    Some((star, swallowed)) => {
                        p = star + 1;
                        t = swallowed + 1;
                        backtrack = Some((star, swallowed + 1));
                    }
                    None => return false,
                },
            }
        }
        pattern[p..].iter().all(|&rest| rest == '*')
    }
}

impl fmt::Display for Glob {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.pattern)
    }
}

impl FromStr for Glob {
    type Err = Infallible;

    fn from_str(pattern: &str) -> Result<Self, Self::Err> {
        Ok(Self::new(pattern))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(pattern: &str, text: &str, expected: bool) {
        assert_eq!(
            Glob::new(pattern).is_match(text),
            expected,
            "pattern `{pattern}` against `{text}`"
        );
    }

    #[test]
    fn literal_patterns_match_only_themselves() {
        check("abc", "abc", true);
        check("abc", "abcd", false);
        check("abc", "ab", false);
        check("", "", true);
        check("", "a", false);
    }

    #[test]
    fn star_matches_any_run_including_none() {
        check("*", "", true);
        check("*", "anything at all", true);
        check("1.4.*", "1.4.", true);
        check("1.4.*", "1.4.12", true);
        check("1.4.*", "1.5.0", false);
        check("*-rc.*", "2.0.0-rc.1", true);
        check("a*b*c", "aXXbYYc", true);
        check("a*b*c", "aXXbYY", false);
        check("**a", "bba", true);
    }

    #[test]
    fn star_backtracks_past_false_starts() {
        check("*ab", "aab", true);
        check("*aab", "aaab", true);
        check("a*ab", "abab", true);
        check("*abc*", "ababcab", true);
    }

    #[test]
    fn question_mark_matches_exactly_one_character() {
        check("v?.?.?", "v1.4.2", true);
        check("v?.?.?", "v1.4.12", false);
        check("?", "", false);
        check("?", "é", true);
    }

    #[test]
    fn display_and_from_str_round_trip() {
        let glob: Glob = "1.*".parse().unwrap();
        assert_eq!(glob.to_string(), "1.*");
        assert_eq!(glob.as_str(), "1.*");
    }
}
