//! Help requests from the machine's user: send one, list them, read one, close one.

use axum::Json;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use bindery_shared::protocol::{
    HelpClose, HelpList, HelpReply, HelpRequest as HelpMessage, HelpState,
};

use super::authenticate;
use crate::api::{ApiFailure, read_json};
use crate::monitoring;
use crate::state::Shared;
use crate::store::{HelpRequest, TicketState};

/// Where a help request stands, for the person waiting at the machine (no internal details).
fn help_reply(h: &HelpRequest) -> HelpReply {
    let (state, message) = match &h.ticket {
        None => (HelpState::Failed, h.no_ticket_reason.clone()),
        // ConnectWise's and the engine's own words stay in the console: the machine's user gets
        // a plain state.
        Some(t) => match (t.state, &t.error) {
            (TicketState::Pending, None) => (HelpState::Pending, None),
            (TicketState::Pending, Some(_)) => (
                HelpState::Pending,
                Some("the helpdesk has not taken it yet; it is being tried again".to_owned()),
            ),
            (TicketState::Open, _) => (HelpState::Open, None),
            (TicketState::Closed, _) if t.deleted_ms.is_some() => (
                HelpState::Closed,
                Some("the helpdesk removed the ticket".to_owned()),
            ),
            (TicketState::Closed, _) if t.closed_by.is_some() => (
                HelpState::Closed,
                Some("the helpdesk closed the ticket".to_owned()),
            ),
            (TicketState::Closed, _) => (HelpState::Closed, None),
            (TicketState::Failed, _) => (
                HelpState::Failed,
                Some("the helpdesk refused it; your IT team can see why".to_owned()),
            ),
        },
    };
    HelpReply {
        request_id: h.request_id.clone(),
        state,
        ticket_number: h
            .ticket
            .as_ref()
            .and_then(|t| t.number)
            .and_then(|n| u64::try_from(n).ok()),
        message,
        summary: Some(h.summary.clone()),
    }
}

/// The device's latest help requests (20), newest first, for `bindery-agent help --list`.
pub(super) async fn help_list(
    State(state): State<Shared>,
    headers: HeaderMap,
) -> Result<Json<HelpList>, ApiFailure> {
    let (_, auth) = authenticate(&state, &headers).await?;
    let (list, _) = state
        .store
        .help_requests(Some(auth.id), false, 20, 0)
        .await?;
    Ok(Json(HelpList {
        requests: list.iter().map(help_reply).collect(),
    }))
}

pub(super) async fn help(
    State(state): State<Shared>,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<HelpReply>, ApiFailure> {
    let (_, auth) = authenticate(&state, &headers).await?;
    let msg: HelpMessage = read_json(body).await?;
    msg.validate()?;
    let stored = monitoring::take_help_request(&state.store, auth.id, &msg).await?;
    state.wake_engine();
    Ok(Json(help_reply(&stored)))
}

pub(super) async fn help_status(
    State(state): State<Shared>,
    headers: HeaderMap,
    Path(request_id): Path<String>,
) -> Result<Json<HelpReply>, ApiFailure> {
    let (_, auth) = authenticate(&state, &headers).await?;
    let found = state
        .store
        .help_request(auth.id, &request_id)
        .await?
        .ok_or_else(|| {
            ApiFailure::new(
                StatusCode::NOT_FOUND,
                "not_found",
                "this device sent no help request with that id",
            )
        })?;
    Ok(Json(help_reply(&found)))
}

pub(super) async fn help_close(
    State(state): State<Shared>,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<HelpReply>, ApiFailure> {
    let (_, auth) = authenticate(&state, &headers).await?;
    let msg: HelpClose = read_json(body).await?;
    let number = i64::try_from(msg.ticket_number).unwrap_or(i64::MAX);
    let closed = monitoring::close_help_from_device(&state.store, auth.id, number, None)
        .await?
        .ok_or_else(|| {
            ApiFailure::new(
                StatusCode::NOT_FOUND,
                "not_found",
                format!("ticket {number} is not a help request from this machine"),
            )
        })?;
    state.wake_engine();
    Ok(Json(help_reply(&closed)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::{DeviceId, TicketId};
    use crate::store::TicketBrief;

    #[test]
    fn a_device_hears_plain_states_never_connectwises_words() {
        let words = "400 Bad Request: board 7 is locked by admin@msp.example (x-trace 4f1)";
        let mut request = HelpRequest {
            id: 1,
            device_id: DeviceId(2),
            agent_id: "agent-1".into(),
            request_id: "r-1".into(),
            user_name: None,
            summary: "Printer jammed".into(),
            details: None,
            created_ms: 0,
            ticket: Some(TicketBrief {
                id: TicketId(3),
                state: TicketState::Failed,
                number: None,
                error: Some(words.into()),
                want_closed: false,
                closed_by: None,
                deleted_ms: None,
                left_open: false,
            }),
            no_ticket_reason: None,
        };
        for state in [TicketState::Failed, TicketState::Pending, TicketState::Open] {
            if let Some(t) = request.ticket.as_mut() {
                t.state = state;
            }
            let reply = help_reply(&request);
            let shown = serde_json::to_string(&reply).unwrap();
            assert!(
                !shown.contains("locked") && !shown.contains("admin@"),
                "{shown}"
            );
        }
        assert_eq!(help_reply(&request).state, HelpState::Open);
    }
}
