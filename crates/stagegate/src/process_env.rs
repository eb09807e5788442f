//! The process environment a flow reads, as a value.
//!
//! Flows never call `std::env::var`: they read an [`ProcessEnv`], so the scenario tests can
//! run many flows side by side in one process, each with its own Coolify URL and token.

use std::collections::BTreeMap;
use std::ffi::OsString;

/// A snapshot of environment variables.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct ProcessEnv {
    variables: BTreeMap<String, String>,
}

impl std::fmt::Debug for ProcessEnv {
    // Values may be secrets (the Coolify token): show the names only.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProcessEnv")
            .field("names", &self.variables.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl ProcessEnv {
    /// The current process's environment (variables that are not valid UTF-8 are skipped).
    pub fn from_process() -> Self {
        Self {
            variables: std::env::vars_os()
                .filter_map(|(name, value): (OsString, OsString)| {
                    Some((name.into_string().ok()?, value.into_string().ok()?))
                })
                .collect(),
        }
    }

    /// An environment holding exactly these variables.
    pub fn from_pairs<N: Into<String>, V: Into<String>>(
        pairs: impl IntoIterator<Item = (N, V)>,
    ) -> Self {
        Self {
            variables: pairs
                .into_iter()
                .map(|(name, value)| (name.into(), value.into()))
                .collect(),
        }
    }

    /// This environment with one more variable.
    #[must_use]
    pub fn with(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.variables.insert(name.into(), value.into());
        self
    }

    /// This environment without a variable.
    #[must_use]
    pub fn without(mut self, name: &str) -> Self {
        self.variables.remove(name);
        self
    }

    /// A variable's value; an empty value counts as unset.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.variables
            .get(name)
            .map(String::as_str)
            .filter(|value| !value.is_empty())
    }

    /// Running under GitHub Actions (`GITHUB_ACTIONS=true`).
    pub fn is_github_actions(&self) -> bool {
        self.get("GITHUB_ACTIONS") == Some("true")
    }

    /// Running in CI (`CI` set to anything but `false`/`0`, or GitHub Actions).
    pub fn is_ci(&self) -> bool {
        self.is_github_actions() || self.get("CI").is_some_and(|ci| ci != "false" && ci != "0")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_shows_names_not_values() {
        let environment = ProcessEnv::from_pairs([("COOLIFY_TOKEN", "1|very-secret")]);
        let debug = format!("{environment:?}");
        assert!(debug.contains("COOLIFY_TOKEN"));
        assert!(!debug.contains("very-secret"));
    }

    #[test]
    fn empty_values_count_as_unset() {
        let environment = ProcessEnv::from_pairs([("COOLIFY_URL", "")]);
        assert_eq!(environment.get("COOLIFY_URL"), None);
    }

    #[test]
    fn ci_detection() {
        assert!(!ProcessEnv::default().is_ci());
        assert!(ProcessEnv::from_pairs([("CI", "true")]).is_ci());
        assert!(!ProcessEnv::from_pairs([("CI", "false")]).is_ci());
        assert!(ProcessEnv::from_pairs([("GITHUB_ACTIONS", "true")]).is_ci());
    }
}
