//! Enrollment: a token and the machine's facts become a device with its own secret (or one
//! waiting for a person when it looks like a known machine without its proof).

use axum::Json;
use axum::body::Body;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode, header};
use bindery_shared::protocol::{DeviceCredential, EnrollRequest, EnrollResponse};

use super::server_facts;
use crate::api::{ApiFailure, read_json};
use crate::ids::PolicyId;
use crate::secrets::{hash_secret, random_secret, verify_secret};
use crate::state::Shared;
use crate::store::{Enrollment, NewDevice, now_ms};

pub(super) async fn enroll(
    State(state): State<Shared>,
    ConnectInfo(peer): ConnectInfo<std::net::SocketAddr>,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<EnrollResponse>, ApiFailure> {
    check_enroll_limit(&state, peer, &headers)?;
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
    let new = Unsaved {
        agent_id: &req.agent_id,
        agent_version: &req.agent_version,
        serial: serial.as_deref(),
        mac: mac.as_deref(),
        name: name.as_deref(),
        facts_json: &facts_json,
        facts_hash: &facts_hash,
    };
    let enrolled = store_enrollment(&state, token.policy_id, new, proven).await;
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

/// The enrollment limit per client address: a 429 with `Retry-After` once it is spent.
fn check_enroll_limit(
    state: &Shared,
    peer: std::net::SocketAddr,
    headers: &HeaderMap,
) -> Result<(), ApiFailure> {
    state
        .enroll_limiter
        .check(state.client_key(peer, headers))
        .map_err(|wait| {
            let mut f = ApiFailure::new(
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limited",
                "too many enrollment attempts from this address; try again later",
            );
            f.retry_after = Some(wait);
            f
        })
}

/// What the request says about the machine, cleaned, before it is stored.
struct Unsaved<'a> {
    agent_id: &'a str,
    agent_version: &'a str,
    serial: Option<&'a str>,
    mac: Option<&'a str>,
    name: Option<&'a str>,
    facts_json: &'a str,
    facts_hash: &'a str,
}

/// Makes the device's secret and stores the enrollment (a new device, the same one again, or
/// one waiting for a person).
async fn store_enrollment(
    state: &Shared,
    policy_id: PolicyId,
    new: Unsaved<'_>,
    proven: bool,
) -> Result<(Enrollment, String), ApiFailure> {
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
            agent_id: new.agent_id,
            serial: new.serial,
            mac: new.mac,
            name: new.name,
            policy_id,
            facts_json: new.facts_json,
            facts_hash: new.facts_hash,
            agent_version: new.agent_version,
            secret_hash: &hash_secret(&secret),
            proven,
            auto_approve_silent_ms: crate::ops::identity::auto_approve_silent_ms(&state.store)
                .await?,
        })
        .await?;
    Ok((enrollment, secret))
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
