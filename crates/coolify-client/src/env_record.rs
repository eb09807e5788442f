//! A serializable record of an environment variable, for backups.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::{EnvVar, EnvVarUuid};

/// Which values an [`EnvVarRecord`] keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum RecordValues {
    /// Leave every value out.
    #[default]
    Redacted,
    /// Keep the values Coolify returned.
    Included,
}

/// Whether a value is in an [`EnvVarRecord`], and why not.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ValueState {
    /// Left out on purpose ([`RecordValues::Redacted`]).
    Redacted,
    /// Coolify did not return it (a token without `read:sensitive`, or a locked variable).
    Hidden,
    /// In the record.
    Included,
}

/// An environment variable as a backup keeps it: every field of [`EnvVar`], the value only
/// when asked for, and why it is or is not there.
///
/// `Debug` replaces the value by `[redacted]`; `Serialize` writes it, because a backup with
/// values is asked for to keep them.
///
/// ```
/// use coolify_client::{EnvVar, EnvVarRecord, RecordValues, ValueState};
///
/// let mut variable = EnvVar::new("abc".parse().unwrap(), "DATABASE_URL");
/// variable.value = Some("postgres://secret".to_owned());
/// let record = EnvVarRecord::new(&variable, RecordValues::Redacted);
/// assert_eq!(record.value, None);
/// assert_eq!(record.value_state, ValueState::Redacted);
/// ```
///
/// `#[non_exhaustive]`: build one with [`EnvVarRecord::new`].
///
/// ```compile_fail
/// # use coolify_client::{EnvVar, EnvVarRecord, RecordValues};
/// let variable = EnvVar::new("abc".parse().unwrap(), "KEY");
/// let base = EnvVarRecord::new(&variable, RecordValues::Redacted);
/// let copy = EnvVarRecord { is_preview: true, ..base };
/// ```
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub struct EnvVarRecord {
    /// Its uuid.
    pub uuid: EnvVarUuid,
    /// The key.
    pub key: String,
    /// The value, when included.
    pub value: Option<String>,
    /// Why the value is or is not here.
    pub value_state: ValueState,
    /// The preview copy.
    pub is_preview: bool,
    /// `$` references left unexpanded.
    pub is_literal: bool,
    /// Multi-line value.
    pub is_multiline: bool,
    /// Locked: the value is never returned.
    pub is_shown_once: bool,
    /// Available at run time.
    pub is_runtime: bool,
    /// Available at build time.
    pub is_buildtime: bool,
    /// References a shared variable.
    pub is_shared: bool,
    /// Its comment.
    pub comment: Option<String>,
}

impl EnvVarRecord {
    /// The record of `variable`, with its value when `values` is [`RecordValues::Included`] and
    /// Coolify returned it.
    #[must_use]
    pub fn new(variable: &EnvVar, values: RecordValues) -> Self {
        let (value, value_state) = match (values, &variable.value) {
            (_, None) => (None, ValueState::Hidden),
            (RecordValues::Redacted, Some(_)) => (None, ValueState::Redacted),
            (RecordValues::Included, Some(value)) => (Some(value.clone()), ValueState::Included),
        };
        Self {
            uuid: variable.uuid.clone(),
            key: variable.key.clone(),
            value,
            value_state,
            is_preview: variable.is_preview,
            is_literal: variable.is_literal,
            is_multiline: variable.is_multiline,
            is_shown_once: variable.is_shown_once,
            is_runtime: variable.is_runtime,
            is_buildtime: variable.is_buildtime,
            is_shared: variable.is_shared,
            comment: variable.comment.clone(),
        }
    }
}

impl fmt::Debug for EnvVarRecord {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("EnvVarRecord")
            .field("uuid", &self.uuid)
            .field("key", &self.key)
            .field("value", &self.value.as_ref().map(|_| "[redacted]"))
            .field("value_state", &self.value_state)
            .field("is_preview", &self.is_preview)
            .field("is_literal", &self.is_literal)
            .field("is_multiline", &self.is_multiline)
            .field("is_shown_once", &self.is_shown_once)
            .field("is_runtime", &self.is_runtime)
            .field("is_buildtime", &self.is_buildtime)
            .field("is_shared", &self.is_shared)
            .field("comment", &self.comment)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn variable(value: Option<&str>) -> EnvVar {
        let mut json = serde_json::json!({"uuid": "e1", "key": "A", "is_literal": true});
        if let Some(value) = value {
            json["value"] = serde_json::json!(value);
        }
        serde_json::from_value(json).unwrap()
    }

    #[test]
    fn values_are_redacted_hidden_or_included() {
        let state = |variable: &EnvVar, values| {
            let record = EnvVarRecord::new(variable, values);
            (record.value, record.value_state)
        };
        let visible = variable(Some("v"));
        let hidden = variable(None);
        assert_eq!(
            state(&visible, RecordValues::Redacted),
            (None, ValueState::Redacted)
        );
        assert_eq!(
            state(&visible, RecordValues::Included),
            (Some("v".to_owned()), ValueState::Included)
        );
        assert_eq!(
            state(&hidden, RecordValues::Included),
            (None, ValueState::Hidden)
        );
    }

    #[test]
    fn a_record_round_trips_through_json_and_debug_hides_the_value() {
        let record = EnvVarRecord::new(&variable(Some("s3cr3t-value")), RecordValues::Included);
        assert!(record.is_literal);
        let json = serde_json::to_value(&record).unwrap();
        assert_eq!(json["uuid"], "e1");
        assert_eq!(json["value"], "s3cr3t-value");
        assert_eq!(json["value_state"], "included");
        assert_eq!(
            serde_json::from_value::<EnvVarRecord>(json).unwrap(),
            record
        );
        let debug = format!("{record:?}");
        assert!(!debug.contains("s3cr3t-value"), "{debug}");
        assert!(debug.contains("[redacted]"), "{debug}");
    }
}
