//! Coolify's timestamps, typed.

use std::fmt;
use std::time::SystemTime;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A point in time as Coolify reports it (`created_at`, `updated_at`, `finished_at`).
///
/// Coolify sends RFC 3339 in UTC with microseconds (`2026-08-01T12:00:00.000000Z`); older
/// versions and some database drivers send a space instead of the `T` or leave out the `Z`,
/// which are accepted too.
/// A value that does not parse does not fail the response it came in: it is kept as text,
/// [`Timestamp::system_time`] is `None` and [`Timestamp::as_str`] gives what Coolify sent.
/// It serializes back as RFC 3339 with microseconds, or as the text it was read from when that
/// did not parse.
///
/// ```
/// use std::time::{Duration, SystemTime};
///
/// use coolify_client::Timestamp;
///
/// let parsed: Timestamp = "2026-08-01T12:00:00.000000Z".parse().unwrap();
/// assert_eq!(
///     parsed.system_time(),
///     Some(SystemTime::UNIX_EPOCH + Duration::from_secs(1_785_585_600))
/// );
/// assert_eq!(parsed.to_string(), "2026-08-01T12:00:00.000000Z");
///
/// let odd: Timestamp = "yesterday".parse().unwrap();
/// assert_eq!(odd.system_time(), None);
/// assert_eq!(odd.as_str(), "yesterday");
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Timestamp {
    time: Option<SystemTime>,
    text: String,
}

impl Timestamp {
    /// A timestamp at `time`, written as RFC 3339 with microseconds.
    #[must_use]
    pub fn from_system_time(time: SystemTime) -> Self {
        Self {
            time: Some(time),
            text: humantime::format_rfc3339_micros(time).to_string(),
        }
    }

    /// A timestamp from Coolify's text; never fails (see the type's documentation).
    #[must_use]
    pub fn from_text(text: impl Into<String>) -> Self {
        let text = text.into();
        match humantime::parse_rfc3339_weak(text.trim()) {
            Ok(time) => Self::from_system_time(time),
            Err(_) => Self { time: None, text },
        }
    }

    /// The point in time, or `None` when Coolify's text did not parse as RFC 3339.
    #[must_use]
    pub fn system_time(&self) -> Option<SystemTime> {
        self.time
    }

    /// The RFC 3339 text (or, when it did not parse, the text Coolify sent).
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.text
    }
}

impl From<SystemTime> for Timestamp {
    fn from(time: SystemTime) -> Self {
        Self::from_system_time(time)
    }
}

impl std::str::FromStr for Timestamp {
    type Err = std::convert::Infallible;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Ok(Self::from_text(text))
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(&self.text)
    }
}

impl fmt::Debug for Timestamp {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.time {
            Some(_) => write!(formatter, "Timestamp({})", self.text),
            None => write!(formatter, "Timestamp(unparsed {:?})", self.text),
        }
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.text)
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(Self::from_text)
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    const NOON: u64 = 1_785_585_600;

    #[test]
    fn coolify_forms_parse_to_the_same_instant() {
        let expected = SystemTime::UNIX_EPOCH + Duration::from_secs(NOON);
        for text in [
            "2026-08-01T12:00:00.000000Z",
            "2026-08-01T12:00:00Z",
            "2026-08-01 12:00:00",
            "2026-08-01T12:00:00",
        ] {
            let timestamp = Timestamp::from_text(text);
            assert_eq!(timestamp.system_time(), Some(expected), "{text}");
            assert_eq!(timestamp.as_str(), "2026-08-01T12:00:00.000000Z", "{text}");
        }
    }

    #[test]
    fn microseconds_are_kept_and_round_trip() {
        let timestamp = Timestamp::from_text("2026-08-01T12:00:05.250000Z");
        let time = timestamp.system_time().unwrap();
        assert_eq!(
            time.duration_since(SystemTime::UNIX_EPOCH).unwrap(),
            Duration::from_micros((NOON + 5) * 1_000_000 + 250_000)
        );
        assert_eq!(Timestamp::from_system_time(time), timestamp);
        let json = serde_json::to_string(&timestamp).unwrap();
        assert_eq!(json, "\"2026-08-01T12:00:05.250000Z\"");
        assert_eq!(serde_json::from_str::<Timestamp>(&json).unwrap(), timestamp);
    }

    #[test]
    fn an_unparsable_value_is_kept_as_text_and_serialized_back_unchanged() {
        let timestamp: Timestamp = serde_json::from_str("\"2026-08-01T12:00:00+02:00\"").unwrap();
        assert_eq!(timestamp.system_time(), None);
        assert_eq!(timestamp.as_str(), "2026-08-01T12:00:00+02:00");
        assert_eq!(
            serde_json::to_string(&timestamp).unwrap(),
            "\"2026-08-01T12:00:00+02:00\""
        );
        assert!(format!("{timestamp:?}").contains("unparsed"));
    }
}
