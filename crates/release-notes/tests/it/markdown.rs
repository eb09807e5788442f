//! Snapshot tests of the rendered Markdown and JSON for fixture repositories.

use release_notes::{RangeStart, ReleaseNotes, read_range};
use tag_policy::TagPolicy;

use crate::fixture::{Fixture, GRACE};

/// A repository exercising every rule: a first release, then a range with all section kinds,
/// breaking notes, a merge, a cancelled revert, a folded fixup and a co-author.
fn release_repository() -> Fixture {
    let mut fx = Fixture::new();
    let first = fx.commit("main", "feat: initial service");
    fx.tag("v1.0.0", first);
    fx.commit(
        "main",
        "feat(api): add /v2/items\n\nServes the new shape.\n",
    );
    fx.commit_as(
        "main",
        GRACE,
        "fix(api): keep the Retry-After header\n\nCo-authored-by: Alan Turing <alan@example.com>\n",
    );
    let doomed = fx.commit("main", "perf: cache everything");
    fx.commit(
        "main",
        &format!("Revert \"perf: cache everything\"\n\nThis reverts commit {doomed}.\n"),
    );
    fx.commit("main", "refactor(core)!: rename Config to Settings");
    fx.commit(
        "main",
        "feat(cli): drop --legacy\n\nBREAKING CHANGE: `--legacy` is gone;\nuse `--mode=v1` instead.\n",
    );
    fx.commit("main", "fixup! feat(cli): drop --legacy");
    let base = fx.tip("main").unwrap();
    fx.repo
        .reference("refs/heads/docs", base, true, "branch")
        .unwrap();
    fx.commit_as("docs", GRACE, "docs: explain <Settings> in the README");
    let docs = fx.commit("docs", "ci: cache cargo");
    fx.merge("main", docs, "Merge pull request #7 from o/docs");
    fx.commit("main", "Tidy up before release");
    fx.commit("main", "chore(deps): bump serde");
    fx.commit("main", "security: rotate keys");
    let release = fx.commit("main", "test: cover the v2 routes");
    fx.tag("v1.1.0", release);
    fx
}

#[test]
fn markdown_of_a_release() {
    let fx = release_repository();
    let range = read_range(
        &fx.repo,
        RangeStart::PreviousRelease,
        "v1.1.0",
        &TagPolicy::default(),
    )
    .unwrap();
    let notes = ReleaseNotes::new(&range)
        .with_repository_url("https://github.com/stagegate/stagegate/".parse().unwrap());
    let expected = "\
## v1.1.0 (2023-11-14)

### Breaking changes

- **core:** rename Config to Settings (`SHA_REFACTOR`, Ada Lovelace)
- **cli:** drop --legacy (`SHA_LEGACY`, Ada Lovelace)
  BREAKING: `--legacy` is gone;
  use `--mode=v1` instead.

### Features

- **api:** add /v2/items (`SHA_ITEMS`, Ada Lovelace)

### Bug fixes

- **api:** keep the Retry-After header (`SHA_FIX`, Grace Hopper)

### Documentation

- explain \\<Settings\\> in the README (`SHA_EXPLAIN`, Grace Hopper)

### Continuous integration

- cache cargo (`SHA_CI`, Ada Lovelace)

### Tests

- cover the v2 routes (`SHA_TEST`, Ada Lovelace)

### Chores

- **deps:** bump serde (`SHA_CHORE`, Ada Lovelace)

### Other changes

- Tidy up before release (`SHA_TIDY`, Ada Lovelace)
- security: rotate keys (`SHA_SECURITY`, Ada Lovelace)

### Contributors

- Ada Lovelace
- Alan Turing
- Grace Hopper

**Full changelog**: https://github.com/stagegate/stagegate/compare/v1.0.0...v1.1.0
";
    assert_eq!(notes.to_markdown(), with_shas(&fx, expected));
    assert_eq!(notes.bump(), Some(tag_policy::Bump::Major));
}

#[test]
fn markdown_of_a_first_release_and_unreleased_head() {
    let mut fx = Fixture::new();
    fx.commit("main", "feat: hello");
    fx.commit("main", "fix: world");
    let range = read_range(
        &fx.repo,
        RangeStart::PreviousRelease,
        "HEAD",
        &TagPolicy::default(),
    )
    .unwrap();
    let head = fx.tip("main").unwrap();
    let unreleased = ReleaseNotes::new(&range)
        .with_repository_url("https://github.com/o/r.git".parse().unwrap());
    let expected = format!(
        "\
## Unreleased (2023-11-14)

### Features

- hello (`SHA_HELLO`, Ada Lovelace)

### Bug fixes

- world (`SHA_WORLD`, Ada Lovelace)

### Contributors

- Ada Lovelace

**Full changelog**: https://github.com/o/r/commits/{head}
"
    );
    assert_eq!(unreleased.to_markdown(), with_shas(&fx, &expected));

    // The release flow names the version before the tag exists.
    let release = unreleased.with_version("v0.1.0");
    assert!(
        release
            .to_markdown()
            .starts_with("## v0.1.0 (2023-11-14)\n")
    );
    assert!(
        release
            .to_markdown()
            .ends_with("**Full changelog**: https://github.com/o/r/commits/v0.1.0\n")
    );
}

#[test]
fn json_of_a_release() {
    let fx = release_repository();
    let range = read_range(
        &fx.repo,
        RangeStart::Ref("v1.0.0"),
        "v1.1.0",
        &TagPolicy::default(),
    )
    .unwrap();
    let notes = ReleaseNotes::new(&range);
    let json: serde_json::Value = serde_json::from_str(&notes.to_json()).unwrap();
    assert_eq!(json["schema_version"], 1);
    assert_eq!(json["version"], "v1.1.0");
    assert_eq!(json["date"], "2023-11-14");
    assert_eq!(json["from"]["name"], "v1.0.0");
    assert_eq!(json["from"]["version"], "1.0.0");
    assert_eq!(json["to"]["version"], "1.1.0");
    assert_eq!(json["bump"], "major");
    assert_eq!(json["compare_url"], serde_json::Value::Null);
    assert_eq!(json["commit_count"], 14);
    let keys: Vec<&str> = json["sections"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["key"].as_str().unwrap())
        .collect();
    assert_eq!(
        keys,
        [
            "breaking",
            "features",
            "bug_fixes",
            "documentation",
            "ci",
            "tests",
            "chores",
            "other"
        ]
    );
    let legacy = &json["sections"][0]["entries"][1];
    assert_eq!(legacy["type"], "feat");
    assert_eq!(legacy["scope"], "cli");
    assert_eq!(legacy["breaking"], true);
    assert_eq!(
        legacy["breaking_note"],
        "`--legacy` is gone;\nuse `--mode=v1` instead."
    );
    assert_eq!(legacy["footers"][0]["token"], "BREAKING CHANGE");
    assert_eq!(legacy["author"]["email"], "ada@example.com");
    let reasons: Vec<&str> = json["omitted"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["reason"].as_str().unwrap())
        .collect();
    assert_eq!(reasons, ["reverted", "revert", "fixup", "merge"]);
    // Every commit of the range is either an entry or omitted, exactly once.
    let entries: usize = json["sections"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["entries"].as_array().unwrap().len())
        .sum();
    assert_eq!(entries + reasons.len(), 14);
    assert!(notes.to_json().ends_with("}\n"));
}

#[test]
fn serialize_gives_the_document_of_to_json() {
    let fx = release_repository();
    let range = read_range(
        &fx.repo,
        RangeStart::Ref("v1.0.0"),
        "v1.1.0",
        &TagPolicy::default(),
    )
    .unwrap();
    let notes =
        ReleaseNotes::new(&range).with_repository_url("https://github.com/o/r".parse().unwrap());
    // Embedded in a larger document, the notes are the versioned document of `to_json`.
    let embedded = serde_json::json!({ "release": "v1.1.0", "notes": &notes });
    let document: serde_json::Value = serde_json::from_str(&notes.to_json()).unwrap();
    assert_eq!(embedded["notes"], document);
    // Byte for byte, fields in the documented order.
    let mut pretty = serde_json::to_string_pretty(&notes).unwrap();
    pretty.push('\n');
    assert_eq!(pretty, notes.to_json());
    let keys: Vec<&str> = document
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    let mut documented = [
        "schema_version",
        "version",
        "date",
        "from",
        "to",
        "bump",
        "compare_url",
        "commit_count",
        "sections",
        "contributors",
        "omitted",
    ];
    // serde_json's map sorts keys unless `preserve_order` is on; compare as sets then check
    // the order in the text itself.
    let mut sorted = keys.clone();
    sorted.sort_unstable();
    documented.sort_unstable();
    assert_eq!(sorted, documented);
    let text = notes.to_json();
    let positions: Vec<usize> = [
        "\"schema_version\"",
        "\"version\"",
        "\"date\"",
        "\"from\"",
        "\"to\"",
        "\"bump\"",
        "\"compare_url\"",
        "\"commit_count\"",
        "\"sections\"",
        "\"contributors\"",
        "\"omitted\"",
    ]
    .iter()
    .map(|key| text.find(key).unwrap())
    .collect();
    assert!(positions.is_sorted(), "{positions:?}");
    assert_eq!(
        document["compare_url"],
        "https://github.com/o/r/compare/v1.0.0...v1.1.0"
    );
    assert_eq!(
        serde_json::to_value(&notes.sections()[0].entries()[0]).unwrap(),
        document["sections"][0]["entries"][0]
    );
}

/// Replaces `SHA_<WORD>` placeholders with the short id of the commit whose summary contains
/// the word (case-insensitive), so that snapshots read well and still pin real ids.
fn with_shas(fx: &Fixture, expected: &str) -> String {
    let mut out = String::new();
    let mut rest = expected;
    while let Some(start) = rest.find("SHA_") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 4..];
        let end = after
            .find(|c: char| !c.is_ascii_alphanumeric())
            .unwrap_or(after.len());
        let word = after[..end].to_lowercase();
        out.push_str(&short_id_of(fx, &word));
        rest = &after[end..];
    }
    out.push_str(rest);
    out
}

fn short_id_of(fx: &Fixture, word: &str) -> String {
    let mut walk = fx.repo.revwalk().unwrap();
    for branch in ["main", "docs"] {
        if let Some(tip) = fx.tip(branch) {
            walk.push(tip).unwrap();
        }
    }
    let matches: Vec<String> = walk
        .map(|oid| fx.repo.find_commit(oid.unwrap()).unwrap())
        .filter(|c| {
            let summary = c.summary().unwrap().unwrap_or("").to_lowercase();
            summary.contains(word) && !summary.starts_with("fixup!")
        })
        .map(|c| c.id().to_string()[..7].to_owned())
        .collect();
    assert_eq!(matches.len(), 1, "placeholder {word} matches {matches:?}");
    matches[0].clone()
}
