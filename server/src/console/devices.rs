//! The console's device list, paged and filtered by name, policy and binding state: each
//! device's facts, last check-in, policy and binding, and moving it to another policy.

use askama::Template;
use axum::Router;
use axum::extract::{Form, Path, Query, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use bindery_shared::FactField;
use serde::Deserialize;

use super::{ConsoleError, Frame, Page, Paging, Viewer, ago, enc, render, see_other};
use crate::ids::{DeviceId, PolicyId};
use crate::state::Shared;
use crate::store::{DeviceFilter, DeviceListRow};

pub fn router() -> Router<Shared> {
    Router::new()
        .route("/devices", get(devices))
        .route("/devices/{id}/move", post(move_device))
}

struct DeviceRow {
    id: DeviceId,
    name: String,
    agent_id: String,
    os: String,
    serial: String,
    ip: String,
    user: String,
    last_seen: String,
    policy: String,
    /// 0: in no policy.
    policy_id: PolicyId,
    state: String,
    error: Option<String>,
}

#[derive(Template)]
#[template(path = "console/devices.html")]
struct DevicesPage {
    frame: Frame,
    rows: Vec<DeviceRow>,
    policies: Vec<(PolicyId, String)>,
    /// (state, selected)
    states: Vec<(&'static str, bool)>,
    q: String,
    /// 0: any policy.
    policy: PolicyId,
    paging: Paging,
}

#[derive(Deserialize)]
struct DeviceQuery {
    notice: Option<String>,
    #[serde(default)]
    q: String,
    #[serde(default)]
    policy: String,
    #[serde(default)]
    state: String,
    page: Option<i64>,
}

async fn devices(
    State(state): State<Shared>,
    viewer: Viewer,
    Query(query): Query<DeviceQuery>,
) -> Page {
    let policies: Vec<(PolicyId, String)> = state
        .store
        .policies()
        .await?
        .into_iter()
        .map(|p| (p.id, p.name))
        .collect();
    let policy = query.policy.parse::<PolicyId>().ok();
    let wanted_state = if query.state.is_empty() {
        "any"
    } else {
        query.state.as_str()
    };
    // Filtered and paged by the database: a page costs the same at any fleet size.
    let mut filter = DeviceFilter {
        q: query.q.clone(),
        policy,
        state: (wanted_state != "any").then(|| wanted_state.to_owned()),
        retired_too: false,
        limit: Paging::PER_PAGE,
        offset: Paging::offset(query.page),
        after: None,
    };
    let (mut found, total) = state.store.device_page(&filter).await?;
    let query_string = format!(
        "q={}&policy={}&state={}",
        enc(&query.q),
        enc(&query.policy),
        enc(&query.state)
    );
    let paging = Paging::new(query.page, total, query_string);
    if found.is_empty() && total > 0 {
        // Past the last page: the last page.
        filter.offset = (paging.page - 1) * Paging::PER_PAGE;
        found = state.store.device_page(&filter).await?.0;
    }
    let rows: Vec<DeviceRow> = found
        .into_iter()
        .map(|d| device_row(d, &policies))
        .collect();
    let page = DevicesPage {
        frame: Frame::new(&viewer, "devices", "Devices").with_notice(query.notice.as_deref()),
        rows,
        policies,
        states: [
            "any",
            "pending",
            "bound",
            "failed",
            "needs_person",
            "inactive",
            "none",
        ]
        .into_iter()
        .map(|s| (s, s == wanted_state))
        .collect(),
        q: query.q.chars().take(100).collect(),
        policy: policy.unwrap_or_default(),
        paging,
    };
    render(&page, StatusCode::OK)
}

/// A device's row as the list shows it.
fn device_row(row: DeviceListRow, policies: &[(PolicyId, String)]) -> DeviceRow {
    let d = row.device;
    let facts = &d.facts;
    let fact = |f: FactField| facts.get(f).unwrap_or("").to_owned();
    DeviceRow {
        id: d.id,
        name: facts.name.clone().unwrap_or_else(|| d.agent_id.clone()),
        os: [fact(FactField::OsType), fact(FactField::OsInfo)]
            .join(" ")
            .trim()
            .to_owned(),
        serial: fact(FactField::SerialNumber),
        ip: fact(FactField::IpAddress),
        user: fact(FactField::LastLoginName),
        last_seen: ago(d.last_seen_ms),
        policy: d
            .policy_id
            .and_then(|p| policies.iter().find(|(id, _)| *id == p))
            .map(|(_, n)| n.clone())
            .unwrap_or_else(|| "none".into()),
        policy_id: d.policy_id.unwrap_or_default(),
        state: row.state,
        error: row.error,
        agent_id: d.agent_id,
    }
}

#[derive(Deserialize)]
struct MoveForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    policy_id: String,
}

async fn move_device(
    State(state): State<Shared>,
    viewer: Viewer,
    Path(id): Path<DeviceId>,
    Form(f): Form<MoveForm>,
) -> Page {
    viewer.check(&f.csrf)?;
    let policy = match f.policy_id.trim() {
        "" => None,
        p => Some(p.parse::<PolicyId>().map_err(|_| {
            ConsoleError::new(StatusCode::BAD_REQUEST, "choose a policy from the list")
        })?),
    };
    state.ops(&viewer.actor).move_device(id, policy).await?;
    Ok(see_other("/console/devices", "moved"))
}
