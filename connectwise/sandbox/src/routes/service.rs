//! `/service/…`: boards and their statuses, and tickets (their notes and attached
//! configurations are in `ticket_parts`).

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Extension, Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Map, Value, json};

use super::writes;
use super::{
    ListCall, Member, check_record, get_one, json_body, object, parse_id, reference_to, resolve,
    resolve_contact, resolve_site, site_of,
};
use crate::Sandbox;
use crate::callbacks::{Change, announce};
use crate::errors::{ApiError, FieldProblem};
use crate::store::{Data, now_iso};

/// Fields ConnectWise takes on creation only and never returns.
const POST_ONLY: [&str; 3] = [
    "initialDescription",
    "initialInternalAnalysis",
    "initialResolution",
];

pub fn router() -> Router<Arc<Sandbox>> {
    Router::new()
        .route("/service/boards", get(list_boards))
        .route("/service/boards/count", get(count_boards))
        .route("/service/boards/{id}/statuses", get(list_board_statuses))
        .route(
            "/service/tickets",
            get(list_tickets).post(writes::create::<TicketRecord>),
        )
        .route("/service/tickets/count", get(count_tickets))
        .route("/service/tickets/search", post(search_tickets))
        .route(
            "/service/tickets/{id}",
            get(get_ticket)
                .patch(writes::patch::<TicketRecord>)
                .delete(delete_ticket),
        )
}

type Result<T> = std::result::Result<T, ApiError>;

async fn list_boards(State(sb): State<Arc<Sandbox>>, call: ListCall) -> Result<Response> {
    call.list(&sb, "Board", |d| &d.boards, |_| true)
}

async fn count_boards(State(sb): State<Arc<Sandbox>>, call: ListCall) -> Result<Response> {
    call.count(&sb, "Board", |d| &d.boards)
}

async fn list_board_statuses(
    State(sb): State<Arc<Sandbox>>,
    Path(id): Path<String>,
    call: ListCall,
) -> Result<Response> {
    let id = parse_id(&id, "Board")?;
    if sb.data().boards.get(id).is_none() {
        return Err(ApiError::not_found("Board"));
    }
    call.list(
        &sb,
        "BoardStatus",
        |d| &d.board_statuses,
        |s| s["board"]["id"].as_i64() == Some(id),
    )
}

async fn list_tickets(State(sb): State<Arc<Sandbox>>, call: ListCall) -> Result<Response> {
    call.list(&sb, "Ticket", |d| &d.tickets, |_| true)
}

/// `POST /service/tickets/search` with a `FilterValues` body: for conditions too long for a
/// URL (an `id in (…)` of a thousand tickets). Paging and fields stay in the query.
async fn search_tickets(
    State(sb): State<Arc<Sandbox>>,
    call: ListCall,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response> {
    let filter = object(json_body(&headers, &body)?, "filter")?;
    for key in filter.keys() {
        if ![
            "conditions",
            "orderBy",
            "childconditions",
            "customfieldconditions",
        ]
        .contains(&key.as_str())
        {
            return Err(ApiError::bad_request(format!(
                "{key:?} is not a field of FilterValues"
            )));
        }
    }
    let mut query: Vec<(String, String)> = call
        .query
        .as_deref()
        .map(|q| form_urlencoded::parse(q.as_bytes()).into_owned().collect())
        .unwrap_or_default();
    for key in ["conditions", "orderBy"] {
        if let Some(v) = filter.get(key).and_then(Value::as_str) {
            query.retain(|(k, _)| k != key);
            query.push((key.to_owned(), v.to_owned()));
        }
    }
    let call = ListCall {
        query: Some(
            form_urlencoded::Serializer::new(String::new())
                .extend_pairs(query)
                .finish(),
        ),
        ..call
    };
    call.list(&sb, "Ticket", |d| &d.tickets, |_| true)
}

async fn count_tickets(State(sb): State<Arc<Sandbox>>, call: ListCall) -> Result<Response> {
    call.count(&sb, "Ticket", |d| &d.tickets)
}

async fn get_ticket(
    State(sb): State<Arc<Sandbox>>,
    Path(id): Path<String>,
    RawQuery(q): RawQuery,
) -> Result<Response> {
    get_one(&sb, |d| &d.tickets, "Ticket", &id, q.as_deref())
}

/// Deletes a ticket with its notes and attached configurations.
async fn delete_ticket(
    State(sb): State<Arc<Sandbox>>,
    Extension(member): Extension<Member>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response> {
    let id = parse_id(&id, "Ticket")?;
    let mut data = sb.data();
    let Some(record) = data.tickets.remove(id) else {
        return Err(ApiError::not_found("Ticket"));
    };
    data.notes.retain(|n| n["ticketId"].as_i64() != Some(id));
    data.ticket_configurations.retain(|(t, _)| *t != id);
    announce(
        &sb,
        &data,
        Change {
            kind: "ticket",
            action: "deleted",
            record: &record,
            member: &member.0,
            site: site_of(&headers),
        },
    );
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// Validates a ticket about to be stored: summary and company required; the board defaults to
/// the first board and the status to the board's default; the status must belong to the board.
/// A status with `closedStatus` closes the ticket (`closedFlag`, `closedDate`).
fn complete_ticket(
    data: &Data,
    mut record: Map<String, Value>,
    before: Option<&Value>,
    member: &str,
) -> Result<Value> {
    let resource = "ticket";
    let mut problems = check_record("Ticket", &record, resource, &["summary", "company"]);
    if let Some(reference) = record.get("company").filter(|v| v.is_object()).cloned() {
        match resolve(&data.companies, &reference, &["identifier", "name"]) {
            Some(c) => {
                record.insert("company".into(), reference_to(c, &["identifier", "name"]));
            }
            None => problems.push(FieldProblem::new(
                "InvalidField",
                resource,
                "company",
                "refers to a record that does not exist",
            )),
        }
    }
    problems.extend(resolve_contact(data, &mut record, resource));
    problems.extend(resolve_site(data, &mut record, resource));
    let board = match record.get("board").filter(|v| v.is_object()) {
        Some(reference) => resolve(&data.boards, reference, &["name"]),
        None => data.boards.values().next(),
    };
    let Some(board) = board else {
        problems.push(FieldProblem::new(
            "InvalidField",
            resource,
            "board",
            "refers to a board that does not exist",
        ));
        return Err(ApiError::invalid(resource, problems));
    };
    let board_id = board["id"].as_i64();
    record.insert("board".into(), reference_to(board, &["name"]));
    problems.extend(super::routing::resolve_routing(
        data,
        &mut record,
        board_id.unwrap_or_default(),
    ));
    let on_board: Vec<&Value> = data
        .board_statuses
        .values()
        .filter(|s| s["board"]["id"].as_i64() == board_id)
        .collect();
    let status = match record.get("status").filter(|v| v.is_object()) {
        Some(reference) => {
            let found = reference["id"]
                .as_i64()
                .and_then(|id| on_board.iter().find(|s| s["id"].as_i64() == Some(id)))
                .or_else(|| {
                    let name = reference["name"].as_str()?;
                    on_board.iter().find(|s| {
                        s["name"]
                            .as_str()
                            .is_some_and(|n| n.eq_ignore_ascii_case(name))
                    })
                });
            if found.is_none() {
                problems.push(FieldProblem::new(
                    "InvalidField",
                    resource,
                    "status",
                    "is not a status of the ticket's board",
                ));
            }
            found.copied()
        }
        None => on_board
            .iter()
            .find(|s| s["defaultFlag"] == true)
            .or(on_board.first())
            .copied(),
    };
    if !problems.is_empty() {
        return Err(ApiError::invalid(resource, problems));
    }
    let closed = status.is_some_and(|s| s["closedStatus"] == true);
    if let Some(s) = status {
        record.insert("status".into(), reference_to(s, &["name"]));
    }
    let was_closed = before.is_some_and(|b| b["closedFlag"] == true);
    record.insert("closedFlag".into(), json!(closed));
    if closed && !was_closed {
        record.insert("closedDate".into(), json!(now_iso()));
        record.insert("closedBy".into(), json!(member));
    } else if !closed {
        record.remove("closedDate");
        record.remove("closedBy");
    }
    let now = now_iso();
    let (entered_at, entered_by) = match before {
        Some(b) => (
            b["_info"]["dateEntered"].clone(),
            b["_info"]["enteredBy"].clone(),
        ),
        None => (json!(now), json!(member)),
    };
    record.insert(
        "_info".into(),
        json!({ "lastUpdated": now, "updatedBy": member, "dateEntered": entered_at, "enteredBy": entered_by }),
    );
    Ok(Value::Object(record))
}

/// `Service.Ticket`: created and patched by `writes`, completed by `complete_ticket`; a
/// create's initial description, analysis and resolution become its first notes.
pub(super) struct TicketRecord;

impl writes::Writable for TicketRecord {
    const SCHEMA: &'static str = "Ticket";
    const KIND: &'static str = "ticket";
    const NOT_FOUND: &'static str = "Ticket";

    fn table(data: &mut Data) -> &mut crate::store::Table {
        &mut data.tickets
    }

    fn complete(
        data: &Data,
        record: Map<String, Value>,
        before: Option<&Value>,
        member: &str,
    ) -> Result<Value> {
        complete_ticket(data, record, before, member)
    }

    fn take_post_only(record: &mut Map<String, Value>) -> Vec<(String, String)> {
        POST_ONLY
            .iter()
            .filter_map(|k| {
                record
                    .remove(*k)
                    .and_then(|v| v.as_str().map(|s| ((*k).to_owned(), s.to_owned())))
            })
            .filter(|(_, text)| !text.trim().is_empty())
            .collect()
    }

    fn created(data: &mut Data, id: i64, post_only: Vec<(String, String)>, member: &str) {
        for (kind, text) in post_only {
            data.notes.insert(json!({
                "ticketId": id, "text": text, "dateCreated": now_iso(),
                "detailDescriptionFlag": kind == "initialDescription",
                "internalAnalysisFlag": kind == "initialInternalAnalysis",
                "resolutionFlag": kind == "initialResolution",
                "createdBy": member, "member": { "identifier": member },
            }));
        }
    }
}
