//! The text of `deploy.toml` and where it was read from, for errors that name a key and its
//! line.

use std::path::Path;

use crate::exit::BadInput;

/// The line of `key = ...` directly in the `[table]` section, if the text has it there.
pub(super) fn key_line_in(text: &str, table: &str, key: &str) -> Option<usize> {
    let lines: Vec<&str> = text.lines().collect();
    let header = lines.iter().position(|line| {
        line.trim()
            .strip_prefix('[')
            .and_then(|rest| rest.strip_suffix(']'))
            .is_some_and(|header| header.trim() == table)
    })?;
    lines[header + 1..]
        .iter()
        .take_while(|line| !line.trim_start().starts_with('['))
        .position(|line| {
            line.trim_start()
                .strip_prefix(key)
                .is_some_and(|rest| rest.trim_start().starts_with('='))
        })
        .map(|offset| header + 2 + offset)
}

/// The 1-based line of a byte offset.
pub(super) fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

/// A load-time error on `key`, with its line when known.
pub(super) fn at_line(path: &Path, line: Option<usize>, key: &str, message: String) -> BadInput {
    match line {
        Some(line) => BadInput(format!(
            "{}, line {line}: `{key}`: {message}",
            path.display()
        )),
        None => BadInput(format!("{}: `{key}`: {message}", path.display())),
    }
}

/// The line of the TOML table `table` (a `[table]` header, or a `key = { ... }` inline table
/// in the parent table) and the line in it that holds `needle`, if any; `None` when the text
/// has no such table.
pub(super) fn line_in_table(
    text: &str,
    table: &str,
    needle: Option<&str>,
) -> Option<(usize, Option<usize>)> {
    let lines: Vec<&str> = text.lines().collect();
    let is_header = |line: &str, name: &str| {
        line.trim()
            .strip_prefix('[')
            .and_then(|rest| rest.strip_suffix(']'))
            .is_some_and(|header| header.trim() == name)
    };
    let table_end = |start: usize| {
        lines[start + 1..]
            .iter()
            .position(|line| line.trim_start().starts_with('['))
            .map_or(lines.len(), |offset| start + 1 + offset)
    };
    let (start, end) = if let Some(start) = lines.iter().position(|line| is_header(line, table)) {
        (start, table_end(start))
    } else {
        // `probe = { ... }` inside `[environments.NAME]`.
        let (parent, key) = table.rsplit_once('.')?;
        let parent_start = lines.iter().position(|line| is_header(line, parent))?;
        let offset = lines[parent_start + 1..table_end(parent_start)]
            .iter()
            .position(|line| {
                line.trim_start()
                    .strip_prefix(key)
                    .is_some_and(|rest| rest.trim_start().starts_with('='))
            })?;
        let start = parent_start + 1 + offset;
        (start, start + 1)
    };
    let within = needle.and_then(|needle| {
        lines[start..end]
            .iter()
            .position(|line| line.contains(needle))
            .map(|offset| start + offset + 1)
    });
    Some((start + 1, within))
}

/// The key of an inline table written on its own line in an array (`apps[1]`), with the field
/// the message names (`apps[1].colour`).
pub(super) fn inline_entry_key(text: &str, line_start: usize, message: &str) -> Option<String> {
    let before: Vec<&str> = text[..line_start].lines().collect();
    let array_line = before.iter().rposition(|line| line.contains("= ["))?;
    let array = before[array_line]
        .split_once('=')?
        .0
        .trim()
        .trim_matches('"');
    let index = before[array_line + 1..]
        .iter()
        .filter(|line| line.trim_start().starts_with('{'))
        .count();
    let field = message
        .split_once("field `")
        .and_then(|(_, rest)| rest.split_once('`'))
        .map(|(field, _)| field);
    Some(match field {
        Some(field) => format!("{array}[{index}].{field}"),
        None => format!("{array}[{index}]"),
    })
}

/// A TOML error with its line, the dotted key it concerns, and what to write instead.
pub(super) fn describe_toml_error(text: &str, path: &Path, error: &toml::de::Error) -> BadInput {
    let Some(span) = error.span() else {
        return BadInput(format!("{}: {}", path.display(), error.message()));
    };
    let start = span.start.min(text.len());
    let line = text[..start].matches('\n').count() + 1;
    let line_start = text[..start].rfind('\n').map_or(0, |index| index + 1);
    let line_text = text[line_start..].lines().next().unwrap_or_default();
    let key = if line_text.trim_start().starts_with('{') {
        // An inline table in an array, one entry per line: `apps = [\n  { ... },\n]`.
        inline_entry_key(text, line_start, error.message())
    } else {
        line_text
            .split_once('=')
            .map(|(key, _)| key.trim().trim_matches('"').to_owned())
            .filter(|key| !key.is_empty() && !key.starts_with('['))
    };
    let table = text[..line_start]
        .lines()
        .rev()
        .map(str::trim)
        .find_map(|line| {
            line.strip_prefix('[')
                .and_then(|rest| rest.strip_suffix(']'))
        })
        .map(|table| table.trim_matches(['[', ']']).trim().to_owned());
    let message = error.message().trim_end_matches('\n');
    let Some(key) = key else {
        return BadInput(format!("{}, line {line}: {message}", path.display()));
    };
    let dotted = match table {
        Some(table) if !table.is_empty() => format!("{table}.{key}"),
        _ => key.clone(),
    };
    let fix = if [
        "expected u8",
        "expected u16",
        "expected u32",
        "expected u64",
        "expected usize",
        "expected i32",
        "expected i64",
        "expected an integer",
    ]
    .iter()
    .any(|expected| message.contains(expected))
    {
        format!("; write a whole number without quotes, e.g. `{key} = 2`")
    } else if message.contains("expected a boolean") {
        format!("; write `{key} = true` or `{key} = false`")
    } else if message.contains("invalid type") {
        "; see docs/CONFIG.md for the type of this key".to_owned()
    } else {
        String::new()
    };
    BadInput(format!(
        "{}, line {line}: `{dotted}`: {message}{fix}",
        path.display()
    ))
}

#[cfg(test)]
mod tests {
    use crate::config::test_support::*;

    #[test]
    fn unknown_keys_name_the_key_and_line() {
        let message = error(&format!("{EXAMPLE}\n[deploy]\ntimout = \"5m\"\n"));
        assert!(message.contains("timout"), "{message}");
        assert!(
            message.contains("deploy.toml, line 15: `deploy.timout`: unknown field `timout`"),
            "{message}"
        );
    }

    #[test]
    fn bad_durations_say_how_to_write_one() {
        let message = error(&format!("{EXAMPLE}\n[deploy]\ntimeout = \"soon\"\n"));
        assert!(message.contains("`soon` is not a duration"), "{message}");
    }
}
