//! `/service/tickets/{id}/notes` and `/service/tickets/{id}/configurations`: a ticket's notes
//! and the configurations attached to it.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Extension, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Value, json};

use super::{ListCall, Member, check_record, json_body, object, parse_id, resolve};
use crate::Sandbox;
use crate::errors::{ApiError, FieldProblem};
use crate::store::now_iso;

pub fn router() -> Router<Arc<Sandbox>> {
    Router::new()
        .route(
            "/service/tickets/{id}/notes",
            get(list_notes).post(add_note),
        )
        .route(
            "/service/tickets/{id}/configurations",
            get(list_ticket_configurations).post(attach_configuration),
        )
}

type Result<T> = std::result::Result<T, ApiError>;

async fn list_notes(
    State(sb): State<Arc<Sandbox>>,
    Path(id): Path<String>,
    call: ListCall,
) -> Result<Response> {
    let id = parse_id(&id, "Ticket")?;
    if sb.data().tickets.get(id).is_none() {
        return Err(ApiError::not_found("Ticket"));
    }
    call.list(
        &sb,
        "ServiceNote",
        |d| &d.notes,
        |n| n["ticketId"].as_i64() == Some(id),
    )
}

/// A note needs text and at least one of the discussion, internal or resolution flags.
async fn add_note(
    State(sb): State<Arc<Sandbox>>,
    Extension(member): Extension<Member>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response> {
    let id = parse_id(&id, "Ticket")?;
    let mut record = object(json_body(&headers, &body)?, "note")?;
    record.remove("id");
    let mut problems = check_record("ServiceNote", &record, "note", &["text"]);
    let flagged = [
        "detailDescriptionFlag",
        "internalAnalysisFlag",
        "resolutionFlag",
    ]
    .iter()
    .any(|f| record.get(*f) == Some(&json!(true)));
    if !flagged {
        problems.push(FieldProblem::new(
            "InvalidField",
            "note",
            "detailDescriptionFlag",
            "or internalAnalysisFlag or resolutionFlag must be true",
        ));
    }
    if !problems.is_empty() {
        return Err(ApiError::invalid("note", problems));
    }
    let mut data = sb.data();
    if data.tickets.get(id).is_none() {
        return Err(ApiError::not_found("Ticket"));
    }
    record.insert("ticketId".into(), json!(id));
    record.insert("dateCreated".into(), json!(now_iso()));
    record.insert("createdBy".into(), json!(member.0));
    record.insert("member".into(), json!({ "identifier": member.0 }));
    let note_id = data.notes.insert(Value::Object(record));
    Ok((
        StatusCode::CREATED,
        Json(data.notes.get(note_id).cloned().unwrap_or_default()),
    )
        .into_response())
}

async fn list_ticket_configurations(
    State(sb): State<Arc<Sandbox>>,
    Path(id): Path<String>,
) -> Result<Response> {
    let id = parse_id(&id, "Ticket")?;
    let data = sb.data();
    if data.tickets.get(id).is_none() {
        return Err(ApiError::not_found("Ticket"));
    }
    let refs: Vec<Value> = data
        .ticket_configurations
        .iter()
        .filter(|(t, _)| *t == id)
        .filter_map(|(_, c)| data.configurations.get(*c))
        .map(|c| json!({ "id": c["id"], "deviceIdentifier": c["deviceIdentifier"] }))
        .collect();
    Ok(Json(refs).into_response())
}

async fn attach_configuration(
    State(sb): State<Arc<Sandbox>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response> {
    let id = parse_id(&id, "Ticket")?;
    let reference = object(json_body(&headers, &body)?, "configuration reference")?;
    let problems = check_record(
        "ConfigurationReference",
        &reference,
        "configurationReference",
        &[],
    );
    if !problems.is_empty() {
        return Err(ApiError::invalid("configurationReference", problems));
    }
    let mut data = sb.data();
    if data.tickets.get(id).is_none() {
        return Err(ApiError::not_found("Ticket"));
    }
    let config = resolve(
        &data.configurations,
        &Value::Object(reference),
        &["deviceIdentifier"],
    )
    .ok_or_else(|| {
        ApiError::field(
            "configurationReference",
            "InvalidField",
            "id",
            "refers to a configuration that does not exist",
        )
    })?;
    let config_id = config["id"].as_i64().unwrap_or_default();
    let answer = json!({ "id": config_id, "deviceIdentifier": config["deviceIdentifier"] });
    if data.ticket_configurations.contains(&(id, config_id)) {
        return Err(ApiError::field(
            "configurationReference",
            "InvalidField",
            "id",
            "is already attached to this ticket",
        ));
    }
    data.ticket_configurations.push((id, config_id));
    Ok((StatusCode::CREATED, Json(answer)).into_response())
}
