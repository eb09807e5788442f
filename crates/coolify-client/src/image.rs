//! Docker image names and tags of Coolify's Docker-image applications, validated with Coolify's
//! rules (`dockerImageNameRules` and `dockerImageTagRules`) before anything is sent.

use serde::{Deserialize, Serialize};

use crate::Error;
use crate::newtype::text_newtype;

/// Longest image name Coolify accepts.
const NAME_MAX: usize = 255;
/// Longest tag Docker and Coolify accept.
const TAG_MAX: usize = 128;

/// The repository of a Docker image, without a tag: `ghcr.io/acme/api`,
/// `registry.example.com:5000/team/api` or `nginx` (Coolify's `docker_registry_image_name`).
///
/// Lowercase, an optional `host[:port]/` first, at most 255 characters; no `:tag` (that goes in
/// the application's `docker_registry_image_tag`, an [`ImageTag`]) and no `@digest`.
///
/// ```
/// use coolify_client::ImageName;
///
/// let name: ImageName = "ghcr.io/acme/api".parse().unwrap();
/// assert_eq!(name.as_str(), "ghcr.io/acme/api");
/// let error = "ghcr.io/acme/api:1.5".parse::<ImageName>().unwrap_err();
/// assert!(error.to_string().contains("image_tag"), "{error}");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ImageName(String);

/// The tag of a Docker image: `1.5.0`, `v2`, `sha-4f2a9c1` (Coolify's
/// `docker_registry_image_tag`).
///
/// Matches `[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}`. Coolify reads a tag `sha256-<hex>` as the
/// digest `name@sha256:<hex>`.
///
/// ```
/// use coolify_client::ImageTag;
///
/// let tag: ImageTag = "1.5.0".parse().unwrap();
/// assert_eq!(tag.to_string(), "1.5.0");
/// assert!("-rc1".parse::<ImageTag>().is_err());
/// assert!("1.5:0".parse::<ImageTag>().is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ImageTag(String);

fn invalid(what: &'static str, value: &str, reason: String) -> Error {
    Error::InvalidInput {
        what,
        value: value.to_owned(),
        reason,
    }
}

/// One path component, Docker's grammar: runs of lowercase letters and digits joined by one
/// separator each, a `.`, one or two `_`, or one or more `-`.
fn valid_component(component: &str) -> bool {
    let bytes = component.as_bytes();
    if !bytes.first().is_some_and(u8::is_ascii_alphanumeric)
        || !bytes.last().is_some_and(u8::is_ascii_alphanumeric)
    {
        return false;
    }
    let mut separator = String::new();
    for &byte in bytes {
        if byte.is_ascii_lowercase() || byte.is_ascii_digit() {
            let valid = separator.is_empty()
                || matches!(separator.as_str(), "." | "_" | "__")
                || separator.bytes().all(|part| part == b'-');
            if !valid {
                return false;
            }
            separator.clear();
        } else if matches!(byte, b'.' | b'_' | b'-') {
            separator.push(char::from(byte));
        } else {
            return false;
        }
    }
    true
}

/// A registry host: labels of letters, digits and `-` joined by `.`, then an optional `:port`.
fn valid_host(host: &str) -> bool {
    let (name, port) = match host.split_once(':') {
        Some((name, port)) => (name, Some(port)),
        None => (host, None),
    };
    name.split('.').all(|label| {
        !label.is_empty()
            && !label.starts_with('-')
            && !label.ends_with('-')
            && label
                .bytes()
                .all(|byte| byte.is_ascii_lowercase() || byte.is_ascii_digit() || byte == b'-')
    }) && port.is_none_or(|port| {
        !port.is_empty() && port.len() <= 5 && port.bytes().all(|byte| byte.is_ascii_digit())
    })
}

/// Whether the first component of a name is a registry host (Docker's rule: it has a `.` or a
/// `:`, or is `localhost`).
fn is_host(component: &str) -> bool {
    component.contains('.') || component.contains(':') || component == "localhost"
}

fn validate_name(value: &str) -> Result<(), Error> {
    const WHAT: &str = "image name";
    let example = "for example ghcr.io/acme/api or registry.example.com:5000/team/api";
    if value.is_empty() {
        return Err(invalid(
            WHAT,
            value,
            format!("it is empty; give the image's repository, {example}"),
        ));
    }
    if value.len() > NAME_MAX {
        return Err(invalid(
            WHAT,
            value,
            format!("it is longer than {NAME_MAX} characters, the most Coolify accepts"),
        ));
    }
    if let Some((repository, digest)) = value.split_once('@') {
        return Err(invalid(
            WHAT,
            value,
            format!(
                "a digest is not part of the name; use {repository} as the name and the tag {} in image_tag",
                digest.replacen(':', "-", 1)
            ),
        ));
    }
    if value
        .chars()
        .any(|character| character.is_ascii_uppercase())
    {
        return Err(invalid(
            WHAT,
            value,
            format!(
                "Docker image names are lowercase; use {}",
                value.to_ascii_lowercase()
            ),
        ));
    }
    let components: Vec<&str> = value.split('/').collect();
    let (host, path) = match components.as_slice() {
        [first, rest @ ..] if !rest.is_empty() && is_host(first) => (Some(*first), rest),
        all => (None, all),
    };
    if let Some(last) = path.last()
        && let Some((repository, tag)) = last.split_once(':')
    {
        let prefix = value.rsplit_once('/').map_or("", |(prefix, _)| prefix);
        let name = if prefix.is_empty() {
            repository.to_owned()
        } else {
            format!("{prefix}/{repository}")
        };
        return Err(invalid(
            WHAT,
            value,
            format!(
                "the name must not carry a tag; use {name} as the name and put {tag} in image_tag"
            ),
        ));
    }
    if let Some(host) = host
        && !valid_host(host)
    {
        return Err(invalid(
            WHAT,
            value,
            format!("the registry {host:?} is not a host[:port]; {example}"),
        ));
    }
    if let Some(bad) = path.iter().find(|component| !valid_component(component)) {
        return Err(invalid(
            WHAT,
            value,
            format!(
                "the part {bad:?} is not lowercase letters and digits separated by `.`, `_` or `-`; {example}"
            ),
        ));
    }
    Ok(())
}

fn validate_tag(value: &str) -> Result<(), Error> {
    const WHAT: &str = "image tag";
    let rule = "a tag is 1 to 128 of A-Z a-z 0-9 _ . - and does not start with `.` or `-`";
    let reason = if value.is_empty() {
        format!("it is empty; {rule}, for example 1.5.0")
    } else if value.len() > TAG_MAX {
        format!("it is longer than {TAG_MAX} characters; {rule}")
    } else if let Some(digest) = value.strip_prefix("sha256:") {
        format!("a digest is written sha256-{digest} as a Coolify image tag")
    } else if value.starts_with(['.', '-']) {
        format!(
            "{rule}; for example {}",
            value.trim_start_matches(['.', '-'])
        )
    } else if let Some(bad) = value.chars().find(|&character| {
        !(character.is_ascii_alphanumeric() || matches!(character, '_' | '.' | '-'))
    }) {
        format!("{bad:?} may not appear; {rule}, for example 1.5.0")
    } else {
        return Ok(());
    };
    Err(invalid(WHAT, value, reason))
}

text_newtype!(
    ImageName,
    validate_name,
    "image name",
    "[`Error::InvalidInput`] naming the value, Coolify's rule for an image name and a fix."
);
text_newtype!(
    ImageTag,
    validate_tag,
    "image tag",
    "[`Error::InvalidInput`] naming the value, Coolify's rule for an image tag and a fix."
);

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn accepts_names_with_and_without_a_registry() {
        for good in [
            "nginx",
            "acme/api",
            "ghcr.io/acme/api",
            "registry.example.com:5000/team/api",
            "localhost/api",
            "localhost:5000/api",
            "docker.io/library/postgres",
            "acme/api_worker.v2-x",
            "acme/api__worker",
            "acme/api--worker",
        ] {
            assert!(ImageName::new(good).is_ok(), "{good}");
        }
    }

    #[test]
    fn a_name_with_a_tag_says_where_the_tag_goes() {
        let error = ImageName::new("ghcr.io/acme/api:1.5").unwrap_err();
        let text = error.to_string();
        assert!(text.contains("\"ghcr.io/acme/api:1.5\""), "{text}");
        assert!(text.contains("use ghcr.io/acme/api as the name"), "{text}");
        assert!(text.contains("put 1.5 in image_tag"), "{text}");
        let error = ImageName::new("nginx:latest").unwrap_err().to_string();
        assert!(error.contains("use nginx as the name"), "{error}");
        // A registry port is not a tag.
        assert!(ImageName::new("registry.example.com:5000/api").is_ok());
    }

    #[test]
    fn refuses_digests_uppercase_and_bad_parts() {
        let digest = ImageName::new("acme/api@sha256:abc")
            .unwrap_err()
            .to_string();
        assert!(digest.contains("sha256-abc"), "{digest}");
        let upper = ImageName::new("Acme/API").unwrap_err().to_string();
        assert!(upper.contains("use acme/api"), "{upper}");
        for bad in [
            "",
            "acme//api",
            "acme/-api",
            "acme/api.",
            "a b",
            "host:port/x",
            "/api",
        ] {
            assert!(ImageName::new(bad).is_err(), "{bad}");
        }
        assert!(ImageName::new("a".repeat(256)).is_err());
        assert!(ImageName::new("a".repeat(255)).is_ok());
    }

    #[test]
    fn tags_follow_coolifys_rule() {
        for good in [
            "1.5.0",
            "v2",
            "latest",
            "_x",
            "sha-4f2a9c1",
            "sha256-abc",
            "A_b.c-d",
        ] {
            assert!(ImageTag::new(good).is_ok(), "{good}");
        }
        for bad in ["", ".x", "-rc", "1.5:0", "a/b", "a b", "sha256:abc"] {
            let error = ImageTag::new(bad).unwrap_err();
            assert!(
                matches!(&error, Error::InvalidInput { what: "image tag", value, .. } if value == bad),
                "{error}"
            );
        }
        assert!(ImageTag::new("a".repeat(128)).is_ok());
        assert!(ImageTag::new("a".repeat(129)).is_err());
    }

    #[test]
    fn deserializing_validates() {
        assert!(serde_json::from_str::<ImageTag>("\"1.5.0\"").is_ok());
        assert!(serde_json::from_str::<ImageTag>("\"-x\"").is_err());
        assert!(serde_json::from_str::<ImageName>("\"acme/api:1\"").is_err());
        let name: ImageName = serde_json::from_str("\"ghcr.io/acme/api\"").unwrap();
        assert_eq!(
            serde_json::to_string(&name).unwrap(),
            "\"ghcr.io/acme/api\""
        );
    }

    /// `[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}`, checked by hand.
    fn matches_tag_regex(tag: &str) -> bool {
        let mut characters = tag.chars();
        characters
            .next()
            .is_some_and(|first| first.is_ascii_alphanumeric() || first == '_')
            && characters.all(|character| {
                character.is_ascii_alphanumeric() || matches!(character, '_' | '.' | '-')
            })
            && tag.len() <= 128
    }

    proptest! {
        #[test]
        fn every_accepted_tag_matches_coolifys_regex(tag in "[ -~]{0,140}") {
            prop_assert_eq!(ImageTag::new(tag.clone()).is_ok(), matches_tag_regex(&tag));
        }

        #[test]
        fn every_tag_of_the_regex_is_accepted(tag in "[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}") {
            prop_assert!(ImageTag::new(tag).is_ok());
        }
    }
}
