//! Request bodies: JSON of bounded size, read with the path of the field at fault.

use axum::body::Body;
use axum::http::StatusCode;
use bindery_shared::protocol::MAX_BODY_BYTES;
use serde::de::DeserializeOwned;

use super::ApiFailure;

/// Reads a JSON body of at most [`MAX_BODY_BYTES`], naming the field at fault when it is wrong.
pub async fn read_json<T: DeserializeOwned>(body: Body) -> Result<T, ApiFailure> {
    let bytes = axum::body::to_bytes(body, MAX_BODY_BYTES)
        .await
        .map_err(|_| {
            ApiFailure::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "too_large",
                format!("the body is larger than {} KiB", MAX_BODY_BYTES / 1024),
            )
        })?;
    let mut de = serde_json::Deserializer::from_slice(&bytes);
    serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        let message = inner.to_string();
        // For a missing field the path is its parent; the name is in the message.
        let field = match message.split_once("missing field `") {
            Some((_, rest)) => {
                let name = rest.split('`').next().unwrap_or_default();
                Some(if path == "." {
                    name.to_owned()
                } else {
                    format!("{path}.{name}")
                })
            }
            None => (path != ".").then_some(path),
        };
        ApiFailure::invalid_body(format!("the body is not a valid message: {message}"), field)
    })
}
