//! Billing by device count: a policy's agreement and products, the additions Bindery keeps with
//! the devices that count for each, and a person's answer where one waits (a quantity to
//! approve, an addition to choose).

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AdminAuth;
use super::document::PolicyPath;
use super::integrations::Instance;
use crate::api::{ApiFailure, read_json};
use crate::ids::{CompanyId, IntegrationId, PolicyId};
use crate::ops::billing::{BillingLine, BillingRequest};
use crate::reconcile::billing::BillingRules;
use crate::state::Shared;
use crate::store::{BilledAddition, PolicyBilling};

pub fn router() -> OpenApiRouter<Shared> {
    OpenApiRouter::new()
        .routes(routes!(
            policy_billing,
            set_policy_billing,
            clear_policy_billing
        ))
        .routes(routes!(lines))
        .routes(routes!(approve))
        .routes(routes!(choose))
        .routes(routes!(agreements))
        .routes(routes!(rules, set_rules))
}

/// The policy's billing (none: its devices are not billed).
#[utoipa::path(
    get,
    path = "/policies/{id}/billing",
    params(PolicyPath),
    responses((status = 200, body = Option<PolicyBilling>))
)]
async fn policy_billing(
    State(state): State<Shared>,
    _: AdminAuth,
    Path(id): Path<PolicyId>,
) -> Result<Json<Option<PolicyBilling>>, ApiFailure> {
    state.store.policy(id).await?;
    Ok(Json(state.store.policy_billing(id).await?))
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct BillingBody {
    /// An agreement of the policy's linked company that is in force
    /// (`GET /companies/{id}/agreements`).
    agreement_id: i64,
    /// The catalog product a workstation is billed as (`MANAGED-WS`); omit to bill none.
    #[serde(default)]
    workstation_product: Option<String>,
    /// The catalog product a server is billed as; omit to bill none.
    #[serde(default)]
    server_product: Option<String>,
    /// For an addition Bindery creates: `Billable`, `DoNotBill` or `NoCharge`.
    #[serde(default = "billable")]
    bill_customer: String,
    /// Also cover each bound configuration with the agreement, and uncover it when its device
    /// leaves (only configurations Bindery binds).
    #[serde(default)]
    cover_configurations: bool,
}

fn billable() -> String {
    "Billable".into()
}

/// Bills the policy's bound devices to an agreement of its company, each class as its product
/// (checked with ConnectWise). The first quantity of each addition waits for approval.
#[utoipa::path(
    put,
    path = "/policies/{id}/billing",
    params(PolicyPath),
    request_body = BillingBody,
    responses((status = 200, body = PolicyBilling))
)]
async fn set_policy_billing(
    State(state): State<Shared>,
    auth: AdminAuth,
    Path(id): Path<PolicyId>,
    body: axum::body::Body,
) -> Result<Json<PolicyBilling>, ApiFailure> {
    let req: BillingBody = read_json(body).await?;
    let request = BillingRequest {
        agreement_id: req.agreement_id,
        workstation_product: req.workstation_product.as_deref(),
        server_product: req.server_product.as_deref(),
        bill_customer: &req.bill_customer,
        cover_configurations: req.cover_configurations,
    };
    Ok(Json(
        state.ops(&auth.actor).set_billing(id, &request).await?,
    ))
}

/// Stops billing the policy's devices (the agreement's drop then waits for a person).
#[utoipa::path(
    delete,
    path = "/policies/{id}/billing",
    params(PolicyPath),
    responses((status = 204, description = "No longer billed"))
)]
async fn clear_policy_billing(
    State(state): State<Shared>,
    auth: AdminAuth,
    Path(id): Path<PolicyId>,
) -> Result<StatusCode, ApiFailure> {
    state.ops(&auth.actor).clear_billing(id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Every addition Bindery keeps: its quantity, the devices that count for it now, and what
/// waits for a person.
#[utoipa::path(get, path = "/billing", responses((status = 200, body = Vec<BillingLine>)))]
async fn lines(
    State(state): State<Shared>,
    auth: AdminAuth,
) -> Result<Json<Vec<BillingLine>>, ApiFailure> {
    Ok(Json(state.ops(&auth.actor).billing_lines().await?))
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct AdditionKey {
    /// The agreement's instance; none: the oldest.
    #[serde(default)]
    integration_id: Option<IntegrationId>,
    agreement_id: i64,
    product_id: i64,
}

/// Approves the quantity that waits (the first one, or a steep drop): written at once, unless
/// the count moved since.
#[utoipa::path(
    post,
    path = "/billing/approve",
    request_body = AdditionKey,
    responses((status = 200, body = BilledAddition))
)]
async fn approve(
    State(state): State<Shared>,
    auth: AdminAuth,
    body: axum::body::Body,
) -> Result<Json<BilledAddition>, ApiFailure> {
    let req: AdditionKey = read_json(body).await?;
    let ops = state.ops(&auth.actor);
    let integration = ops.integration_or_default(req.integration_id).await?;
    Ok(Json(
        ops.approve_billing((integration, req.agreement_id), req.product_id)
            .await?,
    ))
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Choice {
    /// The agreement's instance; none: the oldest.
    #[serde(default)]
    integration_id: Option<IntegrationId>,
    agreement_id: i64,
    product_id: i64,
    /// The addition of that product on the agreement Bindery keeps from now on.
    addition_id: i64,
}

/// Chooses, of several additions of a product on the agreement, the one Bindery keeps.
#[utoipa::path(
    post,
    path = "/billing/choose",
    request_body = Choice,
    responses((status = 200, body = BilledAddition))
)]
async fn choose(
    State(state): State<Shared>,
    auth: AdminAuth,
    body: axum::body::Body,
) -> Result<Json<BilledAddition>, ApiFailure> {
    let req: Choice = read_json(body).await?;
    let ops = state.ops(&auth.actor);
    let integration = ops.integration_or_default(req.integration_id).await?;
    let rec = ops
        .choose_addition(
            (integration, req.agreement_id),
            req.product_id,
            req.addition_id,
        )
        .await?;
    Ok(Json(rec))
}

/// An agreement as the picker shows it.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
struct AgreementView {
    id: i64,
    name: String,
    /// The agreement's type (`Managed Services`).
    kind: Option<String>,
    /// A child agreement's parent.
    parent_id: Option<i64>,
    start_date: Option<String>,
    end_date: Option<String>,
    status: Option<String>,
}

/// The company's agreements that are in force, child agreements included.
#[utoipa::path(
    get,
    path = "/companies/{id}/agreements",
    params(("id" = CompanyId, Path, description = "The ConnectWise company's id"), Instance),
    responses((status = 200, body = Vec<AgreementView>))
)]
async fn agreements(
    State(state): State<Shared>,
    auth: AdminAuth,
    Path(id): Path<CompanyId>,
    Query(which): Query<Instance>,
) -> Result<Json<Vec<AgreementView>>, ApiFailure> {
    let integration = which.id(&state).await?;
    let found = state
        .ops(&auth.actor)
        .company_agreements(integration, id)
        .await?;
    Ok(Json(
        found
            .into_iter()
            .map(|a| AgreementView {
                id: a.id,
                name: a.name,
                kind: a.kind.and_then(|k| k.name),
                parent_id: a.parent_agreement.and_then(|p| p.id),
                start_date: a.start_date,
                end_date: a.end_date,
                status: a.agreement_status,
            })
            .collect(),
    ))
}

/// How quantities follow the count: live or the month's highest count, and the drop (in
/// percent) that waits for a person.
#[utoipa::path(get, path = "/billing/rules", responses((status = 200, body = BillingRules)))]
async fn rules(
    State(state): State<Shared>,
    auth: AdminAuth,
) -> Result<Json<BillingRules>, ApiFailure> {
    Ok(Json(state.ops(&auth.actor).billing_rules().await?))
}

/// Sets the rules; every billed agreement is counted again under them.
#[utoipa::path(
    put,
    path = "/billing/rules",
    request_body = BillingRules,
    responses((status = 200, body = BillingRules))
)]
async fn set_rules(
    State(state): State<Shared>,
    auth: AdminAuth,
    body: axum::body::Body,
) -> Result<Json<BillingRules>, ApiFailure> {
    let rules: BillingRules = read_json(body).await?;
    state.ops(&auth.actor).set_billing_rules(&rules).await?;
    Ok(Json(rules))
}
