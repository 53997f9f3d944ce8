//! Linking with a preview first: "Save Account" shows what the link would do (adopt, create,
//! re-activate, deactivate, wait for a person, leave alone) before the admin confirms; the
//! company suggestions page links many policies at once, through the same previews.

use std::collections::HashMap;

use askama::Template;
use axum::Router;
use axum::extract::{Form, Path, Query, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use serde::Deserialize;

use super::{Frame, Page, Viewer, render, see_other};
use crate::ids::{CompanyId, ConfigurationId, IntegrationId, PolicyId};
use crate::ops::links::LinkPreview;
use crate::state::Shared;

pub fn router() -> Router<Shared> {
    Router::new()
        .route("/policies/{id}/preview", get(preview))
        .route("/policies/{id}/link", post(link))
        .route("/suggestions", get(suggestions))
        .route("/suggestions/preview", get(preview_many))
        .route("/suggestions/link", post(link_many))
}

/// A preview as the page shows it.
struct PreviewView {
    policy_id: PolicyId,
    policy_name: String,
    integration_id: IntegrationId,
    integration_name: String,
    company_id: CompanyId,
    company_name: String,
    adopted: usize,
    by_serial: usize,
    by_mac: usize,
    by_name: usize,
    by_person: usize,
    create: usize,
    reactivate: usize,
    update: usize,
    deactivate: usize,
    deactivated_elsewhere: usize,
    in_line: usize,
    waiting: Vec<Waiting>,
    unclaimed: Vec<(ConfigurationId, String)>,
}

struct Waiting {
    device: String,
    reason: String,
    candidates: String,
}

async fn view(state: &Shared, p: LinkPreview) -> Result<PreviewView, super::ConsoleError> {
    let plan = p.plan;
    let mut waiting = Vec::new();
    for n in plan.needs_person {
        let d = state.store.device(n.device_id).await?;
        let facts = d.facts;
        let candidates: Vec<String> = n
            .candidates
            .iter()
            .map(ConfigurationId::to_string)
            .collect();
        waiting.push(Waiting {
            device: facts.name.unwrap_or(d.agent_id),
            reason: n.reason,
            candidates: candidates.join(", "),
        });
    }
    Ok(PreviewView {
        policy_id: p.policy_id,
        policy_name: p.policy_name,
        integration_id: p.integration_id,
        integration_name: p.integration_name,
        company_id: plan.company_id,
        company_name: p.company_name,
        adopted: plan.adopt_by_serial
            + plan.adopt_by_mac
            + plan.adopt_by_name
            + plan.adopt_by_person,
        by_serial: plan.adopt_by_serial,
        by_mac: plan.adopt_by_mac,
        by_name: plan.adopt_by_name,
        by_person: plan.adopt_by_person,
        create: plan.create,
        reactivate: plan.reactivate,
        update: plan.update,
        deactivate: plan.deactivate,
        deactivated_elsewhere: p.deactivated_elsewhere,
        in_line: plan.in_line,
        waiting,
        unclaimed: plan
            .unclaimed
            .into_iter()
            .map(|u| (u.configuration_id, u.name.unwrap_or_default()))
            .collect(),
    })
}

#[derive(Template)]
#[template(path = "console/link_preview.html")]
struct PreviewPage {
    frame: Frame,
    previews: Vec<PreviewView>,
    /// Where "Confirm" posts, and where "Back" leads.
    confirm: String,
    back: String,
    /// Several accepted suggestions (posted as `pick_<policy>` fields) rather than one link.
    bulk: bool,
    /// One link's choice of the company's sites: (id, name, chosen now).
    sites: Vec<(i64, String, bool)>,
}

#[derive(Deserialize)]
struct CompanyQuery {
    company_id: CompanyId,
    /// The company's instance (none: the oldest).
    integration: Option<IntegrationId>,
}

/// "Save Account": what linking would do; nothing is written until the admin confirms.
async fn preview(
    State(state): State<Shared>,
    viewer: Viewer,
    Path(id): Path<PolicyId>,
    Query(q): Query<CompanyQuery>,
) -> Page {
    let ops = state.ops(&viewer.actor);
    let integration = ops.integration_or_default(q.integration).await?;
    let company = (integration, q.company_id);
    let p = ops.preview_link(id, company).await?;
    let title = format!("Link {} to {}?", p.policy_name, p.company_name);
    // The policy's site stays chosen when it is relinked to the same company.
    let policy = state.store.policy(id).await?;
    let now = policy
        .cw_site
        .filter(|_| {
            (policy.cw_integration_id, policy.cw_company_id)
                == (Some(integration), Some(q.company_id))
        })
        .map(|s| s.id);
    let sites = state
        .ops(&viewer.actor)
        .company_sites(company)
        .await?
        .into_iter()
        .map(|s| (s.id, s.name, Some(s.id) == now))
        .collect();
    let page = PreviewPage {
        frame: Frame::new(&viewer, "policies", title),
        previews: vec![view(&state, p).await?],
        confirm: format!("/console/policies/{id}/link"),
        back: format!("/console/policies/{id}"),
        bulk: false,
        sites,
    };
    render(&page, StatusCode::OK)
}

#[derive(Deserialize)]
struct LinkForm {
    #[serde(default)]
    csrf: String,
    company_id: CompanyId,
    integration: Option<IntegrationId>,
    /// A site of the company, or empty to leave sites to ConnectWise.
    #[serde(default)]
    site_id: String,
}

/// The confirmed link: checks the company (and the site) with ConnectWise, links, and starts
/// binding.
async fn link(
    State(state): State<Shared>,
    viewer: Viewer,
    Path(id): Path<PolicyId>,
    Form(f): Form<LinkForm>,
) -> Page {
    viewer.check(&f.csrf)?;
    let site = match f.site_id.trim() {
        "" => None,
        s => Some(s.parse::<i64>().map_err(|_| {
            super::ConsoleError::new(StatusCode::BAD_REQUEST, "choose a site from the list")
        })?),
    };
    let ops = state.ops(&viewer.actor);
    let integration = ops.integration_or_default(f.integration).await?;
    ops.link_at_site(id, (integration, f.company_id), site)
        .await?;
    Ok(see_other(&format!("/console/policies/{id}"), "linked"))
}

struct SuggestionRow {
    policy_id: PolicyId,
    policy_name: String,
    company: Option<(CompanyId, String, String)>,
}

#[derive(Template)]
#[template(path = "console/suggestions.html")]
struct SuggestionsPage {
    frame: Frame,
    rows: Vec<SuggestionRow>,
}

/// Every unlinked policy with the company whose name matches it best.
async fn suggestions(State(state): State<Shared>, viewer: Viewer) -> Page {
    let ops = state.ops(&viewer.actor);
    let rows = ops
        .company_suggestions(ops.integration_or_default(None).await?)
        .await?
        .into_iter()
        .map(|s| SuggestionRow {
            policy_id: s.policy_id,
            policy_name: s.policy_name,
            company: s
                .company
                .map(|c| (c.id, c.name, format!("{:.0} %", c.score * 100.0))),
        })
        .collect();
    let page = SuggestionsPage {
        frame: Frame::new(&viewer, "policies", "Link policies to companies"),
        rows,
    };
    render(&page, StatusCode::OK)
}

/// The accepted suggestions, from `pick_<policy id>=<company id>` fields.
fn picks(fields: &HashMap<String, String>) -> Vec<(PolicyId, CompanyId)> {
    let mut out: Vec<(PolicyId, CompanyId)> = fields
        .iter()
        .filter_map(|(k, v)| {
            let policy = k.strip_prefix("pick_")?.parse().ok()?;
            Some((policy, v.parse().ok()?))
        })
        .collect();
    out.sort_unstable();
    out.truncate(200);
    out
}

/// Previews of every accepted suggestion, and one "Confirm" for them all.
async fn preview_many(
    State(state): State<Shared>,
    viewer: Viewer,
    Query(fields): Query<HashMap<String, String>>,
) -> Page {
    // "Preview all": every suggestion there is.
    let ops = state.ops(&viewer.actor);
    let integration = ops.integration_or_default(None).await?;
    let chosen = if fields.contains_key("all") {
        ops.company_suggestions(integration)
            .await?
            .into_iter()
            .filter_map(|s| s.company.map(|c| (s.policy_id, c.id)))
            .take(200)
            .collect()
    } else {
        picks(&fields)
    };
    if chosen.is_empty() {
        return Ok(see_other("/console/suggestions", "none_chosen"));
    }
    let mut previews = Vec::new();
    for (policy, company) in chosen {
        let p = ops.preview_link(policy, (integration, company)).await?;
        previews.push(view(&state, p).await?);
    }
    let page = PreviewPage {
        frame: Frame::new(
            &viewer,
            "policies",
            format!("Link {} policies?", previews.len()),
        ),
        previews,
        confirm: "/console/suggestions/link".into(),
        back: "/console/suggestions".into(),
        bulk: true,
        sites: Vec::new(),
    };
    render(&page, StatusCode::OK)
}

/// Links every confirmed suggestion.
async fn link_many(
    State(state): State<Shared>,
    viewer: Viewer,
    Form(fields): Form<HashMap<String, String>>,
) -> Page {
    viewer.check(fields.get("csrf").map(String::as_str).unwrap_or_default())?;
    let ops = state.ops(&viewer.actor);
    let integration = ops.integration_or_default(None).await?;
    for (policy, company) in picks(&fields) {
        ops.link(policy, (integration, company)).await?;
    }
    Ok(see_other("/console/policies", "linked"))
}
