//! Listing and querying release tags in fixture repositories.

use git2::Oid;
use tag_policy::{
    Bump, Channels, Error, PrereleaseAdmission, Rejection, Releases, TagKind, TagPolicy,
    VersionRequest, find_release,
};

use crate::fixture::{self, Fixture};

fn names(releases: &Releases) -> Vec<&str> {
    releases.iter().map(|r| r.tag().name()).collect()
}

fn name_of(release: Option<&tag_policy::TaggedRelease>) -> Option<&str> {
    release.map(|r| r.tag().name())
}

#[test]
fn lists_releases_sorted_by_precedence_and_skips_the_rest() {
    let f = fixture::standard();
    let releases = Releases::list(&f.repo, &TagPolicy::default()).unwrap();
    assert_eq!(
        names(&releases),
        [
            "v0.9.0",
            "v1.0.0",
            "v1.0.1",
            "v1.1.0-rc.1",
            "v1.1.0",
            "v1.1.1",
            "v3.0.0"
        ]
    );
}

#[test]
fn annotated_and_lightweight_tags_peel_to_their_commits() {
    let f = fixture::standard();
    let releases = Releases::list(&f.repo, &TagPolicy::default()).unwrap();
    let expect = [
        ("v0.9.0", "c1", TagKind::Lightweight),
        ("v1.0.0", "c2", TagKind::Annotated),
        ("v1.0.1", "h1", TagKind::Annotated),
        ("v1.1.0-rc.1", "c4", TagKind::Lightweight),
        ("v1.1.0", "c5", TagKind::Annotated),
        ("v1.1.1", "c5", TagKind::Annotated),
        ("v3.0.0", "u1", TagKind::Lightweight),
    ];
    for (tag, commit, kind) in expect {
        let release = releases.find(tag).unwrap();
        assert_eq!(release.commit(), f.id(commit), "{tag}");
        assert_eq!(release.kind(), kind, "{tag}");
    }
}

#[test]
fn another_prefix_sees_no_releases_in_the_fixture() {
    let f = fixture::standard();
    let policy = TagPolicy::new("release-", PrereleaseAdmission::Refused).unwrap();
    assert!(Releases::list(&f.repo, &policy).unwrap().is_empty());
}

#[test]
fn empty_repository_has_no_releases() {
    let f = Fixture::new();
    let releases = Releases::list(&f.repo, &TagPolicy::default()).unwrap();
    assert!(releases.is_empty());
    assert!(releases.newest(Channels::All).is_none());
}

#[test]
fn release_tags_of_a_commit() {
    let f = fixture::standard();
    let releases = Releases::list(&f.repo, &TagPolicy::default()).unwrap();
    let at_c5: Vec<&str> = releases
        .at_commit(f.id("c5"))
        .map(|r| r.tag().name())
        .collect();
    assert_eq!(at_c5, ["v1.1.0", "v1.1.1"]);
    assert_eq!(releases.at_commit(f.id("c3")).count(), 0);
    assert_eq!(releases.by_commit()[&f.id("c5")].len(), 2);
}

#[test]
fn nearest_release_is_the_highest_reachable() {
    let f = fixture::standard();
    let releases = Releases::list(&f.repo, &TagPolicy::default()).unwrap();
    let nearest = |commit: &str, channels| {
        name_of(
            releases
                .nearest_reachable(&f.repo, f.id(commit), channels)
                .unwrap(),
        )
    };
    assert_eq!(nearest("c6", Channels::StableOnly), Some("v1.1.1"));
    assert_eq!(nearest("c4", Channels::All), Some("v1.1.0-rc.1"));
    assert_eq!(nearest("c4", Channels::StableOnly), Some("v1.0.0"));
    assert_eq!(nearest("c3", Channels::All), Some("v1.0.0"));
    // A tagged commit is reachable from itself.
    assert_eq!(nearest("c1", Channels::All), Some("v0.9.0"));
    // A tag on an unrelated history is only reachable from there.
    assert_eq!(nearest("u1", Channels::All), Some("v3.0.0"));
    assert_eq!(nearest("u2", Channels::All), None);
}

#[test]
fn hotfix_previous_release_is_its_base_not_the_newest_tag() {
    let f = fixture::standard();
    let releases = Releases::list(&f.repo, &TagPolicy::default()).unwrap();
    let from_hotfix = releases
        .nearest_reachable(&f.repo, f.id("h2"), Channels::StableOnly)
        .unwrap();
    assert_eq!(name_of(from_hotfix), Some("v1.0.1"));

    let v1_0_1 = releases.find("v1.0.1").unwrap();
    let previous = releases
        .previous(&f.repo, v1_0_1, Channels::StableOnly)
        .unwrap();
    assert_eq!(name_of(previous), Some("v1.0.0"));

    // The next hotfix continues the 1.0 line although v1.1.0 exists.
    let policy = TagPolicy::default();
    let patch = VersionRequest::Bump(Bump::Patch);
    let next = policy
        .next_release(&patch)
        .after(from_hotfix.map(|r| r.tag()))
        .existing(releases.tags())
        .tag()
        .unwrap();
    assert_eq!(next.name(), "v1.0.2");
}

#[test]
fn previous_release_of_a_release() {
    let f = fixture::standard();
    let releases = Releases::list(&f.repo, &TagPolicy::default()).unwrap();
    let previous = |tag: &str, channels| {
        name_of(
            releases
                .previous(&f.repo, releases.find(tag).unwrap(), channels)
                .unwrap(),
        )
    };
    // v1.0.1 lives on the hotfix branch, not reachable from v1.1.0.
    assert_eq!(previous("v1.1.0", Channels::StableOnly), Some("v1.0.0"));
    assert_eq!(previous("v1.1.0", Channels::All), Some("v1.1.0-rc.1"));
    // Same commit, lower precedence.
    assert_eq!(previous("v1.1.1", Channels::StableOnly), Some("v1.1.0"));
    assert_eq!(previous("v0.9.0", Channels::All), None);
    assert_eq!(previous("v3.0.0", Channels::All), None);
}

#[test]
fn rollback_target_is_the_newest_older_production_release() {
    let f = fixture::standard();
    let releases = Releases::list(&f.repo, &TagPolicy::default()).unwrap();
    let target = |tag: &str| name_of(releases.rollback_target(&tag.parse().unwrap()));
    assert_eq!(target("v1.1.0"), Some("v1.0.1"));
    assert_eq!(target("v1.1.1"), Some("v1.1.0"));
    assert_eq!(target("v3.0.0"), Some("v1.1.1"));
    // A tag that is not listed still has a rollback target.
    assert_eq!(target("v1.0.5"), Some("v1.0.1"));
    assert_eq!(target("v0.9.0"), None);

    let allowing = TagPolicy::new("v", PrereleaseAdmission::Allowed).unwrap();
    let releases = Releases::list(&f.repo, &allowing).unwrap();
    assert_eq!(
        name_of(releases.rollback_target(&"v1.1.0".parse().unwrap())),
        Some("v1.1.0-rc.1")
    );
}

#[test]
fn next_release_refuses_an_existing_tag() {
    let f = fixture::standard();
    let policy = TagPolicy::default();
    let releases = Releases::list(&f.repo, &policy).unwrap();
    let previous = releases
        .nearest_reachable(&f.repo, f.id("c6"), Channels::StableOnly)
        .unwrap()
        .map(|r| r.tag());
    let exact = "3.0.0".parse().unwrap();
    let error = policy
        .next_release(&exact)
        .after(previous)
        .existing(releases.tags())
        .tag()
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        "`v3.0.0` already exists; choose a version that has not been released"
    );
    let minor = "minor".parse().unwrap();
    let next = policy
        .next_release(&minor)
        .after(previous)
        .existing(releases.tags())
        .tag()
        .unwrap();
    assert_eq!(next.name(), "v1.2.0");
}

#[test]
fn find_release_peels_annotated_and_nested_tags() {
    let f = fixture::standard();
    let policy = TagPolicy::default();
    let release = find_release(&f.repo, &policy, "v1.0.0").unwrap();
    assert_eq!(release.commit(), f.id("c2"));
    assert_eq!(release.kind(), TagKind::Annotated);
    let nested = find_release(&f.repo, &policy, "v1.1.1").unwrap();
    assert_eq!(nested.commit(), f.id("c5"));
    let light = find_release(&f.repo, &policy, "v0.9.0").unwrap();
    assert_eq!(
        (light.commit(), light.kind()),
        (f.id("c1"), TagKind::Lightweight)
    );
}

#[test]
fn find_release_errors_name_the_tag() {
    let f = fixture::standard();
    let policy = TagPolicy::default();

    let missing = find_release(&f.repo, &policy, "v9.9.9").unwrap_err();
    assert!(matches!(missing, Error::TagNotFound { ref tag } if tag == "v9.9.9"));
    assert!(
        missing
            .to_string()
            .starts_with("tag `v9.9.9` does not exist")
    );

    let not_release = find_release(&f.repo, &policy, "latest").unwrap_err();
    assert!(matches!(
        not_release,
        Error::InvalidTag {
            reason: Rejection::MissingPrefix { .. },
            ..
        }
    ));

    let tree = find_release(&f.repo, &policy, "v2.0.0").unwrap_err();
    assert_eq!(
        tree.to_string(),
        "tag `v2.0.0` points at a tree, not a commit; release tags must tag a commit"
    );
}

#[test]
fn unknown_commit_is_a_git_error() {
    let f = fixture::standard();
    let releases = Releases::list(&f.repo, &TagPolicy::default()).unwrap();
    let unknown = Oid::from_str("1234567890123456789012345678901234567890").unwrap();
    let error = releases
        .nearest_reachable(&f.repo, unknown, Channels::All)
        .unwrap_err();
    assert!(matches!(error, Error::Git { .. }), "{error}");
    assert!(
        error
            .to_string()
            .starts_with("git: walking history from 1234567890"),
        "{error}"
    );
}

/// Collects the `tag` field of every event at DEBUG level or above.
#[derive(Default)]
struct TagEvents(std::sync::Mutex<Vec<(tracing::Level, String)>>);

impl tracing::Subscriber for TagEvents {
    fn enabled(&self, _: &tracing::Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, _: &tracing::span::Attributes<'_>) -> tracing::span::Id {
        tracing::span::Id::from_u64(1)
    }
    fn record(&self, _: &tracing::span::Id, _: &tracing::span::Record<'_>) {}
    fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}
    fn event(&self, event: &tracing::Event<'_>) {
        struct TagField(Option<String>);
        impl tracing::field::Visit for TagField {
            fn record_str(&mut self, field: &tracing::field::Field, value: &str) {
                if field.name() == "tag" {
                    self.0 = Some(value.to_owned());
                }
            }
            fn record_debug(&mut self, _: &tracing::field::Field, _: &dyn std::fmt::Debug) {}
        }
        let mut tag = TagField(None);
        event.record(&mut tag);
        if let Some(tag) = tag.0 {
            let level = *event.metadata().level();
            self.0.lock().unwrap().push((level, tag));
        }
    }
    fn enter(&self, _: &tracing::span::Id) {}
    fn exit(&self, _: &tracing::span::Id) {}
}

#[test]
fn skipped_tags_are_reported_in_tracing() {
    let f = fixture::standard();
    let events = std::sync::Arc::new(TagEvents::default());
    tracing::subscriber::with_default(events.clone(), || {
        Releases::list(&f.repo, &TagPolicy::default()).unwrap();
    });
    let mut seen = events.0.lock().unwrap().clone();
    seen.sort();
    let expected = [
        (tracing::Level::WARN, "v2.0.0"),
        (tracing::Level::DEBUG, "latest"),
        (tracing::Level::DEBUG, "release-candidate"),
        (tracing::Level::DEBUG, "v1.2"),
    ];
    let mut expected: Vec<(tracing::Level, String)> = expected
        .iter()
        .map(|(level, tag)| (*level, (*tag).to_owned()))
        .collect();
    expected.sort();
    assert_eq!(seen, expected);
}
