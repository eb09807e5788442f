//! The crate's error type.

/// Everything that can go wrong while reading a commit range.
///
/// Each variant names what failed and its value; the [`Display`](std::fmt::Display) text also
/// says what to do about it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A revision names no commit in the repository.
    #[error(
        "unknown ref `{reference}`: no branch, tag or commit of that name in this repository; \
         check the spelling, or fetch it (`git fetch --tags`)"
    )]
    UnknownRef {
        /// The revision as given.
        reference: String,
    },
    /// `from` is not an ancestor of `to`, so `from..to` is not a release range.
    #[error(
        "`{from}` is not an ancestor of `{to}`{}",
        match merge_base {
            Some(base) => format!("; they diverged at their merge base {base}"),
            None => "; they share no history".to_owned(),
        }
    )]
    NotAncestor {
        /// The `from` revision as given.
        from: String,
        /// The `to` revision as given.
        to: String,
        /// The full id of their merge base, if they share history.
        merge_base: Option<String>,
    },
    /// The release tags could not be listed or walked.
    #[error("could not read the release tags")]
    Tags {
        /// The tag-policy error.
        #[from]
        source: tag_policy::Error,
    },
    /// The repository could not be read.
    #[cfg(feature = "git")]
    #[cfg_attr(docsrs, doc(cfg(feature = "git")))]
    #[error("git: cannot {operation}; check that the repository is intact (`git fsck`)")]
    Git {
        /// What was being done.
        operation: &'static str,
        /// The underlying git error.
        source: git2::Error,
    },
}

#[cfg(feature = "git")]
impl Error {
    pub(crate) fn git(operation: &'static str, source: git2::Error) -> Self {
        Self::Git { operation, source }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn not_ancestor_says_what_is_not_an_ancestor_of_what_and_names_no_flag() {
        let unrelated = Error::NotAncestor {
            from: "orphan".to_owned(),
            to: "main".to_owned(),
            merge_base: None,
        };
        assert_eq!(
            unrelated.to_string(),
            "`orphan` is not an ancestor of `main`; they share no history"
        );
        let diverged = Error::NotAncestor {
            from: "side".to_owned(),
            to: "main".to_owned(),
            merge_base: Some("0123456789abcdef0123456789abcdef01234567".to_owned()),
        };
        let message = diverged.to_string();
        assert_eq!(
            message,
            "`side` is not an ancestor of `main`; they diverged at their merge base \
             0123456789abcdef0123456789abcdef01234567"
        );
        assert!(!message.contains("--"), "{message}");
    }
}
