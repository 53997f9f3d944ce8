//! The agent API, version 1 (docs/protocol.md): enrollment, check-in, alert events and help
//! requests.

use axum::body::Body;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::routing::{get, post};
use axum::{Json, Router};
use bindery_shared::DeviceFacts;
use bindery_shared::protocol::{
    AlertAck, AlertBatch, CheckIn, CheckInReply, DeviceCredential, EnrollRequest, EnrollResponse,
    HelpClose, HelpList, HelpReply, HelpRequest as HelpMessage, HelpState, paths,
};

use super::{ApiFailure, read_json};
use crate::ids::PolicyId;
use crate::monitoring::{self, settings::MonitorSettings};
use crate::secrets::{hash_secret, random_secret, verify_secret};
use crate::state::Shared;
use crate::store::{
    DeviceAuth, Enrollment, HelpRequest, NewDevice, TicketState, facts_for_storage, now_ms,
};

pub fn router() -> Router<Shared> {
    Router::new()
        .route(paths::ENROLL, post(enroll))
        .route(paths::CHECKIN, post(checkin))
        .route(paths::ALERTS, post(alerts))
        .route(paths::HELP, post(help).get(help_list))
        .route("/help/close", post(help_close))
        .route("/help/{request_id}", get(help_status))
}

/// The facts as the server keeps them, and their hash (`store::facts_for_storage`).
fn server_facts(facts: DeviceFacts, agent_id: &str) -> Result<(String, String), ApiFailure> {
    facts_for_storage(facts, agent_id).map_err(|e| {
        ApiFailure::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            format!("cannot encode facts: {e}"),
        )
    })
}

async fn enroll(
    State(state): State<Shared>,
    ConnectInfo(peer): ConnectInfo<std::net::SocketAddr>,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<EnrollResponse>, ApiFailure> {
    if let Err(wait) = state.enroll_limiter.check(state.client_key(peer, &headers)) {
        let mut f = ApiFailure::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            "too many enrollment attempts from this address; try again later",
        );
        f.retry_after = Some(wait);
        return Err(f);
    }
    let req: EnrollRequest = read_json(body).await?;
    req.validate()?;
    if req.agent_id.chars().any(|c| c.is_uppercase()) {
        // ConnectWise compares deviceIdentifier without case: `ABC` and `abc` would be one
        // configuration for two devices.
        return Err(ApiFailure::invalid_body(
            "agentId: must be lower-case (agent ids are compared without case)",
            Some("agentId".into()),
        ));
    }
    let proven = proves_same_device(&state, &headers, &req.agent_id).await?;
    let token = state
        .store
        .redeem_token(&req.token, now_ms())
        .await?
        .ok_or_else(|| {
            ApiFailure::new(
                StatusCode::UNAUTHORIZED,
                "invalid_token",
                "the enrollment token is unknown, revoked or expired",
            )
        })?;
    let clean = req.facts.clone().normalized();
    let (serial, mac, name) = (clean.serial_number, clean.mac_address, clean.name);
    let (facts_json, facts_hash) = server_facts(req.facts, &req.agent_id)?;
    let enrolled = async {
        let secret = random_secret("").map_err(|e| {
            tracing::error!(error = %e, "no randomness for a device secret");
            ApiFailure::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                "the server cannot make a secret right now",
            )
        })?;
        let enrollment = state
            .store
            .enroll_device(&NewDevice {
                agent_id: &req.agent_id,
                serial: serial.as_deref(),
                mac: mac.as_deref(),
                name: name.as_deref(),
                policy_id: token.policy_id,
                facts_json: &facts_json,
                facts_hash: &facts_hash,
                agent_version: &req.agent_version,
                secret_hash: &hash_secret(&secret),
                proven,
                auto_approve_silent_ms: crate::ops::identity::auto_approve_silent_ms(&state.store)
                    .await?,
            })
            .await?;
        Ok::<_, ApiFailure>((enrollment, secret))
    }
    .await;
    let (enrollment, secret) = match enrolled {
        Ok(done) => done,
        Err(refused) => {
            if let Err(e) = state.store.give_back_token_use(token.id).await {
                tracing::warn!(error = %e, "cannot give a refused enrollment's token use back");
            }
            return Err(refused);
        }
    };
    let device = enrollment.device();
    log_enrollment(&enrollment, token.policy_id);
    state.device_changed(device.id).await;
    Ok(Json(EnrollResponse {
        agent_id: device.agent_id.clone(),
        device_secret: secret,
        checkin_interval_secs: state.agents.checkin_interval_secs,
    }))
}

/// True when a machine enrolling again sends its current credential for this agent id: it is
/// the same device.
async fn proves_same_device(
    state: &Shared,
    headers: &HeaderMap,
    agent_id: &str,
) -> Result<bool, ApiFailure> {
    let Some(cred) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(DeviceCredential::from_authorization)
        .filter(|c| c.agent_id == agent_id)
    else {
        return Ok(false);
    };
    Ok(state
        .store
        .device_auth(&cred.agent_id)
        .await?
        .is_some_and(|a| {
            a.agent_id == cred.agent_id && verify_secret(&cred.secret, &a.secret_hash)
        }))
}

fn log_enrollment(enrollment: &Enrollment, policy_id: PolicyId) {
    let device = enrollment.device();
    match enrollment {
        Enrollment::PossibleReinstall { of, .. } => tracing::warn!(
            device = %device.id, agent_id = %device.agent_id, possible_reinstall_of = %of.id,
            "a machine enrolled with the serial or MAC of a known device and no proof; it waits for a person"
        ),
        Enrollment::SameAgent(_) => {
            tracing::info!(device = %device.id, agent_id = %device.agent_id, "device enrolled again with its credential")
        }
        _ => {
            tracing::info!(device = %device.id, agent_id = %device.agent_id, policy = %policy_id, "device enrolled")
        }
    }
}

/// The device behind the request's credential; 401 for anything else.
async fn authenticate(
    state: &Shared,
    headers: &HeaderMap,
) -> Result<(DeviceCredential, DeviceAuth), ApiFailure> {
    const REFUSED: &str = "unknown or revoked device credential: enroll the agent again";
    let cred = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(DeviceCredential::from_authorization)
        .ok_or_else(|| ApiFailure::unauthorized(REFUSED))?;
    let auth = state
        .store
        .device_auth(&cred.agent_id)
        .await?
        .ok_or_else(|| ApiFailure::unauthorized(REFUSED))?;
    if !verify_secret(&cred.secret, &auth.secret_hash) {
        return Err(ApiFailure::unauthorized(REFUSED));
    }
    Ok((cred, auth))
}

/// A check-in: one read (the credential and the stored facts' hash); a write only when the
/// facts or the agent version changed; last-seen goes to memory and is written in batches.
async fn checkin(
    State(state): State<Shared>,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<CheckInReply>, ApiFailure> {
    let (cred, auth) = authenticate(&state, &headers).await?;
    let report: CheckIn = read_json(body).await?;
    report.validate()?;
    // A record merged into another reports as that device, under its agent id.
    let (facts_json, facts_hash) = server_facts(report.facts, &auth.agent_id)?;
    if facts_hash != auth.facts_hash || report.agent_version != auth.agent_version {
        state
            .store
            .record_facts(auth.id, &facts_json, &facts_hash, &report.agent_version)
            .await?;
        state.count_facts_write();
        if facts_hash != auth.facts_hash {
            state.device_changed(auth.id).await;
        }
    }
    if report.spool_dropped > 0 {
        let n = i64::try_from(report.spool_dropped).unwrap_or(i64::MAX);
        tracing::warn!(
            device = %auth.id,
            dropped = n,
            "the agent's alert spool overflowed; events were lost"
        );
        state.store.add_alert_events_dropped(auth.id, n).await?;
    }
    state.mark_seen(auth.id, now_ms());
    state.count_checkin();
    Ok(Json(CheckInReply {
        next_checkin_secs: state.agents.checkin_interval_secs,
        monitors: MonitorSettings::from_stored(auth.monitors_json.as_deref()).monitors,
        agent_id: (auth.agent_id != cred.agent_id).then(|| auth.agent_id.clone()),
    }))
}

/// Alert events, in order; replays (sequence numbers already taken) are counted and dropped.
async fn alerts(
    State(state): State<Shared>,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<AlertAck>, ApiFailure> {
    let (_, auth) = authenticate(&state, &headers).await?;
    let batch: AlertBatch = read_json(body).await?;
    batch.validate()?;
    let intake = monitoring::take_alert_batch(&state.store, auth.id, &batch).await?;
    if intake.accepted > 0 {
        state.wake_engine();
    }
    Ok(Json(AlertAck {
        acked_through: u64::try_from(intake.acked_through).unwrap_or(0),
        accepted: intake.accepted,
        duplicates: intake.duplicates,
    }))
}

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
async fn help_list(
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

async fn help(
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

async fn help_status(
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

async fn help_close(
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
