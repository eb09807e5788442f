//! Markdown and JSON rendering of [`ReleaseNotes`].

use std::fmt::Write as _;

use serde::{Serialize, Serializer};
use tag_policy::Bump;

use crate::commit::{Date, Person};
use crate::message::FooterSeparator;
use crate::notes::{Endpoint, Entry, OmitReason, Omitted, ReleaseNotes, Section, SectionKind};

/// The version of the JSON schema written by [`ReleaseNotes::to_json`].
pub const JSON_SCHEMA_VERSION: u32 = 1;

/// Descriptions longer than this many characters are cut in Markdown (JSON keeps them whole).
const MAX_DESCRIPTION_CHARS: usize = 500;

impl ReleaseNotes {
    /// Renders the notes as Markdown, the text of a tag message, a GitHub release and a step
    /// summary:
    ///
    /// ```text
    /// ## v1.4.0 (2024-05-01)
    ///
    /// ### Breaking changes
    ///
    /// - **api:** drop the v1 routes (`1a2b3c4`, Ada Lovelace)
    ///   BREAKING: /v1 is gone, use /v2
    ///
    /// ### Features
    ///
    /// - add `--json` (`5d6e7f8`, Grace Hopper)
    ///
    /// ### Contributors
    ///
    /// - Ada Lovelace
    /// - Grace Hopper
    ///
    /// **Full changelog**: https://github.com/o/r/compare/v1.3.0...v1.4.0
    /// ```
    ///
    /// Sections come in [`SectionKind::ALL`] order, entries oldest first. An empty range renders
    /// `_No changes._` under the heading. The output ends with one newline.
    #[must_use]
    pub fn to_markdown(&self) -> String {
        let mut out = String::with_capacity(128 + 96 * self.commit_count);
        let version = self.version.as_deref().unwrap_or("Unreleased");
        let _ = writeln!(out, "## {} ({})", escape(version), self.date());
        if self.sections.is_empty() {
            out.push_str("\n_No changes._\n");
        }
        for section in &self.sections {
            let _ = write!(out, "\n### {}\n\n", section.kind().title());
            for entry in section.entries() {
                write_entry(&mut out, entry, section.kind());
            }
        }
        if !self.contributors.is_empty() {
            out.push_str("\n### Contributors\n\n");
            for person in &self.contributors {
                let _ = writeln!(out, "- {}", escape(person.name()));
            }
        }
        if let Some(url) = self.compare_url() {
            let _ = write!(out, "\n**Full changelog**: {url}\n");
        }
        out
    }

    /// Renders the notes as one JSON document (schema version [`JSON_SCHEMA_VERSION`]),
    /// pretty-printed, ending with a newline.
    ///
    /// The schema is stable: fields are only ever added, never renamed or removed, and a change
    /// of meaning bumps `schema_version`.
    ///
    /// ```text
    /// {
    ///   "schema_version": 1,
    ///   "version": "v1.4.0" | null,           // null: unreleased
    ///   "date": "2024-05-01",                 // committer date of `to`, its own UTC offset
    ///   "from": { "name", "commit", "version" } | null,   // null: first release
    ///   "to":   { "name", "commit", "version" },          // version: semver or null
    ///   "bump": "major" | "minor" | "patch" | null,       // null: nothing to release
    ///   "compare_url": "https://..." | null,
    ///   "commit_count": 12,                   // commits in the range, merges included
    ///   "sections": [ {
    ///     "key": "features",                  // see SectionKind::key, in SectionKind::ALL order
    ///     "title": "Features",
    ///     "entries": [ {
    ///       "commit": "<40 hex>", "short_commit": "<7 hex>",
    ///       "type": "feat" | null, "scope": "api" | null,
    ///       "description": "...", "summary": "<first line>", "body": "..." | null,
    ///       "breaking": false, "breaking_note": "..." | null,
    ///       "author": { "name", "email" | null }, "timestamp": 1714550400,
    ///       "footers": [ { "token", "separator": ": " | " #", "value" } ]
    ///     } ]
    ///   } ],
    ///   "contributors": [ { "name", "email" | null } ],
    ///   "omitted": [ { "commit", "reason": "merge" | "reverted" | "revert" | "fixup",
    ///                  "related": ["<40 hex>"] } ]
    /// }
    /// ```
    ///
    /// The document is the [`Serialize`] form of the notes, so embedding them in a larger
    /// document (`serde_json::json!({ "notes": notes })`) gives the same object.
    #[must_use]
    pub fn to_json(&self) -> String {
        // Serializing plain structs of strings and numbers into a `String` cannot fail.
        let mut text = serde_json::to_string_pretty(self).unwrap_or_default();
        text.push('\n');
        text
    }
}

/// The JSON document of [`ReleaseNotes::to_json`], `schema_version` included.
impl Serialize for ReleaseNotes {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        JsonNotes {
            schema_version: JSON_SCHEMA_VERSION,
            version: self.version.as_deref(),
            date: self.date(),
            from: self.from.as_ref(),
            to: &self.to,
            bump: self.bump().map(bump_key),
            compare_url: self.compare_url(),
            commit_count: self.commit_count,
            sections: &self.sections,
            contributors: &self.contributors,
            omitted: &self.omitted,
        }
        .serialize(serializer)
    }
}

/// `{ "name", "commit", "version" }`, as in the `from` and `to` of the JSON document.
impl Serialize for Endpoint {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        JsonEndpoint {
            name: self.name(),
            commit: self.commit(),
            version: self.version().map(ToString::to_string),
        }
        .serialize(serializer)
    }
}

/// `{ "key", "title", "entries" }`, as in the `sections` of the JSON document.
impl Serialize for Section {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        JsonSection {
            key: self.kind().key(),
            title: self.kind().title(),
            entries: self.entries(),
        }
        .serialize(serializer)
    }
}

/// One entry of a section of the JSON document.
impl Serialize for Entry {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        JsonEntry::new(self).serialize(serializer)
    }
}

/// `{ "name", "email" }` (email `null` when there is none).
impl Serialize for Person {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        JsonPerson::new(self).serialize(serializer)
    }
}

/// `{ "commit", "reason", "related" }`, as in the `omitted` list of the JSON document.
impl Serialize for Omitted {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        JsonOmitted {
            commit: self.commit(),
            reason: self.reason().key(),
            related: match self.reason() {
                OmitReason::Merge => Vec::new(),
                OmitReason::Reverted { by } => vec![by.as_str()],
                OmitReason::Revert { of } => of.iter().map(String::as_str).collect(),
                OmitReason::Fixup { into } => vec![into.as_str()],
            },
        }
        .serialize(serializer)
    }
}

/// `YYYY-MM-DD`.
impl Serialize for Date {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// The JSON name of a bump level.
pub(crate) fn bump_key(bump: Bump) -> &'static str {
    match bump {
        Bump::Major => "major",
        Bump::Minor => "minor",
        Bump::Patch => "patch",
    }
}

fn write_entry(out: &mut String, entry: &Entry, kind: SectionKind) {
    out.push_str("- ");
    if let Some(scope) = entry.scope().filter(|_| kind != SectionKind::Other) {
        let _ = write!(out, "**{}:** ", escape(scope));
    }
    out.push_str(&escape(&truncate(
        entry.description(),
        MAX_DESCRIPTION_CHARS,
    )));
    let commit = entry.commit();
    let _ = writeln!(
        out,
        " (`{}`, {})",
        commit.short_id(),
        escape(commit.author().name())
    );
    if let Some(note) = entry.breaking_note()
        && note != entry.description()
    {
        let note = truncate(note, MAX_DESCRIPTION_CHARS * 4);
        let mut lines = note.lines();
        if let Some(first) = lines.next() {
            let _ = writeln!(out, "  BREAKING: {}", escape(first.trim()));
        }
        for line in lines.filter(|line| !line.trim().is_empty()) {
            let _ = writeln!(out, "  {}", escape(line.trim()));
        }
    }
}

/// Cuts `text` to at most `max` characters, marking the cut with `…`.
fn truncate(text: &str, max: usize) -> std::borrow::Cow<'_, str> {
    match text.char_indices().nth(max) {
        Some((index, _)) => format!("{}…", &text[..index]).into(),
        None => text.into(),
    }
}

/// Escapes the characters that would turn text into HTML in GitHub Markdown.
fn escape(text: &str) -> std::borrow::Cow<'_, str> {
    if text.contains(['<', '>']) {
        text.replace('<', "\\<").replace('>', "\\>").into()
    } else {
        text.into()
    }
}

#[derive(Serialize)]
struct JsonNotes<'a> {
    schema_version: u32,
    version: Option<&'a str>,
    date: Date,
    from: Option<&'a Endpoint>,
    to: &'a Endpoint,
    bump: Option<&'static str>,
    compare_url: Option<String>,
    commit_count: usize,
    sections: &'a [Section],
    contributors: &'a [Person],
    omitted: &'a [Omitted],
}

#[derive(Serialize)]
struct JsonEndpoint<'a> {
    name: &'a str,
    commit: &'a str,
    version: Option<String>,
}

#[derive(Serialize)]
struct JsonSection<'a> {
    key: &'static str,
    title: &'static str,
    entries: &'a [Entry],
}

#[derive(Serialize)]
struct JsonEntry<'a> {
    commit: &'a str,
    short_commit: &'a str,
    #[serde(rename = "type")]
    kind: Option<&'a str>,
    scope: Option<&'a str>,
    description: &'a str,
    summary: &'a str,
    body: Option<&'a str>,
    breaking: bool,
    breaking_note: Option<&'a str>,
    author: &'a Person,
    timestamp: i64,
    footers: Vec<JsonFooter<'a>>,
}

impl<'a> JsonEntry<'a> {
    fn new(entry: &'a Entry) -> Self {
        let commit = entry.commit();
        let message = commit.message();
        Self {
            commit: commit.id(),
            short_commit: commit.short_id(),
            kind: entry.kind(),
            scope: entry.scope(),
            description: entry.description(),
            summary: message.summary(),
            body: message.body(),
            breaking: message.is_breaking(),
            breaking_note: message.breaking_note(),
            author: commit.author(),
            timestamp: commit.time().seconds(),
            footers: message
                .footers()
                .iter()
                .map(|footer| JsonFooter {
                    token: footer.token(),
                    separator: match footer.separator() {
                        FooterSeparator::Colon => ": ",
                        FooterSeparator::Hash => " #",
                    },
                    value: footer.value(),
                })
                .collect(),
        }
    }
}

#[derive(Serialize)]
struct JsonFooter<'a> {
    token: &'a str,
    separator: &'static str,
    value: &'a str,
}

#[derive(Serialize)]
struct JsonPerson<'a> {
    name: &'a str,
    email: Option<&'a str>,
}

impl<'a> JsonPerson<'a> {
    fn new(person: &'a Person) -> Self {
        Self {
            name: person.name(),
            email: person.email(),
        }
    }
}

#[derive(Serialize)]
struct JsonOmitted<'a> {
    commit: &'a str,
    reason: &'static str,
    related: Vec<&'a str>,
}
