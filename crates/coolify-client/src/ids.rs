//! Newtypes for Coolify's opaque identifiers.

use serde::{Deserialize, Serialize};

use crate::Error;
use crate::newtype::text_newtype;

/// Longest identifier accepted; Coolify's are 24 to 36 characters.
const MAX_LEN: usize = 128;

fn validate(what: &'static str, value: &str) -> Result<(), Error> {
    let reason = if value.is_empty() {
        "it is empty"
    } else if value.len() > MAX_LEN {
        "it is longer than 128 characters"
    } else if !value
        .chars()
        .all(|character| character.is_ascii_alphanumeric() || character == '-' || character == '_')
    {
        "only ASCII letters, digits, `-` and `_` may appear"
    } else {
        return Ok(());
    };
    Err(Error::InvalidInput {
        what,
        value: value.to_owned(),
        reason: format!("{reason}; copy the uuid from the resource's URL in Coolify"),
    })
}

/// The uuid of a Coolify application.
///
/// Treated as an opaque string: Coolify has used cuid2 and 24-character public ids.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ApplicationUuid(pub(crate) String);

text_newtype!(
    ApplicationUuid,
    |value| validate("application uuid", value),
    "application uuid",
    "[`Error::InvalidInput`] when the value is empty, too long, or holds characters other than ASCII letters, digits, `-` and `_`."
);

/// The uuid of one deployment of an application.
///
/// Treated as an opaque string: Coolify has used cuid2 and 24-character public ids.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct DeploymentUuid(pub(crate) String);

text_newtype!(
    DeploymentUuid,
    |value| validate("deployment uuid", value),
    "deployment uuid",
    "[`Error::InvalidInput`] when the value is empty, too long, or holds characters other than ASCII letters, digits, `-` and `_`."
);

/// The uuid of one environment variable of an application.
///
/// Treated as an opaque string: Coolify has used cuid2 and 24-character public ids.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct EnvVarUuid(pub(crate) String);

text_newtype!(
    EnvVarUuid,
    |value| validate("environment variable uuid", value),
    "environment variable uuid",
    "[`Error::InvalidInput`] when the value is empty, too long, or holds characters other than ASCII letters, digits, `-` and `_`."
);

/// The uuid of a Coolify project, which holds environments and their applications.
///
/// Treated as an opaque string: Coolify has used cuid2 and 24-character public ids.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ProjectUuid(pub(crate) String);

text_newtype!(
    ProjectUuid,
    |value| validate("project uuid", value),
    "project uuid",
    "[`Error::InvalidInput`] when the value is empty, too long, or holds characters other than ASCII letters, digits, `-` and `_`."
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_through_display_and_from_str() {
        let uuid: ApplicationUuid = "vgsco4o".parse().unwrap();
        assert_eq!(uuid.to_string(), "vgsco4o");
        assert_eq!(uuid.to_string().parse::<ApplicationUuid>().unwrap(), uuid);
    }

    #[test]
    fn rejects_empty_and_path_characters() {
        assert!(DeploymentUuid::new("").is_err());
        let error = ApplicationUuid::new("../x").unwrap_err();
        assert!(error.to_string().contains("\"../x\""), "{error}");
        assert!(EnvVarUuid::new("a".repeat(129)).is_err());
    }

    #[test]
    fn deserializing_validates() {
        assert!(serde_json::from_str::<ApplicationUuid>("\"\"").is_err());
        assert!(serde_json::from_str::<ApplicationUuid>("\"a/b\"").is_err());
        assert!(serde_json::from_str::<ApplicationUuid>("\"abc\"").is_ok());
    }

    #[test]
    fn deserializing_a_path_fails_for_every_id_type() {
        let hostile = "\"x y/../../../version\"";
        for error in [
            serde_json::from_str::<ApplicationUuid>(hostile).map(drop),
            serde_json::from_str::<DeploymentUuid>(hostile).map(drop),
            serde_json::from_str::<EnvVarUuid>(hostile).map(drop),
            serde_json::from_str::<ProjectUuid>(hostile).map(drop),
        ] {
            let error = error.unwrap_err().to_string();
            assert!(error.contains("x y/../../../version"), "{error}");
            assert!(error.contains("only ASCII letters"), "{error}");
        }
    }

    #[test]
    fn serializes_as_a_plain_string() {
        let uuid = DeploymentUuid::new("abc123").unwrap();
        assert_eq!(serde_json::to_string(&uuid).unwrap(), "\"abc123\"");
    }
}
