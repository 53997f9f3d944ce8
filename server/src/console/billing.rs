//! Billing by device count: a policy's agreement and products
//! (`/console/policies/{id}/billing`), and every addition Bindery keeps with what waits for a
//! person (`/console/billing`: approve a quantity, choose among several additions).

use askama::Template;
use axum::Router;
use axum::extract::{Form, Path, Query, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use serde::Deserialize;

use super::{Frame, Page, Viewer, ago, render, see_other};
use crate::ids::{IntegrationId, PolicyId};
use crate::ops::billing::{BILL_CUSTOMER, BillingRequest};
use crate::reconcile::billing::{BillingRules, Counting};
use crate::state::Shared;

pub fn router() -> Router<Shared> {
    Router::new()
        .route("/policies/{id}/billing", get(policy_page).post(save))
        .route("/policies/{id}/billing/clear", post(clear))
        .route("/billing", get(lines_page))
        .route("/billing/approve", post(approve))
        .route("/billing/choose", post(choose))
        .route("/billing/rules", post(save_rules))
}

#[derive(Template)]
#[template(path = "console/policy_billing.html")]
struct PolicyBillingPage {
    frame: Frame,
    id: PolicyId,
    /// "Acme Managed Services (agreement 1): MANAGED-WS for workstations, …", when billed.
    current: Option<String>,
    /// The company's agreements in force: (id, label, chosen now).
    agreements: Vec<(i64, String, bool)>,
    workstation_product: String,
    server_product: String,
    /// (value, chosen now)
    bill_customer: Vec<(&'static str, bool)>,
    /// Why nothing can be billed yet (no link).
    not_linked: bool,
    cover_configurations: bool,
}

#[derive(Deserialize)]
struct NoticeQuery {
    notice: Option<String>,
}

async fn policy_page(
    State(state): State<Shared>,
    viewer: Viewer,
    Path(id): Path<PolicyId>,
    Query(q): Query<NoticeQuery>,
) -> Page {
    let policy = state.store.policy(id).await?;
    let billing = state.store.policy_billing(id).await?;
    let chosen = billing.as_ref().map(|b| b.agreement_id);
    let agreements = match (policy.cw_integration_id, policy.cw_company_id) {
        (Some(integration), Some(company)) => state
            .ops(&viewer.actor)
            .company_agreements(integration, company)
            .await?
            .into_iter()
            .map(|a| {
                let parent = a
                    .parent_agreement
                    .and_then(|p| p.id)
                    .map(|p| format!(", under agreement {p}"))
                    .unwrap_or_default();
                (
                    a.id,
                    format!("{} (id {}{parent})", a.name, a.id),
                    Some(a.id) == chosen,
                )
            })
            .collect(),
        _ => Vec::new(),
    };
    let product = |p: &Option<crate::store::Product>| {
        p.as_ref().map(|p| p.identifier.clone()).unwrap_or_default()
    };
    let current = billing.as_ref().map(|b| {
        let classes: Vec<String> = [
            ("workstations", &b.workstation_product),
            ("servers", &b.server_product),
        ]
        .into_iter()
        .filter_map(|(class, p)| p.as_ref().map(|p| format!("{} for {class}", p.identifier)))
        .collect();
        format!(
            "{} (agreement {}): {}",
            b.agreement_name,
            b.agreement_id,
            classes.join(", ")
        )
    });
    let customer = billing
        .as_ref()
        .map_or("Billable", |b| b.bill_customer.as_str());
    let page = PolicyBillingPage {
        frame: Frame::new(&viewer, "policies", format!("Billing of {}", policy.name))
            .with_notice(q.notice.as_deref()),
        id,
        current,
        agreements,
        workstation_product: billing
            .as_ref()
            .map_or("MANAGED-WS".into(), |b| product(&b.workstation_product)),
        server_product: billing
            .as_ref()
            .map_or(String::new(), |b| product(&b.server_product)),
        bill_customer: BILL_CUSTOMER.iter().map(|c| (*c, *c == customer)).collect(),
        not_linked: policy.cw_company_id.is_none(),
        cover_configurations: billing.as_ref().is_some_and(|b| b.cover_configurations),
    };
    render(&page, StatusCode::OK)
}

#[derive(Deserialize)]
struct BillingForm {
    #[serde(default)]
    csrf: String,
    agreement_id: i64,
    #[serde(default)]
    workstation_product: String,
    #[serde(default)]
    server_product: String,
    #[serde(default)]
    bill_customer: String,
    /// A ticked checkbox sends "on"; an unticked one nothing.
    #[serde(default)]
    cover_configurations: Option<String>,
}

/// Saves the policy's billing (checked with ConnectWise); the first quantities then wait on the
/// billing page.
async fn save(
    State(state): State<Shared>,
    viewer: Viewer,
    Path(id): Path<PolicyId>,
    Form(f): Form<BillingForm>,
) -> Page {
    viewer.check(&f.csrf)?;
    let given = |s: &str| Some(s.trim()).filter(|s| !s.is_empty()).map(str::to_owned);
    let (ws, srv) = (given(&f.workstation_product), given(&f.server_product));
    let request = BillingRequest {
        agreement_id: f.agreement_id,
        workstation_product: ws.as_deref(),
        server_product: srv.as_deref(),
        bill_customer: &f.bill_customer,
        cover_configurations: f.cover_configurations.is_some(),
    };
    state.ops(&viewer.actor).set_billing(id, &request).await?;
    Ok(see_other("/console/billing", "billing_saved"))
}

async fn clear(
    State(state): State<Shared>,
    viewer: Viewer,
    Path(id): Path<PolicyId>,
    Form(f): Form<super::CsrfForm>,
) -> Page {
    viewer.check(&f.csrf)?;
    state.ops(&viewer.actor).clear_billing(id).await?;
    Ok(see_other(
        &format!("/console/policies/{id}/billing"),
        "saved",
    ))
}

struct Line {
    integration: IntegrationId,
    agreement_id: i64,
    product_id: i64,
    product: String,
    addition: String,
    quantity: String,
    devices: i64,
    written: String,
    /// What waits, and the quantity a person would approve (none: choose an addition).
    waits: Option<(String, Option<i64>)>,
}

#[derive(Template)]
#[template(path = "console/billing.html")]
struct LinesPage {
    frame: Frame,
    lines: Vec<Line>,
    month_high: bool,
    max_drop_percent: u32,
}

async fn lines_page(
    State(state): State<Shared>,
    viewer: Viewer,
    Query(q): Query<NoticeQuery>,
) -> Page {
    let show = |v: Option<i64>| v.map_or("none yet".into(), |v| v.to_string());
    let lines = state
        .ops(&viewer.actor)
        .billing_lines()
        .await?
        .into_iter()
        .map(|l| {
            let a = l.addition;
            Line {
                integration: a.integration_id,
                agreement_id: a.agreement_id,
                product_id: a.product_id,
                product: a.product,
                addition: show(a.addition_id),
                quantity: show(a.quantity),
                devices: l.devices,
                written: a.written_ms.map_or("never".into(), ago),
                waits: a.held_reason.map(|r| (r, a.held_quantity)),
            }
        })
        .collect();
    let rules = state.ops(&viewer.actor).billing_rules().await?;
    let page = LinesPage {
        frame: Frame::new(&viewer, "billing", "Billing by device count")
            .with_notice(q.notice.as_deref()),
        lines,
        month_high: rules.counting == Counting::MonthHigh,
        max_drop_percent: rules.max_drop_percent,
    };
    render(&page, StatusCode::OK)
}

#[derive(Deserialize)]
struct AnswerForm {
    #[serde(default)]
    csrf: String,
    /// The agreement's instance (none: the oldest).
    integration: Option<IntegrationId>,
    agreement_id: i64,
    product_id: i64,
    /// For "choose": the addition Bindery keeps.
    addition_id: Option<i64>,
}

async fn approve(State(state): State<Shared>, viewer: Viewer, Form(f): Form<AnswerForm>) -> Page {
    viewer.check(&f.csrf)?;
    let ops = state.ops(&viewer.actor);
    let integration = ops.integration_or_default(f.integration).await?;
    ops.approve_billing((integration, f.agreement_id), f.product_id)
        .await?;
    Ok(see_other("/console/billing", "billing_approved"))
}

async fn choose(State(state): State<Shared>, viewer: Viewer, Form(f): Form<AnswerForm>) -> Page {
    viewer.check(&f.csrf)?;
    let addition = f.addition_id.ok_or_else(|| {
        super::ConsoleError::new(StatusCode::BAD_REQUEST, "give the addition's id")
    })?;
    let ops = state.ops(&viewer.actor);
    let integration = ops.integration_or_default(f.integration).await?;
    ops.choose_addition((integration, f.agreement_id), f.product_id, addition)
        .await?;
    Ok(see_other("/console/billing", "saved"))
}

#[derive(Deserialize)]
struct RulesForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    counting: String,
    max_drop_percent: u32,
}

async fn save_rules(State(state): State<Shared>, viewer: Viewer, Form(f): Form<RulesForm>) -> Page {
    viewer.check(&f.csrf)?;
    let rules = BillingRules {
        counting: if f.counting == "monthHigh" {
            Counting::MonthHigh
        } else {
            Counting::Live
        },
        max_drop_percent: f.max_drop_percent,
    };
    state.ops(&viewer.actor).set_billing_rules(&rules).await?;
    Ok(see_other("/console/billing", "saved"))
}
