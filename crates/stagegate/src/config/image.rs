//! Docker-image applications: the image an app runs (`image`) and how a commit maps to its tag
//! (`image_tag`, a template such as `sha-{commit}`), checked at load time, expanded for a
//! deploy and read back to find which commit an app runs.

use std::fmt;

use coolify_client::{ImageName, ImageTag};

use super::EnvironmentName;

/// `image_tag` when the config sets none: the tag CI pushes for each commit.
pub const DEFAULT_TAG_TEMPLATE: &str = "sha-{commit}";

/// An app's image: the repository, without a tag, and the template of its tags.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageConfig {
    /// The image's repository, e.g. `ghcr.io/acme/api` (Coolify's
    /// `docker_registry_image_name`).
    pub name: ImageName,
    /// How a commit maps to a tag.
    pub tag: TagTemplate,
}

/// A placeholder of an `image_tag` template.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Placeholder {
    /// `{commit}`: the full 40-hex SHA.
    Commit,
    /// `{short_commit}`: its first 7 characters.
    ShortCommit,
    /// `{version}`: the release's version without the tag prefix (production only).
    Version,
}

impl Placeholder {
    fn name(self) -> &'static str {
        match self {
            Self::Commit => "commit",
            Self::ShortCommit => "short_commit",
            Self::Version => "version",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Literal(String),
    Placeholder(Placeholder),
}

/// An `image_tag` template: literal text and the placeholders `{commit}`, `{short_commit}`
/// and `{version}`, checked so that every expansion is a tag Coolify accepts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TagTemplate {
    text: String,
    segments: Vec<Segment>,
}

/// Sample values a template is expanded with at load time: the longest a commit, a short
/// commit and a pre-release version make a tag.
const SAMPLE_COMMIT: &str = "0123456789abcdef0123456789abcdef01234567";
const SAMPLE_VERSION: &str = "10.20.30-rc.1.2";

impl TagTemplate {
    /// Parse and check a template for an environment: known placeholders only, `{version}`
    /// only in production (a staging deploy has no release), at least one placeholder that
    /// names the commit or release, none directly after another, and an expansion Coolify
    /// accepts as a tag.
    ///
    /// # Errors
    ///
    /// What is wrong and how to write it instead.
    pub fn parse(text: &str, environment: EnvironmentName) -> Result<Self, String> {
        let mut segments = Vec::new();
        let mut rest = text;
        while !rest.is_empty() {
            match rest.find('{') {
                Some(0) => {
                    let end = rest.find('}').ok_or_else(|| {
                        format!("`{text}` opens a placeholder with `{{` and never closes it; write e.g. sha-{{commit}}")
                    })?;
                    let name = &rest[1..end];
                    let placeholder = match name {
                        "commit" => Placeholder::Commit,
                        "short_commit" => Placeholder::ShortCommit,
                        "version" => Placeholder::Version,
                        other => {
                            return Err(format!(
                                "`{text}` has the unknown placeholder `{{{other}}}`; the known ones are {{commit}}, {{short_commit}} and {{version}}"
                            ));
                        }
                    };
                    if placeholder == Placeholder::Version
                        && environment == EnvironmentName::Staging
                    {
                        return Err(format!(
                            "`{text}` uses `{{version}}`, but a staging deploy (every push to main) has no release; use {{commit}} or {{short_commit}} in staging, e.g. {DEFAULT_TAG_TEMPLATE}"
                        ));
                    }
                    if matches!(segments.last(), Some(Segment::Placeholder(_))) {
                        return Err(format!(
                            "`{text}` puts `{{{name}}}` right after another placeholder, so a tag could not be read back into its parts; put a character such as `-` between them"
                        ));
                    }
                    segments.push(Segment::Placeholder(placeholder));
                    rest = &rest[end + 1..];
                }
                Some(start) => {
                    segments.push(Segment::Literal(rest[..start].to_owned()));
                    rest = &rest[start..];
                }
                None => {
                    segments.push(Segment::Literal(rest.to_owned()));
                    rest = "";
                }
            }
        }
        if let Some(Segment::Literal(literal)) = segments
            .iter()
            .find(|segment| matches!(segment, Segment::Literal(literal) if literal.contains('}')))
        {
            return Err(format!(
                "`{text}` has a `}}` outside a placeholder (in `{literal}`); Docker tags cannot contain braces"
            ));
        }
        if !segments
            .iter()
            .any(|segment| matches!(segment, Segment::Placeholder(_)))
        {
            return Err(format!(
                "`{text}` has no placeholder, so every commit would deploy the same tag; write e.g. {DEFAULT_TAG_TEMPLATE}"
            ));
        }
        let template = Self {
            text: text.to_owned(),
            segments,
        };
        template
            .expand(SAMPLE_COMMIT, Some(SAMPLE_VERSION))
            .map_err(|reason| {
                format!(
                    "`{text}` gives tags Coolify refuses ({reason}); tags are up to 128 letters, digits, `_`, `.` and `-`, not starting with `.` or `-`"
                )
            })?;
        Ok(template)
    }

    /// The template as written.
    #[cfg(test)]
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Whether it uses `{version}`.
    #[cfg(test)]
    pub fn uses_version(&self) -> bool {
        self.segments
            .contains(&Segment::Placeholder(Placeholder::Version))
    }

    /// The tag of `commit` (a full SHA) and, for `{version}`, of the release's version.
    ///
    /// # Errors
    ///
    /// The template needs a version and none was given, or the result is not a tag Coolify
    /// accepts (a version with build metadata, `+`, for instance).
    pub fn expand(&self, commit: &str, version: Option<&str>) -> Result<ImageTag, String> {
        let mut tag = String::new();
        for segment in &self.segments {
            match segment {
                Segment::Literal(literal) => tag.push_str(literal),
                Segment::Placeholder(Placeholder::Commit) => tag.push_str(commit),
                Segment::Placeholder(Placeholder::ShortCommit) => {
                    tag.push_str(crate::repo::short(commit));
                }
                Segment::Placeholder(Placeholder::Version) => match version {
                    Some(version) => tag.push_str(version),
                    None => {
                        return Err(format!(
                            "`{}` needs a release version, and {} has no release tag",
                            self.text,
                            crate::repo::short(commit)
                        ));
                    }
                },
            }
        }
        tag.parse::<ImageTag>().map_err(|error| match error {
            coolify_client::Error::InvalidInput { value, reason, .. } => {
                format!("`{value}`: {reason}")
            }
            other => other.to_string(),
        })
    }

    /// The values of the placeholders in `tag`, when `tag` has this template's shape.
    pub fn captures(&self, tag: &str) -> Option<Vec<(Placeholder, String)>> {
        let mut captured = Vec::new();
        match_segments(&self.segments, tag, &mut captured).then_some(captured)
    }
}

/// Whether `rest` matches `segments`, trying every split where a placeholder ends before a
/// literal (a version such as `1.2.0-rc.1` may contain the literal that follows it).
fn match_segments(
    segments: &[Segment],
    rest: &str,
    captured: &mut Vec<(Placeholder, String)>,
) -> bool {
    let Some((first, others)) = segments.split_first() else {
        return rest.is_empty();
    };
    match first {
        Segment::Literal(literal) => rest
            .strip_prefix(literal.as_str())
            .is_some_and(|rest| match_segments(others, rest, captured)),
        Segment::Placeholder(placeholder) => {
            let ends: Vec<usize> = match others.first() {
                Some(Segment::Literal(next)) => rest
                    .match_indices(next.as_str())
                    .map(|(index, _)| index)
                    .collect(),
                _ => vec![rest.len()],
            };
            for end in ends {
                let value = &rest[..end];
                if !plausible(*placeholder, value) {
                    continue;
                }
                captured.push((*placeholder, value.to_owned()));
                if match_segments(others, &rest[end..], captured) {
                    return true;
                }
                captured.pop();
            }
            false
        }
    }
}

fn plausible(placeholder: Placeholder, value: &str) -> bool {
    let hex = |length: usize| value.len() == length && value.bytes().all(|b| b.is_ascii_hexdigit());
    match placeholder {
        Placeholder::Commit => hex(40),
        Placeholder::ShortCommit => hex(7),
        Placeholder::Version => !value.is_empty(),
    }
}

impl fmt::Display for TagTemplate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl fmt::Display for Placeholder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{{{}}}", self.name())
    }
}

/// Parse `image` as an image name, its error as a sentence.
pub(crate) fn parse_name(text: &str) -> Result<ImageName, String> {
    text.parse::<ImageName>().map_err(|error| match error {
        coolify_client::Error::InvalidInput { value, reason, .. } => format!("`{value}`: {reason}"),
        other => other.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::test_support::{EXAMPLE, TWO_APPS, error, parse};

    const PRODUCTION: EnvironmentName = EnvironmentName::Production;
    const STAGING: EnvironmentName = EnvironmentName::Staging;

    #[test]
    fn the_default_maps_a_commit_to_its_tag_and_back() {
        let template = TagTemplate::parse(DEFAULT_TAG_TEMPLATE, STAGING).unwrap();
        let commit = "4f2a9c1e".repeat(5);
        let tag = template.expand(&commit, None).unwrap();
        assert_eq!(tag.as_str(), format!("sha-{commit}"));
        assert_eq!(
            template.captures(tag.as_str()),
            Some(vec![(Placeholder::Commit, commit.clone())])
        );
        assert_eq!(template.captures("sha-4f2a9c1"), None);
        assert_eq!(template.captures("latest"), None);
    }

    #[test]
    fn versions_and_short_commits_are_read_back() {
        let template = TagTemplate::parse("v{version}-{short_commit}", PRODUCTION).unwrap();
        let commit = "abcdef1".to_owned() + &"0".repeat(33);
        let tag = template.expand(&commit, Some("1.2.0-rc.1")).unwrap();
        assert_eq!(tag.as_str(), "v1.2.0-rc.1-abcdef1");
        assert_eq!(
            template.captures(tag.as_str()),
            Some(vec![
                (Placeholder::Version, "1.2.0-rc.1".to_owned()),
                (Placeholder::ShortCommit, "abcdef1".to_owned())
            ])
        );
        assert!(template.uses_version());
        let message = template.expand(&commit, None).unwrap_err();
        assert!(message.contains("needs a release version"), "{message}");
        let message = template.expand(&commit, Some("1.2.0+build.5")).unwrap_err();
        assert!(message.contains("1.2.0+build.5"), "{message}");
    }

    #[test]
    fn templates_coolify_would_refuse_are_refused_with_the_fix() {
        for (template, environment, expected) in [
            ("{sha}", PRODUCTION, "unknown placeholder `{sha}`"),
            ("sha-{commit", PRODUCTION, "never closes"),
            ("latest", PRODUCTION, "no placeholder"),
            (
                "{version}",
                STAGING,
                "a staging deploy (every push to main) has no release",
            ),
            (
                "{version}{commit}",
                PRODUCTION,
                "right after another placeholder",
            ),
            (".{commit}", PRODUCTION, "gives tags Coolify refuses"),
            ("sha:{commit}", PRODUCTION, "gives tags Coolify refuses"),
            (
                "{commit}-{commit}-{commit}-{commit}",
                PRODUCTION,
                "gives tags Coolify refuses",
            ),
            ("x}{commit}", PRODUCTION, "outside a placeholder"),
        ] {
            let message = TagTemplate::parse(template, environment).unwrap_err();
            assert!(message.contains(expected), "{template}: {message}");
        }
        TagTemplate::parse("{version}", PRODUCTION).unwrap();
        TagTemplate::parse("{short_commit}", STAGING).unwrap();
    }

    #[test]
    fn an_image_name_with_a_tag_says_where_the_tag_goes() {
        let message = parse_name("ghcr.io/acme/api:1.5").unwrap_err();
        assert!(message.contains("image_tag"), "{message}");
        assert_eq!(
            parse_name("ghcr.io/acme/api").unwrap().as_str(),
            "ghcr.io/acme/api"
        );
    }

    #[test]
    fn an_image_app_names_its_image_and_tag_template() {
        let text = EXAMPLE.replace(
            "app = \"production-app-uuid\"\n",
            "app = \"production-app-uuid\"\nimage = \"ghcr.io/acme/api\"\nimage_tag = \"{version}\"\n",
        );
        let text = text.replace(
            "app = \"staging-app-uuid\"\n",
            "app = \"staging-app-uuid\"\nimage = \"ghcr.io/acme/api\"\n",
        );
        let config = parse(&text).unwrap();
        let staging = config.staging.apps[0].image.as_ref().unwrap();
        assert_eq!(staging.name.as_str(), "ghcr.io/acme/api");
        assert_eq!(staging.tag.as_str(), "sha-{commit}");
        let production = config.production.apps[0].image.as_ref().unwrap();
        assert_eq!(production.tag.as_str(), "{version}");
        assert_eq!(parse(EXAMPLE).unwrap().staging.apps[0].image, None);
    }

    #[test]
    fn image_errors_name_the_key_its_line_and_the_fix() {
        let with = |extra: &str| {
            EXAMPLE.replace(
                "app = \"staging-app-uuid\"\n",
                &format!("app = \"staging-app-uuid\"\n{extra}\n"),
            )
        };
        for (extra, expected) in [
            (
                "image = \"ghcr.io/acme/api:1.5\"",
                "line 7: `environments.staging.image`: `ghcr.io/acme/api:1.5`",
            ),
            ("image = \"ghcr.io/acme/api:1.5\"", "image_tag"),
            (
                "image = \"ghcr.io/acme/api\"\nimage_tag = \"{version}\"",
                "line 8: `environments.staging.image_tag`: `{version}` uses `{version}`, but a staging deploy",
            ),
            (
                "image = \"ghcr.io/acme/api\"\nimage_tag = \"{sha}\"",
                "unknown placeholder `{sha}`",
            ),
            (
                "image = \"ghcr.io/acme/api\"\nimage_tag = \"release:{commit}\"",
                "gives tags Coolify refuses",
            ),
            (
                "image = \"ghcr.io/acme/api\"\nimage_tag = \"latest\"",
                "no placeholder",
            ),
            (
                "image_tag = \"sha-{commit}\"",
                "line 7: `environments.staging.image_tag`: is set without `image`",
            ),
        ] {
            let message = error(&with(extra));
            assert!(
                message.contains(expected),
                "{extra}: {expected:?} in {message}"
            );
        }
        let message = error(&TWO_APPS.replace(
            "env = { ENVIRONMENT = \"staging\" }\n",
            "env = { ENVIRONMENT = \"staging\" }\nimage = \"ghcr.io/acme/api\"\n",
        ));
        assert!(
            message.contains("line 7: `environments.staging.image`: is set next to `apps`"),
            "{message}"
        );
        let message = error(&TWO_APPS.replace(
            "name = \"worker\",",
            "name = \"worker\", image = \"ghcr.io/acme/Worker\",",
        ));
        assert!(
            message.contains("line 9: `environments.staging.apps[1].image`"),
            "{message}"
        );
        assert!(message.contains("lowercase"), "{message}");
    }
}
