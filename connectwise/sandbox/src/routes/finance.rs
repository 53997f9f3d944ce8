//! Agreements (`/finance/agreements`), their additions and the configurations they cover, and
//! the product catalog (`/procurement/catalog`): what billing by device count reads and writes.
//!
//! An addition needs a product of the catalog that is active and a `billCustomer` of its enum;
//! `billedQuantity` is ConnectWise's own (what has been invoiced) and is refused in a write;
//! `agreementId` is the path's. Additions and covered configurations go only on an agreement
//! that is not cancelled, and a covered configuration must be of the agreement's company.
//! (The last two are assumptions: nothing public settles them, and refusing is the safe side.)

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get};
use axum::{Json, Router};
use serde_json::{Map, Value, json};

use super::{
    ListCall, apply_patch, check_record, get_one, json_body, object, parse_id, reference_to,
    resolve,
};
use crate::Sandbox;
use crate::errors::{ApiError, FieldProblem};
use crate::store::{Data, now_iso};

pub fn router() -> Router<Arc<Sandbox>> {
    Router::new()
        .route("/finance/agreements", get(list_agreements))
        .route("/finance/agreements/count", get(count_agreements))
        .route("/finance/agreements/{id}", get(get_agreement))
        .route(
            "/finance/agreements/{id}/additions",
            get(list_additions).post(add_addition),
        )
        .route(
            "/finance/agreements/{id}/additions/count",
            get(count_additions),
        )
        .route(
            "/finance/agreements/{id}/additions/{addition}",
            get(get_addition)
                .patch(patch_addition)
                .delete(delete_addition),
        )
        .route(
            "/finance/agreements/{id}/configurations",
            get(list_covered).post(cover_configuration),
        )
        .route(
            "/finance/agreements/{id}/configurations/{config}",
            delete(uncover_configuration),
        )
        .route("/procurement/catalog", get(list_catalog))
        .route("/procurement/catalog/count", get(count_catalog))
        .route("/procurement/catalog/{id}", get(get_catalog_item))
}

type Result<T> = std::result::Result<T, ApiError>;

const ADDITION: &str = "addition";

async fn list_agreements(State(sb): State<Arc<Sandbox>>, call: ListCall) -> Result<Response> {
    call.list(&sb, "Agreement", |d| &d.agreements, |_| true)
}

async fn count_agreements(State(sb): State<Arc<Sandbox>>, call: ListCall) -> Result<Response> {
    call.count(&sb, "Agreement", |d| &d.agreements)
}

async fn get_agreement(
    State(sb): State<Arc<Sandbox>>,
    Path(id): Path<String>,
    RawQuery(q): RawQuery,
) -> Result<Response> {
    get_one(&sb, |d| &d.agreements, "Agreement", &id, q.as_deref())
}

async fn list_catalog(State(sb): State<Arc<Sandbox>>, call: ListCall) -> Result<Response> {
    call.list(&sb, "CatalogItem", |d| &d.catalog, |_| true)
}

async fn count_catalog(State(sb): State<Arc<Sandbox>>, call: ListCall) -> Result<Response> {
    call.count(&sb, "CatalogItem", |d| &d.catalog)
}

async fn get_catalog_item(
    State(sb): State<Arc<Sandbox>>,
    Path(id): Path<String>,
    RawQuery(q): RawQuery,
) -> Result<Response> {
    get_one(&sb, |d| &d.catalog, "CatalogItem", &id, q.as_deref())
}

/// The agreement in the path: its record, or a 404.
fn agreement(data: &Data, raw: &str) -> Result<(i64, Value)> {
    let id = parse_id(raw, "Agreement")?;
    let found = data
        .agreements
        .get(id)
        .ok_or_else(|| ApiError::not_found("Agreement"))?;
    Ok((id, found.clone()))
}

/// Refuses a write to a cancelled agreement.
fn open_for_writes(agreement: &Value, resource: &str) -> Result<()> {
    if agreement["cancelledFlag"] == true {
        return Err(ApiError::field(
            resource,
            "InvalidField",
            "agreementId",
            "the agreement is cancelled",
        ));
    }
    Ok(())
}

fn of_agreement(id: i64) -> impl Fn(&Value) -> bool {
    move |a| a["agreementId"].as_i64() == Some(id)
}

async fn list_additions(
    State(sb): State<Arc<Sandbox>>,
    Path(id): Path<String>,
    call: ListCall,
) -> Result<Response> {
    let (id, _) = agreement(&sb.data(), &id)?;
    call.list(&sb, "Addition", |d| &d.additions, of_agreement(id))
}

async fn count_additions(
    State(sb): State<Arc<Sandbox>>,
    Path(id): Path<String>,
    call: ListCall,
) -> Result<Response> {
    let (id, _) = agreement(&sb.data(), &id)?;
    call.count_kept(&sb, "Addition", |d| &d.additions, of_agreement(id))
}

/// Addition `raw` of agreement `agreement_id`: its id and record, or a 404.
fn addition(data: &Data, agreement_id: i64, raw: &str) -> Result<(i64, Value)> {
    let id = parse_id(raw, "Addition")?;
    let found = data
        .additions
        .get(id)
        .filter(|a| of_agreement(agreement_id)(a))
        .ok_or_else(|| ApiError::not_found("Addition"))?;
    Ok((id, found.clone()))
}

async fn get_addition(
    State(sb): State<Arc<Sandbox>>,
    Path((id, raw)): Path<(String, String)>,
    RawQuery(q): RawQuery,
) -> Result<Response> {
    let data = sb.data();
    let (agreement_id, _) = agreement(&data, &id)?;
    let (_, found) = addition(&data, agreement_id, &raw)?;
    Ok(crate::listing::one(&found, q.as_deref()))
}

/// Checks an addition about to be stored and fills what ConnectWise fills. `before` is the
/// stored addition a patch changes.
fn complete_addition(
    data: &Data,
    agreement: &Value,
    mut record: Map<String, Value>,
    before: Option<&Value>,
) -> Result<Value> {
    let agreement_id = agreement["id"].clone();
    let mut problems = check_record("Addition", &record, ADDITION, &["product", "billCustomer"]);
    let billed_before = before.map_or(json!(0), |b| b["billedQuantity"].clone());
    if record
        .get("billedQuantity")
        .is_some_and(|q| *q != billed_before)
    {
        problems.push(FieldProblem::new(
            "InvalidField",
            ADDITION,
            "billedQuantity",
            "is read-only: it is what has been invoiced",
        ));
    }
    if record
        .get("agreementId")
        .is_some_and(|a| !a.is_null() && *a != agreement_id)
    {
        problems.push(FieldProblem::new(
            "InvalidField",
            ADDITION,
            "agreementId",
            "is not the agreement in the path",
        ));
    }
    if let Some(reference) = record.get("product").filter(|p| p.is_object()).cloned() {
        match resolve(&data.catalog, &reference, &["identifier"]) {
            Some(p) if p["inactiveFlag"] != true => {
                record.insert("product".into(), reference_to(p, &["identifier"]));
            }
            Some(_) => problems.push(FieldProblem::new(
                "InvalidField",
                ADDITION,
                "product",
                "is an inactive product",
            )),
            None => problems.push(FieldProblem::new(
                "InvalidField",
                ADDITION,
                "product",
                "refers to a product that does not exist",
            )),
        }
    }
    if !problems.is_empty() {
        return Err(ApiError::invalid(ADDITION, problems));
    }
    record.insert("agreementId".into(), agreement_id);
    record.insert("billedQuantity".into(), billed_before);
    record.entry("quantity").or_insert_with(|| json!(0));
    record
        .entry("effectiveDate")
        .or_insert_with(|| json!(now_iso()));
    record.insert(
        "agreementStatus".into(),
        agreement["agreementStatus"].clone(),
    );
    record.insert("_info".into(), json!({ "lastUpdated": now_iso() }));
    Ok(Value::Object(record))
}

async fn add_addition(
    State(sb): State<Arc<Sandbox>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response> {
    let mut record = object(json_body(&headers, &body)?, ADDITION)?;
    record.remove("id");
    record.remove("_info");
    let mut data = sb.data();
    let (_, agreement) = agreement(&data, &id)?;
    open_for_writes(&agreement, ADDITION)?;
    let record = complete_addition(&data, &agreement, record, None)?;
    let new_id = data.additions.insert(record);
    let stored = data.additions.get(new_id).cloned().unwrap_or_default();
    Ok((StatusCode::CREATED, Json(stored)).into_response())
}

async fn patch_addition(
    State(sb): State<Arc<Sandbox>>,
    Path((id, raw)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response> {
    let body = json_body(&headers, &body)?;
    let mut data = sb.data();
    let (agreement_id, agreement) = agreement(&data, &id)?;
    let (addition_id, current) = addition(&data, agreement_id, &raw)?;
    open_for_writes(&agreement, ADDITION)?;
    let mut record = object(current.clone(), ADDITION)?;
    apply_patch(&mut record, body, "Addition", ADDITION)?;
    let mut record = complete_addition(&data, &agreement, record, Some(&current))?;
    record["id"] = json!(addition_id);
    data.additions.put(addition_id, record.clone());
    Ok(Json(record).into_response())
}

async fn delete_addition(
    State(sb): State<Arc<Sandbox>>,
    Path((id, raw)): Path<(String, String)>,
) -> Result<Response> {
    let mut data = sb.data();
    let (agreement_id, _) = agreement(&data, &id)?;
    let (addition_id, _) = addition(&data, agreement_id, &raw)?;
    data.additions.remove(addition_id);
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn list_covered(State(sb): State<Arc<Sandbox>>, Path(id): Path<String>) -> Result<Response> {
    let data = sb.data();
    let (id, _) = agreement(&data, &id)?;
    let refs: Vec<Value> = data
        .agreement_configurations
        .iter()
        .filter(|(a, _)| *a == id)
        .filter_map(|(_, c)| data.configurations.get(*c))
        .map(|c| json!({ "id": c["id"], "name": c["name"] }))
        .collect();
    Ok(Json(refs).into_response())
}

/// Covers a configuration of the agreement's company (once).
async fn cover_configuration(
    State(sb): State<Arc<Sandbox>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response> {
    const RESOURCE: &str = "configurationReference";
    let reference = object(json_body(&headers, &body)?, "configuration reference")?;
    let problems = check_record("ConfigurationReference", &reference, RESOURCE, &["id"]);
    if !problems.is_empty() {
        return Err(ApiError::invalid(RESOURCE, problems));
    }
    let mut data = sb.data();
    let (agreement_id, agreement) = agreement(&data, &id)?;
    open_for_writes(&agreement, RESOURCE)?;
    let refused = |why: &str| ApiError::field(RESOURCE, "InvalidField", "id", why);
    let config = reference["id"]
        .as_i64()
        .and_then(|c| data.configurations.get(c))
        .ok_or_else(|| refused("refers to a configuration that does not exist"))?;
    if config["company"]["id"] != agreement["company"]["id"] {
        return Err(refused("is not a configuration of the agreement's company"));
    }
    let config_id = config["id"].as_i64().unwrap_or_default();
    let answer = json!({ "id": config_id, "name": config["name"] });
    if data
        .agreement_configurations
        .contains(&(agreement_id, config_id))
    {
        return Err(refused("is already covered by this agreement"));
    }
    data.agreement_configurations
        .push((agreement_id, config_id));
    Ok((StatusCode::CREATED, Json(answer)).into_response())
}

async fn uncover_configuration(
    State(sb): State<Arc<Sandbox>>,
    Path((id, config)): Path<(String, String)>,
) -> Result<Response> {
    let mut data = sb.data();
    let (agreement_id, _) = agreement(&data, &id)?;
    let config_id = parse_id(&config, "Configuration")?;
    let before = data.agreement_configurations.len();
    data.agreement_configurations
        .retain(|pair| *pair != (agreement_id, config_id));
    if data.agreement_configurations.len() == before {
        return Err(ApiError::not_found("Configuration"));
    }
    Ok(StatusCode::NO_CONTENT.into_response())
}
