//! What every record route shares: bodies read strictly, JSON patches of whole fields, records
//! checked against their schema, and references (`{"id": …}` or by name) resolved.

use axum::http::{HeaderMap, StatusCode, header};
use serde_json::{Map, Value, json};

use crate::errors::{ApiError, FieldProblem};
use crate::schema;

/// A request body that must be a JSON object (or array for PATCH), sent as JSON.
pub(super) fn json_body(headers: &HeaderMap, body: &[u8]) -> Result<Value, ApiError> {
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.trim()
                .to_ascii_lowercase()
                .starts_with("application/json")
        });
    if !is_json {
        return Err(ApiError {
            status: StatusCode::UNSUPPORTED_MEDIA_TYPE,
            code: "UnsupportedMediaType",
            message: "The request body must be application/json".into(),
            errors: vec![],
        });
    }
    serde_json::from_slice(body)
        .map_err(|e| ApiError::bad_request(format!("The request body is not valid JSON: {e}")))
}

pub(super) fn object(value: Value, resource: &str) -> Result<Map<String, Value>, ApiError> {
    match value {
        Value::Object(map) => Ok(map),
        _ => Err(ApiError::bad_request(format!(
            "The {resource} must be a JSON object"
        ))),
    }
}

pub(super) fn parse_id(raw: &str, what: &str) -> Result<i64, ApiError> {
    raw.parse::<i64>()
        .ok()
        .filter(|id| *id > 0)
        .ok_or_else(|| ApiError::not_found(what))
}

/// Applies a JSON-Patch body (`[{op, path, value}]`) to a record's fields. Only whole top-level
/// fields may be patched: `company/identifier` is refused (it would appear to succeed on the real
/// API while changing nothing), `id` cannot change, and every path must be a field of `schema`.
pub(super) fn apply_patch(
    record: &mut Map<String, Value>,
    body: Value,
    schema_name: &str,
    resource: &str,
) -> Result<(), ApiError> {
    let Value::Array(ops) = body else {
        return Err(ApiError::bad_request(
            "A PATCH body must be a JSON array of operations",
        ));
    };
    if ops.is_empty() {
        return Err(ApiError::bad_request(
            "A PATCH body needs at least one operation",
        ));
    }
    let fields = schema::properties(schema_name);
    for op in ops {
        let Value::Object(op) = op else {
            return Err(ApiError::bad_request(
                "Each PATCH operation must be an object with op, path and value",
            ));
        };
        let kind = op.get("op").and_then(Value::as_str).unwrap_or("");
        let path = op.get("path").and_then(Value::as_str).unwrap_or("");
        let path = path.strip_prefix('/').unwrap_or(path);
        let problem = |code: &str, what: &str| ApiError::field(resource, code, path, what);
        if !matches!(kind, "add" | "replace" | "remove") {
            return Err(ApiError::bad_request(format!(
                "PATCH op {kind:?} is not add, replace or remove"
            )));
        }
        if path.is_empty() {
            return Err(ApiError::bad_request("Each PATCH operation needs a path"));
        }
        if path.contains('/') {
            return Err(problem(
                "InvalidField",
                "is a path into a reference: replace the whole reference instead",
            ));
        }
        // Paths are case-sensitive on the real API.
        if !fields.contains(&path) {
            return Err(problem("InvalidField", "is not a field of this resource"));
        }
        if path == "id" || path == "_info" {
            return Err(problem("InvalidField", "cannot be changed"));
        }
        match kind {
            "remove" => {
                record.remove(path);
            }
            _ => {
                let value = op
                    .get("value")
                    .cloned()
                    .ok_or_else(|| problem("InvalidField", "needs a value"))?;
                record.insert(path.to_owned(), value);
            }
        }
    }
    Ok(())
}

/// Schema problems plus required fields for a record about to be stored.
pub(super) fn check_record(
    schema_name: &str,
    record: &Map<String, Value>,
    resource: &str,
    required: &[&str],
) -> Vec<FieldProblem> {
    let mut problems = schema::check(schema_name, &Value::Object(record.clone()), resource);
    for field in required {
        let missing = match record.get(*field) {
            None | Some(Value::Null) => true,
            Some(Value::String(s)) => s.trim().is_empty(),
            _ => false,
        };
        if missing && !problems.iter().any(|p| p.field == *field) {
            problems.push(FieldProblem::new(
                "RequiredFieldMissing",
                resource,
                field,
                "is required",
            ));
        }
    }
    problems
}

/// Resolves a reference object (`{"id": 3}`, or by `name`/`identifier`) to a stored record.
pub(super) fn resolve<'a>(
    table: &'a crate::store::Table,
    reference: &Value,
    name_keys: &[&str],
) -> Option<&'a Value> {
    if let Some(id) = reference.get("id").and_then(Value::as_i64) {
        return table.get(id);
    }
    for key in name_keys {
        if let Some(wanted) = reference.get(*key).and_then(Value::as_str) {
            return table.find_text(key, wanted);
        }
    }
    None
}

/// The reference shape ConnectWise returns for a record: id plus its naming fields.
pub(super) fn reference_to(record: &Value, keys: &[&str]) -> Value {
    let mut out = Map::new();
    out.insert("id".into(), record["id"].clone());
    for k in keys {
        if let Some(v) = record.get(*k) {
            out.insert((*k).into(), v.clone());
        }
    }
    Value::Object(out)
}

/// Resolves a record's `contact` reference in place (to `{id, name}`), or says why it cannot:
/// the contact must exist and belong to the record's company.
pub(super) fn resolve_contact(
    data: &crate::store::Data,
    record: &mut Map<String, Value>,
    resource: &str,
) -> Option<FieldProblem> {
    let reference = record.get("contact").filter(|v| v.is_object())?.clone();
    let Some(c) = reference["id"]
        .as_i64()
        .and_then(|id| data.contacts.get(id))
    else {
        return Some(FieldProblem::new(
            "InvalidField",
            resource,
            "contact",
            "refers to a contact that does not exist",
        ));
    };
    let company = record.get("company").and_then(|r| r["id"].as_i64());
    if company.is_some() && c["company"]["id"].as_i64() != company {
        return Some(FieldProblem::new(
            "InvalidField",
            resource,
            "contact",
            "is not a contact of this company",
        ));
    }
    let name = format!(
        "{} {}",
        c["firstName"].as_str().unwrap_or(""),
        c["lastName"].as_str().unwrap_or("")
    );
    record.insert(
        "contact".into(),
        json!({ "id": c["id"], "name": name.trim() }),
    );
    None
}

/// Resolves a record's `site` reference: it must be a site of the record's own company (a
/// site of another company is refused, as ConnectWise refuses it), and is stored as `{id, name}`.
pub(super) fn resolve_site(
    data: &crate::store::Data,
    record: &mut Map<String, Value>,
    resource: &str,
) -> Option<FieldProblem> {
    let reference = record.get("site").filter(|v| v.is_object())?.clone();
    let problem = |what: &str| Some(FieldProblem::new("InvalidField", resource, "site", what));
    let Some(site) = reference["id"].as_i64().and_then(|id| data.sites.get(id)) else {
        return problem("refers to a site that does not exist");
    };
    let company = record.get("company").and_then(|r| r["id"].as_i64());
    if site["company"]["id"].as_i64() != company {
        return problem("is not a site of this company");
    }
    record.insert(
        "site".into(),
        json!({ "id": site["id"], "name": site["name"] }),
    );
    None
}
