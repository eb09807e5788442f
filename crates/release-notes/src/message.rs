//! Conventional Commits 1.0.0 parsing of one commit message.
//!
//! The parser is total: every string parses, either as a conventional message or as a plain one.
//! It runs in time linear in the length of the message and never allocates more than a copy of it.

use std::fmt;

/// A parsed commit message: the summary line, the optional body and the footers.
///
/// Parsing follows [Conventional Commits 1.0.0](https://www.conventionalcommits.org/en/v1.0.0/):
///
/// - the header is `type(scope)!: description`; scope and `!` are optional, the colon must be
///   followed by one space and a non-empty description;
/// - the type and footer tokens are case-insensitive (the type is kept in lowercase), except
///   `BREAKING CHANGE` and its synonym `BREAKING-CHANGE`, which count only in uppercase;
/// - footers are `Token: value` or `Token #value`, a token uses `-` instead of spaces; the footer
///   section starts at the first paragraph whose first line is a footer, and a footer value runs
///   until the next footer line (so it may span lines);
/// - a message whose header does not follow the grammar is kept as a plain message, never
///   dropped: its [`Message::conventional`] is `None`.
///
/// ```
/// use release_notes::Message;
///
/// let message = Message::parse("Feat(api)!: drop v1\n\nBody.\n\nBREAKING CHANGE: /v1 is gone\nRefs #12\n");
/// let header = message.conventional().unwrap();
/// assert_eq!(header.kind(), "feat");
/// assert_eq!(header.scope(), Some("api"));
/// assert_eq!(message.breaking_note(), Some("/v1 is gone"));
/// assert_eq!(message.footers()[1].to_string(), "Refs #12");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Message {
    summary: String,
    conventional: Option<Header>,
    body: Option<String>,
    footers: Vec<Footer>,
}

/// The `type(scope)!: description` header of a conventional message.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Header {
    kind: String,
    scope: Option<String>,
    bang: bool,
    description: String,
}

/// One footer (git trailer) of a message, such as `Refs #12` or `BREAKING CHANGE: ...`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Footer {
    token: String,
    separator: FooterSeparator,
    value: String,
}

/// How a footer's token is separated from its value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FooterSeparator {
    /// `Token: value`.
    Colon,
    /// `Token #value`.
    Hash,
}

impl Message {
    /// Parses a full commit message (summary line, body, footers).
    ///
    /// Line endings may be `\n` or `\r\n`; trailing whitespace of lines is ignored.
    #[must_use]
    pub fn parse(text: &str) -> Self {
        let mut lines = text.lines().map(|line| line.trim_end());
        // Leading blank lines are not part of the summary (git strips them too).
        let summary = lines.by_ref().find(|line| !line.is_empty()).unwrap_or("");
        let conventional = Header::parse(summary);
        let rest: Vec<&str> = lines.collect();
        let (body, footers) = split_body_and_footers(&rest);
        Self {
            summary: summary.to_owned(),
            conventional,
            body,
            footers,
        }
    }

    /// The first non-empty line of the message, as written.
    #[must_use]
    pub fn summary(&self) -> &str {
        &self.summary
    }

    /// The conventional header, or `None` when the summary does not follow the grammar.
    #[must_use]
    pub fn conventional(&self) -> Option<&Header> {
        self.conventional.as_ref()
    }

    /// The body between the summary and the footers, without surrounding blank lines.
    #[must_use]
    pub fn body(&self) -> Option<&str> {
        self.body.as_deref()
    }

    /// The footers, in message order.
    #[must_use]
    pub fn footers(&self) -> &[Footer] {
        &self.footers
    }

    /// Whether the commit is a breaking change: a `!` in a conventional header, or a
    /// `BREAKING CHANGE`/`BREAKING-CHANGE` footer (uppercase, as the specification requires).
    ///
    /// A breaking footer counts only in a conventional message.
    #[must_use]
    pub fn is_breaking(&self) -> bool {
        self.conventional
            .as_ref()
            .is_some_and(|header| header.bang || self.breaking_footer().is_some())
    }

    /// What breaks: the value of the first breaking footer, else the description of a `!` header.
    #[must_use]
    pub fn breaking_note(&self) -> Option<&str> {
        let header = self.conventional.as_ref()?;
        match self.breaking_footer() {
            Some(footer) => Some(footer.value()),
            None if header.bang => Some(header.description()),
            None => None,
        }
    }

    fn breaking_footer(&self) -> Option<&Footer> {
        self.footers.iter().find(|footer| footer.is_breaking())
    }
}

impl Header {
    /// Parses a summary line as `type(scope)!: description`.
    fn parse(line: &str) -> Option<Self> {
        let colon = line.find(": ")?;
        let (prefix, description) = (&line[..colon], line[colon + 2..].trim());
        if description.is_empty() {
            return None;
        }
        let (prefix, bang) = match prefix.strip_suffix('!') {
            Some(prefix) => (prefix, true),
            None => (prefix, false),
        };
        let (kind, scope) = match prefix.find('(') {
            Some(open) => {
                let scope = prefix[open + 1..].strip_suffix(')')?;
                if scope.trim().is_empty() || scope.contains(['(', ')']) {
                    return None;
                }
                (&prefix[..open], Some(scope.to_owned()))
            }
            None => (prefix, None),
        };
        if kind.is_empty() || !kind.chars().all(is_word_char) {
            return None;
        }
        Some(Self {
            kind: kind.to_lowercase(),
            scope,
            bang,
            description: description.to_owned(),
        })
    }

    /// The type, in lowercase (`feat`, `fix`, ...).
    #[must_use]
    pub fn kind(&self) -> &str {
        &self.kind
    }

    /// The scope between parentheses, as written.
    #[must_use]
    pub fn scope(&self) -> Option<&str> {
        self.scope.as_deref()
    }

    /// Whether the header carries `!` before the colon.
    #[must_use]
    pub fn has_bang(&self) -> bool {
        self.bang
    }

    /// The description after `: `.
    #[must_use]
    pub fn description(&self) -> &str {
        &self.description
    }
}

impl fmt::Display for Header {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.kind)?;
        if let Some(scope) = &self.scope {
            write!(f, "({scope})")?;
        }
        if self.bang {
            f.write_str("!")?;
        }
        write!(f, ": {}", self.description)
    }
}

impl Footer {
    /// The token, as written (`Refs`, `BREAKING CHANGE`, `Co-authored-by`).
    #[must_use]
    pub fn token(&self) -> &str {
        &self.token
    }

    /// The separator between token and value.
    #[must_use]
    pub fn separator(&self) -> FooterSeparator {
        self.separator
    }

    /// The value, possibly spanning several lines.
    #[must_use]
    pub fn value(&self) -> &str {
        &self.value
    }

    /// Whether this is a `BREAKING CHANGE: ` or `BREAKING-CHANGE: ` footer (uppercase only,
    /// colon separator, as the specification requires).
    #[must_use]
    pub fn is_breaking(&self) -> bool {
        self.separator == FooterSeparator::Colon
            && (self.token == "BREAKING CHANGE" || self.token == "BREAKING-CHANGE")
    }

    /// Whether the token equals `token`, ignoring ASCII case.
    #[must_use]
    pub fn is(&self, token: &str) -> bool {
        self.token.eq_ignore_ascii_case(token)
    }

    /// Parses one line as the start of a footer.
    fn parse_line(line: &str) -> Option<Self> {
        let (token, separator, value) = if let Some(value) = line.strip_prefix("BREAKING CHANGE: ")
        {
            ("BREAKING CHANGE", FooterSeparator::Colon, value)
        } else {
            let end = line.find(|c: char| !(is_word_char(c)))?;
            let token = &line[..end];
            let rest = &line[end..];
            if token.is_empty() {
                return None;
            }
            if let Some(value) = rest.strip_prefix(": ") {
                (token, FooterSeparator::Colon, value)
            } else if let Some(value) = rest.strip_prefix(" #") {
                (token, FooterSeparator::Hash, value)
            } else {
                return None;
            }
        };
        Some(Self {
            token: token.to_owned(),
            separator,
            value: value.trim().to_owned(),
        })
    }
}

impl fmt::Display for Footer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.separator {
            FooterSeparator::Colon => write!(f, "{}: {}", self.token, self.value),
            FooterSeparator::Hash => write!(f, "{} #{}", self.token, self.value),
        }
    }
}

impl FooterSeparator {
    /// The separator as written: `": "` or `" #"`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Colon => ": ",
            Self::Hash => " #",
        }
    }
}

/// Characters of a type or footer token: letters, digits, `-` and `_`.
fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || c == '-' || c == '_'
}

/// Splits the lines after the summary into the body and the footers.
fn split_body_and_footers(lines: &[&str]) -> (Option<String>, Vec<Footer>) {
    // The footer section starts at the first paragraph whose first line is a footer.
    let footer_start = (0..lines.len()).find(|&index| {
        let starts_paragraph = index == 0 || lines[index - 1].is_empty();
        starts_paragraph && Footer::parse_line(lines[index]).is_some()
    });
    let body_lines = &lines[..footer_start.unwrap_or(lines.len())];
    let body = join_trimmed(body_lines);

    let mut footers: Vec<Footer> = Vec::new();
    if let Some(start) = footer_start {
        let mut continuation: Vec<&str> = Vec::new();
        for line in &lines[start..] {
            if let Some(footer) = Footer::parse_line(line) {
                flush_continuation(&mut footers, &mut continuation);
                footers.push(footer);
            } else {
                continuation.push(line);
            }
        }
        flush_continuation(&mut footers, &mut continuation);
    }
    (body, footers)
}

/// Appends the collected continuation lines to the value of the last footer.
fn flush_continuation(footers: &mut [Footer], continuation: &mut Vec<&str>) {
    if let (Some(footer), Some(extra)) = (footers.last_mut(), join_trimmed(continuation)) {
        if footer.value.is_empty() {
            footer.value = extra;
        } else {
            footer.value.push('\n');
            footer.value.push_str(&extra);
        }
    }
    continuation.clear();
}

/// Joins lines with `\n`, dropping leading and trailing blank lines; `None` when nothing is left.
fn join_trimmed(lines: &[&str]) -> Option<String> {
    let first = lines.iter().position(|line| !line.is_empty())?;
    let last = lines.iter().rposition(|line| !line.is_empty())?;
    Some(lines[first..=last].join("\n"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(text: &str) -> Option<Header> {
        Message::parse(text).conventional().cloned()
    }

    /// Kind, scope, bang and description of a header.
    type Parts<'a> = (&'a str, Option<&'a str>, bool, &'a str);

    #[test]
    fn header_grammar() {
        let cases: &[(&str, Option<Parts<'_>>)] = &[
            ("feat: add x", Some(("feat", None, false, "add x"))),
            (
                "fix(parser): handle y",
                Some(("fix", Some("parser"), false, "handle y")),
            ),
            (
                "refactor(api)!: drop z",
                Some(("refactor", Some("api"), true, "drop z")),
            ),
            (
                "chore!: bump msrv",
                Some(("chore", None, true, "bump msrv")),
            ),
            ("FEAT: shout", Some(("feat", None, false, "shout"))),
            (
                "Fix(Core): mixed",
                Some(("fix", Some("Core"), false, "mixed")),
            ),
            (
                "feat(api, cli): two",
                Some(("feat", Some("api, cli"), false, "two")),
            ),
            (
                "my-type_2: custom",
                Some(("my-type_2", None, false, "custom")),
            ),
            ("feat:no space", None),
            ("feat : space before", None),
            ("feat: ", None),
            ("feat:", None),
            ("feat(): empty scope", None),
            ("feat(a)(b): nested", None),
            ("feat(a: unclosed", None),
            ("feat x: two words", None),
            (": no type", None),
            ("!: bang only", None),
            ("Update README", None),
            ("Merge branch 'main' into x", None),
            ("fixup! feat: x", None),
        ];
        for (text, expected) in cases {
            let got = header(text);
            let got = got
                .as_ref()
                .map(|h| (h.kind(), h.scope(), h.has_bang(), h.description()));
            assert_eq!(got, *expected, "header of {text:?}");
        }
    }

    #[test]
    fn body_and_footers() {
        let message = Message::parse(
            "fix: x\n\nFirst paragraph.\nStill first.\n\nSecond paragraph.\n\n\
             Reviewed-by: Z\nRefs #133\nBREAKING CHANGE: old flag removed\n  use --new instead\n",
        );
        assert_eq!(
            message.body(),
            Some("First paragraph.\nStill first.\n\nSecond paragraph.")
        );
        let footers: Vec<String> = message.footers().iter().map(ToString::to_string).collect();
        assert_eq!(
            footers,
            [
                "Reviewed-by: Z",
                "Refs #133",
                "BREAKING CHANGE: old flag removed\n  use --new instead"
            ]
        );
        assert_eq!(message.footers()[1].value(), "133");
        assert_eq!(message.footers()[1].separator(), FooterSeparator::Hash);
        assert!(message.is_breaking());
        assert_eq!(
            message.breaking_note(),
            Some("old flag removed\n  use --new instead")
        );
    }

    #[test]
    fn footers_without_body_and_crlf() {
        let message = Message::parse("feat: x\r\n\r\nBREAKING-CHANGE: y\r\n");
        assert_eq!(message.body(), None);
        assert_eq!(message.footers().len(), 1);
        assert!(message.footers()[0].is_breaking());
        assert_eq!(message.breaking_note(), Some("y"));
    }

    #[test]
    fn breaking_footer_must_be_uppercase() {
        let lower = Message::parse("feat: x\n\nbreaking-change: y\n");
        assert!(!lower.is_breaking());
        assert_eq!(lower.footers()[0].token(), "breaking-change");
        let spaced_lower = Message::parse("feat: x\n\nbreaking change: y\n");
        assert!(!spaced_lower.is_breaking());
        assert!(spaced_lower.footers().is_empty());
        assert_eq!(spaced_lower.body(), Some("breaking change: y"));
    }

    #[test]
    fn bang_uses_description_as_note() {
        let message = Message::parse("feat(api)!: remove v1\n");
        assert!(message.is_breaking());
        assert_eq!(message.breaking_note(), Some("remove v1"));
    }

    #[test]
    fn footer_only_counts_when_it_starts_a_paragraph() {
        let message = Message::parse("fix: x\n\nA sentence\nNote: inside the paragraph\n");
        assert!(message.footers().is_empty());
        assert_eq!(
            message.body(),
            Some("A sentence\nNote: inside the paragraph")
        );
    }

    #[test]
    fn breaking_footer_on_plain_message_is_not_breaking() {
        let message = Message::parse("Update things\n\nBREAKING CHANGE: nope\n");
        assert!(message.conventional().is_none());
        assert!(!message.is_breaking());
        assert_eq!(message.footers().len(), 1);
    }

    #[test]
    fn empty_and_blank_messages() {
        for text in ["", "\n\n", "   \n"] {
            let message = Message::parse(text);
            assert_eq!(message.summary(), "");
            assert!(message.conventional().is_none());
        }
        assert_eq!(Message::parse("\n\nfeat: late\n").summary(), "feat: late");
    }

    #[test]
    fn header_display_round_trips() {
        for text in ["feat: a", "fix(x)!: b c", "docs(readme): d"] {
            assert_eq!(header(text).map(|h| h.to_string()).as_deref(), Some(text));
        }
    }
}
