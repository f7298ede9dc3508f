//! Serialize/deserialize round trips of the generated types (proptest): real-shaped fixtures
//! with arbitrary text in free-text fields, any value in open-enum fields and unknown extra
//! fields decode, re-encode and decode again to the same value, keeping every varied field.

use std::fmt::Debug;

use proptest::prelude::*;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

fn fixture(path: &str) -> Value {
    let text = std::fs::read_to_string(format!("{}/fixtures/{path}", env!("CARGO_MANIFEST_DIR")))
        .expect("the fixture exists");
    serde_json::from_str(&text).expect("the fixture is JSON")
}

/// `base` with the strings at `pointers` replaced and an unknown field added to `extra_at`.
fn varied(base: &Value, pointers: &[&str], texts: &[String], extra_at: &str, extra: (&str, Value)) -> Value {
    let mut value = base.clone();
    for (pointer, text) in pointers.iter().zip(texts) {
        *value.pointer_mut(pointer).expect("the pointer names a field") = Value::String(text.clone());
    }
    if let Some(Value::Object(object)) = value.pointer_mut(extra_at) {
        object.insert(extra.0.to_string(), extra.1);
    }
    value
}

/// Decodes, re-encodes and decodes again; the varied strings survive.
fn round_trip<T>(value: &Value, pointers: &[&str]) -> Result<(), TestCaseError>
where
    T: DeserializeOwned + Serialize + PartialEq + Debug,
{
    let typed: T =
        serde_json::from_value(value.clone()).map_err(|e| TestCaseError::fail(format!("decode: {e}")))?;
    let encoded = serde_json::to_value(&typed).map_err(|e| TestCaseError::fail(format!("encode: {e}")))?;
    let again: T = serde_json::from_value(encoded.clone())
        .map_err(|e| TestCaseError::fail(format!("re-decode: {e}")))?;
    prop_assert_eq!(&typed, &again);
    for pointer in pointers {
        prop_assert_eq!(
            encoded.pointer(pointer),
            value.pointer(pointer),
            "{} kept",
            pointer
        );
    }
    Ok(())
}

fn texts(n: usize) -> impl Strategy<Value = Vec<String>> {
    proptest::collection::vec("\\PC{0,24}", n)
}

fn extra() -> impl Strategy<Value = (String, Value)> {
    let scalar = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        "\\PC{0,12}".prop_map(Value::String),
    ];
    ("zz_[a-z]{1,8}", scalar)
}

proptest! {
    #[test]
    fn flowhunt_events_and_invocations(texts in texts(5), (key, value) in extra()) {
        let events = fixture("flowhunt/poll_events.json");
        let pointers = ["/0/event_id", "/0/event_type", "/0/action_type", "/0/created_at_timestamp", "/0/metadata/message"];
        let events = varied(&events, &pointers, &texts, "/0", (&key, value.clone()));
        round_trip::<Vec<flowhunt_api::types::FlowSessionEvent>>(&events, &pointers)?;

        let invocation = fixture("flowhunt/invocation_with_cached_events.json");
        let pointers = ["/message_id", "/created_at", "/cached_events/0/action_type"];
        let invocation = varied(&invocation, &pointers, &texts, "", (&key, value));
        round_trip::<flowhunt_api::types::FlowSessionInvocationResponse>(&invocation, &pointers)?;
    }

    #[test]
    fn flowgen_chats_and_messages(texts in texts(5), (key, value) in extra()) {
        let chats = fixture("flowgen/chats.json");
        let pointers = ["/0/id", "/0/name", "/0/status", "/0/from_type", "/0/updated"];
        let chats = varied(&chats, &pointers, &texts, "/0", (&key, value.clone()));
        round_trip::<Vec<flowgen_api::types::Chat>>(&chats, &pointers)?;

        let messages = fixture("flowgen/messages.json");
        let pointers = ["/0/content", "/0/type", "/0/sender", "/0/created", "/0/chat"];
        let messages = varied(&messages, &pointers, &texts, "/0", (&key, value));
        round_trip::<Vec<flowgen_api::types::Message>>(&messages, &pointers)?;
    }

    #[test]
    fn pieces_conversations(texts in texts(5), (key, value) in extra()) {
        let conversations = fixture("pieces/conversations.json");
        // The last two are inside free-form parts (`RawJson`), kept as text.
        let pointers = [
            "/iterable/0/name",
            "/iterable/0/type",
            "/schema/semantic",
            "/iterable/0/application/name",
            "/iterable/0/messages/iterable/0/reference/fragment/string/raw",
        ];
        let conversations = varied(&conversations, &pointers, &texts, "/iterable/0", (&key, value));
        round_trip::<pieces_api::types::Conversations>(&conversations, &pointers)?;
    }
}

/// The free-form parts of a Pieces snapshot (`RawJson`) come back byte for byte through a
/// bytes-to-bytes round trip, whatever their spacing, key order, number spelling and escapes,
/// and so do its timestamps (`Timestamp`).
#[test]
fn pieces_free_form_parts_are_kept_byte_for_byte() {
    let application =
        r#"{ "name":"VS_CODE",  "version" : "2.3.1", "zz_new": [1.50, 1e3, "\u00e9\n"], "name": "dup" }"#;
    let reference = r#"{"type": "SUMMARY", "text": "caf\u00e9", "nested": {"deep": [[{}]]}}"#;
    let text = fixture("pieces/conversations.json").to_string();
    let mut value: Value = serde_json::from_str(&text).expect("the fixture is JSON");
    // Placeholders, swapped for the exact texts after encoding, since a `Value` would normalise them.
    value["iterable"][0]["application"] = Value::from("@application@");
    value["iterable"][0]["annotations"]["iterable"][0]["reference"] = Value::from("@reference@");
    let bytes = serde_json::to_string(&value)
        .expect("encodes")
        .replace(r#""@application@""#, application)
        .replace(r#""@reference@""#, reference);

    let typed: pieces_api::types::Conversations = serde_json::from_str(&bytes).expect("decodes");
    let first = &typed.iterable[0];
    let raw_application = first.application.as_ref().expect("application");
    assert_eq!(raw_application.get(), application);
    let annotations = first.annotations.as_ref().expect("annotations");
    assert_eq!(
        annotations.iterable[0]
            .reference
            .as_ref()
            .expect("reference")
            .get(),
        reference
    );

    let encoded = serde_json::to_string(&typed).expect("encodes");
    // Timestamps keep the server's spelling too (chrono would write `44.100Z`).
    assert_eq!(first.updated.value.text(), Some("2023-10-27T09:12:44.1Z"));
    assert!(
        encoded.contains(r#""value":"2023-10-27T09:12:44.1Z""#),
        "{encoded}"
    );
    assert!(encoded.contains(application), "{encoded}");
    assert!(encoded.contains(reference), "{encoded}");
    let again: pieces_api::types::Conversations = serde_json::from_str(&encoded).expect("re-decodes");
    assert_eq!(again, typed);
    assert_eq!(
        again.iterable[0].application.as_ref().map(|a| a.get()),
        Some(application)
    );

    // Parsed only when asked; the duplicate key keeps its last value, as serde_json does.
    let parsed = raw_application.to_value().expect("parses");
    assert_eq!(parsed["name"], "dup");
    assert_eq!(parsed["zz_new"][2], "é\n");
}

/// Invalid JSON inside a free-form part fails the typed decode with a syntax error, and a part
/// that is JSON but not an object with a data error, as the `serde_json::Map` it replaces did.
#[test]
fn pieces_free_form_parts_are_validated() {
    let text = fixture("pieces/conversations.json").to_string();
    let mut value: Value = serde_json::from_str(&text).expect("the fixture is JSON");
    value["iterable"][0]["model"] = Value::from("@model@");
    let template = serde_json::to_string(&value).expect("encodes");
    for (model, category) in [
        (r#"{"id": "gpt-4o",}"#, serde_json::error::Category::Syntax),
        (r#"{"id": "gpt-4o" "x": 1}"#, serde_json::error::Category::Syntax),
        (r#"{"id": "\q"}"#, serde_json::error::Category::Syntax),
        (r#"["gpt-4o"]"#, serde_json::error::Category::Data),
        (r#""gpt-4o""#, serde_json::error::Category::Data),
    ] {
        let bytes = template.replace(r#""@model@""#, model);
        let err = serde_json::from_str::<pieces_api::types::Conversations>(&bytes)
            .expect_err("an invalid free-form part fails the decode");
        assert_eq!(err.classify(), category, "{model}: {err}");
    }
}
