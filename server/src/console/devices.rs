//! The console's device list, paged and filtered by name, policy and binding state: each
//! device's facts, last check-in, policy and binding, and moving it to another policy.

use std::collections::HashMap;

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
use crate::store::{Device, DeviceTarget};

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
    state: &'static str,
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
    let q = query.q.trim().to_lowercase();
    let wanted_state = if query.state.is_empty() {
        "any"
    } else {
        query.state.as_str()
    };
    let targets: HashMap<DeviceId, DeviceTarget> = state
        .store
        .all_targets()
        .await?
        .into_iter()
        .map(|t| (t.device_id, t))
        .collect();
    let mut rows = Vec::new();
    for d in state.store.devices(policy).await? {
        let Some(row) = device_row(d, &targets, &policies, wanted_state) else {
            continue;
        };
        let haystack = format!(
            "{} {} {} {} {}",
            row.name, row.agent_id, row.serial, row.ip, row.user
        )
        .to_lowercase();
        if q.is_empty() || haystack.contains(&q) {
            rows.push(row);
        }
    }
    let query_string = format!(
        "q={}&policy={}&state={}",
        enc(&query.q),
        enc(&query.policy),
        enc(&query.state)
    );
    let paging = Paging::new(query.page, rows.len() as i64, query_string);
    let start = ((paging.page - 1) * Paging::PER_PAGE) as usize;
    let rows: Vec<DeviceRow> = rows
        .into_iter()
        .skip(start)
        .take(Paging::PER_PAGE as usize)
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

/// A device's row, unless it is retired or not in the binding state asked for.
fn device_row(
    d: Device,
    targets: &HashMap<DeviceId, DeviceTarget>,
    policies: &[(PolicyId, String)],
    wanted_state: &str,
) -> Option<DeviceRow> {
    if d.retired_ms.is_some() {
        return None;
    }
    let facts = &d.facts;
    let t = targets.get(&d.id);
    let (binding_state, error) = match t.and_then(|t| t.binding.as_ref()) {
        Some(b) => (b.state.as_str(), b.error.clone()),
        None if t.and_then(|t| t.company_id).is_some() => ("pending", None),
        None => ("none", None),
    };
    if wanted_state != "any" && wanted_state != binding_state {
        return None;
    }
    let fact = |f: FactField| facts.get(f).unwrap_or("").to_owned();
    Some(DeviceRow {
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
        state: binding_state,
        error,
        agent_id: d.agent_id,
    })
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
    state.ops().move_device(id, policy).await?;
    Ok(see_other("/console/devices", "moved"))
}
