//! In-memory commits: what the notes are built from, whether read from git or made by hand.

use std::fmt;

use crate::message::Message;

/// One commit as the notes see it: id, author, time, parsed message and parent count.
///
/// [`crate::read_range`] builds these from a repository; tests and other tools can build them
/// directly with [`Commit::new`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Commit {
    id: String,
    author: Person,
    time: Timestamp,
    message: Message,
    parent_count: usize,
}

/// A commit author or co-author. The email is `None` when the commit has none.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Person {
    name: String,
    email: Option<String>,
}

/// A point in time as git records it: seconds since the Unix epoch and the author's UTC offset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Timestamp {
    seconds: i64,
    offset_minutes: i32,
}

/// A calendar date (`YYYY-MM-DD` when displayed).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Date {
    year: i64,
    month: u8,
    day: u8,
}

impl Commit {
    /// A commit with one parent, from its full id (hex), author, committer time and raw message.
    #[must_use]
    pub fn new(id: impl Into<String>, author: Person, time: Timestamp, message: &str) -> Self {
        Self {
            id: id.into(),
            author,
            time,
            message: Message::parse(message),
            parent_count: 1,
        }
    }

    /// The same commit with `parent_count` parents (2 or more makes it a merge commit).
    #[must_use]
    pub fn with_parent_count(mut self, parent_count: usize) -> Self {
        self.parent_count = parent_count;
        self
    }

    /// The full commit id.
    #[must_use]
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The first 7 characters of the id.
    #[must_use]
    pub fn short_id(&self) -> &str {
        let end = self
            .id
            .char_indices()
            .nth(7)
            .map_or(self.id.len(), |(index, _)| index);
        &self.id[..end]
    }

    /// The author.
    #[must_use]
    pub fn author(&self) -> &Person {
        &self.author
    }

    /// The committer time.
    #[must_use]
    pub fn time(&self) -> Timestamp {
        self.time
    }

    /// The parsed message.
    #[must_use]
    pub fn message(&self) -> &Message {
        &self.message
    }

    /// How many parents the commit has.
    #[must_use]
    pub fn parent_count(&self) -> usize {
        self.parent_count
    }

    /// Whether the commit has two or more parents.
    #[must_use]
    pub fn is_merge(&self) -> bool {
        self.parent_count > 1
    }
}

impl Person {
    /// A person; an empty or blank email counts as none.
    #[must_use]
    pub fn new(name: impl Into<String>, email: Option<String>) -> Self {
        Self {
            name: name.into(),
            email: email.filter(|email| !email.trim().is_empty()),
        }
    }

    /// Parses a `Name <email>` trailer value, as in `Co-authored-by: Name <email>`.
    #[must_use]
    pub fn parse_trailer(value: &str) -> Option<Self> {
        let value = value.trim();
        let (name, email) = match value.split_once('<') {
            Some((name, rest)) => (name.trim(), rest.strip_suffix('>').map(str::trim)),
            None => (value, None),
        };
        if name.is_empty() {
            return None;
        }
        Some(Self::new(name, email.map(str::to_owned)))
    }

    /// The name.
    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The email, if any.
    #[must_use]
    pub fn email(&self) -> Option<&str> {
        self.email.as_deref()
    }
}

impl fmt::Display for Person {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.email {
            Some(email) => write!(f, "{} <{email}>", self.name),
            None => f.write_str(&self.name),
        }
    }
}

impl Timestamp {
    /// A timestamp from seconds since the Unix epoch and a UTC offset in minutes.
    #[must_use]
    pub fn new(seconds: i64, offset_minutes: i32) -> Self {
        Self {
            seconds,
            offset_minutes,
        }
    }

    /// Seconds since the Unix epoch.
    #[must_use]
    pub fn seconds(self) -> i64 {
        self.seconds
    }

    /// The UTC offset in minutes.
    #[must_use]
    pub fn offset_minutes(self) -> i32 {
        self.offset_minutes
    }

    /// The calendar date in the timestamp's own UTC offset (what `git log --date=short` shows).
    #[must_use]
    pub fn local_date(self) -> Date {
        let local = self
            .seconds
            .saturating_add(i64::from(self.offset_minutes) * 60);
        Date::from_days(local.div_euclid(86_400))
    }
}

impl Date {
    /// The civil date `days` days after 1970-01-01 (proleptic Gregorian calendar).
    fn from_days(days: i64) -> Self {
        // Howard Hinnant's civil_from_days.
        let z = days.saturating_add(719_468);
        let era = z.div_euclid(146_097);
        let doe = z.rem_euclid(146_097);
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = doy - (153 * mp + 2) / 5 + 1;
        let month = if mp < 10 { mp + 3 } else { mp - 9 };
        let year = yoe + era * 400 + i64::from(month <= 2);
        Self {
            year,
            month: u8::try_from(month).unwrap_or(1),
            day: u8::try_from(day).unwrap_or(1),
        }
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        let cases = [
            (0, 0, "1970-01-01"),
            (1_700_000_000, 0, "2023-11-14"),
            (951_782_400, 0, "2000-02-29"),
            (1_709_164_800, 0, "2024-02-29"),
            // 2024-03-01T01:00Z is still Feb 29 in UTC-2.
            (1_709_254_800, -120, "2024-02-29"),
            (1_709_236_800, 600, "2024-03-01"),
            (-1, 0, "1969-12-31"),
        ];
        for (seconds, offset, expected) in cases {
            assert_eq!(
                Timestamp::new(seconds, offset).local_date().to_string(),
                expected,
                "{seconds} {offset}"
            );
        }
        // Extreme values do not panic.
        let _ = Timestamp::new(i64::MAX, i32::MAX).local_date().to_string();
        let _ = Timestamp::new(i64::MIN, i32::MIN).local_date().to_string();
    }

    #[test]
    fn trailer_people() {
        assert_eq!(
            Person::parse_trailer("Ada Lovelace <ada@example.com>"),
            Some(Person::new("Ada Lovelace", Some("ada@example.com".into())))
        );
        assert_eq!(Person::parse_trailer("Bob"), Some(Person::new("Bob", None)));
        assert_eq!(Person::parse_trailer(" <x@y>"), None);
        assert_eq!(Person::new("C", Some(String::new())).email(), None);
    }

    #[test]
    fn short_ids() {
        let commit = Commit::new(
            "0123456789abcdef",
            Person::new("A", None),
            Timestamp::new(0, 0),
            "x",
        );
        assert_eq!(commit.short_id(), "0123456");
        let short = Commit::new("ab", Person::new("A", None), Timestamp::new(0, 0), "x");
        assert_eq!(short.short_id(), "ab");
    }
}
