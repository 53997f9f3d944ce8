//! `/company/…`: companies, configurations, configuration types, their questions, and
//! configuration statuses.

use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, RawQuery, State};
use axum::response::Response;
use axum::routing::get;
use serde_json::{Map, Value, json};

use super::writes;
use super::{
    ListCall, check_record, get_one, parse_id, reference_to, resolve, resolve_contact, resolve_site,
};
use crate::Sandbox;
use crate::errors::{ApiError, FieldProblem};
use crate::store::{Data, now_iso};

const CONFIGURATION: &str = "Company.Configuration";

pub fn router() -> Router<Arc<Sandbox>> {
    Router::new()
        .route("/company/companies", get(list_companies))
        .route("/company/companies/count", get(count_companies))
        .route("/company/contacts", get(list_contacts))
        .route("/company/contacts/count", get(count_contacts))
        .route("/company/contacts/{id}", get(get_contact))
        .route("/company/companies/{id}", get(get_company))
        .route("/company/companies/{id}/sites", get(list_sites))
        .route("/company/companies/{id}/sites/count", get(count_sites))
        .route("/company/companies/{id}/sites/{site}", get(get_site))
        .route(
            "/company/configurations",
            get(list_configurations).post(writes::create::<Configuration>),
        )
        .route("/company/configurations/count", get(count_configurations))
        .route(
            "/company/configurations/{id}",
            get(get_configuration).patch(writes::patch::<Configuration>),
        )
        .route("/company/configurations/types", get(list_types))
        .route("/company/configurations/types/{id}", get(get_type))
        .route(
            "/company/configurations/types/{id}/questions",
            get(list_questions),
        )
        .route("/company/configurations/statuses", get(list_statuses))
}

type Result<T> = std::result::Result<T, ApiError>;

async fn list_companies(State(sb): State<Arc<Sandbox>>, call: ListCall) -> Result<Response> {
    call.list(&sb, "Company", |d| &d.companies, |_| true)
}

async fn count_companies(State(sb): State<Arc<Sandbox>>, call: ListCall) -> Result<Response> {
    call.count(&sb, "Company", |d| &d.companies)
}

async fn get_company(
    State(sb): State<Arc<Sandbox>>,
    Path(id): Path<String>,
    RawQuery(q): RawQuery,
) -> Result<Response> {
    get_one(&sb, |d| &d.companies, "Company", &id, q.as_deref())
}

/// Whether `site` belongs to company `company` (the path's parent).
fn of_company(company: i64) -> impl Fn(&Value) -> bool {
    move |site| site["company"]["id"].as_i64() == Some(company)
}

async fn list_sites(
    State(sb): State<Arc<Sandbox>>,
    Path(company): Path<String>,
    call: ListCall,
) -> Result<Response> {
    let company = parse_id(&company, "Company")?;
    if sb.data().companies.get(company).is_none() {
        return Err(ApiError::not_found("Company"));
    }
    call.list(&sb, "Company.Site", |d| &d.sites, of_company(company))
}

async fn count_sites(
    State(sb): State<Arc<Sandbox>>,
    Path(company): Path<String>,
    call: ListCall,
) -> Result<Response> {
    let company = parse_id(&company, "Company")?;
    call.count_kept(&sb, "Company.Site", |d| &d.sites, of_company(company))
}

/// A site by id, only under its own company.
async fn get_site(
    State(sb): State<Arc<Sandbox>>,
    Path((company, site)): Path<(String, String)>,
    RawQuery(q): RawQuery,
) -> Result<Response> {
    let company = parse_id(&company, "Company")?;
    let site = parse_id(&site, "Site")?;
    let data = sb.data();
    let found = data
        .sites
        .get(site)
        .filter(|s| of_company(company)(s))
        .ok_or_else(|| ApiError::not_found("Site"))?;
    Ok(crate::listing::one(found, q.as_deref()))
}

async fn list_contacts(State(sb): State<Arc<Sandbox>>, call: ListCall) -> Result<Response> {
    call.list(&sb, "Company.Contact", |d| &d.contacts, |_| true)
}

async fn count_contacts(State(sb): State<Arc<Sandbox>>, call: ListCall) -> Result<Response> {
    call.count(&sb, "Company.Contact", |d| &d.contacts)
}

async fn get_contact(
    State(sb): State<Arc<Sandbox>>,
    Path(id): Path<String>,
    RawQuery(q): RawQuery,
) -> Result<Response> {
    get_one(&sb, |d| &d.contacts, "Contact", &id, q.as_deref())
}

async fn list_configurations(State(sb): State<Arc<Sandbox>>, call: ListCall) -> Result<Response> {
    call.list(&sb, CONFIGURATION, |d| &d.configurations, |_| true)
}

async fn count_configurations(State(sb): State<Arc<Sandbox>>, call: ListCall) -> Result<Response> {
    call.count(&sb, CONFIGURATION, |d| &d.configurations)
}

async fn get_configuration(
    State(sb): State<Arc<Sandbox>>,
    Path(id): Path<String>,
    RawQuery(q): RawQuery,
) -> Result<Response> {
    get_one(
        &sb,
        |d| &d.configurations,
        "Configuration",
        &id,
        q.as_deref(),
    )
}

/// Validates a configuration about to be stored and fills its references as ConnectWise does:
/// name, type and company required; company, type and status must exist (status defaults to the
/// default status); every required, active question of the type must be answered.
fn complete_configuration(data: &Data, mut record: Map<String, Value>) -> Result<Value> {
    let resource = "configuration";
    let mut problems = check_record(
        CONFIGURATION,
        &record,
        resource,
        &["name", "type", "company"],
    );
    let mut refer =
        |field: &str, table: &crate::store::Table, keys: &[&str], out: &mut Map<String, Value>| {
            if let Some(reference) = out.get(field).filter(|v| v.is_object()).cloned() {
                match resolve(table, &reference, keys) {
                    Some(found) => {
                        out.insert(field.into(), reference_to(found, keys));
                    }
                    None => problems.push(FieldProblem::new(
                        "InvalidField",
                        resource,
                        field,
                        "refers to a record that does not exist",
                    )),
                }
            }
        };
    refer(
        "company",
        &data.companies,
        &["identifier", "name"],
        &mut record,
    );
    refer("type", &data.configuration_types, &["name"], &mut record);
    problems.extend(resolve_contact(data, &mut record, resource));
    problems.extend(resolve_site(data, &mut record, resource));
    problems.extend(super::inventory::complete_inventory(data, &mut record));
    if record.get("status").is_none_or(Value::is_null) {
        if let Some(default) = data
            .configuration_statuses
            .values()
            .find(|s| s["defaultFlag"] == true)
        {
            record.insert(
                "status".into(),
                json!({ "id": default["id"], "name": default["description"] }),
            );
        }
    } else if let Some(reference) = record.get("status").cloned() {
        let found =
            resolve(&data.configuration_statuses, &reference, &["description"]).or_else(|| {
                resolve(
                    &data.configuration_statuses,
                    &json!({ "description": reference["name"] }),
                    &["description"],
                )
            });
        match found {
            Some(s) => {
                record.insert(
                    "status".into(),
                    json!({ "id": s["id"], "name": s["description"] }),
                );
            }
            None => problems.push(FieldProblem::new(
                "InvalidField",
                resource,
                "status",
                "refers to a record that does not exist",
            )),
        }
    }
    if problems.is_empty()
        && let Some(type_id) = record.get("type").and_then(|t| t["id"].as_i64())
    {
        problems.extend(unanswered_questions(data, type_id, record.get("questions")));
        problems.extend(super::inventory::disallowed_answers(
            data,
            type_id,
            record.get("questions"),
        ));
    }
    if !problems.is_empty() {
        return Err(ApiError::invalid(resource, problems));
    }
    let closed = record["status"]["id"]
        .as_i64()
        .and_then(|id| data.configuration_statuses.get(id))
        .is_some_and(|s| s["closedFlag"] == true);
    record.insert("activeFlag".into(), json!(!closed));
    record.insert("_info".into(), json!({ "lastUpdated": now_iso() }));
    Ok(Value::Object(record))
}

fn unanswered_questions(data: &Data, type_id: i64, answers: Option<&Value>) -> Vec<FieldProblem> {
    let answered = |qid: i64| {
        answers.and_then(Value::as_array).is_some_and(|list| {
            list.iter().any(|a| {
                a["questionId"].as_i64() == Some(qid)
                    && match &a["answer"] {
                        Value::Null => false,
                        Value::String(s) => !s.trim().is_empty(),
                        _ => true,
                    }
            })
        })
    };
    data.type_questions
        .values()
        .filter(|q| q["configurationType"]["id"].as_i64() == Some(type_id))
        .filter(|q| q["requiredFlag"] == true && q["inactiveFlag"] != true)
        .filter(|q| !q["id"].as_i64().is_some_and(answered))
        .map(|q| {
            FieldProblem::new(
                "RequiredFieldMissing",
                "configuration",
                "questions",
                &format!(
                    "must answer the required question {:?} (id {})",
                    q["question"].as_str().unwrap_or(""),
                    q["id"]
                ),
            )
        })
        .collect()
}

async fn list_types(State(sb): State<Arc<Sandbox>>, call: ListCall) -> Result<Response> {
    call.list(
        &sb,
        "ConfigurationType",
        |d| &d.configuration_types,
        |_| true,
    )
}

async fn get_type(
    State(sb): State<Arc<Sandbox>>,
    Path(id): Path<String>,
    RawQuery(q): RawQuery,
) -> Result<Response> {
    get_one(
        &sb,
        |d| &d.configuration_types,
        "ConfigurationType",
        &id,
        q.as_deref(),
    )
}

async fn list_questions(
    State(sb): State<Arc<Sandbox>>,
    Path(id): Path<String>,
    call: ListCall,
) -> Result<Response> {
    let id = parse_id(&id, "ConfigurationType")?;
    if sb.data().configuration_types.get(id).is_none() {
        return Err(ApiError::not_found("ConfigurationType"));
    }
    call.list(
        &sb,
        "ConfigurationTypeQuestion",
        |d| &d.type_questions,
        |q| q["configurationType"]["id"].as_i64() == Some(id),
    )
}

async fn list_statuses(State(sb): State<Arc<Sandbox>>, call: ListCall) -> Result<Response> {
    call.list(
        &sb,
        "ConfigurationStatus",
        |d| &d.configuration_statuses,
        |_| true,
    )
}

/// `Company.Configuration`: created and patched by `writes`, completed by
/// `complete_configuration`.
pub(super) struct Configuration;

impl writes::Writable for Configuration {
    const SCHEMA: &'static str = CONFIGURATION;
    const KIND: &'static str = "configuration";
    const NOT_FOUND: &'static str = "Configuration";

    fn table(data: &mut Data) -> &mut crate::store::Table {
        &mut data.configurations
    }

    fn complete(
        data: &Data,
        record: Map<String, Value>,
        _before: Option<&Value>,
        _member: &str,
    ) -> Result<Value> {
        complete_configuration(data, record)
    }
}
