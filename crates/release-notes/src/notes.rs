//! Grouping commits into release notes: sections, reverts, fixups, contributors, bump level.

use std::collections::{HashMap, HashSet};

use semver::Version;
use tag_policy::Bump;
use url::Url;

use crate::commit::{Commit, Date, Person};
use crate::message::Message;

/// The sections of the notes, in the fixed order they are rendered in.
///
/// Every commit of a range lands in exactly one section or is listed in
/// [`ReleaseNotes::omitted`] with the reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum SectionKind {
    /// Conventional commits marked breaking (`!` or a `BREAKING CHANGE` footer), whatever the type.
    Breaking,
    /// `feat`.
    Features,
    /// `fix`.
    BugFixes,
    /// `perf`.
    Performance,
    /// `revert`, and `Revert "..."` commits whose reverted commit is not in the range.
    Reverts,
    /// `docs`.
    Documentation,
    /// `refactor`.
    Refactoring,
    /// `build` and `deps`.
    Build,
    /// `ci`.
    ContinuousIntegration,
    /// `test`.
    Tests,
    /// `chore`.
    Chores,
    /// `style`.
    Style,
    /// Non-conventional commits, unknown types, and fixups whose target is not in the range.
    Other,
}

impl SectionKind {
    /// All sections in rendering order.
    pub const ALL: [Self; 13] = [
        Self::Breaking,
        Self::Features,
        Self::BugFixes,
        Self::Performance,
        Self::Reverts,
        Self::Documentation,
        Self::Refactoring,
        Self::Build,
        Self::ContinuousIntegration,
        Self::Tests,
        Self::Chores,
        Self::Style,
        Self::Other,
    ];

    /// The heading shown in Markdown (`Bug fixes`).
    #[must_use]
    pub fn title(self) -> &'static str {
        match self {
            Self::Breaking => "Breaking changes",
            Self::Features => "Features",
            Self::BugFixes => "Bug fixes",
            Self::Performance => "Performance",
            Self::Reverts => "Reverts",
            Self::Documentation => "Documentation",
            Self::Refactoring => "Refactoring",
            Self::Build => "Build",
            Self::ContinuousIntegration => "Continuous integration",
            Self::Tests => "Tests",
            Self::Chores => "Chores",
            Self::Style => "Style",
            Self::Other => "Other changes",
        }
    }

    /// The stable key used in JSON (`bug_fixes`).
    #[must_use]
    pub fn key(self) -> &'static str {
        match self {
            Self::Breaking => "breaking",
            Self::Features => "features",
            Self::BugFixes => "bug_fixes",
            Self::Performance => "performance",
            Self::Reverts => "reverts",
            Self::Documentation => "documentation",
            Self::Refactoring => "refactoring",
            Self::Build => "build",
            Self::ContinuousIntegration => "ci",
            Self::Tests => "tests",
            Self::Chores => "chores",
            Self::Style => "style",
            Self::Other => "other",
        }
    }

    /// The section of a parsed message (fixups and reverts are resolved before this).
    fn of(message: &Message) -> Self {
        let Some(header) = message.conventional() else {
            return if git_revert_target_summary(message.summary()).is_some() {
                Self::Reverts
            } else {
                Self::Other
            };
        };
        if message.is_breaking() {
            return Self::Breaking;
        }
        match header.kind() {
            "feat" => Self::Features,
            "fix" => Self::BugFixes,
            "perf" => Self::Performance,
            "revert" => Self::Reverts,
            "docs" | "doc" => Self::Documentation,
            "refactor" => Self::Refactoring,
            "build" | "deps" => Self::Build,
            "ci" => Self::ContinuousIntegration,
            "test" | "tests" => Self::Tests,
            "chore" => Self::Chores,
            "style" => Self::Style,
            _ => Self::Other,
        }
    }

    /// Whether entries of this section show the conventional description (rather than the
    /// whole summary line).
    fn shows_description(self) -> bool {
        !matches!(self, Self::Other)
    }
}

/// One line of the notes: a commit and how it reads.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Entry {
    commit: Commit,
    description: String,
}

impl Entry {
    /// The commit behind the entry.
    #[must_use]
    pub fn commit(&self) -> &Commit {
        &self.commit
    }

    /// What the entry says: the conventional description, or the summary line for other changes.
    #[must_use]
    pub fn description(&self) -> &str {
        &self.description
    }

    /// The conventional scope, if any.
    #[must_use]
    pub fn scope(&self) -> Option<&str> {
        self.commit.message().conventional().and_then(|h| h.scope())
    }

    /// The conventional type, if the commit is conventional.
    #[must_use]
    pub fn kind(&self) -> Option<&str> {
        self.commit.message().conventional().map(|h| h.kind())
    }

    /// What breaks, for a breaking entry.
    #[must_use]
    pub fn breaking_note(&self) -> Option<&str> {
        self.commit.message().breaking_note()
    }
}

/// A non-empty section with its entries, oldest commit first.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Section {
    kind: SectionKind,
    entries: Vec<Entry>,
}

impl Section {
    /// Which section this is.
    #[must_use]
    pub fn kind(&self) -> SectionKind {
        self.kind
    }

    /// The entries, oldest commit first.
    #[must_use]
    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }
}

/// A commit of the range that has no entry, and why.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Omitted {
    commit: String,
    reason: OmitReason,
}

/// Why a commit of the range has no entry of its own.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum OmitReason {
    /// A merge commit: the merged commits have their own entries.
    Merge,
    /// Reverted by a later commit of the same range (the full id of that commit).
    Reverted {
        /// The reverting commit.
        by: String,
    },
    /// A revert whose reverted commits are all in the range; both cancel out.
    Revert {
        /// The reverted commits.
        of: Vec<String>,
    },
    /// A `fixup!`, `squash!` or `amend!` commit folded into its target in the range.
    Fixup {
        /// The commit it was folded into.
        into: String,
    },
}

impl Omitted {
    /// The full id of the omitted commit.
    #[must_use]
    pub fn commit(&self) -> &str {
        &self.commit
    }

    /// Why it is omitted.
    #[must_use]
    pub fn reason(&self) -> &OmitReason {
        &self.reason
    }
}

impl OmitReason {
    /// The stable key used in JSON (`merge`, `reverted`, `revert`, `fixup`).
    #[must_use]
    pub fn key(&self) -> &'static str {
        match self {
            Self::Merge => "merge",
            Self::Reverted { .. } => "reverted",
            Self::Revert { .. } => "revert",
            Self::Fixup { .. } => "fixup",
        }
    }
}

/// One end of a commit range: how it was named and the commit it resolved to.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Endpoint {
    name: String,
    commit: String,
    date: Date,
    version: Option<Version>,
}

impl Endpoint {
    /// An endpoint named `name` (a tag, branch or id) at `commit`, whose commit date is `date`.
    #[must_use]
    pub fn new(name: impl Into<String>, commit: impl Into<String>, date: Date) -> Self {
        Self {
            name: name.into(),
            commit: commit.into(),
            date,
            version: None,
        }
    }

    /// The same endpoint, known to be the release `version` (its name is a release tag).
    #[must_use]
    pub fn with_version(mut self, version: Version) -> Self {
        self.version = Some(version);
        self
    }

    /// The name as shown in the notes: a tag name, the ref as given, or the commit id.
    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The full id of the commit.
    #[must_use]
    pub fn commit(&self) -> &str {
        &self.commit
    }

    /// The committer date of the commit, in its own UTC offset.
    #[must_use]
    pub fn date(&self) -> Date {
        self.date
    }

    /// The release version, when the endpoint is a release tag.
    #[must_use]
    pub fn version(&self) -> Option<&Version> {
        self.version.as_ref()
    }
}

/// The commits between two endpoints, oldest first, as read by [`crate::read_range`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CommitRange {
    from: Option<Endpoint>,
    to: Endpoint,
    commits: Vec<Commit>,
}

impl CommitRange {
    /// The commits reachable from `to` and not from `from`, oldest first (parents before
    /// children). `from` is `None` for a first release, which takes the whole history.
    #[must_use]
    pub fn new(from: Option<Endpoint>, to: Endpoint, commits: Vec<Commit>) -> Self {
        Self { from, to, commits }
    }

    /// The excluded end (the previous release), if any.
    #[must_use]
    pub fn from(&self) -> Option<&Endpoint> {
        self.from.as_ref()
    }

    /// The included end.
    #[must_use]
    pub fn to(&self) -> &Endpoint {
        &self.to
    }

    /// The commits, oldest first.
    #[must_use]
    pub fn commits(&self) -> &[Commit] {
        &self.commits
    }
}

/// Release notes for one range: sections, contributors, omitted commits and the bump level.
///
/// Rendering is deterministic: the same range gives byte-identical Markdown and JSON.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ReleaseNotes {
    pub(crate) from: Option<Endpoint>,
    pub(crate) to: Endpoint,
    pub(crate) version: Option<String>,
    pub(crate) repository_url: Option<Url>,
    pub(crate) sections: Vec<Section>,
    pub(crate) contributors: Vec<Person>,
    pub(crate) omitted: Vec<Omitted>,
    pub(crate) commit_count: usize,
}

impl ReleaseNotes {
    /// Groups the commits of `range` into notes.
    ///
    /// The heading's version is the name of `range.to()` when it is a release tag, else
    /// `Unreleased`; set it with [`ReleaseNotes::with_version`] when cutting a new release.
    ///
    /// This copies the commits into the entries; [`ReleaseNotes::from_range`] moves them, which
    /// is what a caller that has no further use for the range wants on long histories.
    #[must_use]
    pub fn new(range: &CommitRange) -> Self {
        Self::from_range(range.clone())
    }

    /// The notes of `range`, as [`ReleaseNotes::new`], moving its commits into the entries
    /// instead of copying them.
    #[must_use]
    pub fn from_range(range: CommitRange) -> Self {
        let version = range.to.version.as_ref().map(|_| range.to.name.clone());
        let commit_count = range.commits.len();
        let grouped = group(range.commits);
        Self {
            from: range.from,
            to: range.to,
            version,
            repository_url: None,
            sections: grouped.sections,
            contributors: grouped.contributors,
            omitted: grouped.omitted,
            commit_count,
        }
    }

    /// The same notes headed by `version` (such as the tag about to be created, `v1.4.0`).
    /// The compare link then ends at that name too.
    #[must_use]
    pub fn with_version(mut self, version: impl Into<String>) -> Self {
        self.version = Some(version.into());
        self
    }

    /// The same notes with a compare link to `repository_url` (a GitHub-style
    /// `https://host/owner/repo`; a trailing `.git` or `/` is ignored).
    #[must_use]
    pub fn with_repository_url(mut self, repository_url: Url) -> Self {
        self.repository_url = Some(repository_url);
        self
    }

    /// The version in the heading, or `None` for unreleased changes.
    #[must_use]
    pub fn version(&self) -> Option<&str> {
        self.version.as_deref()
    }

    /// The date in the heading: the committer date of the range's `to` commit.
    #[must_use]
    pub fn date(&self) -> Date {
        self.to.date
    }

    /// The excluded end of the range (the previous release), if any.
    #[must_use]
    pub fn from(&self) -> Option<&Endpoint> {
        self.from.as_ref()
    }

    /// The included end of the range.
    #[must_use]
    pub fn to(&self) -> &Endpoint {
        &self.to
    }

    /// The non-empty sections, in [`SectionKind::ALL`] order.
    #[must_use]
    pub fn sections(&self) -> &[Section] {
        &self.sections
    }

    /// Everyone who authored or co-authored (`Co-authored-by`) an entry, sorted by name.
    #[must_use]
    pub fn contributors(&self) -> &[Person] {
        &self.contributors
    }

    /// Commits of the range without an entry (merges, cancelled reverts, folded fixups).
    #[must_use]
    pub fn omitted(&self) -> &[Omitted] {
        &self.omitted
    }

    /// How many commits the range holds, merges included.
    #[must_use]
    pub fn commit_count(&self) -> usize {
        self.commit_count
    }

    /// Whether no entry is left (an empty range, or only merges and cancelled commits).
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.sections.is_empty()
    }

    /// The bump level these notes call for, relative to the range's `from` release; `None` when
    /// there is nothing to release. See [`infer_bump`].
    #[must_use]
    pub fn bump(&self) -> Option<Bump> {
        let previous = self.from.as_ref().and_then(Endpoint::version);
        infer_bump(
            self.sections
                .iter()
                .flat_map(|section| &section.entries)
                .map(|entry| entry.commit.message()),
            previous,
        )
    }

    /// The compare (or commit list) URL, when a repository URL is set.
    #[must_use]
    pub fn compare_url(&self) -> Option<String> {
        let base = self.repository_url.as_ref()?;
        let base = base.as_str().trim_end_matches('/');
        let base = base.strip_suffix(".git").unwrap_or(base);
        let to = self.version.as_deref().unwrap_or(&self.to.commit);
        Some(match &self.from {
            Some(from) => format!("{base}/compare/{}...{to}", from.name),
            None => format!("{base}/commits/{to}"),
        })
    }
}

/// The bump level for a release made of `messages`, after the release `previous`:
/// a breaking change is [`Bump::Major`] (or [`Bump::Minor`] while `previous` is below 1.0.0),
/// a feature is [`Bump::Minor`], anything else [`Bump::Patch`]; `None` when there are no messages.
///
/// ```
/// use release_notes::{infer_bump, Bump, Message};
/// use semver::Version;
///
/// let messages = [Message::parse("fix: a"), Message::parse("feat(api)!: b")];
/// assert_eq!(infer_bump(&messages, Some(&Version::new(1, 2, 3))), Some(Bump::Major));
/// assert_eq!(infer_bump(&messages, Some(&Version::new(0, 4, 0))), Some(Bump::Minor));
/// assert_eq!(infer_bump(&messages[..1], None), Some(Bump::Patch));
/// ```
pub fn infer_bump<'a>(
    messages: impl IntoIterator<Item = &'a Message>,
    previous: Option<&Version>,
) -> Option<Bump> {
    let mut level: Option<u8> = None;
    for message in messages {
        let this = if message.is_breaking() {
            2
        } else if message.conventional().is_some_and(|h| h.kind() == "feat") {
            1
        } else {
            0
        };
        level = Some(level.map_or(this, |level| level.max(this)));
        if this == 2 {
            break;
        }
    }
    let below_one = previous.is_some_and(|version| version.major == 0);
    level.map(|level| match level {
        2 if !below_one => Bump::Major,
        1 | 2 => Bump::Minor,
        _ => Bump::Patch,
    })
}

struct Grouped {
    sections: Vec<Section>,
    contributors: Vec<Person>,
    omitted: Vec<Omitted>,
}

/// Groups commits (oldest first) into sections, resolving merges, reverts and fixups.
fn group(commits: Vec<Commit>) -> Grouped {
    let mut omitted: Vec<Option<OmitReason>> = vec![None; commits.len()];
    for (index, commit) in commits.iter().enumerate() {
        if commit.is_merge() {
            omitted[index] = Some(OmitReason::Merge);
        }
    }
    cancel_reverts(&commits, &mut omitted);
    fold_fixups(&commits, &mut omitted);
    let omitted_list: Vec<Omitted> = commits
        .iter()
        .zip(&omitted)
        .filter_map(|(commit, reason)| {
            reason.clone().map(|reason| Omitted {
                commit: commit.id().to_owned(),
                reason,
            })
        })
        .collect();

    let mut by_section: Vec<Vec<Entry>> = vec![Vec::new(); SectionKind::ALL.len()];
    let mut contributors = Contributors::default();
    for (commit, reason) in commits.into_iter().zip(&omitted) {
        match reason {
            Some(OmitReason::Fixup { .. }) => contributors.add_commit(&commit),
            Some(_) => {}
            None => {
                let message = commit.message();
                let kind = if fixup_target(message.summary()).is_some() {
                    SectionKind::Other
                } else {
                    SectionKind::of(message)
                };
                let description = match message.conventional() {
                    Some(header) if kind.shows_description() => header.description(),
                    _ => message.summary(),
                }
                .to_owned();
                contributors.add_commit(&commit);
                by_section[kind as usize].push(Entry {
                    commit,
                    description,
                });
            }
        }
    }
    let sections = SectionKind::ALL
        .into_iter()
        .zip(by_section)
        .filter(|(_, entries)| !entries.is_empty())
        .map(|(kind, entries)| Section { kind, entries })
        .collect();
    Grouped {
        sections,
        contributors: contributors.into_sorted(),
        omitted: omitted_list,
    }
}

/// Cancels each revert whose reverted commits are all active in the range, together with them.
///
/// Reverts are resolved newest first, so a revert of a revert restores the original commit.
fn cancel_reverts(commits: &[Commit], omitted: &mut [Option<OmitReason>]) {
    let by_id: HashMap<&str, usize> = commits
        .iter()
        .enumerate()
        .map(|(index, commit)| (commit.id(), index))
        .collect();
    let find = |reference: &str| -> Option<usize> {
        if let Some(&index) = by_id.get(reference) {
            return Some(index);
        }
        if reference.len() < 7 {
            return None;
        }
        let mut matches = commits
            .iter()
            .enumerate()
            .filter(|(_, commit)| commit.id().starts_with(reference));
        match (matches.next(), matches.next()) {
            (Some((index, _)), None) => Some(index),
            _ => None,
        }
    };
    for index in (0..commits.len()).rev() {
        if omitted[index].is_some() {
            continue;
        }
        let references = revert_references(commits[index].message());
        if references.is_empty() {
            continue;
        }
        let targets: Option<Vec<usize>> = references
            .iter()
            .map(|reference| find(reference).filter(|&target| target < index))
            .collect();
        let Some(targets) = targets else { continue };
        if targets.iter().any(|&target| omitted[target].is_some()) {
            continue;
        }
        for &target in &targets {
            omitted[target] = Some(OmitReason::Reverted {
                by: commits[index].id().to_owned(),
            });
        }
        omitted[index] = Some(OmitReason::Revert {
            of: targets
                .iter()
                .map(|&target| commits[target].id().to_owned())
                .collect(),
        });
    }
}

/// The commit ids a message reverts: git's `This reverts commit <id>` lines, or the `Refs`
/// footer of a conventional `revert:` commit.
///
/// Only a commit whose subject is a revert (git's `Revert "..."` or a conventional `revert:`)
/// reverts anything: the subject's type decides what a commit is, and a squash-merged
/// `feat: ...` whose body quotes `This reverts commit <id>` (one of the squashed commits was a
/// revert) stays a feature and cancels nothing.
fn revert_references(message: &Message) -> Vec<String> {
    let mut references = Vec::new();
    let is_revert = match message.conventional() {
        Some(header) => header.kind() == "revert",
        None => git_revert_target_summary(message.summary()).is_some(),
    };
    if !is_revert {
        return references;
    }
    if let Some(body) = message.body() {
        for line in body.lines() {
            if let Some(rest) = line.trim().strip_prefix("This reverts commit ") {
                let id: String = rest.chars().take_while(char::is_ascii_hexdigit).collect();
                if id.len() >= 7 {
                    references.push(id.to_ascii_lowercase());
                }
            }
        }
    }
    if references.is_empty() && message.conventional().is_some() {
        for footer in message.footers().iter().filter(|f| f.is("Refs")) {
            for word in footer.value().split([',', ' ', '\n']) {
                let word = word.trim();
                if word.len() >= 7 && word.chars().all(|c| c.is_ascii_hexdigit()) {
                    references.push(word.to_ascii_lowercase());
                }
            }
        }
    }
    references
}

/// The summary inside git's `Revert "<summary>"` subject.
fn git_revert_target_summary(summary: &str) -> Option<&str> {
    summary.strip_prefix("Revert \"")?.strip_suffix('"')
}

/// The summary a `fixup!`, `squash!` or `amend!` subject points at (prefixes may repeat).
fn fixup_target(summary: &str) -> Option<&str> {
    let mut rest = summary;
    let mut found = false;
    loop {
        let stripped = ["fixup! ", "squash! ", "amend! "]
            .iter()
            .find_map(|prefix| rest.strip_prefix(prefix));
        match stripped {
            Some(stripped) => {
                rest = stripped.trim_start();
                found = true;
            }
            None => return found.then_some(rest),
        }
    }
}

/// Folds each active fixup into the active commit of the range with the summary it names.
fn fold_fixups(commits: &[Commit], omitted: &mut [Option<OmitReason>]) {
    let mut by_summary: HashMap<&str, usize> = HashMap::new();
    for (index, commit) in commits.iter().enumerate() {
        let summary = commit.message().summary();
        if omitted[index].is_none() && fixup_target(summary).is_none() {
            by_summary.entry(summary).or_insert(index);
        }
    }
    for index in 0..commits.len() {
        if omitted[index].is_some() {
            continue;
        }
        let Some(target) = fixup_target(commits[index].message().summary()) else {
            continue;
        };
        if let Some(&target) = by_summary.get(target) {
            omitted[index] = Some(OmitReason::Fixup {
                into: commits[target].id().to_owned(),
            });
        }
    }
}

/// Contributors, deduplicated by email (or name when there is no email).
#[derive(Default)]
struct Contributors {
    seen: HashSet<String>,
    people: Vec<Person>,
}

impl Contributors {
    fn add_commit(&mut self, commit: &Commit) {
        self.add(commit.author());
        for footer in commit.message().footers() {
            if footer.is("Co-authored-by")
                && let Some(person) = Person::parse_trailer(footer.value())
            {
                self.add(&person);
            }
        }
    }

    fn add(&mut self, person: &Person) {
        let key = match person.email() {
            Some(email) => email.to_lowercase(),
            None => format!("\0{}", person.name()),
        };
        if self.seen.insert(key) {
            self.people.push(person.clone());
        }
    }

    fn into_sorted(mut self) -> Vec<Person> {
        self.people.sort_by(|a, b| {
            (a.name().to_lowercase(), a.name(), a.email()).cmp(&(
                b.name().to_lowercase(),
                b.name(),
                b.email(),
            ))
        });
        self.people
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commit::Timestamp;

    /// Ids that differ in their first characters, so abbreviations are unambiguous.
    fn id(n: usize) -> String {
        format!("{n:02x}{}", "0".repeat(38))
    }

    fn commits(messages: &[&str]) -> Vec<Commit> {
        messages
            .iter()
            .enumerate()
            .map(|(index, message)| {
                let person = Person::new(format!("P{}", index % 2), None);
                Commit::new(id(index + 1), person, Timestamp::new(0, 0), message)
            })
            .collect()
    }

    /// Section key and summary of every entry, plus the omitted (id number, reason key).
    fn check(messages: &[&str], entries: &[(&str, &str)], omitted: &[(usize, &str)]) {
        let grouped = group(commits(messages));
        let got: Vec<(&str, &str)> = grouped
            .sections
            .iter()
            .flat_map(|s| {
                s.entries
                    .iter()
                    .map(move |e| (s.kind.key(), e.commit.message().summary()))
            })
            .collect();
        assert_eq!(got, entries, "entries of {messages:?}");
        let got: Vec<(usize, &str)> = grouped
            .omitted
            .iter()
            .map(|o| {
                let number = usize::from_str_radix(&o.commit[..2], 16).unwrap_or(0);
                (number, o.reason.key())
            })
            .collect();
        assert_eq!(got, omitted, "omitted of {messages:?}");
    }

    #[test]
    fn git_revert_in_range_cancels_both() {
        let revert = format!("Revert \"feat: a\"\n\nThis reverts commit {}.\n", id(1));
        check(
            &["feat: a", "fix: b", &revert],
            &[("bug_fixes", "fix: b")],
            &[(1, "reverted"), (3, "revert")],
        );
    }

    #[test]
    fn revert_of_a_revert_restores_the_original() {
        let first = format!("Revert \"feat: a\"\n\nThis reverts commit {}.\n", id(1));
        let second = format!(
            "Revert \"Revert \"feat: a\"\"\n\nThis reverts commit {}.\n",
            &id(2)[..12]
        );
        check(
            &["feat: a", &first, &second],
            &[("features", "feat: a")],
            &[(2, "reverted"), (3, "revert")],
        );
    }

    #[test]
    fn a_squashed_feature_quoting_a_revert_stays_a_feature_and_cancels_nothing() {
        let squashed = format!(
            "feat(docker): build arm64 images again\n\n\
             * Revert \"build(docker): drop arm64\"\n\n\
             This reverts commit {}.\n\n\
             * fix the arm64 cache key\n",
            id(1)
        );
        check(
            &["build(docker): drop arm64", &squashed],
            &[
                ("features", "feat(docker): build arm64 images again"),
                ("build", "build(docker): drop arm64"),
            ],
            &[],
        );
        // The same body under a revert subject still links.
        let revert = format!(
            "Revert \"build(docker): drop arm64\"\n\nThis reverts commit {}.\n",
            id(1)
        );
        check(
            &["build(docker): drop arm64", &revert],
            &[],
            &[(1, "reverted"), (2, "revert")],
        );
    }

    #[test]
    fn conventional_revert_with_refs_footer() {
        let revert = format!("revert: undo a and b\n\nRefs: {}, {}\n", id(1), id(2));
        check(
            &["feat: a", "fix: b", &revert],
            &[],
            &[(1, "reverted"), (2, "reverted"), (3, "revert")],
        );
    }

    #[test]
    fn revert_of_something_outside_the_range_is_kept() {
        let revert = format!("Revert \"feat: old\"\n\nThis reverts commit {}.\n", id(99));
        check(
            &["feat: a", &revert, "revert: old thing\n\nRefs: 1234567\n"],
            &[
                ("features", "feat: a"),
                ("reverts", "Revert \"feat: old\""),
                ("reverts", "revert: old thing"),
            ],
            &[],
        );
    }

    #[test]
    fn fixups_fold_into_their_target_or_stay_visible() {
        check(
            &[
                "feat(x): a",
                "fixup! feat(x): a",
                "squash! fixup! feat(x): a",
                "amend! feat(x): a",
                "fixup! feat: released long ago",
            ],
            &[
                ("features", "feat(x): a"),
                ("other", "fixup! feat: released long ago"),
            ],
            &[(2, "fixup"), (3, "fixup"), (4, "fixup")],
        );
    }

    #[test]
    fn sections_follow_the_fixed_order() {
        check(
            &[
                "Plain",
                "style: s",
                "chore: c",
                "test: t",
                "ci: i",
                "build: b",
                "refactor: r",
                "docs: d",
                "revert: v",
                "perf: p",
                "fix: f",
                "feat: e",
                "fix!: x",
                "wip: w",
            ],
            &[
                ("breaking", "fix!: x"),
                ("features", "feat: e"),
                ("bug_fixes", "fix: f"),
                ("performance", "perf: p"),
                ("reverts", "revert: v"),
                ("documentation", "docs: d"),
                ("refactoring", "refactor: r"),
                ("build", "build: b"),
                ("ci", "ci: i"),
                ("tests", "test: t"),
                ("chores", "chore: c"),
                ("style", "style: s"),
                ("other", "Plain"),
                ("other", "wip: w"),
            ],
            &[],
        );
    }

    #[test]
    fn bump_levels() {
        type Case<'a> = (&'a [&'a str], Option<(u64, u64, u64)>, Option<Bump>);
        let cases: &[Case<'_>] = &[
            (&[], Some((1, 0, 0)), None),
            (&["docs: a", "Plain"], Some((1, 0, 0)), Some(Bump::Patch)),
            (&["fix: a", "feat: b"], Some((1, 0, 0)), Some(Bump::Minor)),
            (&["feat: b"], Some((0, 3, 0)), Some(Bump::Minor)),
            (&["fix: a", "chore!: b"], Some((1, 0, 0)), Some(Bump::Major)),
            (
                &["docs: a\n\nBREAKING CHANGE: x"],
                Some((2, 1, 0)),
                Some(Bump::Major),
            ),
            (&["fix!: a"], Some((0, 9, 1)), Some(Bump::Minor)),
            (&["fix!: a"], None, Some(Bump::Major)),
            (
                &["Plain\n\nBREAKING CHANGE: not conventional"],
                None,
                Some(Bump::Patch),
            ),
        ];
        for (texts, previous, expected) in cases {
            let messages: Vec<Message> = texts.iter().map(|text| Message::parse(text)).collect();
            let previous = previous.map(|(a, b, c)| Version::new(a, b, c));
            assert_eq!(
                infer_bump(&messages, previous.as_ref()),
                *expected,
                "{texts:?} after {previous:?}"
            );
        }
    }

    #[test]
    fn contributors_are_deduplicated_and_sorted() {
        let at = Timestamp::new(0, 0);
        let zed = Person::new("zed", Some("Z@example.com".to_owned()));
        let commits = vec![
            Commit::new(
                id(1),
                zed.clone(),
                at,
                "feat: a\n\nCo-authored-by: Amy <amy@x>\n",
            ),
            Commit::new(
                id(2),
                Person::new("Zed Again", Some("z@example.com".to_owned())),
                at,
                "fix: b",
            ),
            Commit::new(id(3), Person::new("bob", None), at, "fix: c"),
            Commit::new(id(4), Person::new("bob", None), at, "fix: d"),
        ];
        let names: Vec<String> = group(commits)
            .contributors
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(names, ["Amy <amy@x>", "bob", "zed <Z@example.com>"]);
    }

    #[test]
    fn compare_urls() {
        let date = Timestamp::new(0, 0).local_date();
        let to = Endpoint::new("HEAD", id(2), date);
        let from = Endpoint::new("v1.0.0", id(1), date);
        let range = CommitRange::new(Some(from), to, Vec::new());
        let url: Url = "https://github.com/o/r.git/"
            .parse()
            .unwrap_or_else(|_| unreachable!());
        let notes = ReleaseNotes::new(&range).with_repository_url(url);
        assert_eq!(
            notes.compare_url().as_deref(),
            Some(format!("https://github.com/o/r/compare/v1.0.0...{}", id(2)).as_str())
        );
        assert_eq!(
            notes.with_version("v1.1.0").compare_url().as_deref(),
            Some("https://github.com/o/r/compare/v1.0.0...v1.1.0")
        );
    }
}
