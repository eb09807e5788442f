//! Property tests: round-trips, precedence order, next versions.

use std::cmp::Ordering;

use proptest::prelude::*;
use semver::Version;
use tag_policy::{Bump, PreId, PrereleaseAdmission, ReleaseTag, TagPolicy, VersionRequest};

fn number() -> impl Strategy<Value = u64> {
    prop_oneof![0..20_u64, any::<u64>()]
}

fn identifier() -> impl Strategy<Value = String> {
    prop_oneof![
        number().prop_map(|n| n.to_string()),
        "[0-9A-Za-z-]{0,4}[A-Za-z-][0-9A-Za-z-]{0,4}",
        Just("alpha".to_owned()),
        Just("rc".to_owned()),
    ]
}

/// A version text, valid semver without build metadata.
fn version_text() -> impl Strategy<Value = String> {
    (
        number(),
        number(),
        number(),
        proptest::collection::vec(identifier(), 0..4),
    )
        .prop_map(|(major, minor, patch, pre)| {
            if pre.is_empty() {
                format!("{major}.{minor}.{patch}")
            } else {
                format!("{major}.{minor}.{patch}-{}", pre.join("."))
            }
        })
}

fn tag() -> impl Strategy<Value = ReleaseTag> {
    version_text().prop_map(|text| format!("v{text}").parse().unwrap())
}

fn small_tag() -> impl Strategy<Value = ReleaseTag> {
    (
        0..5_u64,
        0..5_u64,
        0..5_u64,
        prop::option::of(("alpha|beta|rc", 0..4_u64)),
    )
        .prop_map(|(major, minor, patch, pre)| {
            let pre = pre.map_or(String::new(), |(id, n)| format!("-{id}.{n}"));
            format!("v{major}.{minor}.{patch}{pre}").parse().unwrap()
        })
}

fn bump() -> impl Strategy<Value = Bump> {
    prop_oneof![Just(Bump::Patch), Just(Bump::Minor), Just(Bump::Major)]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn parse_display_round_trip(text in version_text(), prefix in "|v|release-|app/v") {
        let policy = TagPolicy::new(&prefix, PrereleaseAdmission::Refused).unwrap();
        let name = format!("{prefix}{text}");
        let tag = policy.parse(&name).unwrap();
        prop_assert_eq!(tag.to_string(), name.clone());
        prop_assert_eq!(tag.prefix(), prefix.as_str());
        prop_assert_eq!(tag.version_str(), text.as_str());
        prop_assert_eq!(tag.version(), &Version::parse(&text).unwrap());
        prop_assert_eq!(policy.parse(&tag.to_string()).unwrap(), tag.clone());
        prop_assert_eq!(policy.tag_for(tag.version()).unwrap(), tag);
    }

    #[test]
    fn acceptance_agrees_with_the_semver_crate(text in "[0-9a-z.+-]{0,12}|[0-9]{1,3}\\.[0-9]{1,3}\\.[0-9]{1,3}[-+]?[0-9a-z.-]{0,6}") {
        let policy = TagPolicy::new("", PrereleaseAdmission::Refused).unwrap();
        let ours = policy.parse(&text).is_ok();
        let theirs = Version::parse(&text).is_ok_and(|v| v.build.is_empty()) && !text.contains('+');
        prop_assert_eq!(ours, theirs, "{:?}", text);
    }

    #[test]
    fn parsing_never_panics(text in "\\PC{0,24}") {
        let _ = TagPolicy::default().parse(&text);
        let _ = text.parse::<VersionRequest>();
        let _ = text.parse::<PreId>();
        let _ = text.parse::<Bump>();
    }

    #[test]
    fn order_is_semver_precedence(a in tag(), b in tag()) {
        prop_assert_eq!(a.cmp(&b), a.version().cmp_precedence(b.version()));
        prop_assert_eq!(a.cmp(&b), b.cmp(&a).reverse());
        prop_assert_eq!(a.cmp(&b) == Ordering::Equal, a == b);
        prop_assert_eq!(a.partial_cmp(&b), Some(a.cmp(&b)));
    }

    #[test]
    fn order_is_total(mut tags in proptest::collection::vec(small_tag(), 0..24)) {
        tags.sort();
        for (i, a) in tags.iter().enumerate() {
            for b in &tags[i..] {
                prop_assert!(a <= b, "{} <= {}", a, b);
                prop_assert!(a.version().cmp_precedence(b.version()) != Ordering::Greater);
            }
        }
    }

    #[test]
    fn prerelease_sorts_before_its_release(tag in tag()) {
        let mut release = tag.version().clone();
        release.pre = semver::Prerelease::EMPTY;
        let release = TagPolicy::default().tag_for(&release).unwrap();
        if tag.is_prerelease() {
            prop_assert!(tag < release);
        } else {
            prop_assert_eq!(tag, release);
        }
    }

    #[test]
    fn next_version_is_always_greater(
        previous in small_tag(),
        others in proptest::collection::vec(small_tag(), 0..8),
        bump in bump(),
        pre in prop::option::of("alpha|beta|rc"),
    ) {
        let policy = TagPolicy::default();
        let pre: Option<PreId> = pre.map(|id| id.parse().unwrap());
        let mut existing = others;
        existing.push(previous.clone());
        let request = VersionRequest::Bump(bump);
        let result = policy
            .next_release(&request)
            .after(&previous)
            .prerelease(pre.as_ref())
            .existing(&existing)
            .tag();
        match result {
            Ok(next) => {
                prop_assert!(next > previous, "{} > {}", next, previous);
                prop_assert!(existing.iter().all(|t| t.cmp_precedence(&next) != Ordering::Equal));
                prop_assert_eq!(next.is_prerelease(), pre.is_some());
            }
            Err(error) => {
                // Without a pre-release id, a bump can only collide with a tag that exists.
                if pre.is_none() {
                    let is_exists = matches!(error, tag_policy::Error::VersionExists { .. });
                    prop_assert!(is_exists, "{}", error);
                }
            }
        }
    }
}
