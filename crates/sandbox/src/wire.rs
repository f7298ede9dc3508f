//! Wire-format helpers shared by the simulators: error bodies, ids and timestamps as the real
//! services write them.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use rand::Rng;
use serde_json::{Value, json};

/// A JSON response.
pub fn json_response(status: StatusCode, body: Value) -> Response {
    (status, axum::Json(body)).into_response()
}

/// FastAPI's `{"detail": "<text>"}` error.
pub fn detail(status: StatusCode, text: &str) -> Response {
    json_response(status, json!({ "detail": text }))
}

/// A `text/plain` error, as PiecesOS and FlowGen's uncaught exceptions answer.
pub fn text(status: StatusCode, body: impl Into<String>) -> Response {
    let mut response = (status, body.into()).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}

/// FastAPI's 422 body for a missing parameter at `loc`.
pub fn missing(loc: &[&str]) -> Value {
    json!({"detail": [{"type": "missing", "loc": loc, "msg": "Field required", "input": null}]})
}

/// FastAPI's 422 body for a body that is not JSON.
pub fn json_invalid(error: &serde_json::Error) -> Value {
    json!({"detail": [{"type": "json_invalid", "loc": ["body", error.column()], "msg": "JSON decode error", "input": {}, "ctx": {"error": error.to_string()}}]})
}

/// A lowercase v4 UUID from the seeded RNG.
pub fn uuid(rng: &mut impl Rng) -> String {
    let b: [u8; 16] = rng.random();
    format!(
        "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
        u32::from_be_bytes([b[0], b[1], b[2], b[3]]),
        u16::from_be_bytes([b[4], b[5]]),
        u16::from_be_bytes([b[6], b[7]]) & 0x0fff,
        (u16::from_be_bytes([b[8], b[9]]) & 0x3fff) | 0x8000,
        u64::from_be_bytes([0, 0, b[10], b[11], b[12], b[13], b[14], b[15]])
    )
}

/// A PocketBase record id: 15 characters of `[a-z0-9]`.
pub fn pocketbase_id(rng: &mut impl Rng) -> String {
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    (0..15)
        .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
        .collect()
}

/// PocketBase's datetime text: `2024-03-14 08:21:05.412Z`.
pub fn pocketbase_time(epoch_ms: u64) -> String {
    chrono::DateTime::from_timestamp_millis(i64::try_from(epoch_ms).unwrap_or(i64::MAX))
        .unwrap_or_default()
        .format("%Y-%m-%d %H:%M:%S%.3fZ")
        .to_string()
}

/// RFC 3339 with microseconds and `Z`, as PiecesOS and FlowHunt write it.
pub fn rfc3339_micros(epoch_ms: u64) -> String {
    chrono::DateTime::from_timestamp_millis(i64::try_from(epoch_ms).unwrap_or(i64::MAX))
        .unwrap_or_default()
        .format("%Y-%m-%dT%H:%M:%S%.6fZ")
        .to_string()
}

/// Parses a JSON body: an empty body is `None`.
pub fn parse_json(bytes: &[u8]) -> Result<Option<Value>, serde_json::Error> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    serde_json::from_slice(bytes).map(Some)
}

/// Parses a JSON body the way FastAPI does: an empty body is `None`, bad JSON a 422 body.
pub fn parse_body(bytes: &[u8]) -> Result<Option<Value>, Value> {
    parse_json(bytes).map_err(|e| json_invalid(&e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn ids_and_times_have_the_real_shapes() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(1);
        let id = uuid(&mut rng);
        assert_eq!(id.len(), 36);
        assert_eq!(&id[14..15], "4");
        let pb = pocketbase_id(&mut rng);
        assert!(pb.len() == 15 && pb.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit()));
        assert_eq!(pocketbase_time(1_710_404_465_412), "2024-03-14 08:21:05.412Z");
        assert_eq!(rfc3339_micros(1_710_404_465_412), "2024-03-14T08:21:05.412000Z");
    }
}
