//! [`Timestamp`]: an RFC 3339 date-time with the text the server wrote.
//!
//! chrono's general RFC 3339 parser costs about 1,900 instructions a value, more than the rest
//! of a small object's decode; the common `YYYY-MM-DDTHH:MM:SS[.f]Z` form is read here directly
//! and anything else goes to chrono, so the same texts are accepted with the same instants.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, FixedOffset, NaiveDate, SecondsFormat, Utc};
use serde::de::{Deserialize, Deserializer, Visitor};
use serde::ser::{Serialize, Serializer};

/// An RFC 3339 date-time (`format: date-time`): its instant, and the text it was decoded from.
///
/// Dereferences to the instant, a `chrono::DateTime<Utc>`. Serializing writes the decoded text
/// back unchanged (`...44.1Z` stays `...44.1Z`, `+02:00` stays `+02:00`); a timestamp built
/// from a `DateTime` is written as RFC 3339 in UTC with `Z`. Equality, ordering and hashing are
/// by instant: `...44.1Z` equals `...44.100Z`.
///
/// ```
/// use assistants_api_runtime::Timestamp;
///
/// let t: Timestamp = serde_json::from_str(r#""2023-10-27T11:12:44.1+02:00""#)?;
/// assert_eq!(t.to_rfc3339(), "2023-10-27T09:12:44.100+00:00");
/// assert_eq!(serde_json::to_string(&t)?, r#""2023-10-27T11:12:44.1+02:00""#);
/// assert_eq!(t, "2023-10-27T09:12:44.100Z".parse::<Timestamp>()?);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct Timestamp {
    at: DateTime<Utc>,
    /// The decoded text; `None` for a timestamp built from a `DateTime`.
    text: Option<Box<str>>,
}

impl Timestamp {
    /// The instant.
    pub fn at(&self) -> DateTime<Utc> {
        self.at
    }

    /// The text this was decoded or parsed from, if any.
    pub fn text(&self) -> Option<&str> {
        self.text.as_deref()
    }
}

/// `YYYY-MM-DDTHH:MM:SS[.fraction]Z` with 1 to 9 fraction digits, or `None` for anything else
/// (chrono then decides).
fn parse_utc(text: &str) -> Option<DateTime<Utc>> {
    let b = text.as_bytes();
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || b[10] != b'T' || b[13] != b':' || b[16] != b':' {
        return None;
    }
    let digits = |range: std::ops::Range<usize>| -> Option<u32> {
        b.get(range)?.iter().try_fold(0u32, |n, &c| {
            c.is_ascii_digit().then(|| n * 10 + u32::from(c - b'0'))
        })
    };
    let year = i32::try_from(digits(0..4)?).ok()?;
    let (month, day) = (digits(5..7)?, digits(8..10)?);
    let (hour, minute, second) = (digits(11..13)?, digits(14..16)?, digits(17..19)?);
    let mut nanos = 0u32;
    let mut end = 19;
    if b[19] == b'.' {
        let count = b[20..].iter().take_while(|c| c.is_ascii_digit()).count();
        if !(1..=9).contains(&count) {
            return None;
        }
        nanos = digits(20..20 + count)? * 10u32.pow(u32::try_from(9 - count).ok()?);
        end = 20 + count;
    }
    if b.len() != end + 1 || b[end] != b'Z' || second > 59 {
        return None;
    }
    let date = NaiveDate::from_ymd_opt(year, month, day)?;
    Some(date.and_hms_nano_opt(hour, minute, second, nanos)?.and_utc())
}

impl FromStr for Timestamp {
    type Err = chrono::ParseError;

    /// Parses RFC 3339 as chrono does (`DateTime<FixedOffset>`'s `FromStr`), keeping the text.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let at = match parse_utc(text) {
            Some(at) => at,
            None => DateTime::<FixedOffset>::from_str(text)?.with_timezone(&Utc),
        };
        Ok(Self {
            at,
            text: Some(text.into()),
        })
    }
}

impl From<DateTime<Utc>> for Timestamp {
    fn from(at: DateTime<Utc>) -> Self {
        Self { at, text: None }
    }
}

impl From<Timestamp> for DateTime<Utc> {
    fn from(timestamp: Timestamp) -> Self {
        timestamp.at
    }
}

impl std::ops::Deref for Timestamp {
    type Target = DateTime<Utc>;

    fn deref(&self) -> &DateTime<Utc> {
        &self.at
    }
}

impl fmt::Display for Timestamp {
    /// The decoded text, or RFC 3339 in UTC.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.text {
            Some(text) => f.write_str(text),
            None => f.write_str(&self.at.to_rfc3339_opts(SecondsFormat::AutoSi, true)),
        }
    }
}

impl fmt::Debug for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Timestamp").field(&format_args!("{self}")).finish()
    }
}

impl PartialEq for Timestamp {
    fn eq(&self, other: &Self) -> bool {
        self.at == other.at
    }
}

impl Eq for Timestamp {}

impl PartialOrd for Timestamp {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Timestamp {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.at.cmp(&other.at)
    }
}

impl std::hash::Hash for Timestamp {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.at.hash(state);
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct TimestampVisitor;
        impl Visitor<'_> for TimestampVisitor {
            type Value = Timestamp;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an RFC 3339 date-time string")
            }
            fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<Timestamp, E> {
                text.parse().map_err(E::custom)
            }
        }
        deserializer.deserialize_str(TimestampVisitor)
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match &self.text {
            Some(text) => serializer.serialize_str(text),
            None => serializer.serialize_str(&self.at.to_rfc3339_opts(SecondsFormat::AutoSi, true)),
        }
    }
}

impl schemars::JsonSchema for Timestamp {
    fn schema_name() -> String {
        "Timestamp".to_owned()
    }

    fn is_referenceable() -> bool {
        false
    }

    /// A `date-time` string.
    fn json_schema(_: &mut schemars::r#gen::SchemaGenerator) -> schemars::schema::Schema {
        use schemars::schema::{InstanceType, SchemaObject};
        SchemaObject {
            instance_type: Some(InstanceType::String.into()),
            format: Some("date-time".to_owned()),
            ..SchemaObject::default()
        }
        .into()
    }
}

#[cfg(test)]
mod tests {
    use chrono::{DateTime, FixedOffset, Utc};

    use super::{Timestamp, parse_utc};

    fn chrono(text: &str) -> Option<DateTime<Utc>> {
        text.parse::<DateTime<FixedOffset>>()
            .ok()
            .map(|t| t.with_timezone(&Utc))
    }

    #[test]
    fn the_fast_path_agrees_with_chrono() {
        let texts = [
            "2023-10-26T15:30:01.617743Z",
            "2023-10-27T09:12:44.1Z",
            "2023-10-27T09:12:44Z",
            "2024-02-29T23:59:59.999999999Z",
            "1970-01-01T00:00:00.000Z",
            "0001-01-01T00:00:00Z",
            "9999-12-31T23:59:59.5Z",
        ];
        for text in texts {
            assert_eq!(parse_utc(text), chrono(text), "{text}");
            assert!(parse_utc(text).is_some(), "{text} takes the fast path");
        }
        // Left to chrono: offsets, lower case, a space, leap seconds, long fractions, and errors.
        let others = [
            "2023-10-27T11:12:44.1+02:00",
            "2023-10-27t09:12:44z",
            "2023-10-27 09:12:44Z",
            "2016-12-31T23:59:60Z",
            "2023-10-27T09:12:44.1234567891Z",
            "2023-02-29T09:12:44Z",
            "2023-10-27T24:00:00Z",
            "2023-10-27T09:12:44.Z",
            "2023-10-27T09:12:44",
            "2023-1x-27T09:12:44Z",
            // One separator or the zone wrong, or text after the zone.
            "2023x10-27T09:12:44Z",
            "2023-10x27T09:12:44Z",
            "2023-10-27x09:12:44Z",
            "2023-10-27T09x12:44Z",
            "2023-10-27T09:12x44Z",
            "2023-10-27T09:12:44X",
            "2023-10-27T09:12:44Zjunk",
            "2023-10-27T09:12:44.5Zjunk",
            "",
        ];
        for text in others {
            assert_eq!(parse_utc(text), None, "{text}");
            let ours = text.parse::<Timestamp>().ok().map(|t| t.at());
            assert_eq!(ours, chrono(text), "{text}");
        }
    }

    #[test]
    fn instants_order_hash_and_convert_whatever_the_text() {
        use std::collections::HashSet;
        let early: Timestamp = "2023-10-27T09:12:44.1Z".parse().unwrap();
        let same: Timestamp = "2023-10-27T11:12:44.100+02:00".parse().unwrap();
        let late: Timestamp = "2023-10-27T09:12:45Z".parse().unwrap();
        assert_ne!(early, late);
        assert!(early < late && late > same);
        assert_eq!(early.partial_cmp(&same), Some(std::cmp::Ordering::Equal));
        let set: HashSet<Timestamp> = [early.clone(), same, late.clone()].into_iter().collect();
        assert_eq!(set.len(), 2, "one instant, one entry");
        assert_eq!(DateTime::<Utc>::from(late.clone()), late.at());
        assert_eq!(DateTime::<Utc>::from(late).timestamp(), 1_698_397_965);
        let error = serde_json::from_str::<Timestamp>("17").unwrap_err().to_string();
        assert!(error.contains("an RFC 3339 date-time string"), "{error}");
    }

    #[test]
    fn its_schema_is_an_inline_date_time_string() {
        #[derive(schemars::JsonSchema)]
        #[allow(dead_code)]
        struct Stamped {
            at: Timestamp,
        }
        let schema = serde_json::to_value(schemars::schema_for!(Stamped)).unwrap();
        let at = &schema["properties"]["at"];
        assert_eq!(
            (at["type"].as_str(), at["format"].as_str()),
            (Some("string"), Some("date-time"))
        );
        assert!(schema.get("definitions").is_none(), "{schema}");
        assert_eq!(<Timestamp as schemars::JsonSchema>::schema_name(), "Timestamp");
    }

    #[test]
    fn serializes_the_decoded_text_and_compares_instants() {
        for text in [
            r#""2023-10-27T09:12:44.1Z""#,
            r#""2023-10-27T11:12:44.100+02:00""#,
        ] {
            let t: Timestamp = serde_json::from_str(text).unwrap();
            assert_eq!(serde_json::to_string(&t).unwrap(), text);
        }
        let a: Timestamp = "2023-10-27T09:12:44.1Z".parse().unwrap();
        let b: Timestamp = "2023-10-27T11:12:44.100+02:00".parse().unwrap();
        assert_eq!(a, b);
        assert_eq!(a.text(), Some("2023-10-27T09:12:44.1Z"));
        let built = Timestamp::from(a.at());
        assert_eq!(built.text(), None);
        assert_eq!(
            serde_json::to_string(&built).unwrap(),
            r#""2023-10-27T09:12:44.100Z""#
        );
        assert_eq!(format!("{a:?}"), "Timestamp(2023-10-27T09:12:44.1Z)");
        let err = serde_json::from_str::<Timestamp>(r#""yesterday""#).unwrap_err();
        assert_eq!(err.classify(), serde_json::error::Category::Data);
        assert!(serde_json::from_str::<Timestamp>("17").is_err());
    }
}
