//! Comparing an application's environment variables with declared ones, and the writes that
//! make them match.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde::Serialize;

use crate::{EnvVar, EnvVarInput, EnvVarUuid};

/// Whether [`env_plan`] deletes the variables that are not declared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Prune {
    /// Leave undeclared variables alone.
    #[default]
    No,
    /// Delete the variables that are not declared (and their preview copies).
    Yes,
}

/// How one declared or present key compares ([`env_diff`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum KeyState {
    /// Present with the declared value.
    Same,
    /// Declared but absent from the app.
    Missing,
    /// Present with another value (which is never printed).
    Differs,
    /// Present, but Coolify does not return its value, so it cannot be compared.
    Unknown,
    /// Present on the app but not declared.
    Extra,
}

/// One key of a comparison.
///
/// `#[non_exhaustive]`: only [`env_diff`] makes one.
///
/// ```compile_fail
/// let diff = coolify_client::KeyDiff {
///     key: "A".to_owned(),
///     state: coolify_client::KeyState::Same,
/// };
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[non_exhaustive]
pub struct KeyDiff {
    /// The variable's key.
    pub key: String,
    /// How it compares.
    pub state: KeyState,
}

/// What a write does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum WriteKind {
    /// Create a missing variable with Coolify's default flags.
    Create,
    /// Set a differing value, keeping the variable's flags.
    Update,
    /// Delete an undeclared variable ([`Prune::Yes`]).
    Delete,
}

/// One write to an application's variables ([`env_plan`]).
///
/// Its value is never shown, not even by `Debug` or `Serialize`: [`EnvWrite::input`] holds it
/// for the request.
///
/// `#[non_exhaustive]`: only [`env_plan`] makes one.
#[derive(Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct EnvWrite {
    /// What it does.
    pub kind: WriteKind,
    /// The key.
    pub key: String,
    /// Whether it targets the preview copy.
    pub is_preview: bool,
    /// The flags sent with a create or update (`literal`, `multiline`, `locked`, `runtime`,
    /// `buildtime`).
    pub flags: Vec<&'static str>,
    #[serde(skip)]
    input: Option<EnvVarInput>,
    #[serde(skip)]
    uuid: Option<EnvVarUuid>,
}

impl EnvWrite {
    /// The variable to send for a create or an update
    /// ([`Client::upsert_env_vars`](crate::Client::upsert_env_vars)); `None` for a delete.
    #[must_use]
    pub fn input(&self) -> Option<&EnvVarInput> {
        self.input.as_ref()
    }

    /// The variable to delete ([`Client::delete_env_var`](crate::Client::delete_env_var));
    /// `None` for a create or an update.
    #[must_use]
    pub fn uuid(&self) -> Option<&EnvVarUuid> {
        self.uuid.as_ref()
    }
}

impl fmt::Debug for EnvWrite {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EnvWrite")
            .field("kind", &self.kind)
            .field("key", &self.key)
            .field("is_preview", &self.is_preview)
            .field("flags", &self.flags)
            .finish_non_exhaustive()
    }
}

impl fmt::Display for EnvWrite {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let copy = if self.is_preview {
            " (preview copy)"
        } else {
            ""
        };
        match self.kind {
            WriteKind::Create => write!(f, "create {}{copy} [{}]", self.key, self.flags.join(", ")),
            WriteKind::Update => write!(
                f,
                "update {}{copy}: value differs, flags kept [{}]",
                self.key,
                self.flags.join(", ")
            ),
            WriteKind::Delete => write!(f, "delete {}{copy} (not declared)", self.key),
        }
    }
}

fn flags_of(input: &EnvVarInput) -> Vec<&'static str> {
    [
        (input.is_literal, "literal"),
        (input.is_multiline, "multiline"),
        (input.is_shown_once, "locked"),
        (input.is_runtime, "runtime"),
        (input.is_buildtime, "buildtime"),
    ]
    .into_iter()
    .filter_map(|(on, name)| on.then_some(name))
    .collect()
}

/// The app's variables deduplicated by `(key, is_preview)`: the first entry of each pair wins.
fn deduplicate(actual: &[EnvVar]) -> BTreeMap<(String, bool), &EnvVar> {
    let mut unique = BTreeMap::new();
    for variable in actual {
        unique
            .entry((variable.key.clone(), variable.is_preview))
            .or_insert(variable);
    }
    unique
}

/// Compare the declared variables (key to value) with an application's non-preview ones, as
/// [`Client::env_vars`](crate::Client::env_vars) lists them.
///
/// Coolify creates a preview copy of every variable by itself, so its list normally holds
/// each key twice: entries are deduplicated by `(key, is_preview)` and only the non-preview
/// ones are compared.
/// A value Coolify does not return (a token without `read:sensitive`, or a locked variable)
/// is [`KeyState::Unknown`]: never guessed.
/// The result holds every declared key and every undeclared non-preview key, sorted by key.
///
/// ```
/// use std::collections::BTreeMap;
///
/// use coolify_client::{EnvVar, KeyState, env_diff};
///
/// let mut present = EnvVar::new("abc".parse().unwrap(), "MODE");
/// present.value = Some("debug".to_owned());
/// let declared = BTreeMap::from([("MODE".to_owned(), "release".to_owned())]);
/// let diff = env_diff(&declared, &[present]);
/// assert_eq!(diff[0].key, "MODE");
/// assert_eq!(diff[0].state, KeyState::Differs);
/// ```
#[must_use]
pub fn env_diff(declared: &BTreeMap<String, String>, actual: &[EnvVar]) -> Vec<KeyDiff> {
    let unique = deduplicate(actual);
    let mut keys: BTreeSet<&str> = declared.keys().map(String::as_str).collect();
    keys.extend(
        unique
            .keys()
            .filter(|(_, preview)| !preview)
            .map(|(key, _)| key.as_str()),
    );
    keys.into_iter()
        .map(|key| {
            let present = unique.get(&(key.to_owned(), false));
            let state = match (declared.get(key), present) {
                (Some(_), None) => KeyState::Missing,
                (Some(wanted), Some(variable)) => match &variable.value {
                    None => KeyState::Unknown,
                    Some(value) if value == wanted => KeyState::Same,
                    Some(_) => KeyState::Differs,
                },
                (None, _) => KeyState::Extra,
            };
            KeyDiff {
                key: key.to_owned(),
                state,
            }
        })
        .collect()
}

/// The writes that make an application's variables match the declared ones: create the
/// missing, update the differing (keeping their flags and comment, because Coolify's PATCH
/// clears the flags a request leaves out), and with [`Prune::Yes`] delete the undeclared ones
/// with their preview copies.
/// Unknown values ([`KeyState::Unknown`]) are left alone.
#[must_use]
pub fn env_plan(
    declared: &BTreeMap<String, String>,
    actual: &[EnvVar],
    prune: Prune,
) -> Vec<EnvWrite> {
    let unique = deduplicate(actual);
    let mut writes = Vec::new();
    for diff in env_diff(declared, actual) {
        let existing = unique.get(&(diff.key.clone(), false));
        let input = match (diff.state, existing, declared.get(&diff.key)) {
            (KeyState::Missing, _, Some(value)) => {
                Some((WriteKind::Create, EnvVarInput::new(&diff.key, value)))
            }
            (KeyState::Differs, Some(existing), Some(value)) => Some((
                WriteKind::Update,
                EnvVarInput::updating(existing, value.clone()),
            )),
            _ => None,
        };
        if let Some((kind, input)) = input {
            writes.push(EnvWrite {
                kind,
                key: diff.key.clone(),
                is_preview: false,
                flags: flags_of(&input),
                input: Some(input),
                uuid: None,
            });
        }
        if diff.state == KeyState::Extra && prune == Prune::Yes {
            for is_preview in [false, true] {
                if let Some(variable) = unique.get(&(diff.key.clone(), is_preview)) {
                    writes.push(EnvWrite {
                        kind: WriteKind::Delete,
                        key: diff.key.clone(),
                        is_preview,
                        flags: Vec::new(),
                        input: None,
                        uuid: Some(variable.uuid.clone()),
                    });
                }
            }
        }
    }
    writes
}

#[cfg(test)]
mod tests {
    use super::*;

    fn variable(key: &str, value: Option<&str>, is_preview: bool) -> EnvVar {
        let mut json = serde_json::json!({
            "uuid": format!("{key}-{is_preview}"),
            "key": key,
            "is_preview": is_preview,
        });
        if let Some(value) = value {
            json["value"] = serde_json::json!(value);
        }
        serde_json::from_value(json).unwrap()
    }

    fn declared(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(key, value)| ((*key).to_owned(), (*value).to_owned()))
            .collect()
    }

    fn check(declared_pairs: &[(&str, &str)], actual: &[EnvVar], expected: &[(&str, KeyState)]) {
        let diffs = env_diff(&declared(declared_pairs), actual);
        let got: Vec<(&str, KeyState)> = diffs
            .iter()
            .map(|diff| (diff.key.as_str(), diff.state))
            .collect();
        assert_eq!(got, expected);
    }

    #[test]
    fn each_state_is_found() {
        check(
            &[("A", "1"), ("B", "2"), ("C", "3"), ("D", "4")],
            &[
                variable("A", Some("1"), false),
                variable("B", Some("other"), false),
                variable("C", None, false),
                variable("E", Some("5"), false),
            ],
            &[
                ("A", KeyState::Same),
                ("B", KeyState::Differs),
                ("C", KeyState::Unknown),
                ("D", KeyState::Missing),
                ("E", KeyState::Extra),
            ],
        );
    }

    #[test]
    fn preview_copies_are_not_compared() {
        check(
            &[("A", "1")],
            &[
                variable("A", Some("1"), false),
                variable("A", Some("preview value"), true),
                variable("ONLY_PREVIEW", Some("x"), true),
            ],
            &[("A", KeyState::Same)],
        );
        check(
            &[("A", "1")],
            &[variable("A", Some("1"), true)],
            &[("A", KeyState::Missing)],
        );
    }

    #[test]
    fn duplicates_of_a_key_count_once() {
        check(
            &[],
            &[
                variable("X", Some("1"), false),
                variable("X", Some("1"), false),
            ],
            &[("X", KeyState::Extra)],
        );
    }

    #[test]
    fn updates_keep_flags_and_unknown_values_are_left_alone() {
        let mut locked = variable("B", Some("old"), false);
        locked.is_literal = true;
        locked.is_buildtime = false;
        let writes = env_plan(
            &declared(&[("A", "1"), ("B", "2"), ("C", "3")]),
            &[locked, variable("C", None, false)],
            Prune::No,
        );
        assert_eq!(writes.len(), 2, "{writes:?}");
        assert_eq!(writes[0].kind, WriteKind::Create);
        assert_eq!(writes[0].to_string(), "create A [runtime, buildtime]");
        let update = writes[1].input.as_ref().unwrap();
        assert!(update.is_literal && !update.is_buildtime && update.is_runtime);
        assert_eq!(update.value, "2");
        assert_eq!(
            writes[1].to_string(),
            "update B: value differs, flags kept [literal, runtime]"
        );
    }

    #[test]
    fn prune_deletes_both_copies_and_only_with_the_flag() {
        let actual = [
            variable("OLD", Some("x"), false),
            variable("OLD", Some("x"), true),
        ];
        assert!(env_plan(&BTreeMap::new(), &actual, Prune::No).is_empty());
        let writes = env_plan(&BTreeMap::new(), &actual, Prune::Yes);
        let deleted: Vec<(&str, bool)> = writes
            .iter()
            .map(|write| (write.key.as_str(), write.is_preview))
            .collect();
        assert_eq!(deleted, [("OLD", false), ("OLD", true)]);
        assert!(writes.iter().all(|write| write.kind == WriteKind::Delete));
    }

    #[test]
    fn no_value_is_ever_serialized_or_debugged() {
        let declared = declared(&[("SECRET", "declared-value")]);
        let actual = [variable("SECRET", Some("live-secret"), false)];
        let writes = env_plan(&declared, &actual, Prune::No);
        assert_eq!(writes.len(), 1);
        let json = serde_json::to_string(&writes).unwrap();
        let debug = format!("{writes:?}");
        for text in [json, debug, writes[0].to_string()] {
            assert!(
                !text.contains("declared-value") && !text.contains("live-secret"),
                "{text}"
            );
        }
        assert_eq!(writes[0].input().unwrap().value, "declared-value");
    }
}
