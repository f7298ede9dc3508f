//! [`RawJson`]: a free-form JSON object kept as the text the server sent.
//!
//! Free-form parts of a response (PiecesOS's nested applications, models, scores, ...) are
//! mostly only passed along. Building them into a `serde_json::Map` costs as much as parsing the
//! whole document into a `Value`; keeping them as text costs a syntax check.

use std::fmt;

use serde::de::{Deserialize, Deserializer, Unexpected};
use serde::ser::{Serialize, Serializer};
use serde_json::Value;
use serde_json::value::RawValue;

/// A free-form JSON object, kept as its text: validated on decode, parsed only when asked.
///
/// Decoding checks the text is well-formed JSON and an object (anything else is a decode error,
/// as it was for a `serde_json::Map`), without building it. [`RawJson::get`] gives the text,
/// [`RawJson::parse`] decodes it into any type and [`RawJson::to_value`] into a `Value`.
/// Serializing writes the text back unchanged, so a decode/encode round trip through
/// `serde_json::from_slice`/`to_vec` keeps these parts byte for byte.
///
/// Equality is JSON equality: two values are equal when their texts are, or else when they
/// parse to equal `serde_json::Value`s (whitespace and key order do not matter; for a key given
/// twice the last one counts, numbers compare as `Value` numbers).
///
/// It rests on `serde_json::value::RawValue`, so it decodes from serde_json only (`from_slice`,
/// `from_str`, `from_reader`, `from_value`), and not inside `#[serde(flatten)]`, untagged or
/// internally tagged enums, where serde buffers the input first. Serializing into a format other
/// than JSON writes serde_json's private raw-value marker: convert with [`RawJson::to_value`]
/// first.
///
/// ```
/// use assistants_api_runtime::RawJson;
///
/// let raw: RawJson = serde_json::from_str(r#"{"b": 1,  "a": [true]}"#)?;
/// assert_eq!(raw.get(), r#"{"b": 1,  "a": [true]}"#);
/// assert_eq!(serde_json::to_string(&raw)?, raw.get());
/// assert_eq!(raw.to_value()?["a"][0], true);
/// assert_eq!(raw, RawJson::from_text(r#"{"a":[true],"b":1}"#)?);
/// assert!(serde_json::from_str::<RawJson>(r#"{"a": tru}"#).is_err());
/// assert!(serde_json::from_str::<RawJson>("[1]").is_err());
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Clone)]
pub struct RawJson(Box<RawValue>);

impl RawJson {
    /// Checks `text` is one JSON object and keeps it as it is (surrounding whitespace trimmed).
    ///
    /// # Errors
    /// When `text` is not well-formed JSON, or is JSON but not an object.
    pub fn from_text(text: impl Into<String>) -> Result<Self, serde_json::Error> {
        // `from_string` parses as `from_str` does, so it drops surrounding whitespace itself.
        Self::checked(RawValue::from_string(text.into())?)
    }

    /// Encodes `value`, which must be an object.
    ///
    /// # Errors
    /// When `value` is not a JSON object.
    pub fn from_value(value: &Value) -> Result<Self, serde_json::Error> {
        Self::checked(serde_json::value::to_raw_value(value)?)
    }

    /// The JSON text, exactly as decoded (or as given to [`RawJson::from_text`]).
    pub fn get(&self) -> &str {
        self.0.get()
    }

    /// Decodes the text into `T`, which may borrow from it.
    ///
    /// # Errors
    /// When the object does not match `T`.
    pub fn parse<'a, T: Deserialize<'a>>(&'a self) -> Result<T, serde_json::Error> {
        serde_json::from_str(self.0.get())
    }

    /// Parses the text into a `serde_json::Value`.
    ///
    /// # Errors
    /// Only for text serde_json checks but cannot build: nesting deeper than its 128-level limit
    /// or a number out of `f64` range.
    pub fn to_value(&self) -> Result<Value, serde_json::Error> {
        self.parse()
    }

    /// The underlying `RawValue`.
    pub fn as_raw_value(&self) -> &RawValue {
        &self.0
    }

    /// The underlying `RawValue`, owned.
    pub fn into_raw_value(self) -> Box<RawValue> {
        self.0
    }

    fn checked(raw: Box<RawValue>) -> Result<Self, serde_json::Error> {
        if raw.get().starts_with('{') {
            Ok(Self(raw))
        } else {
            Err(not_an_object(raw.get()))
        }
    }
}

/// The error for valid JSON that is not an object, naming what it was instead.
fn not_an_object<E: serde::de::Error>(text: &str) -> E {
    let unexpected = match text.as_bytes().first() {
        Some(b'[') => Unexpected::Seq,
        Some(b'"') => Unexpected::Other("a string"),
        Some(b't' | b'f') => Unexpected::Other("a boolean"),
        Some(b'n') => Unexpected::Unit,
        _ => Unexpected::Other("a number"),
    };
    E::invalid_type(unexpected, &"a JSON object")
}

impl TryFrom<Box<RawValue>> for RawJson {
    type Error = serde_json::Error;

    /// Keeps `raw` when it is an object.
    fn try_from(raw: Box<RawValue>) -> Result<Self, Self::Error> {
        Self::checked(raw)
    }
}

impl TryFrom<Value> for RawJson {
    type Error = serde_json::Error;

    /// Encodes `value` when it is an object.
    fn try_from(value: Value) -> Result<Self, Self::Error> {
        Self::from_value(&value)
    }
}

impl<'de> Deserialize<'de> for RawJson {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = Box::<RawValue>::deserialize(deserializer)?;
        if raw.get().starts_with('{') {
            Ok(Self(raw))
        } else {
            Err(not_an_object(raw.get()))
        }
    }
}

impl Serialize for RawJson {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(serializer)
    }
}

impl PartialEq for RawJson {
    fn eq(&self, other: &Self) -> bool {
        if self.get() == other.get() {
            return true;
        }
        match (self.to_value(), other.to_value()) {
            (Ok(a), Ok(b)) => a == b,
            _ => false,
        }
    }
}

impl fmt::Debug for RawJson {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("RawJson")
            .field(&format_args!("{}", self.get()))
            .finish()
    }
}

impl fmt::Display for RawJson {
    /// The JSON text.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.get())
    }
}

impl schemars::JsonSchema for RawJson {
    fn schema_name() -> String {
        "RawJson".to_owned()
    }

    fn is_referenceable() -> bool {
        false
    }

    /// Any JSON object.
    fn json_schema(_: &mut schemars::r#gen::SchemaGenerator) -> schemars::schema::Schema {
        use schemars::schema::{InstanceType, Metadata, ObjectValidation, Schema, SchemaObject};
        SchemaObject {
            metadata: Some(Box::new(Metadata {
                description: Some("A free-form JSON object.".to_owned()),
                ..Metadata::default()
            })),
            instance_type: Some(InstanceType::Object.into()),
            object: Some(Box::new(ObjectValidation {
                additional_properties: Some(Box::new(Schema::Bool(true))),
                ..ObjectValidation::default()
            })),
            ..SchemaObject::default()
        }
        .into()
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::RawJson;

    #[derive(serde::Deserialize, serde::Serialize, Debug, PartialEq)]
    struct Holder {
        id: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        extra: Option<RawJson>,
    }

    #[test]
    fn keeps_the_text_byte_for_byte() {
        let inner = r#"{ "z": 1.50, "a": {"deep": [1e3, "\u00e9", null]}, "z": 2 }"#;
        let text = format!(r#"{{"id": "x", "extra": {inner}}}"#);
        let holder: Holder = serde_json::from_str(&text).unwrap();
        let raw = holder.extra.as_ref().unwrap();
        assert_eq!(raw.get(), inner);
        // Serializing writes the same bytes back: number spelling, escapes, duplicate keys.
        let encoded = serde_json::to_string(&holder).unwrap();
        assert_eq!(encoded, format!(r#"{{"id":"x","extra":{inner}}}"#));
    }

    #[test]
    fn invalid_json_and_non_objects_are_decode_errors() {
        let bad = serde_json::from_str::<Holder>(r#"{"id": "x", "extra": {"a": tru}}"#).unwrap_err();
        assert_eq!(bad.classify(), serde_json::error::Category::Syntax);
        for other in ["[1]", "\"text\"", "true", "3"] {
            let text = format!(r#"{{"id": "x", "extra": {other}}}"#);
            let err = serde_json::from_str::<Holder>(&text).unwrap_err();
            assert_eq!(err.classify(), serde_json::error::Category::Data, "{other}");
            assert!(err.to_string().contains("expected a JSON object"), "{err}");
        }
        let absent: Holder = serde_json::from_str(r#"{"id": "x", "extra": null}"#).unwrap();
        assert_eq!(absent.extra, None);
        assert!(RawJson::from_text("{").is_err());
        assert!(RawJson::from_value(&json!([1])).is_err());
    }

    #[test]
    fn parses_only_when_asked() {
        #[derive(serde::Deserialize)]
        struct App<'a> {
            name: &'a str,
            version: String,
        }
        let raw = RawJson::from_text(r#" {"name": "VS_CODE", "version": "2.3.1", "new": {}} "#).unwrap();
        assert_eq!(raw.get(), r#"{"name": "VS_CODE", "version": "2.3.1", "new": {}}"#);
        let app: App<'_> = raw.parse().unwrap();
        assert_eq!((app.name, app.version.as_str()), ("VS_CODE", "2.3.1"));
        assert_eq!(
            raw.to_value().unwrap(),
            json!({"name": "VS_CODE", "version": "2.3.1", "new": {}})
        );
        assert!(raw.parse::<Vec<u8>>().is_err());
    }

    #[test]
    fn decodes_from_a_value_and_equality_is_json_equality() {
        let value = json!({"id": "x", "extra": {"b": [1, 2], "a": "t"}});
        let from_value: Holder = serde_json::from_value(value.clone()).unwrap();
        let from_text: Holder =
            serde_json::from_str(r#"{"id": "x", "extra": { "a" : "t", "b": [1,2] }}"#).unwrap();
        assert_ne!(
            from_value.extra.as_ref().unwrap().get(),
            from_text.extra.as_ref().unwrap().get()
        );
        assert_eq!(from_value, from_text);
        assert_eq!(serde_json::to_value(&from_text).unwrap(), value);
        let different = RawJson::from_value(&json!({"a": "t", "b": [2, 1]})).unwrap();
        assert_ne!(from_text.extra.unwrap(), different);
        assert_eq!(format!("{different:?}"), r#"RawJson({"a":"t","b":[2,1]})"#);
    }

    #[test]
    fn schema_is_an_object() {
        let schema = serde_json::to_value(schemars::schema_for!(RawJson)).unwrap();
        assert_eq!(schema["type"], "object");
        assert_eq!(schema["additionalProperties"], true);
        assert_eq!(schema["description"], "A free-form JSON object.");
        assert_eq!(<RawJson as schemars::JsonSchema>::schema_name(), "RawJson");
    }

    #[test]
    fn a_field_of_it_is_described_inline_not_as_a_named_definition() {
        #[derive(schemars::JsonSchema)]
        #[allow(dead_code)]
        struct Part {
            reference: RawJson,
        }
        let schema = serde_json::to_value(schemars::schema_for!(Part)).unwrap();
        assert_eq!(schema["properties"]["reference"]["type"], "object", "{schema}");
        assert!(schema.get("definitions").is_none(), "{schema}");
    }

    #[test]
    fn a_non_object_is_named_in_its_error_and_display_is_the_text() {
        for (text, named) in [
            ("[1]", "sequence"),
            ("\"text\"", "a string"),
            ("true", "a boolean"),
            ("false", "a boolean"),
            ("null", "null"),
            ("3.5", "a number"),
        ] {
            let error = RawJson::from_text(text).unwrap_err().to_string();
            assert_eq!(
                error,
                format!("invalid type: {named}, expected a JSON object"),
                "{text}"
            );
        }
        let raw = RawJson::from_text(r#"{"a": [1, 2]}"#).unwrap();
        assert_eq!(raw.to_string(), r#"{"a": [1, 2]}"#);
    }
}
