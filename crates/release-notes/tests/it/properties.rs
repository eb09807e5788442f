//! Property tests: arbitrary messages never panic and land in exactly one place.

use proptest::prelude::*;
use release_notes::{Commit, CommitRange, Endpoint, Message, Person, ReleaseNotes, Timestamp};

/// Message fragments that steer generation towards the grammar's edges.
fn message() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just("feat".to_owned()),
        Just("FIX".to_owned()),
        Just("(scope)".to_owned()),
        Just("!".to_owned()),
        Just(": ".to_owned()),
        Just("\n".to_owned()),
        Just("\n\n".to_owned()),
        Just("\r\n".to_owned()),
        Just("BREAKING CHANGE: ".to_owned()),
        Just("BREAKING-CHANGE: ".to_owned()),
        Just("Refs #".to_owned()),
        Just("Co-authored-by: X <x@y>".to_owned()),
        Just("fixup! ".to_owned()),
        Just("Revert \"".to_owned()),
        Just("This reverts commit ".to_owned()),
        Just("0000000000000000000000000000000000000001".to_owned()),
        "\\PC{0,12}",
        any::<String>(),
    ];
    prop::collection::vec(piece, 0..12).prop_map(|pieces| pieces.concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn parsing_never_panics_and_is_consistent(text in message()) {
        let message = Message::parse(&text);
        prop_assert!(!message.summary().contains('\n'));
        if let Some(header) = message.conventional() {
            prop_assert!(!header.description().is_empty());
            prop_assert_eq!(header.kind(), header.kind().to_lowercase());
            let reparsed = Message::parse(&header.to_string());
            prop_assert_eq!(reparsed.conventional(), Some(header));
        }
        if message.is_breaking() {
            prop_assert!(message.breaking_note().is_some());
        }
    }

    #[test]
    fn every_commit_lands_in_exactly_one_place(
        messages in prop::collection::vec(message(), 0..24),
        merges in prop::collection::vec(any::<bool>(), 24),
    ) {
        let person = Person::new("P", None);
        let commits: Vec<Commit> = messages
            .iter()
            .enumerate()
            .map(|(index, text)| {
                let id = format!("{:040x}", index + 1);
                let parents = if merges[index] { 2 } else { 1 };
                Commit::new(id, person.clone(), Timestamp::new(0, 0), text)
                    .with_parent_count(parents)
            })
            .collect();
        let to = Endpoint::new("HEAD", format!("{:040x}", commits.len()), Timestamp::new(0, 0).local_date());
        let notes = ReleaseNotes::new(&CommitRange::new(None, to, commits.clone()));
        let mut seen: Vec<&str> = notes
            .sections()
            .iter()
            .flat_map(|section| section.entries().iter().map(|entry| entry.commit().id()))
            .chain(notes.omitted().iter().map(|omitted| omitted.commit()))
            .collect();
        seen.sort_unstable();
        let mut expected: Vec<&str> = commits.iter().map(Commit::id).collect();
        expected.sort_unstable();
        prop_assert_eq!(seen, expected);
        prop_assert_eq!(notes.bump().is_none(), notes.is_empty());
        // Rendering never panics and is deterministic.
        prop_assert_eq!(notes.to_markdown(), notes.clone().to_markdown());
        let json: serde_json::Value = serde_json::from_str(&notes.to_json()).unwrap();
        prop_assert_eq!(json["commit_count"].as_u64(), Some(messages.len() as u64));
    }
}
