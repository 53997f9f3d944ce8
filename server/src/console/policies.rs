//! Policies: the list with each policy's ConnectWise icon, a policy's page (the company picker
//! and "Save Account", unlink, "Devices Binding" with each device's state and error, "Retry
//! Pending", tokens), and enrollment tokens shown once in an install command.

use askama::Template;
use axum::Router;
use axum::extract::{Form, Path, Query, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use serde::Deserialize;

use super::{CsrfForm, Frame, Page, Viewer, render, see_other};
use crate::ids::{CompanyId, ConfigurationId, DeviceId, PolicyId};
use crate::state::Shared;
use crate::store::{BindingState, LinkState, now_ms};

pub fn router() -> Router<Shared> {
    Router::new()
        .route("/policies", get(list).post(create))
        .route("/policies/{id}", get(one))
        .route("/policies/{id}/unlink", post(unlink))
        .route("/policies/{id}/retry", post(retry))
        .route("/policies/{id}/delete", post(delete))
        .route("/policies/{id}/rename", post(rename))
}

pub fn link_label(link: LinkState) -> &'static str {
    match link {
        LinkState::Grey => "Not linked to ConnectWise",
        LinkState::Blue => "Linked; every device bound",
        LinkState::Red => "Linked; some devices not bound",
    }
}

struct PolicyRow {
    id: PolicyId,
    name: String,
    company: Option<String>,
    link: &'static str,
    link_label: &'static str,
    devices: i64,
    bound: i64,
    pending: i64,
    failed: i64,
    needs_person: i64,
    inactive: i64,
}

#[derive(Template)]
#[template(path = "console/policies.html")]
struct PoliciesPage {
    frame: Frame,
    policies: Vec<PolicyRow>,
}

#[derive(Deserialize)]
struct NoticeQuery {
    notice: Option<String>,
}

async fn list(State(state): State<Shared>, viewer: Viewer, Query(q): Query<NoticeQuery>) -> Page {
    let mut policies = Vec::new();
    let instances = state.store.integrations().await?;
    for (p, b) in state.store.policies_with_bindings().await? {
        policies.push(PolicyRow {
            id: p.id,
            company: company_label(&p, &instances),
            name: p.name,
            link: b.link.as_str(),
            link_label: link_label(b.link),
            devices: b.devices,
            bound: b.bound,
            pending: b.pending,
            failed: b.failed,
            needs_person: b.needs_person,
            inactive: b.inactive,
        });
    }
    let page = PoliciesPage {
        frame: Frame::new(&viewer, "policies", "Policies").with_notice(q.notice.as_deref()),
        policies,
    };
    render(&page, StatusCode::OK)
}

#[derive(Deserialize)]
struct NameForm {
    #[serde(default)]
    csrf: String,
    name: String,
}

async fn create(State(state): State<Shared>, viewer: Viewer, Form(f): Form<NameForm>) -> Page {
    viewer.check(&f.csrf)?;
    let p = state.ops(&viewer.actor).create_policy(&f.name).await?;
    Ok(see_other(&format!("/console/policies/{}", p.id), "created"))
}

struct DeviceRow {
    device_id: DeviceId,
    name: String,
    agent_id: String,
    state: &'static str,
    configuration_id: Option<ConfigurationId>,
    error: Option<String>,
    /// Waiting for a person: the configurations it could be.
    candidates: Vec<ConfigurationId>,
    /// Waiting as a possible reinstall of this device.
    reinstall_of: Option<DeviceId>,
}

struct CompanyRow {
    id: CompanyId,
    identifier: String,
    name: String,
}

#[derive(Template)]
#[template(path = "console/policy.html")]
struct PolicyPage {
    frame: Frame,
    id: PolicyId,
    name: String,
    /// The new-token form's defaults (blank: never / any number).
    token_days: String,
    token_uses: String,
    link: &'static str,
    link_label: &'static str,
    company: Option<String>,
    /// The linked company, for "Change site".
    company_id: Option<crate::ids::CompanyId>,
    /// The ConnectWise instances (a select when there are several), and the one searched.
    instances: Vec<crate::store::Integration>,
    integration: crate::ids::IntegrationId,
    q: String,
    searched: bool,
    companies: Vec<CompanyRow>,
    search_error: Option<String>,
    devices: i64,
    bound: i64,
    pending: i64,
    failed: i64,
    needs_person: i64,
    inactive: i64,
    rows: Vec<DeviceRow>,
    tokens: Vec<super::tokens::TokenRow>,
}

#[derive(Deserialize)]
struct PolicyQuery {
    notice: Option<String>,
    /// The instance whose companies are searched (none: the linked one, else the oldest).
    integration: Option<crate::ids::IntegrationId>,
    #[serde(default)]
    q: String,
}

async fn one(
    State(state): State<Shared>,
    viewer: Viewer,
    Path(id): Path<PolicyId>,
    Query(query): Query<PolicyQuery>,
) -> Page {
    let p = state.store.policy(id).await?;
    let b = state.store.policy_bindings(id).await?;
    let q: String = query.q.trim().chars().take(100).collect();
    let searched = !q.is_empty() && p.cw_company_id.is_none();
    let integration = state
        .ops(&viewer.actor)
        .integration_or_default(query.integration.or(p.cw_integration_id))
        .await
        .unwrap_or(crate::ids::IntegrationId::FIRST);
    let instances = state.store.integrations().await?;
    let (companies, search_error) = if searched {
        search_companies(&state, &viewer, integration, &q).await
    } else {
        (Vec::new(), None)
    };
    let rows = state
        .store
        .policy_targets(id)
        .await?
        .into_iter()
        .map(device_row)
        .collect();
    let now = now_ms();
    let tokens = state
        .store
        .tokens(id)
        .await?
        .into_iter()
        .map(|t| super::tokens::token_row(t, now))
        .collect();
    let mut frame = Frame::new(&viewer, "policies", format!("Policy {}", p.name))
        .with_notice(query.notice.as_deref());
    // While devices are being bound, the page follows along.
    if p.cw_company_id.is_some() && b.pending > 0 {
        frame.refresh_secs = 2;
    }
    let page = PolicyPage {
        frame,
        id,
        name: p.name.clone(),
        link: b.link.as_str(),
        link_label: link_label(b.link),
        company: company_label(&p, &instances),
        company_id: p.cw_company_id,
        instances,
        integration,
        q,
        searched,
        companies,
        search_error,
        devices: b.devices,
        bound: b.bound,
        pending: b.pending,
        failed: b.failed,
        needs_person: b.needs_person,
        inactive: b.inactive,
        rows,
        tokens,
        token_days: super::tokens::blank_if_zero(state.agents.token_expiry_days),
        token_uses: super::tokens::blank_if_zero(state.agents.token_max_uses),
    };
    render(&page, StatusCode::OK)
}

/// Companies whose name matches `q`, or why ConnectWise could not be searched.
async fn search_companies(
    state: &Shared,
    viewer: &Viewer,
    integration: crate::ids::IntegrationId,
    q: &str,
) -> (Vec<CompanyRow>, Option<String>) {
    let found = match state.ops(&viewer.actor).client(integration).await {
        Ok(client) => client
            .search_companies(q, 25)
            .await
            .map_err(crate::ops::OpError::from),
        Err(f) => Err(f),
    };
    match found {
        Ok(list) => (
            list.into_iter()
                .map(|c| CompanyRow {
                    id: CompanyId(c.id),
                    identifier: c.identifier,
                    name: c.name,
                })
                .collect(),
            None,
        ),
        Err(f) => (
            Vec::new(),
            Some(format!("ConnectWise could not be searched: {f}")),
        ),
    }
}

fn device_row(t: crate::store::DeviceTarget) -> DeviceRow {
    let (state, configuration_id, error, candidates) = match &t.binding {
        Some(b) => (
            b.state.as_str(),
            b.configuration_id,
            b.error.clone(),
            b.candidates.clone(),
        ),
        None if t.company_id.is_some() => (BindingState::Pending.as_str(), None, None, Vec::new()),
        None => ("none", None, None, Vec::new()),
    };
    DeviceRow {
        device_id: t.device_id,
        name: t.facts.name.clone().unwrap_or_else(|| t.agent_id.clone()),
        agent_id: t.agent_id,
        state,
        configuration_id,
        error,
        candidates,
        reinstall_of: t.reinstall_of,
    }
}

async fn unlink(
    State(state): State<Shared>,
    viewer: Viewer,
    Path(id): Path<PolicyId>,
    Form(f): Form<CsrfForm>,
) -> Page {
    viewer.check(&f.csrf)?;
    state.ops(&viewer.actor).unlink(id).await?;
    Ok(see_other(&format!("/console/policies/{id}"), "unlinked"))
}

async fn retry(
    State(state): State<Shared>,
    viewer: Viewer,
    Path(id): Path<PolicyId>,
    Form(f): Form<CsrfForm>,
) -> Page {
    viewer.check(&f.csrf)?;
    state.ops(&viewer.actor).retry_pending(id).await?;
    Ok(see_other(&format!("/console/policies/{id}"), "retry"))
}

async fn rename(
    State(state): State<Shared>,
    viewer: Viewer,
    Path(id): Path<PolicyId>,
    Form(f): Form<NameForm>,
) -> Page {
    viewer.check(&f.csrf)?;
    state.ops(&viewer.actor).rename_policy(id, &f.name).await?;
    Ok(see_other(&format!("/console/policies/{id}"), "renamed"))
}

async fn delete(
    State(state): State<Shared>,
    viewer: Viewer,
    Path(id): Path<PolicyId>,
    Form(f): Form<CsrfForm>,
) -> Page {
    viewer.check(&f.csrf)?;
    state.ops(&viewer.actor).delete_policy(id).await?;
    Ok(see_other("/console/policies", "deleted"))
}

/// "Acme (id 2)", and its site when the link names one.
fn company_label(
    p: &crate::store::Policy,
    instances: &[crate::store::Integration],
) -> Option<String> {
    let id = p.cw_company_id?;
    let name = p.cw_company_name.as_deref().unwrap_or_default();
    let site = match &p.cw_site {
        Some(site) => format!("{name} (id {id}), site {}", site.name),
        None => format!("{name} (id {id})"),
    };
    // With several instances, which one: company ids repeat across them.
    let instance = instances
        .iter()
        .find(|i| Some(i.id) == p.cw_integration_id)
        .filter(|_| instances.len() > 1);
    Some(match instance {
        Some(i) => format!("{site} in {}", i.name),
        None => site,
    })
}
