//! The console's lists, each paged and filtered: devices (facts, last seen, policy, binding,
//! move), alerts (close), help requests (close) and the activity log of ConnectWise writes.

use askama::Template;
use axum::Router;
use axum::extract::{Form, Path, Query, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use bindery_shared::FactField;
use serde::Deserialize;

use super::{ConsoleError, CsrfForm, Frame, Page, Paging, Viewer, ago, enc, render, see_other};
use crate::monitoring;
use crate::state::Shared;
use crate::store::{AlertFilter, AlertState, TicketBrief, TicketState};

pub fn router() -> Router<Shared> {
    Router::new()
        .route("/devices", get(devices))
        .route("/devices/{id}/move", post(move_device))
        .route("/alerts", get(alerts))
        .route("/alerts/{id}/close", post(close_alert))
        .route("/help-requests", get(help_requests))
        .route("/help-requests/{id}/close", post(close_help))
        .route("/activity", get(activity))
}

/// "#1042 open", "pending: ConnectWise timed out", … for a list's ticket column.
fn ticket_text(t: Option<&TicketBrief>, no_ticket: Option<&str>) -> (String, Option<String>) {
    match t {
        None => (format!("none ({})", no_ticket.unwrap_or("no ticket")), None),
        Some(t) => {
            let state = match t.state {
                TicketState::Open if t.want_closed => "closing",
                s => s.as_str(),
            };
            let text = match t.number {
                Some(n) => format!("#{n} {state}"),
                None => state.to_owned(),
            };
            (text, t.error.clone())
        }
    }
}

struct DeviceRow {
    id: i64,
    name: String,
    agent_id: String,
    os: String,
    serial: String,
    ip: String,
    user: String,
    last_seen: String,
    policy: String,
    /// 0: in no policy.
    policy_id: i64,
    state: &'static str,
    error: Option<String>,
}

#[derive(Template)]
#[template(path = "console/devices.html")]
struct DevicesPage {
    frame: Frame,
    rows: Vec<DeviceRow>,
    policies: Vec<(i64, String)>,
    /// (state, selected)
    states: Vec<(&'static str, bool)>,
    q: String,
    /// 0: any policy.
    policy: i64,
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
    let policies: Vec<(i64, String)> = state
        .store
        .policies()
        .await?
        .into_iter()
        .map(|p| (p.id, p.name))
        .collect();
    let policy = query.policy.parse::<i64>().ok();
    let q = query.q.trim().to_lowercase();
    let wanted_state = if query.state.is_empty() {
        "any"
    } else {
        query.state.as_str()
    };
    let targets: std::collections::HashMap<i64, crate::store::DeviceTarget> = state
        .store
        .all_targets()
        .await?
        .into_iter()
        .map(|t| (t.device_id, t))
        .collect();
    let mut rows = Vec::new();
    for d in state.store.devices(policy).await? {
        if d.retired_ms.is_some() {
            continue;
        }
        let facts = &d.facts;
        let t = targets.get(&d.id);
        let (binding_state, error) = match t.and_then(|t| t.binding.as_ref()) {
            Some(b) => (b.state.as_str(), b.error.clone()),
            None if t.and_then(|t| t.company_id).is_some() => ("pending", None),
            None => ("none", None),
        };
        if wanted_state != "any" && wanted_state != binding_state {
            continue;
        }
        let fact = |f: FactField| facts.get(f).unwrap_or("").to_owned();
        let row = DeviceRow {
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
            policy_id: d.policy_id.unwrap_or(0),
            state: binding_state,
            error,
            agent_id: d.agent_id,
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
        policy: policy.unwrap_or(0),
        paging,
    };
    render(&page, StatusCode::OK)
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
    Path(id): Path<i64>,
    Form(f): Form<MoveForm>,
) -> Page {
    viewer.check(&f.csrf)?;
    let policy = match f.policy_id.trim() {
        "" => None,
        p => Some(p.parse::<i64>().map_err(|_| {
            ConsoleError::new(StatusCode::BAD_REQUEST, "choose a policy from the list")
        })?),
    };
    state.ops().move_device(id, policy).await?;
    Ok(see_other("/console/devices", "moved"))
}

struct AlertRow {
    id: i64,
    raised: String,
    agent_id: String,
    summary: String,
    detail: Option<String>,
    repeats: i64,
    state: &'static str,
    end_note: Option<String>,
    ticket: String,
    ticket_error: Option<String>,
}

#[derive(Template)]
#[template(path = "console/alerts.html")]
struct AlertsPage {
    frame: Frame,
    rows: Vec<AlertRow>,
    /// (state, selected)
    states: Vec<(&'static str, bool)>,
    paging: Paging,
}

#[derive(Deserialize)]
struct AlertQuery {
    notice: Option<String>,
    #[serde(default)]
    state: String,
    page: Option<i64>,
}

async fn alerts(
    State(state): State<Shared>,
    viewer: Viewer,
    Query(query): Query<AlertQuery>,
) -> Page {
    let wanted = match query.state.as_str() {
        "open" => Some(AlertState::Open),
        "resolved" => Some(AlertState::Resolved),
        "closed" => Some(AlertState::Closed),
        _ => None,
    };
    let (list, total) = state
        .store
        .alerts(&AlertFilter {
            state: wanted,
            limit: Paging::PER_PAGE,
            offset: Paging::offset(query.page),
            ..AlertFilter::default()
        })
        .await?;
    let rows = list
        .into_iter()
        .map(|a| {
            let (ticket, ticket_error) =
                ticket_text(a.ticket.as_ref(), a.no_ticket_reason.as_deref());
            AlertRow {
                id: a.id,
                raised: ago(a.raised_ms),
                agent_id: a.agent_id,
                summary: a.summary,
                detail: a.detail,
                repeats: a.repeats,
                state: a.state.as_str(),
                end_note: a.end_note,
                ticket,
                ticket_error,
            }
        })
        .collect();
    let page = AlertsPage {
        frame: Frame::new(&viewer, "alerts", "Alerts").with_notice(query.notice.as_deref()),
        rows,
        states: ["any", "open", "resolved", "closed"]
            .into_iter()
            .map(|s| (s, s == wanted.map_or("any", AlertState::as_str)))
            .collect(),
        paging: Paging::new(query.page, total, format!("state={}", enc(&query.state))),
    };
    render(&page, StatusCode::OK)
}

async fn close_alert(
    State(state): State<Shared>,
    viewer: Viewer,
    Path(id): Path<i64>,
    Form(f): Form<CsrfForm>,
) -> Page {
    viewer.check(&f.csrf)?;
    state
        .ops()
        .close_alert(id, &viewer.username)
        .await?
        .ok_or_else(|| ConsoleError::new(StatusCode::NOT_FOUND, "no such alert"))?;
    Ok(see_other("/console/alerts", "closed"))
}

struct HelpRow {
    id: i64,
    created: String,
    user: String,
    agent_id: String,
    summary: String,
    details: Option<String>,
    ticket: String,
    ticket_error: Option<String>,
    closable: bool,
}

#[derive(Template)]
#[template(path = "console/help.html")]
struct HelpPage {
    frame: Frame,
    rows: Vec<HelpRow>,
    open: bool,
    paging: Paging,
}

#[derive(Deserialize)]
struct HelpQuery {
    notice: Option<String>,
    #[serde(default)]
    open: Option<String>,
    page: Option<i64>,
}

async fn help_requests(
    State(state): State<Shared>,
    viewer: Viewer,
    Query(query): Query<HelpQuery>,
) -> Page {
    let open = query.open.is_some();
    let (list, total) = state
        .store
        .help_requests(None, open, Paging::PER_PAGE, Paging::offset(query.page))
        .await?;
    let rows = list
        .into_iter()
        .map(|h| {
            let (ticket, ticket_error) =
                ticket_text(h.ticket.as_ref(), h.no_ticket_reason.as_deref());
            HelpRow {
                id: h.id,
                created: ago(h.created_ms),
                user: h.user_name.unwrap_or_else(|| "unknown".into()),
                agent_id: h.agent_id,
                summary: h.summary,
                details: h.details,
                closable: h.ticket.as_ref().is_some_and(|t| !t.want_closed),
                ticket,
                ticket_error,
            }
        })
        .collect();
    let page = HelpPage {
        frame: Frame::new(&viewer, "help", "Help requests").with_notice(query.notice.as_deref()),
        rows,
        open,
        paging: Paging::new(
            query.page,
            total,
            if open {
                "open=true".into()
            } else {
                String::new()
            },
        ),
    };
    render(&page, StatusCode::OK)
}

async fn close_help(
    State(state): State<Shared>,
    viewer: Viewer,
    Path(id): Path<i64>,
    Form(f): Form<CsrfForm>,
) -> Page {
    viewer.check(&f.csrf)?;
    monitoring::close_help_as_admin(&state.store, id, &viewer.username)
        .await?
        .ok_or_else(|| ConsoleError::new(StatusCode::NOT_FOUND, "no such help request"))?;
    state.wake_engine();
    Ok(see_other("/console/help-requests", "closed"))
}

struct ActivityRow {
    when: String,
    action: String,
    subject: String,
    cw_id: Option<i64>,
    ok: bool,
    detail: Option<String>,
}

#[derive(Template)]
#[template(path = "console/activity.html")]
struct ActivityPage {
    frame: Frame,
    rows: Vec<ActivityRow>,
    /// (prefix, label, selected)
    actions: Vec<(&'static str, &'static str, bool)>,
    failed: bool,
    paging: Paging,
}

#[derive(Deserialize)]
struct ActivityQuery {
    #[serde(default)]
    action: String,
    failed: Option<String>,
    page: Option<i64>,
}

async fn activity(
    State(state): State<Shared>,
    viewer: Viewer,
    Query(query): Query<ActivityQuery>,
) -> Page {
    let actions = [
        ("", "all"),
        ("configuration.", "configurations"),
        ("ticket.", "tickets"),
    ];
    let action = actions
        .iter()
        .find(|(a, _)| *a == query.action)
        .map_or("", |(a, _)| *a);
    let failed = query.failed.is_some();
    let (list, total) = state
        .store
        .activity(action, failed, Paging::PER_PAGE, Paging::offset(query.page))
        .await?;
    let rows = list
        .into_iter()
        .map(|a| ActivityRow {
            when: bindery_shared::time::utc_text(a.at_ms),
            action: a.action,
            subject: a.subject,
            cw_id: a.cw_id,
            ok: a.ok,
            detail: a.detail,
        })
        .collect();
    let page = ActivityPage {
        frame: Frame::new(&viewer, "activity", "Activity"),
        rows,
        actions: actions
            .iter()
            .map(|(a, label)| (*a, *label, *a == action))
            .collect(),
        failed,
        paging: Paging::new(
            query.page,
            total,
            format!(
                "action={}{}",
                enc(action),
                if failed { "&failed=true" } else { "" }
            ),
        ),
    };
    render(&page, StatusCode::OK)
}
