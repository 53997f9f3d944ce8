//! Creating and patching a record, written once for every record type the API writes: the body
//! read strictly, `id` and `_info` ignored on create, a patch applied field by field, the record
//! checked and completed by its type's rules, stored, and announced to callbacks.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Extension, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use super::{Member, apply_patch, json_body, object, parse_id, site_of};
use crate::Sandbox;
use crate::callbacks::{Change, announce};
use crate::errors::ApiError;
use crate::store::{Data, Table};

/// A record type the API creates and patches.
pub(super) trait Writable {
    /// The schema's name (`Company.Configuration`), which patches are checked against.
    const SCHEMA: &'static str;
    /// The record's name in errors and callbacks (`configuration`).
    const KIND: &'static str;
    /// The name a 404 uses (`Configuration`).
    const NOT_FOUND: &'static str;

    fn table(data: &mut Data) -> &mut Table;

    /// Checks a record about to be stored and fills what ConnectWise fills; `before` is the
    /// stored record a patch changes.
    fn complete(
        data: &Data,
        record: Map<String, Value>,
        before: Option<&Value>,
        member: &str,
    ) -> Result<Value, ApiError>;

    /// Takes what a create carries but the record does not keep (a ticket's initial notes).
    fn take_post_only(_record: &mut Map<String, Value>) -> Vec<(String, String)> {
        Vec::new()
    }

    /// Stores what `take_post_only` took, once the record has its id.
    fn created(_data: &mut Data, _id: i64, _post_only: Vec<(String, String)>, _member: &str) {}
}

/// `POST`: a new record, 201 with it as stored.
pub(super) async fn create<K: Writable>(
    State(sb): State<Arc<Sandbox>>,
    Extension(member): Extension<Member>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let mut record = object(json_body(&headers, &body)?, K::KIND)?;
    record.remove("id");
    record.remove("_info");
    let post_only = K::take_post_only(&mut record);
    let mut data = sb.data();
    let record = K::complete(&data, record, None, &member.0)?;
    let id = K::table(&mut data).insert(record);
    K::created(&mut data, id, post_only, &member.0);
    let stored = K::table(&mut data).get(id).cloned().unwrap_or_default();
    announce(
        &sb,
        &data,
        Change {
            kind: K::KIND,
            action: "added",
            record: &stored,
            member: &member.0,
            site: site_of(&headers),
        },
    );
    Ok((StatusCode::CREATED, Json(stored)).into_response())
}

/// `PATCH`: a JSON patch of whole fields, then the same checks as a create.
pub(super) async fn patch<K: Writable>(
    State(sb): State<Arc<Sandbox>>,
    Extension(member): Extension<Member>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let id = parse_id(&id, K::NOT_FOUND)?;
    let body = json_body(&headers, &body)?;
    let mut data = sb.data();
    let current = K::table(&mut data)
        .get(id)
        .ok_or_else(|| ApiError::not_found(K::NOT_FOUND))?
        .clone();
    let mut record = object(current.clone(), K::KIND)?;
    apply_patch(&mut record, body, K::SCHEMA, K::KIND)?;
    let mut record = K::complete(&data, record, Some(&current), &member.0)?;
    record["id"] = json!(id);
    K::table(&mut data).put(id, record.clone());
    announce(
        &sb,
        &data,
        Change {
            kind: K::KIND,
            action: "updated",
            record: &record,
            member: &member.0,
            site: site_of(&headers),
        },
    );
    Ok(Json(record).into_response())
}
