//! The console's lists of what happened, each paged and filtered: alerts (close), help requests
//! (close) and the activity log of ConnectWise writes. Devices have their own page (devices.rs).

use askama::Template;
use axum::Router;
use axum::extract::{Form, Path, Query, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use serde::Deserialize;

use super::{ConsoleError, CsrfForm, Frame, Page, Paging, Viewer, ago, enc, render, see_other};
use crate::ids::AlertId;
use crate::state::Shared;
use crate::store::{AlertFilter, AlertState, TicketBrief, TicketState};

pub fn router() -> Router<Shared> {
    Router::new()
        .route("/alerts", get(alerts))
        .route("/alerts/{id}/close", post(close_alert))
        .route("/help-requests", get(help_requests))
        .route("/help-requests/{id}/close", post(close_help))
        .route("/activity", get(activity))
}

/// An alert's ticket column: a held alert says until when, others as `ticket_text`.
pub(super) fn alert_ticket_text(a: &crate::store::Alert) -> (String, Option<String>) {
    match a.held_until_ms {
        Some(until) => (
            format!(
                "held by a maintenance window until {}",
                bindery_shared::time::utc_text(until)
            ),
            None,
        ),
        None => ticket_text(a.ticket.as_ref(), a.no_ticket_reason.as_deref()),
    }
}

/// "#1042 open", "pending: ConnectWise timed out", … for a list's ticket column.
pub(super) fn ticket_text(
    t: Option<&TicketBrief>,
    no_ticket: Option<&str>,
) -> (String, Option<String>) {
    match t {
        None => (format!("none ({})", no_ticket.unwrap_or("no ticket")), None),
        Some(t) => {
            let by_person;
            let state = match t.state {
                _ if t.deleted_ms.is_some() => "deleted in ConnectWise",
                TicketState::Closed if t.closed_by.is_some() => {
                    by_person = format!(
                        "closed in ConnectWise by {}",
                        t.closed_by.as_deref().unwrap_or("")
                    );
                    by_person.as_str()
                }
                TicketState::Open if t.left_open => "open, left for a person",
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

struct AlertRow {
    id: AlertId,
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
        "acknowledged" => Some(AlertState::Acknowledged),
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
            let (ticket, ticket_error) = alert_ticket_text(&a);
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
        states: ["any", "open", "acknowledged", "resolved", "closed"]
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
    Path(id): Path<AlertId>,
    Form(f): Form<CsrfForm>,
) -> Page {
    viewer.check(&f.csrf)?;
    state
        .ops(&viewer.actor)
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
    state
        .ops(&viewer.actor)
        .close_help(id, &viewer.username)
        .await?
        .ok_or_else(|| ConsoleError::new(StatusCode::NOT_FOUND, "no such help request"))?;
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
        paging: Paging::counted_at_most(
            query.page,
            total,
            crate::store::ACTIVITY_COUNTED_AT_MOST,
            format!(
                "action={}{}",
                enc(action),
                if failed { "&failed=true" } else { "" }
            ),
        ),
    };
    render(&page, StatusCode::OK)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::TicketId;

    #[test]
    fn the_ticket_column_says_what_people_did_in_connectwise() {
        let brief = TicketBrief {
            id: TicketId(1),
            state: TicketState::Open,
            number: Some(42),
            error: None,
            want_closed: false,
            closed_by: None,
            deleted_ms: None,
            left_open: false,
        };
        let text = |t: &TicketBrief| ticket_text(Some(t), None).0;
        assert_eq!(text(&brief), "#42 open");
        let closing = TicketBrief {
            want_closed: true,
            ..brief.clone()
        };
        assert_eq!(text(&closing), "#42 closing");
        let left = TicketBrief {
            left_open: true,
            ..closing.clone()
        };
        assert_eq!(text(&left), "#42 open, left for a person");
        let by_person = TicketBrief {
            state: TicketState::Closed,
            closed_by: Some("jtech".into()),
            ..brief.clone()
        };
        assert_eq!(text(&by_person), "#42 closed in ConnectWise by jtech");
        let deleted = TicketBrief {
            state: TicketState::Closed,
            deleted_ms: Some(1),
            ..brief
        };
        assert_eq!(text(&deleted), "#42 deleted in ConnectWise");
    }
}
