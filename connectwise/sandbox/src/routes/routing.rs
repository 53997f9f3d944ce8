//! Ticket routing lookups (`/service/boards/{id}/types|subtypes|items|
//! typeSubTypeItemAssociations`, `/service/priorities`, `/service/sources`), and the rules a
//! ticket's `type`, `subType`, `item`, `priority` and `source` must follow: each names a record
//! of the ticket's board (or, for priority and source, of the whole system), and the
//! type/subtype/item combination must be one the board's associations list. (That a wrong
//! combination is a 400 is an assumption: nothing public settles it, and refusing is the safe
//! side.)

use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::get;
use serde_json::{Map, Value};

use super::{ListCall, parse_id, reference_to};
use crate::Sandbox;
use crate::errors::{ApiError, FieldProblem};
use crate::store::{Data, Table};

pub fn router() -> Router<Arc<Sandbox>> {
    Router::new()
        .route("/service/boards/{id}/types", get(list_types))
        .route("/service/boards/{id}/subtypes", get(list_subtypes))
        .route("/service/boards/{id}/items", get(list_items))
        .route(
            "/service/boards/{id}/typeSubTypeItemAssociations",
            get(list_associations),
        )
        .route("/service/priorities", get(list_priorities))
        .route("/service/sources", get(list_sources))
}

type Result<T> = std::result::Result<T, ApiError>;

fn of_board(board: i64) -> impl Fn(&Value) -> bool {
    move |r| r["board"]["id"].as_i64() == Some(board)
}

/// The records of `pick` on the board in the path, which must exist.
fn list_on_board(
    sb: &Sandbox,
    raw: &str,
    call: &ListCall,
    schema: &str,
    pick: impl Fn(&Data) -> &Table,
) -> Result<Response> {
    let id = parse_id(raw, "Board")?;
    if sb.data().boards.get(id).is_none() {
        return Err(ApiError::not_found("Board"));
    }
    call.list(sb, schema, pick, of_board(id))
}

async fn list_types(
    State(sb): State<Arc<Sandbox>>,
    Path(id): Path<String>,
    call: ListCall,
) -> Result<Response> {
    list_on_board(&sb, &id, &call, "BoardType", |d| &d.board_types)
}

async fn list_subtypes(
    State(sb): State<Arc<Sandbox>>,
    Path(id): Path<String>,
    call: ListCall,
) -> Result<Response> {
    list_on_board(&sb, &id, &call, "BoardSubType", |d| &d.board_subtypes)
}

async fn list_items(
    State(sb): State<Arc<Sandbox>>,
    Path(id): Path<String>,
    call: ListCall,
) -> Result<Response> {
    list_on_board(&sb, &id, &call, "BoardItem", |d| &d.board_items)
}

async fn list_associations(
    State(sb): State<Arc<Sandbox>>,
    Path(id): Path<String>,
    call: ListCall,
) -> Result<Response> {
    let schema = "BoardTypeSubTypeItemAssociation";
    list_on_board(&sb, &id, &call, schema, |d| &d.board_associations)
}

async fn list_priorities(State(sb): State<Arc<Sandbox>>, call: ListCall) -> Result<Response> {
    call.list(&sb, "Priority", |d| &d.priorities, |_| true)
}

async fn list_sources(State(sb): State<Arc<Sandbox>>, call: ListCall) -> Result<Response> {
    call.list(&sb, "Source", |d| &d.sources, |_| true)
}

/// Resolves `field` (a reference by id) to an active record of `table` accepted by `keep`, as
/// `{id, name}`; its id, or a problem.
fn resolve_in(
    table: &Table,
    record: &mut Map<String, Value>,
    field: &str,
    keep: impl Fn(&Value) -> bool,
    problems: &mut Vec<FieldProblem>,
) -> Option<i64> {
    let reference = record.get(field).filter(|v| v.is_object())?.clone();
    let found = reference["id"]
        .as_i64()
        .and_then(|id| table.get(id))
        .filter(|r| keep(r) && r["inactiveFlag"] != true);
    match found {
        Some(r) => {
            record.insert(field.into(), reference_to(r, &["name"]));
            r["id"].as_i64()
        }
        None => {
            problems.push(FieldProblem::new(
                "InvalidField",
                "ticket",
                field,
                "is not one of the board's (or refers to a record that does not exist)",
            ));
            None
        }
    }
}

/// Checks and fills a ticket's routing fields on `board`.
pub(super) fn resolve_routing(
    data: &Data,
    record: &mut Map<String, Value>,
    board: i64,
) -> Vec<FieldProblem> {
    let mut problems = Vec::new();
    let kind = resolve_in(
        &data.board_types,
        record,
        "type",
        of_board(board),
        &mut problems,
    );
    let sub = resolve_in(
        &data.board_subtypes,
        record,
        "subType",
        of_board(board),
        &mut problems,
    );
    let item = resolve_in(
        &data.board_items,
        record,
        "item",
        of_board(board),
        &mut problems,
    );
    resolve_in(
        &data.priorities,
        record,
        "priority",
        |_| true,
        &mut problems,
    );
    resolve_in(&data.sources, record, "source", |_| true, &mut problems);
    if !problems.is_empty() || (kind.is_none() && sub.is_none() && item.is_none()) {
        return problems;
    }
    let id_of = |r: &Value, f: &str| r[f]["id"].as_i64();
    let allowed = data.board_associations.values().any(|a| {
        of_board(board)(a)
            && id_of(a, "type") == kind
            && id_of(a, "subType") == sub
            && id_of(a, "item") == item
    });
    if !allowed {
        problems.push(FieldProblem::new(
            "InvalidField",
            "ticket",
            "type",
            "this type, subtype and item combination is not allowed on the ticket's board",
        ));
    }
    problems
}
