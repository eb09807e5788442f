//! The text of `deploy.toml` read once into TOML's tree, which keeps the span of every key and
//! value: an error names a key as the user wrote it and the line it is on.
//!
//! A key is found by its path in the tree, so every way TOML has of writing it (a `[table]`
//! header, an inline table, a dotted key, `[[array.of.tables]]`) gives the same path and the
//! line where it is written.

use std::fmt;
use std::ops::Range;
use std::path::Path;

use serde::Deserialize;
use toml::Spanned;
use toml::de::{DeTable, DeValue};

use super::messages::explain;
use crate::exit::BadInput;

/// One step of a [`KeyPath`]: a key of a table or an index of an array.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Step {
    Key(String),
    Index(usize),
}

/// A key of `deploy.toml` from the top of the file, shown as TOML writes it:
/// `environments.staging.apps[1].name`, `environments.staging.env."1ST KEY"`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(super) struct KeyPath(Vec<Step>);

impl KeyPath {
    /// The path of these keys, from the top of the file.
    pub(super) fn of(keys: &[&str]) -> Self {
        Self(keys.iter().map(|&key| Step::Key(key.to_owned())).collect())
    }

    /// The path of `key` in the table at this path.
    pub(super) fn key(&self, key: &str) -> Self {
        let mut steps = self.0.clone();
        steps.push(Step::Key(key.to_owned()));
        Self(steps)
    }

    /// The path of element `index` of the array at this path.
    pub(super) fn index(&self, index: usize) -> Self {
        let mut steps = self.0.clone();
        steps.push(Step::Index(index));
        Self(steps)
    }

    /// The last key of the path (`name` of `environments.staging.apps[1].name`).
    pub(super) fn last_key(&self) -> Option<&str> {
        match self.0.last() {
            Some(Step::Key(key)) => Some(key),
            _ => None,
        }
    }

    /// Whether the path ends at an element of an array.
    pub(super) fn is_array_element(&self) -> bool {
        matches!(self.0.last(), Some(Step::Index(_)))
    }
}

impl fmt::Display for KeyPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (position, step) in self.0.iter().enumerate() {
            match step {
                Step::Index(index) => write!(f, "[{index}]")?,
                Step::Key(key) => {
                    if position > 0 {
                        f.write_str(".")?;
                    }
                    let bare = !key.is_empty()
                        && key
                            .chars()
                            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
                    if bare {
                        f.write_str(key)?;
                    } else {
                        write!(f, "{key:?}")?;
                    }
                }
            }
        }
        Ok(())
    }
}

/// `deploy.toml` as TOML's tree, with the text and the path it was read from.
pub(super) struct Source<'a> {
    text: &'a str,
    path: &'a Path,
    root: Spanned<DeTable<'a>>,
}

impl<'a> Source<'a> {
    /// Parse the text.
    ///
    /// # Errors
    ///
    /// [`BadInput`] for text that is not TOML, naming the line and, when the parser got that
    /// far, the key.
    pub(super) fn parse(text: &'a str, path: &'a Path) -> Result<Self, BadInput> {
        let (root, errors) = DeTable::parse_recoverable(text);
        let source = Self { text, path, root };
        match errors.first() {
            Some(error) => Err(source.describe(error)),
            None => Ok(source),
        }
    }

    /// The file as `T`.
    ///
    /// # Errors
    ///
    /// [`BadInput`] naming the line, the key and the fix for a key `T` does not have, a
    /// missing one, or a value of the wrong type or shape.
    pub(super) fn read<T: Deserialize<'a>>(&self) -> Result<T, BadInput> {
        T::deserialize(toml::de::Deserializer::from(self.root.clone()))
            .map_err(|error| self.describe(&error))
    }

    /// Where the file was read from.
    pub(super) fn path(&self) -> &Path {
        self.path
    }

    /// Whether the file writes `key`.
    pub(super) fn has(&self, key: &KeyPath) -> bool {
        self.span(key).is_some()
    }

    /// The 1-based line `key` is written on (for an array element, the line its element
    /// starts on), if the file writes it.
    pub(super) fn line(&self, key: &KeyPath) -> Option<usize> {
        self.span(key).map(|span| self.line_of(span.start))
    }

    /// `key` and its line, for a message that points at a second key: `` `key` on line 7 ``.
    pub(super) fn mention(&self, key: &KeyPath) -> String {
        match self.line(key) {
            Some(line) => format!("`{key}` on line {line}"),
            None => format!("`{key}`"),
        }
    }

    /// An error on `key`, on the line it is written on.
    pub(super) fn error(&self, key: &KeyPath, message: impl fmt::Display) -> BadInput {
        self.error_on_line(self.line(key), key, message)
    }

    /// An error on `key`, on the line of `at`: for a key the file does not write, the table
    /// it belongs in; for a table, the line of the setting in it (no line when the file does
    /// not write `at` either).
    pub(super) fn error_at(
        &self,
        at: &KeyPath,
        key: &KeyPath,
        message: impl fmt::Display,
    ) -> BadInput {
        self.error_on_line(self.line(at), key, message)
    }

    fn error_on_line(
        &self,
        line: Option<usize>,
        key: &KeyPath,
        message: impl fmt::Display,
    ) -> BadInput {
        let path = self.path.display();
        BadInput(match line {
            Some(line) => format!("{path}, line {line}: `{key}`: {message}"),
            None => format!("{path}: `{key}`: {message}"),
        })
    }

    fn line_of(&self, offset: usize) -> usize {
        self.text[..offset.min(self.text.len())]
            .matches('\n')
            .count()
            + 1
    }

    /// The span of `key`: of the key itself (a table's is in its header), or of the element
    /// for an array index.
    fn span(&self, key: &KeyPath) -> Option<Range<usize>> {
        let mut span = None;
        let mut value: Option<&DeValue<'a>> = None;
        let mut table = Some(self.root.get_ref());
        for step in &key.0 {
            match (step, table, value) {
                (Step::Key(name), Some(current), _) => {
                    let (found_key, found) = current.get_key_value(name.as_str())?;
                    span = Some(found_key.span());
                    value = Some(found.get_ref());
                }
                (Step::Index(index), _, Some(DeValue::Array(items))) => {
                    let found = items.get(*index)?;
                    span = Some(found.span());
                    value = Some(found.get_ref());
                }
                _ => return None,
            }
            table = match value {
                Some(DeValue::Table(inner)) => Some(inner),
                _ => None,
            };
        }
        span
    }

    /// The deepest key whose key or value spans `offset`.
    fn key_at(&self, offset: usize) -> Option<KeyPath> {
        let mut found: Option<KeyPath> = None;
        walk(
            self.root.get_ref(),
            &KeyPath::default(),
            &mut |path, key, value| {
                let spans =
                    key.is_some_and(|key| key.contains(&offset)) || value.span().contains(&offset);
                if spans
                    && found
                        .as_ref()
                        .is_none_or(|deepest| path.0.len() > deepest.0.len())
                {
                    found = Some(path.clone());
                }
            },
        );
        found
    }

    /// The key written at `span` in the `[table]` whose section holds it, when that table
    /// has the key: the first of a key written twice, which the tree keeps.
    fn key_in_enclosing_table(&self, span: Range<usize>) -> Option<KeyPath> {
        let written = self.text.get(span.clone())?.trim_matches(['"', '\'']);
        let mut enclosing: Option<(usize, KeyPath, &DeTable<'a>)> = None;
        walk(
            self.root.get_ref(),
            &KeyPath::default(),
            &mut |path, _, value| {
                let start = value.span().start;
                // A `[table]` or `[[table]]` header; not an inline or a dotted-key table.
                let header = self
                    .text
                    .get(start..)
                    .is_some_and(|text| text.starts_with('['));
                if let DeValue::Table(table) = value.get_ref()
                    && header
                    && start < span.start
                    && enclosing
                        .as_ref()
                        .is_none_or(|(latest, ..)| start > *latest)
                {
                    enclosing = Some((start, path.clone(), table));
                }
            },
        );
        let (_, path, table) = enclosing?;
        table.contains_key(written).then(|| path.key(written))
    }

    /// A TOML or serde error with its line, the key it concerns, and what to write instead.
    fn describe(&self, error: &toml::de::Error) -> BadInput {
        let message = error.message().trim_end();
        // The root table's span is empty: such an error is about the file as a whole.
        let Some(span) = error.span().filter(|span| span.end > 0) else {
            return BadInput(format!(
                "{}: {}",
                self.path.display(),
                explain(message, None)
            ));
        };
        let line = self.line_of(span.start);
        if let Some(key) = self.key_at(span.start) {
            return self.error_on_line(Some(line), &key, explain(message, Some(&key)));
        }
        if let Some(first) = self.key_in_enclosing_table(span) {
            let explained = explain(message, Some(&first));
            return match self.line(&first) {
                Some(first_line) => self.error_on_line(
                    Some(line),
                    &first,
                    format!("{explained} (it is also on line {first_line})"),
                ),
                None => self.error_on_line(Some(line), &first, explained),
            };
        }
        BadInput(format!(
            "{}, line {line}: {}",
            self.path.display(),
            explain(message, None)
        ))
    }
}

/// What [`walk`] calls for each key and element: its path, the span of the key (none for an
/// element) and the value.
type Visit<'v, 't, 'a> = dyn FnMut(&KeyPath, Option<Range<usize>>, &'t Spanned<DeValue<'a>>) + 'v;

/// Every key of the tree and every element of its arrays.
fn walk<'t, 'a>(table: &'t DeTable<'a>, path: &KeyPath, visit: &mut Visit<'_, 't, 'a>) {
    for (key, value) in table.iter() {
        let here = path.key(key.get_ref());
        visit(&here, Some(key.span()), value);
        walk_value(value.get_ref(), &here, visit);
    }
}

fn walk_value<'t, 'a>(value: &'t DeValue<'a>, path: &KeyPath, visit: &mut Visit<'_, 't, 'a>) {
    match value {
        DeValue::Table(table) => walk(table, path, visit),
        DeValue::Array(items) => {
            for (index, item) in items.iter().enumerate() {
                let here = path.index(index);
                visit(&here, None, item);
                walk_value(item.get_ref(), &here, visit);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::test_support::*;

    fn source(text: &str) -> Source<'_> {
        Source::parse(text, Path::new("deploy.toml")).unwrap()
    }

    #[test]
    fn a_key_is_found_however_toml_writes_it() {
        let text =
            "[a]\nb = 1\nc.d = { e = [1, { f = 2 }] }\n\n[[g.h]]\ni = 3\n\n[[g.h]]\n\"j k\" = 4\n";
        let source = source(text);
        for (key, line) in [
            (KeyPath::of(&["a"]), 1),
            (KeyPath::of(&["a", "b"]), 2),
            (KeyPath::of(&["a", "c", "d", "e"]), 3),
            (KeyPath::of(&["a", "c", "d", "e"]).index(1).key("f"), 3),
            (KeyPath::of(&["g", "h"]), 5),
            (KeyPath::of(&["g", "h"]).index(0).key("i"), 6),
            (KeyPath::of(&["g", "h"]).index(1), 8),
            (KeyPath::of(&["g", "h"]).index(1).key("j k"), 9),
        ] {
            assert_eq!(source.line(&key), Some(line), "{key}");
        }
        assert_eq!(source.line(&KeyPath::of(&["a", "x"])), None);
        assert_eq!(source.line(&KeyPath::of(&["a", "b"]).index(0)), None);
        assert_eq!(source.line(&KeyPath::of(&["g", "h"]).index(2)), None);
        assert_eq!(
            KeyPath::of(&["g", "h"]).index(1).key("j k").to_string(),
            "g.h[1].\"j k\""
        );
    }

    #[test]
    fn text_that_is_not_toml_names_its_line_and_key() {
        let message = error(&format!("{EXAMPLE}\n[deploy]\ntimeout = 5m\n"));
        assert!(
            message
                .contains("deploy.toml, line 15: `deploy.timeout`: string values must be quoted"),
            "{message}"
        );
        let message = error(&format!("{EXAMPLE}\n[deploy\n"));
        assert!(message.starts_with("deploy.toml, line 14: "), "{message}");
    }

    #[test]
    fn a_key_written_twice_names_the_second_line() {
        let message = error(&EXAMPLE.replace(
            "health_url = \"https://example.com/healthz\"\n",
            "health_url = \"https://example.com/healthz\"\napp = \"other-app\"\n",
        ));
        assert!(
            message.contains(
                "deploy.toml, line 13: `environments.production.app`: duplicate key; write each key once (it is also on line 11)"
            ),
            "{message}"
        );
    }

    #[test]
    fn unknown_keys_name_the_key_and_line() {
        let message = error(&format!("{EXAMPLE}\n[deploy]\ntimout = \"5m\"\n"));
        assert!(
            message.contains("deploy.toml, line 15: `deploy.timout`: unknown field `timout`"),
            "{message}"
        );
        assert!(message.contains("expected `timeout`"), "{message}");
        let message = error(&format!("{EXAMPLE}\n[deploi]\ntimeout = \"5m\"\n"));
        assert!(
            message.contains("deploy.toml, line 14: `deploi`: unknown field `deploi`"),
            "{message}"
        );
    }

    #[test]
    fn a_missing_key_names_the_table_it_belongs_in() {
        let message = error(&EXAMPLE.replace("url = \"https://coolify.example.com\"\n", ""));
        assert!(
            message.contains("deploy.toml, line 2: `coolify`: missing field `url`; add it"),
            "{message}"
        );
        let message =
            error(&EXAMPLE.replace("[coolify]\nurl = \"https://coolify.example.com\"\n", ""));
        assert!(
            message.starts_with("deploy.toml: missing field `coolify`; add it"),
            "{message}"
        );
        let message = error(&TWO_APPS.replace("app = \"staging-worker\", ", ""));
        assert!(
            message.contains(
                "deploy.toml, line 9: `environments.staging.apps[1]`: missing field `app`"
            ),
            "{message}"
        );
    }
}
