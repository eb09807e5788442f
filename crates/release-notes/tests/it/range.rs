//! Reading ranges from git: defaults, merges, hotfixes, bad refs, bad input.

use release_notes::{Error, OmitReason, RangeStart, ReleaseNotes, SectionKind, read_range};
use tag_policy::TagPolicy;

use crate::fixture::{ADA, Fixture};

fn summaries(notes: &ReleaseNotes) -> Vec<(SectionKind, String)> {
    notes
        .sections()
        .iter()
        .flat_map(|section| {
            section.entries().iter().map(move |entry| {
                (
                    section.kind(),
                    entry.commit().message().summary().to_owned(),
                )
            })
        })
        .collect()
}

fn notes(fixture: &Fixture, from: Option<&str>, to: &str) -> ReleaseNotes {
    ReleaseNotes::new(
        &read_range(
            &fixture.repo,
            RangeStart::from_flag(from),
            to,
            &TagPolicy::default(),
        )
        .unwrap(),
    )
}

#[test]
fn first_release_takes_the_whole_history() {
    let mut fx = Fixture::new();
    fx.commit("main", "chore: initial commit");
    fx.commit("main", "feat: first feature");
    let notes = notes(&fx, None, "HEAD");
    assert_eq!(notes.from(), None);
    assert_eq!(notes.commit_count(), 2);
    assert_eq!(notes.version(), None);
}

#[test]
fn default_from_is_the_previous_release_reachable_from_to() {
    let mut fx = Fixture::new();
    let first = fx.commit("main", "feat: one");
    fx.tag("v1.0.0", first);
    let rc = fx.commit("main", "feat: two");
    fx.tag("v1.1.0-rc.1", rc);
    let not_release = fx.commit("main", "fix: three");
    fx.tag("nightly", not_release);
    let release = fx.commit("main", "fix: four");
    fx.tag("v1.1.0", release);
    fx.commit("main", "docs: five");

    // HEAD is past v1.1.0: the range starts there.
    let head = notes(&fx, None, "HEAD");
    assert_eq!(head.from().unwrap().name(), "v1.1.0");
    assert_eq!(head.commit_count(), 1);
    assert_eq!(head.version(), None);

    // A stable release's previous release skips its own tag and pre-releases.
    let v110 = notes(&fx, None, "v1.1.0");
    assert_eq!(v110.from().unwrap().name(), "v1.0.0");
    assert_eq!(v110.version(), Some("v1.1.0"));
    assert_eq!(
        summaries(&v110),
        [
            (SectionKind::Features, "feat: two".to_owned()),
            (SectionKind::BugFixes, "fix: three".to_owned()),
            (SectionKind::BugFixes, "fix: four".to_owned()),
        ]
    );
    assert_eq!(v110.bump(), Some(tag_policy::Bump::Minor));

    // A pre-release's previous release is the release before it, stable or not.
    let rc_notes = notes(&fx, None, "v1.1.0-rc.1");
    assert_eq!(rc_notes.from().unwrap().name(), "v1.0.0");

    // The beginning takes the whole history, whatever the tags.
    let whole = read_range(
        &fx.repo,
        RangeStart::Beginning,
        "HEAD",
        &TagPolicy::default(),
    )
    .unwrap();
    assert_eq!(whole.from(), None);
    assert_eq!(whole.commits().len(), 5);
    assert_eq!(whole.commits()[0].message().summary(), "feat: one");
}

#[test]
fn head_on_a_release_tag_is_named_by_it() {
    let mut fx = Fixture::new();
    let first = fx.commit("main", "feat: one");
    fx.tag("v0.1.0", first);
    let second = fx.commit("main", "feat!: two");
    fx.lightweight_tag("v0.2.0", second);
    let notes = notes(&fx, None, "HEAD");
    assert_eq!(notes.version(), Some("v0.2.0"));
    assert_eq!(notes.from().unwrap().name(), "v0.1.0");
    // Breaking below 1.0.0 is a minor bump.
    assert_eq!(notes.bump(), Some(tag_policy::Bump::Minor));
}

#[test]
fn merges_count_the_merged_work_once() {
    let mut fx = Fixture::new();
    let base = fx.commit("main", "chore: base");
    fx.tag("v1.0.0", base);
    fx.repo
        .reference("refs/heads/topic", base, true, "branch")
        .unwrap();
    fx.commit("topic", "feat(topic): a");
    let topic = fx.commit("topic", "fix(topic): b");
    fx.commit("main", "docs: c");
    let merge = fx.merge("main", topic, "Merge branch 'topic'");
    let notes = notes(&fx, None, "main");
    assert_eq!(notes.commit_count(), 4);
    let all = summaries(&notes);
    assert_eq!(all.len(), 3, "{all:?}");
    assert!(all.iter().all(|(_, summary)| !summary.starts_with("Merge")));
    assert_eq!(notes.omitted().len(), 1);
    assert_eq!(notes.omitted()[0].commit(), merge.to_string());
    assert_eq!(notes.omitted()[0].reason(), &OmitReason::Merge);
    // Moving the range into the notes gives the same notes as copying it.
    let range = read_range(
        &fx.repo,
        RangeStart::PreviousRelease,
        "main",
        &TagPolicy::default(),
    )
    .unwrap();
    assert_eq!(ReleaseNotes::from_range(range), notes);
}

#[test]
fn hotfix_range_on_a_branch() {
    let mut fx = Fixture::new();
    let v1 = fx.commit("main", "feat: one");
    fx.tag("v1.0.0", v1);
    fx.commit("main", "feat: on main after v1.0.0");
    let v11 = fx.commit("main", "feat: more on main");
    fx.tag("v1.1.0", v11);
    fx.repo
        .reference("refs/heads/hotfix", v1, true, "branch")
        .unwrap();
    let fix = fx.commit("hotfix", "fix: urgent");
    fx.tag("v1.0.1", fix);

    let explicit = notes(&fx, Some("v1.0.0"), "v1.0.1");
    assert_eq!(
        summaries(&explicit),
        [(SectionKind::BugFixes, "fix: urgent".to_owned())]
    );
    let default = notes(&fx, None, "v1.0.1");
    assert_eq!(default.from().unwrap().name(), "v1.0.0");
    assert_eq!(default.bump(), Some(tag_policy::Bump::Patch));
    assert_eq!(default.to_markdown(), explicit.to_markdown());
}

#[test]
fn from_that_is_not_an_ancestor_names_the_merge_base() {
    let mut fx = Fixture::new();
    let base = fx.commit("main", "chore: base");
    fx.repo
        .reference("refs/heads/side", base, true, "branch")
        .unwrap();
    fx.commit("side", "feat: side");
    fx.commit("main", "feat: main");
    let error = read_range(
        &fx.repo,
        RangeStart::Ref("side"),
        "main",
        &TagPolicy::default(),
    )
    .unwrap_err();
    match &error {
        Error::NotAncestor {
            from,
            to,
            merge_base,
        } => {
            assert_eq!(from, "side");
            assert_eq!(to, "main");
            assert_eq!(merge_base.as_deref(), Some(base.to_string().as_str()));
        }
        other => panic!("unexpected error {other:?}"),
    }
    let message = error.to_string();
    assert!(
        message.contains("`side` is not an ancestor of `main`"),
        "{message}"
    );
    assert_eq!(
        message,
        format!("`side` is not an ancestor of `main`; they diverged at their merge base {base}")
    );
    // A library error names no command-line flag: the CLI adds its own advice.
    assert!(!message.contains("--"), "{message}");
}

#[test]
fn ancestry_is_decided_by_the_walk_through_merges_and_reversed_ranges() {
    let mut fx = Fixture::new();
    let base = fx.commit("main", "chore: base");
    fx.repo
        .reference("refs/heads/side", base, true, "branch")
        .unwrap();
    let side = fx.commit("side", "feat: side");
    fx.commit("main", "fix: main");
    // `from` reached only through the second parent of a merge.
    fx.merge("main", side, "Merge branch 'side'");
    fx.commit("main", "docs: after");
    let range = read_range(
        &fx.repo,
        RangeStart::Ref("side"),
        "main",
        &TagPolicy::default(),
    )
    .unwrap();
    assert_eq!(range.commits().len(), 3);
    // A reversed range: `from` is a descendant of `to`, the walk is empty.
    let error = read_range(
        &fx.repo,
        RangeStart::Ref("main"),
        "side",
        &TagPolicy::default(),
    )
    .unwrap_err();
    assert!(matches!(error, Error::NotAncestor { .. }), "{error:?}");
    // The same commit at both ends is an empty range, not an error.
    let same = read_range(
        &fx.repo,
        RangeStart::Ref("side"),
        &side.to_string(),
        &TagPolicy::default(),
    )
    .unwrap();
    assert!(same.commits().is_empty());
}

#[test]
fn unknown_refs_are_errors() {
    let mut fx = Fixture::new();
    fx.commit("main", "chore: base");
    for (from, to) in [
        (None, "nope"),
        (Some("v9.9.9"), "HEAD"),
        (None, "HEAD..main"),
        (None, ""),
    ] {
        let error = read_range(
            &fx.repo,
            RangeStart::from_flag(from),
            to,
            &TagPolicy::default(),
        )
        .unwrap_err();
        assert!(matches!(error, Error::UnknownRef { .. }), "{error:?}");
        assert!(error.to_string().starts_with("unknown ref `"), "{error}");
    }
}

#[test]
fn empty_range_renders_no_changes() {
    let mut fx = Fixture::new();
    let tip = fx.commit("main", "feat: one");
    fx.tag("v1.0.0", tip);
    let notes = notes(&fx, Some("v1.0.0"), "HEAD");
    assert!(notes.is_empty());
    assert_eq!(notes.bump(), None);
    assert_eq!(
        notes.to_markdown(),
        "## v1.0.0 (2023-11-14)\n\n_No changes._\n"
    );
}

#[test]
fn empty_repository_head_is_an_unknown_ref() {
    let fx = Fixture::new();
    let error = read_range(
        &fx.repo,
        RangeStart::PreviousRelease,
        "HEAD",
        &TagPolicy::default(),
    )
    .unwrap_err();
    assert!(matches!(error, Error::UnknownRef { .. }), "{error:?}");
}

#[test]
fn invalid_utf8_missing_email_and_enormous_messages() {
    let mut fx = Fixture::new();
    fx.commit_with_parents("main", ("Zo\u{eb}", ""), b"fix: caf\xe9 au lait\n", &[]);
    let parent = fx.tip("main").unwrap();
    let mut huge = b"feat: ".to_vec();
    huge.extend(std::iter::repeat_n(b'x', 2_000_000));
    huge.extend_from_slice(b"\n\n");
    for _ in 0..50_000 {
        huge.extend_from_slice(b"Refs: #1\n");
    }
    fx.commit_with_parents("main", ADA, &huge, &[parent]);
    let notes = notes(&fx, None, "main");
    let markdown = notes.to_markdown();
    assert!(markdown.contains("- caf\u{fffd} au lait ("), "{markdown}");
    assert!(markdown.len() < 4_000, "descriptions are cut in Markdown");
    assert_eq!(notes.contributors()[1].name(), "Zo\u{eb}");
    assert_eq!(notes.contributors()[1].email(), None);
    let json: serde_json::Value = serde_json::from_str(&notes.to_json()).unwrap();
    let features = &json["sections"][0]["entries"][0];
    assert_eq!(features["description"].as_str().unwrap().len(), 2_000_000);
    assert_eq!(features["footers"].as_array().unwrap().len(), 50_000);
}

#[test]
fn same_repository_gives_byte_identical_notes() {
    let build = || {
        let mut fx = Fixture::new();
        let base = fx.commit("main", "chore: base");
        fx.tag("v1.0.0", base);
        fx.commit_as("main", crate::fixture::GRACE, "feat(x): y");
        fx.commit("main", "fix: z\n\nBREAKING CHANGE: w");
        let range = read_range(
            &fx.repo,
            RangeStart::PreviousRelease,
            "HEAD",
            &TagPolicy::default(),
        )
        .unwrap();
        let notes = ReleaseNotes::new(&range)
            .with_repository_url("https://github.com/o/r.git".parse().unwrap());
        (notes.to_markdown(), notes.to_json())
    };
    let first = build();
    for _ in 0..3 {
        assert_eq!(build(), first);
    }
}

/// Removes a commit's loose object, as a shallow clone or a damaged repository lacks it.
fn remove_object(fx: &Fixture, oid: git2::Oid) {
    let hex = oid.to_string();
    let path = fx
        .repo
        .path()
        .join("objects")
        .join(&hex[..2])
        .join(&hex[2..]);
    std::fs::remove_file(path).unwrap();
}

#[test]
fn a_shallow_clone_reads_up_to_its_boundary() {
    let mut fx = Fixture::new();
    let cut = fx.commit("main", "chore: before the boundary");
    let boundary = fx.commit("main", "feat: boundary");
    fx.commit("main", "fix: after");
    remove_object(&fx, cut);
    std::fs::write(fx.repo.path().join("shallow"), format!("{boundary}\n")).unwrap();
    // The boundary's parents are read when the repository is opened.
    let repo = git2::Repository::open(fx.repo.path()).unwrap();
    let range = read_range(&repo, RangeStart::Beginning, "HEAD", &TagPolicy::default()).unwrap();
    let summaries: Vec<&str> = range
        .commits()
        .iter()
        .map(|commit| commit.message().summary())
        .collect();
    assert_eq!(summaries, ["feat: boundary", "fix: after"]);
}

#[test]
fn a_missing_or_malformed_parent_is_a_git_error_naming_it() {
    let mut fx = Fixture::new();
    let lost = fx.commit("main", "chore: lost");
    fx.commit("main", "feat: child of the lost commit");
    remove_object(&fx, lost);
    let error = read_range(
        &fx.repo,
        RangeStart::Beginning,
        "HEAD",
        &TagPolicy::default(),
    )
    .unwrap_err();
    assert!(matches!(error, Error::Git { .. }), "{error:?}");
    let message = error.to_string();
    assert!(message.contains("git fsck"), "{message}");
    // The commit is named by libgit2's own message, the error's source.
    let cause = std::error::Error::source(&error).unwrap().to_string();
    assert!(cause.contains(&lost.to_string()), "{cause}");

    let mut fx = Fixture::new();
    let malformed = fx
        .repo
        .odb()
        .unwrap()
        .write(
            git2::ObjectType::Commit,
            b"tree 0123\nauthor nobody\n\nchore: bad\n",
        )
        .unwrap();
    fx.commit_with_parents(
        "main",
        ADA,
        b"feat: child of a malformed commit\n",
        &[malformed],
    );
    let error = read_range(
        &fx.repo,
        RangeStart::Beginning,
        "HEAD",
        &TagPolicy::default(),
    )
    .unwrap_err();
    assert!(matches!(error, Error::Git { .. }), "{error:?}");
    let cause = std::error::Error::source(&error).unwrap().to_string();
    assert!(cause.contains(&malformed.to_string()), "{cause}");
}
