//! Which git repository an application builds, whatever form Coolify stores it in.

use std::fmt;

/// A git repository as `host/owner/name`, lowercase, without scheme, user, port or `.git`.
///
/// Coolify stores an application's `git_repository` as an https URL for public and deploy-key
/// apps, sometimes as `git@host:owner/name.git`, and as plain `owner/name` for apps that use a
/// GitHub App source (then the host is `github.com`). A local clone's remote may be any of
/// those or `ssh://git@host[:port]/owner/name.git`. Two forms name the same repository when
/// their ids are equal.
///
/// ```
/// use coolify_client::RepositoryId;
///
/// let remote = RepositoryId::parse("git@github.com:Acme/api.git").unwrap();
/// assert_eq!(remote.as_str(), "github.com/acme/api");
/// assert_eq!(RepositoryId::parse("https://github.com/acme/api"), Some(remote.clone()));
/// assert_eq!(RepositoryId::parse("acme/api"), Some(remote.clone()));
/// assert_eq!(RepositoryId::parse("ssh://git@github.com:22/acme/api.git/"), Some(remote));
/// assert_eq!(RepositoryId::parse("not a repository"), None);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RepositoryId(String);

impl RepositoryId {
    /// The id of a repository URL, scp-like address or `owner/name`; `None` when the text is
    /// none of those.
    #[must_use]
    pub fn parse(text: &str) -> Option<Self> {
        let text = text.trim();
        let (host, path) = if let Some((_scheme, rest)) = text.split_once("://") {
            // https://user:pass@host:port/owner/name(.git)
            let (authority, path) = rest.split_once('/')?;
            let host = authority.rsplit('@').next()?;
            let host = host.split(':').next()?;
            (host.to_owned(), path)
        } else if let Some((left, path)) = text.split_once(':') {
            // git@host:owner/name(.git)
            let host = left.rsplit('@').next()?;
            (host.to_owned(), path)
        } else {
            ("github.com".to_owned(), text)
        };
        let path = path.trim_matches('/');
        let path = path.strip_suffix(".git").unwrap_or(path);
        let segments: Vec<&str> = path.split('/').collect();
        let valid = |segment: &str| {
            !segment.is_empty()
                && segment != "."
                && segment != ".."
                && segment
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        };
        if host.is_empty()
            || !host
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.'))
            || segments.len() < 2
            || !segments.iter().all(|segment| valid(segment))
        {
            return None;
        }
        Some(Self(
            format!("{host}/{}", segments.join("/")).to_ascii_lowercase(),
        ))
    }

    /// `host/owner/name`.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for RepositoryId {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::RepositoryId;

    #[test]
    fn every_form_of_one_repository_has_one_id() {
        let forms = [
            "https://github.com/acme/api",
            "https://github.com/acme/api.git",
            "https://github.com/acme/api/",
            "http://github.com/Acme/API",
            "https://x-access-token:secret@github.com/acme/api.git",
            "ssh://git@github.com/acme/api.git",
            "ssh://git@github.com:22/acme/api",
            "git@github.com:acme/api.git",
            "git@github.com:acme/api",
            "acme/api",
            "acme/api.git",
        ];
        for form in forms {
            assert_eq!(
                RepositoryId::parse(form)
                    .map(|id| id.to_string())
                    .as_deref(),
                Some("github.com/acme/api"),
                "{form}"
            );
        }
    }

    #[test]
    fn other_hosts_owners_and_names_differ() {
        let api = RepositoryId::parse("acme/api");
        for other in [
            "https://gitlab.com/acme/api",
            "git@github.com:acme/api-v2.git",
            "acme/web",
            "other/api",
        ] {
            assert_ne!(RepositoryId::parse(other), api, "{other}");
        }
        assert_eq!(
            RepositoryId::parse("https://gitlab.com/group/sub/api.git")
                .map(|id| id.to_string())
                .as_deref(),
            Some("gitlab.com/group/sub/api")
        );
    }

    #[test]
    fn what_is_not_a_repository_has_no_id() {
        for text in [
            "",
            "api",
            "https://github.com/",
            "a b/c",
            "../x",
            "git@:x/y",
        ] {
            assert_eq!(RepositoryId::parse(text), None, "{text:?}");
        }
    }
}
