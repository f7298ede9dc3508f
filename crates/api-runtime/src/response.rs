//! The typed success (or declared error) body of a response, as progenitor's
//! `ResponseValue::from_response` reads it, but moving the response's headers into the value
//! instead of cloning them: the response is consumed anyway, and the clone (a map allocation
//! and a copy of every header) was a measurable part of each call (issue 16's profile). The
//! xtask points the generated code here.

use progenitor_client::{Error, ResponseValue};
use serde::de::DeserializeOwned;

/// Reads the whole body (through the client's limits, as every body is) and decodes it as `T`.
///
/// # Errors
/// [`Error::ResponseBodyError`] when the body cannot be read (cut short, or past the limit:
/// see [`crate::is_too_large`]); [`Error::InvalidResponsePayload`] with the body when it is
/// not a `T`.
pub async fn from_response<T: DeserializeOwned, E>(
    mut response: reqwest::Response,
) -> Result<ResponseValue<T>, Error<E>> {
    let status = response.status();
    let headers = std::mem::take(response.headers_mut());
    let full = response.bytes().await.map_err(Error::ResponseBodyError)?;
    let inner = serde_json::from_slice(&full).map_err(|e| Error::InvalidResponsePayload(full, e))?;
    Ok(ResponseValue::new(inner, status, headers))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_value_keeps_status_and_headers_and_a_bad_body_is_kept_for_its_error() {
        let server = httpmock::MockServer::start_async().await;
        server
            .mock_async(|when, then| {
                when.path("/ok");
                then.status(201).header("x-trace", "t1").body(r#"{"a":1}"#);
            })
            .await;
        server
            .mock_async(|when, then| {
                when.path("/bad");
                then.status(200).body("not json");
            })
            .await;
        let http = reqwest::Client::new();
        let ok = http.get(server.url("/ok")).send().await.unwrap();
        let value: ResponseValue<serde_json::Value> = from_response::<_, ()>(ok).await.unwrap();
        assert_eq!(value.status().as_u16(), 201);
        assert_eq!(value.headers()["x-trace"], "t1");
        assert_eq!(value.into_inner(), serde_json::json!({"a": 1}));

        let bad = http.get(server.url("/bad")).send().await.unwrap();
        match from_response::<serde_json::Value, ()>(bad).await {
            Err(Error::InvalidResponsePayload(body, _)) => assert_eq!(&body[..], b"not json"),
            other => panic!("{other:?}"),
        }
    }
}
