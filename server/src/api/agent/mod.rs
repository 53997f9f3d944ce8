//! The agent API, version 1 (docs/protocol.md): enrollment, check-in, alert events and help
//! requests.

mod enroll;
mod help;

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::routing::{get, post};
use axum::{Json, Router};
use bindery_shared::DeviceFacts;
use bindery_shared::protocol::{
    AlertAck, AlertBatch, CheckIn, CheckInReply, DeviceCredential, paths,
};

use super::{ApiFailure, read_json};
use crate::monitoring::{self, settings::MonitorSettings};
use crate::secrets::verify_secret;
use crate::state::Shared;
use crate::store::{DeviceAuth, facts_for_storage, now_ms};
use enroll::enroll;
use help::{help, help_close, help_list, help_status};

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
