//! Which release commit a build of stagegate pins its GitHub Action to, and when a build must
//! know one: shared by `build.rs` and the crate's unit tests.

/// The repository stagegate is released from: a build of its release tag is an official one.
pub(crate) const RELEASE_REPOSITORY: &str = "stagegate/stagegate";

/// The release commit of this build, from the environment (`variable` reads one) and the
/// published crate's `.cargo_vcs_info.json`; `Ok(None)` when a build outside a release knows
/// none (its workflows then pin the action by version).
///
/// # Errors
///
/// An official release build (a GitHub Actions run of stagegate's own repository on a tag,
/// or any build with `STAGEGATE_REQUIRE_RELEASE_COMMIT` set) that cannot tell its commit, or
/// one given a value that is not a 40-digit commit: the message says why and what to set.
pub(crate) fn release_commit(
    variable: &dyn Fn(&str) -> Option<String>,
    version: &str,
    vcs_info: Option<&str>,
) -> Result<Option<String>, String> {
    let set = |name: &str| variable(name).filter(|value| !value.is_empty());
    let is_tag = set("GITHUB_REF_TYPE").as_deref() == Some("tag");
    let tag = set("GITHUB_REF_NAME");
    let official = (is_tag && set("GITHUB_REPOSITORY").as_deref() == Some(RELEASE_REPOSITORY))
        || set("STAGEGATE_REQUIRE_RELEASE_COMMIT").is_some();
    let this_release = format!("v{version}");
    if official && is_tag && tag.as_deref() != Some(this_release.as_str()) {
        return Err(format!(
            "this release build runs on the tag {}, but the crate's version is {version}: tag the release {this_release}",
            tag.unwrap_or_default()
        ));
    }
    let commit = set("STAGEGATE_RELEASE_COMMIT")
        .or_else(|| {
            (is_tag && tag.as_deref() == Some(this_release.as_str()))
                .then(|| set("GITHUB_SHA"))
                .flatten()
        })
        .or_else(|| vcs_info.and_then(sha1_of));
    match commit {
        Some(commit) if commit.len() == 40 && commit.chars().all(|c| c.is_ascii_hexdigit()) => {
            Ok(Some(commit.to_ascii_lowercase()))
        }
        Some(commit) if official => Err(format!(
            "`{commit}` is not a 40-digit commit: set STAGEGATE_RELEASE_COMMIT to the commit of {this_release}"
        )),
        Some(_) => Ok(None),
        None if official => Err(format!(
            "an official release build must know the commit of {this_release}, so that the workflows it generates pin stagegate's action by commit: build on the tag (GITHUB_REF_NAME={this_release} and GITHUB_SHA), or set STAGEGATE_RELEASE_COMMIT"
        )),
        None => Ok(None),
    }
}

/// `"sha1": "<hex>"` of `.cargo_vcs_info.json`, without a JSON parser.
fn sha1_of(text: &str) -> Option<String> {
    let after = &text[text.find("\"sha1\"")? + "\"sha1\"".len()..];
    let start = after.find('"')? + 1;
    let rest = &after[start..];
    Some(rest[..rest.find('"')?].to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(pairs: &[(&str, &str)], vcs_info: Option<&str>) -> Result<Option<String>, String> {
        let variable = |name: &str| {
            pairs
                .iter()
                .find(|(key, _)| *key == name)
                .map(|(_, value)| (*value).to_owned())
        };
        release_commit(&variable, "1.2.3", vcs_info)
    }

    const SHA: &str = "0123456789ABCDEF0123456789abcdef01234567";

    #[test]
    fn a_release_build_knows_its_commit_and_fails_without_it() {
        let official = [
            ("GITHUB_REPOSITORY", RELEASE_REPOSITORY),
            ("GITHUB_REF_TYPE", "tag"),
            ("GITHUB_REF_NAME", "v1.2.3"),
        ];
        let mut with_sha = official.to_vec();
        with_sha.push(("GITHUB_SHA", SHA));
        assert_eq!(run(&with_sha, None), Ok(Some(SHA.to_ascii_lowercase())));
        let error = run(&official, None).unwrap_err();
        assert!(error.contains("must know the commit of v1.2.3"), "{error}");
        let error = run(
            &[
                ("GITHUB_REPOSITORY", RELEASE_REPOSITORY),
                ("GITHUB_REF_TYPE", "tag"),
                ("GITHUB_REF_NAME", "v1.2.4"),
                ("GITHUB_SHA", SHA),
            ],
            None,
        )
        .unwrap_err();
        assert!(error.contains("tag the release v1.2.3"), "{error}");
        let error = run(&[("STAGEGATE_REQUIRE_RELEASE_COMMIT", "1")], None).unwrap_err();
        assert!(error.contains("set STAGEGATE_RELEASE_COMMIT"), "{error}");
        let error = run(
            &[
                ("STAGEGATE_REQUIRE_RELEASE_COMMIT", "1"),
                ("STAGEGATE_RELEASE_COMMIT", "v1.2.3"),
            ],
            None,
        )
        .unwrap_err();
        assert!(error.contains("not a 40-digit commit"), "{error}");
    }

    #[test]
    fn other_builds_pin_by_commit_when_they_can_and_by_version_otherwise() {
        // A developer's build, and another project's tag build that compiles stagegate.
        assert_eq!(run(&[], None), Ok(None));
        assert_eq!(
            run(
                &[
                    ("GITHUB_REPOSITORY", "acme/api"),
                    ("GITHUB_REF_TYPE", "tag"),
                    ("GITHUB_REF_NAME", "v0.9.0"),
                    ("GITHUB_SHA", SHA),
                ],
                None
            ),
            Ok(None)
        );
        let vcs_info = format!("{{\n  \"git\": {{\n    \"sha1\": \"{SHA}\"\n  }}\n}}");
        assert_eq!(
            run(&[], Some(&vcs_info)),
            Ok(Some(SHA.to_ascii_lowercase()))
        );
        assert_eq!(run(&[("STAGEGATE_RELEASE_COMMIT", "nope")], None), Ok(None));
    }
}
