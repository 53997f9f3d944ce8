//! `/system/callbacks`: callback registrations (`CallbackEntry`), checked against the schema;
//! and `/time/entries`, the time people log on tickets (how a connector tells whether a person
//! worked a ticket).

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Extension, Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Map, Value, json};

use super::{ListCall, Member, apply_patch, check_record, get_one, json_body, object, parse_id};
use crate::Sandbox;
use crate::errors::{ApiError, FieldProblem};
use crate::store::now_iso;

/// Record types a callback may watch (those the sandbox announces, and their neighbours).
const TYPES: [&str; 5] = ["ticket", "configuration", "company", "contact", "activity"];
/// Levels: every record of the type (`owner`), a board's tickets, one record.
const LEVELS: [&str; 3] = ["owner", "board", "record"];

pub fn router() -> Router<Arc<Sandbox>> {
    Router::new()
        .route(
            "/system/callbacks",
            get(list_callbacks).post(create_callback),
        )
        .route("/system/callbacks/count", get(count_callbacks))
        .route(
            "/system/callbacks/{id}",
            get(get_callback)
                .put(replace_callback)
                .patch(patch_callback)
                .delete(delete_callback),
        )
        .route("/time/entries", get(list_time).post(add_time))
        .route("/time/entries/count", get(count_time))
}

type Result<T> = std::result::Result<T, ApiError>;

async fn list_callbacks(State(sb): State<Arc<Sandbox>>, call: ListCall) -> Result<Response> {
    call.list(&sb, "CallbackEntry", |d| &d.callbacks, |_| true)
}

async fn count_callbacks(State(sb): State<Arc<Sandbox>>, call: ListCall) -> Result<Response> {
    call.count(&sb, "CallbackEntry", |d| &d.callbacks)
}

async fn get_callback(
    State(sb): State<Arc<Sandbox>>,
    Path(id): Path<String>,
    RawQuery(q): RawQuery,
) -> Result<Response> {
    get_one(&sb, |d| &d.callbacks, "CallbackEntry", &id, q.as_deref())
}

async fn create_callback(
    State(sb): State<Arc<Sandbox>>,
    Extension(member): Extension<Member>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response> {
    let mut record = object(json_body(&headers, &body)?, "callback")?;
    record.remove("id");
    let record = complete_callback(record, &member.0, None)?;
    let mut data = sb.data();
    let id = data.callbacks.insert(record);
    Ok((
        StatusCode::CREATED,
        Json(data.callbacks.get(id).cloned().unwrap_or_default()),
    )
        .into_response())
}

async fn replace_callback(
    State(sb): State<Arc<Sandbox>>,
    Extension(member): Extension<Member>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response> {
    let record = object(json_body(&headers, &body)?, "callback")?;
    update_callback(&sb, &member, &id, |_| Ok(record))
}

async fn patch_callback(
    State(sb): State<Arc<Sandbox>>,
    Extension(member): Extension<Member>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response> {
    let ops = json_body(&headers, &body)?;
    update_callback(&sb, &member, &id, |before| {
        let mut record = object(before.clone(), "callback")?;
        apply_patch(&mut record, ops, "CallbackEntry", "callback")?;
        Ok(record)
    })
}

/// Replaces a stored registration with what `change` makes of it, checked as a new one is.
fn update_callback(
    sb: &Sandbox,
    member: &Member,
    id: &str,
    change: impl FnOnce(&Value) -> Result<Map<String, Value>>,
) -> Result<Response> {
    let id = parse_id(id, "CallbackEntry")?;
    let mut data = sb.data();
    let before = data
        .callbacks
        .get(id)
        .ok_or_else(|| ApiError::not_found("CallbackEntry"))?
        .clone();
    let mut record = complete_callback(change(&before)?, &member.0, Some(&before))?;
    record["id"] = json!(id);
    data.callbacks.put(id, record.clone());
    Ok(Json(record).into_response())
}

async fn delete_callback(
    State(sb): State<Arc<Sandbox>>,
    Path(id): Path<String>,
) -> Result<Response> {
    let id = parse_id(&id, "CallbackEntry")?;
    match sb.data().callbacks.remove(id) {
        Some(_) => Ok(StatusCode::NO_CONTENT.into_response()),
        None => Err(ApiError::not_found("CallbackEntry")),
    }
}

/// Checks a registration: the schema, the four required fields, an absolute http(s) URL, a
/// known type and level. The member who registers it is recorded (self-suppression uses it).
fn complete_callback(
    mut record: Map<String, Value>,
    member: &str,
    before: Option<&Value>,
) -> Result<Value> {
    let resource = "callback";
    let mut problems = check_record(
        "CallbackEntry",
        &record,
        resource,
        &["url", "objectId", "type", "level"],
    );
    let mut refuse = |field: &str, what: &str| {
        if !problems.iter().any(|p| p.field == field) {
            problems.push(FieldProblem::new("InvalidField", resource, field, what));
        }
    };
    if let Some(url) = record.get("url").and_then(Value::as_str)
        && !(url.starts_with("https://") || url.starts_with("http://"))
    {
        refuse("url", "must be an absolute http or https URL");
    }
    if let Some(t) = record.get("type").and_then(Value::as_str)
        && !TYPES.iter().any(|k| k.eq_ignore_ascii_case(t))
    {
        refuse("type", "is not a record type callbacks can watch");
    }
    if let Some(l) = record.get("level").and_then(Value::as_str)
        && !LEVELS.iter().any(|k| k.eq_ignore_ascii_case(l))
    {
        refuse("level", "is not a callback level");
    }
    if let Some(o) = record.get("objectId").and_then(Value::as_i64)
        && o < 0
    {
        refuse("objectId", "may not be negative");
    }
    if !problems.is_empty() {
        return Err(ApiError::invalid(resource, problems));
    }
    let entered_by = before
        .and_then(|b| b["_info"]["enteredBy"].as_str())
        .unwrap_or(member)
        .to_owned();
    record.insert(
        "_info".into(),
        json!({ "enteredBy": entered_by, "updatedBy": member, "lastUpdated": now_iso() }),
    );
    Ok(Value::Object(record))
}

async fn list_time(State(sb): State<Arc<Sandbox>>, call: ListCall) -> Result<Response> {
    call.list(&sb, "TimeEntry", |d| &d.time_entries, |_| true)
}

async fn count_time(State(sb): State<Arc<Sandbox>>, call: ListCall) -> Result<Response> {
    call.count(&sb, "TimeEntry", |d| &d.time_entries)
}

/// Logs time against a ticket: `chargeToId` (an existing ticket), `chargeToType`
/// `ServiceTicket`, and the hours; the member is who sent it.
async fn add_time(
    State(sb): State<Arc<Sandbox>>,
    Extension(member): Extension<Member>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response> {
    let mut record = object(json_body(&headers, &body)?, "timeEntry")?;
    record.remove("id");
    let mut problems = check_record(
        "TimeEntry",
        &record,
        "timeEntry",
        &["chargeToId", "chargeToType", "timeStart"],
    );
    let mut data = sb.data();
    let ticket = record.get("chargeToId").and_then(Value::as_i64);
    if record.get("chargeToType").and_then(Value::as_str) == Some("ServiceTicket")
        && ticket.is_some_and(|t| data.tickets.get(t).is_none())
    {
        problems.push(FieldProblem::new(
            "InvalidField",
            "timeEntry",
            "chargeToId",
            "refers to a ticket that does not exist",
        ));
    }
    if !problems.is_empty() {
        return Err(ApiError::invalid("timeEntry", problems));
    }
    record.insert("member".into(), json!({ "identifier": member.0 }));
    record.insert(
        "_info".into(),
        json!({ "enteredBy": member.0, "lastUpdated": now_iso() }),
    );
    let id = data.time_entries.insert(Value::Object(record));
    Ok((
        StatusCode::CREATED,
        Json(data.time_entries.get(id).cloned().unwrap_or_default()),
    )
        .into_response())
}
