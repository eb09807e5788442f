//! serde's and the TOML parser's messages in the file's terms, with what to write instead.

use super::source::KeyPath;

/// What to write for a value of the wrong type, by the type serde expected: with the key
/// (`{name}` its last part, `{key}` the whole path), and for an array element.
const TYPE_FIXES: [(&[&str], &str, &str); 5] = [
    (
        &[
            "u8",
            "u16",
            "u32",
            "u64",
            "usize",
            "i32",
            "i64",
            "an integer",
        ],
        "write a whole number without quotes, e.g. `{name} = 2`",
        "write a whole number without quotes",
    ),
    (
        &["a boolean"],
        "write `{name} = true` or `{name} = false`",
        "write true or false without quotes",
    ),
    (
        &["a sequence"],
        "write a list in brackets, e.g. `{name} = [...]`",
        "write a list in brackets, `[...]`",
    ),
    (
        &["a string"],
        "write it in quotes, e.g. `{name} = \"...\"`",
        "write it in quotes, `\"...\"`",
    ),
    (
        &["a table"],
        "write a table: `{name} = { ... }` or a `[{key}]` section",
        "write a table in braces, `{ ... }`",
    ),
];

/// serde's message in the file's terms, with what to write instead when the message does not
/// say it. serde's message is the only place that says which type a key takes.
pub(super) fn explain(message: &str, key: Option<&KeyPath>) -> String {
    // An element such as `expect_status[1]` has no `key = value` to show.
    let example_key = key
        .filter(|key| !key.is_array_element())
        .and_then(KeyPath::last_key);
    // The names of stagegate's own types mean nothing to the reader: a table is a table.
    let message = match message.find("expected struct ") {
        Some(_) if message.starts_with("invalid length") => {
            "invalid type: array, expected a table".to_owned()
        }
        Some(index) => format!("{}expected a table", &message[..index]),
        None => message.replace("expected a map", "expected a table"),
    };
    let typed_fix = TYPE_FIXES
        .iter()
        .find_map(|(types, with_key, without_key)| {
            types
                .iter()
                .any(|expected| message.ends_with(&format!("expected {expected}")))
                .then(|| match (example_key, key) {
                    (Some(name), Some(key)) => with_key
                        .replace("{name}", name)
                        .replace("{key}", &key.to_string()),
                    _ => (*without_key).to_owned(),
                })
        });
    let fix = match typed_fix {
        Some(fix) => format!("; {fix}"),
        // An enum such as `preset` or `stagegate` given a number or a list.
        None if message.starts_with("wanted string or table") => {
            "; write one of its values in quotes (docs/CONFIG.md lists them)".to_owned()
        }
        None if message.starts_with("invalid type") => {
            "; see docs/CONFIG.md for the type of this key".to_owned()
        }
        None if message.starts_with("missing field") => {
            "; add it (docs/CONFIG.md lists every key and its default)".to_owned()
        }
        None if message.starts_with("duplicate key") => "; write each key once".to_owned(),
        None => String::new(),
    };
    format!("{message}{fix}")
}

#[cfg(test)]
mod tests {
    use crate::config::test_support::*;

    #[test]
    fn a_value_of_the_wrong_type_names_the_key_and_how_to_write_it() {
        for (extra, expected) in [
            (
                "[probe]\nsuccess_threshold = \"two\"\n",
                "line 15: `probe.success_threshold`: invalid type: string \"two\", expected u32; write a whole number without quotes, e.g. `success_threshold = 2`",
            ),
            (
                "[probe]\nexpect_status = [200, \"ok\"]\n",
                "line 15: `probe.expect_status[1]`: invalid type: string \"ok\", expected u16; write a whole number without quotes",
            ),
            (
                "[deploy]\nstaging_gate = \"yes\"\n",
                "line 15: `deploy.staging_gate`: invalid type: string \"yes\", expected a boolean; write `staging_gate = true` or `staging_gate = false`",
            ),
            (
                "[notes]\nrepository_url = 5\n",
                "line 15: `notes.repository_url`: invalid type: integer `5`, expected a string; write it in quotes, e.g. `repository_url = \"...\"`",
            ),
            (
                "[probe]\nexpect_status = 200\n",
                "line 15: `probe.expect_status`: invalid type: integer `200`, expected a sequence; write a list in brackets, e.g. `expect_status = [...]`",
            ),
            (
                "[environments.production.probe]\nheaders = 5\n",
                "line 15: `environments.production.probe.headers`: invalid type: integer `5`, expected a table; write a table: `headers = { ... }` or a `[environments.production.probe.headers]` section",
            ),
            (
                "[workflows]\nstagegate = 1\n",
                "line 15: `workflows.stagegate`: wanted string or table; write one of its values in quotes",
            ),
        ] {
            let message = error(&format!("{EXAMPLE}\n{extra}"));
            assert!(message.contains(expected), "{extra}: {message}");
        }
    }

    #[test]
    fn a_value_its_type_refuses_names_the_key_and_line() {
        for (from, to, expected) in [
            (
                "url = \"https://coolify.example.com\"",
                "url = \"coolify\"",
                "line 3: `coolify.url`: `coolify` is not a URL (relative URL without a base); write it whole, with its scheme, e.g. \"https://example.com\"",
            ),
            (
                "health_url = \"https://example.com/healthz\"",
                "health_url = \"example.com\"",
                "line 12: `environments.production.health_url`",
            ),
        ] {
            let message = error(&EXAMPLE.replace(from, to));
            assert!(message.contains(expected), "{to}: {message}");
        }
        // tag-policy checks the table as a whole.
        let message = error(&format!("{EXAMPLE}\n[tags]\nprefix = \"v 1\"\n"));
        assert!(
            message.contains("line 14: `tags`: tag prefix `v 1` contains whitespace"),
            "{message}"
        );
        let message = error(&format!("{EXAMPLE}\n[workflows]\npreset = \"python\"\n"));
        assert!(
            message.contains(
                "line 15: `workflows.preset`: unknown variant `python`, expected one of `python-uv`"
            ),
            "{message}"
        );
    }

    #[test]
    fn bad_durations_say_how_to_write_one() {
        let message = error(&format!("{EXAMPLE}\n[deploy]\ntimeout = \"soon\"\n"));
        assert!(
            message.contains("line 15: `deploy.timeout`: `soon` is not a duration"),
            "{message}"
        );
        assert!(message.contains("write e.g. \"20m\""), "{message}");
    }

    #[test]
    fn a_table_where_a_value_belongs_or_a_value_where_a_table_belongs_says_so() {
        // The message names no type of stagegate's own.
        for (from, to, expected) in [
            (
                "[coolify]\nurl = \"https://coolify.example.com\"",
                "coolify = \"x\"",
                "line 2: `coolify`: invalid type: string \"x\", expected a table; write a table: `coolify = { ... }` or a `[coolify]` section",
            ),
            (
                "env = { ENVIRONMENT = \"staging\" }",
                "apps = [\"x\"]",
                "line 8: `environments.staging.apps[0]`: invalid type: string \"x\", expected a table; write a table in braces, `{ ... }`",
            ),
            (
                "[coolify]",
                "workflows = []\n[coolify]",
                "line 2: `workflows`: invalid type: array, expected a table",
            ),
        ] {
            let message = error(&EXAMPLE.replace(from, to));
            assert!(message.contains(expected), "{to}: {message}");
            assert!(!message.contains("struct"), "{message}");
        }
    }
}
