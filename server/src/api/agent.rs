//! The agent API, version 1 (docs/protocol.md): enrollment and check-in.

use axum::body::Body;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::routing::post;
use axum::{Json, Router};
use bindery_shared::protocol::{
    CheckIn, CheckInReply, DeviceCredential, EnrollRequest, EnrollResponse, paths,
};
use bindery_shared::{DeviceFacts, FactField};

use super::{ApiFailure, read_json};
use crate::app::Shared;
use crate::secrets::{hash_secret, random_secret, verify_secret};
use crate::store::{DeviceAuth, NewDevice, now_ms};

pub fn router() -> Router<Shared> {
    Router::new()
        .route(paths::ENROLL, post(enroll))
        .route(paths::CHECKIN, post(checkin))
}

/// The facts as the server keeps them: normalised, with the authenticated agent id as the
/// device identifier whatever the body said, and their hash.
fn server_facts(facts: DeviceFacts, agent_id: &str) -> Result<(String, String), ApiFailure> {
    let mut facts = facts.normalized();
    facts.set(FactField::DeviceIdentifier, agent_id);
    let json = serde_json::to_string(&facts).map_err(|e| {
        ApiFailure::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            format!("cannot encode facts: {e}"),
        )
    })?;
    let hash = hash_secret(&json);
    Ok((json, hash))
}

async fn enroll(
    State(state): State<Shared>,
    ConnectInfo(peer): ConnectInfo<std::net::SocketAddr>,
    body: Body,
) -> Result<Json<EnrollResponse>, ApiFailure> {
    if let Err(wait) = state.enroll_limiter.check(peer.ip()) {
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
    let serial = req.facts.clone().normalized().serial_number;
    let (facts_json, facts_hash) = server_facts(req.facts, &req.agent_id)?;
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
            policy_id: token.policy_id,
            facts_json: &facts_json,
            facts_hash: &facts_hash,
            agent_version: &req.agent_version,
            secret_hash: &hash_secret(&secret),
        })
        .await?;
    let device = enrollment.device();
    tracing::info!(device = device.id, agent_id = %device.agent_id, policy = token.policy_id, "device enrolled");
    state.device_changed(device.id).await;
    Ok(Json(EnrollResponse {
        agent_id: device.agent_id.clone(),
        device_secret: secret,
        checkin_interval_secs: state.agents.checkin_interval_secs,
    }))
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
    let (facts_json, facts_hash) = server_facts(report.facts, &cred.agent_id)?;
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
    state.mark_seen(auth.id, now_ms());
    Ok(Json(CheckInReply {
        next_checkin_secs: state.agents.checkin_interval_secs,
        monitors: Vec::new(),
    }))
}
