//! Serde adapters for durations.
//!
//! Configuration speaks humantime (`"2s"`, `"5m"`, `"1m 30s"`); evidence speaks whole
//! milliseconds, which every JSON consumer can add and compare.

use std::time::Duration;

use serde::{Deserialize, Deserializer, Serializer};

/// `Option<Duration>` as a humantime string, for configuration tables.
pub(crate) mod humantime_option {
    use super::{Deserialize, Deserializer, Duration, Serializer};

    pub(crate) fn serialize<S: Serializer>(
        value: &Option<Duration>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        match value {
            Some(duration) => serializer.collect_str(&humantime::format_duration(*duration)),
            None => serializer.serialize_none(),
        }
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<Duration>, D::Error> {
        let text = String::deserialize(deserializer)?;
        super::parse_humantime(&text)
            .map(Some)
            .map_err(serde::de::Error::custom)
    }
}

/// Parses a humantime duration, with a message that shows the accepted forms.
pub(crate) fn parse_humantime(text: &str) -> Result<Duration, String> {
    humantime::parse_duration(text.trim()).map_err(|error| {
        format!("invalid duration `{text}` ({error}): write a duration such as \"500ms\", \"2s\" or \"5m\"")
    })
}

/// `Duration` as whole milliseconds, for evidence.
pub(crate) mod millis {
    use super::{Deserialize, Deserializer, Duration, Serializer};

    pub(crate) fn serialize<S: Serializer>(
        value: &Duration,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        serializer.serialize_u64(u64::try_from(value.as_millis()).unwrap_or(u64::MAX))
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Duration, D::Error> {
        u64::deserialize(deserializer).map(Duration::from_millis)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_humantime_forms() {
        assert_eq!(parse_humantime("2s"), Ok(Duration::from_secs(2)));
        assert_eq!(parse_humantime("5m"), Ok(Duration::from_secs(300)));
        assert_eq!(parse_humantime(" 1m 30s "), Ok(Duration::from_secs(90)));
        assert_eq!(parse_humantime("250ms"), Ok(Duration::from_millis(250)));
    }

    #[test]
    fn rejects_bare_numbers_with_the_accepted_forms() {
        let message = parse_humantime("5").unwrap_err();
        assert!(message.contains("`5`"), "{message}");
        assert!(message.contains("\"2s\""), "{message}");
    }
}
