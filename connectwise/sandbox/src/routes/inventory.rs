//! Inventory on configurations: `/procurement/manufacturers` (a configuration refers to one; none
//! is ever made by a write), the custom fields every configuration carries, and the values a
//! list question allows.

use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::get;
use serde_json::{Map, Value, json};

use super::{ListCall, get_one, parse_id, reference_to, resolve};
use crate::Sandbox;
use crate::errors::{ApiError, FieldProblem};
use crate::store::Data;

type Result<T> = std::result::Result<T, ApiError>;

pub fn router() -> Router<Arc<Sandbox>> {
    Router::new()
        .route("/procurement/manufacturers", get(list_manufacturers))
        .route("/procurement/manufacturers/count", get(count_manufacturers))
        .route("/procurement/manufacturers/{id}", get(get_manufacturer))
        .route(
            "/company/configurations/types/{type}/questions/{question}/values",
            get(list_question_values),
        )
}

async fn list_manufacturers(State(sb): State<Arc<Sandbox>>, call: ListCall) -> Result<Response> {
    call.list(&sb, "Manufacturer", |d| &d.manufacturers, |_| true)
}

async fn count_manufacturers(State(sb): State<Arc<Sandbox>>, call: ListCall) -> Result<Response> {
    call.count_kept(&sb, "Manufacturer", |d| &d.manufacturers, |_| true)
}

async fn get_manufacturer(
    State(sb): State<Arc<Sandbox>>,
    Path(id): Path<String>,
    axum::extract::RawQuery(q): axum::extract::RawQuery,
) -> Result<Response> {
    get_one(&sb, |d| &d.manufacturers, "Manufacturer", &id, q.as_deref())
}

/// A question's values, only under its own type.
async fn list_question_values(
    State(sb): State<Arc<Sandbox>>,
    Path((kind, question)): Path<(String, String)>,
    call: ListCall,
) -> Result<Response> {
    let kind = parse_id(&kind, "ConfigurationType")?;
    let question = parse_id(&question, "ConfigurationTypeQuestion")?;
    let belongs = sb
        .data()
        .type_questions
        .get(question)
        .is_some_and(|q| q["configurationType"]["id"].as_i64() == Some(kind));
    if !belongs {
        return Err(ApiError::not_found("ConfigurationTypeQuestion"));
    }
    call.list(
        &sb,
        "ConfigurationTypeQuestionValue",
        |d| &d.question_values,
        move |v| v["question"]["id"].as_i64() == Some(question),
    )
}

/// Resolves `manufacturer` (by id or name; it must exist) and completes `customFields` as
/// ConnectWise keeps them: every defined field listed, each value checked against its type, a
/// field the array leaves out cleared (a PATCH sends the whole array).
pub(super) fn complete_inventory(
    data: &Data,
    record: &mut Map<String, Value>,
) -> Vec<FieldProblem> {
    let mut problems = Vec::new();
    let invalid = |field: &str, problem: &str| {
        FieldProblem::new("InvalidField", "configuration", field, problem)
    };
    if let Some(reference) = record
        .get("manufacturer")
        .filter(|v| v.is_object())
        .cloned()
    {
        match resolve(&data.manufacturers, &reference, &["name"]) {
            Some(found) => {
                record.insert("manufacturer".into(), reference_to(found, &["name"]));
            }
            None => problems.push(invalid(
                "manufacturer",
                "refers to a record that does not exist",
            )),
        }
    }
    let sent: Vec<Value> = match record.get("customFields") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => items.clone(),
        Some(_) => {
            problems.push(invalid("customFields", "must be of type array"));
            return problems;
        }
    };
    for item in &sent {
        let known = item["id"]
            .as_i64()
            .and_then(|id| data.custom_fields.get(id));
        match known {
            None => problems.push(invalid(
                "customFields",
                &format!("refers to custom field {} that does not exist", item["id"]),
            )),
            Some(def) => {
                if let Some(why) = wrong_type(def["type"].as_str().unwrap_or(""), &item["value"]) {
                    problems.push(invalid(
                        "customFields",
                        &format!("value of {:?} {why}", def["caption"].as_str().unwrap_or("")),
                    ));
                }
            }
        }
    }
    let value_of = |id: i64| {
        sent.iter()
            .find(|i| i["id"].as_i64() == Some(id))
            .map_or(Value::Null, |i| i["value"].clone())
    };
    let complete: Vec<Value> = data
        .custom_fields
        .values()
        .map(|def| {
            let mut field = def.clone();
            field["value"] = def["id"].as_i64().map_or(Value::Null, value_of);
            field
        })
        .collect();
    record.insert("customFields".into(), json!(complete));
    problems
}

/// Why `value` does not fit a custom field of type `kind`, if it does not.
fn wrong_type(kind: &str, value: &Value) -> Option<&'static str> {
    let fits = match (kind, value) {
        (_, Value::Null) => true,
        ("Number" | "Currency" | "Percent", v) => v.is_number(),
        ("Checkbox", v) => v.is_boolean(),
        ("Date", Value::String(s)) => is_date_time(s),
        ("Date", _) => false,
        (_, Value::String(s)) => s.chars().map(char::len_utf16).sum::<usize>() <= 1000,
        _ => false,
    };
    (!fits).then_some(match kind {
        "Number" | "Currency" | "Percent" => "must be a number",
        "Checkbox" => "must be true or false",
        "Date" => "must be a date-time (2026-01-31T00:00:00Z)",
        _ => "must be text of at most 1000 characters",
    })
}

/// `2026-01-31T00:00:00Z` (what ConnectWise writes and reads for dates).
fn is_date_time(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 20
        && b.iter().enumerate().all(|(i, c)| match i {
            4 | 7 => *c == b'-',
            10 => *c == b'T',
            13 | 16 => *c == b':',
            19 => *c == b'Z',
            _ => c.is_ascii_digit(),
        })
}

/// Answers a list or option question does not allow: each answered question of the type whose
/// entry is `List` or `Option` must be given one of its active values.
pub(super) fn disallowed_answers(
    data: &Data,
    type_id: i64,
    answers: Option<&Value>,
) -> Vec<FieldProblem> {
    let Some(list) = answers.and_then(Value::as_array) else {
        return Vec::new();
    };
    list.iter()
        .filter_map(|a| {
            let qid = a["questionId"].as_i64()?;
            let q = data.type_questions.get(qid)?;
            let listed = matches!(q["entryType"].as_str(), Some("List" | "Option"));
            let answer = a["answer"].as_str()?;
            if q["configurationType"]["id"].as_i64() != Some(type_id) || !listed {
                return None;
            }
            let allowed = data.question_values.values().any(|v| {
                v["question"]["id"].as_i64() == Some(qid)
                    && v["inactiveFlag"] != true
                    && v["value"].as_str() == Some(answer)
            });
            (!allowed).then(|| {
                FieldProblem::new(
                    "InvalidField",
                    "configuration",
                    "questions",
                    &format!("answer {answer:?} is not one of the values question {qid} allows"),
                )
            })
        })
        .collect()
}
