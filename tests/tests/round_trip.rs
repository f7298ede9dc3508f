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
    fn pieces_conversations(texts in texts(3), (key, value) in extra()) {
        let conversations = fixture("pieces/conversations.json");
        let pointers = ["/iterable/0/name", "/iterable/0/type", "/schema/semantic"];
        let conversations = varied(&conversations, &pointers, &texts, "/iterable/0", (&key, value));
        round_trip::<pieces_api::types::Conversations>(&conversations, &pointers)?;
    }
}
