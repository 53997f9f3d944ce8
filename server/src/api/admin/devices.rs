//! Devices: list (with facts, last seen, policy and binding), move between policies, retire.

use std::collections::HashMap;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AdminAuth;
use super::document::DevicePath;
use crate::api::{ApiFailure, read_json};
use crate::state::Shared;

use crate::ids::{CompanyId, ConfigurationId, DeviceId, PolicyId};
use crate::ops::identity::{self, ReinstallAnswer};
use crate::reconcile::plan::PersonChoice;
use crate::store::{Device, DeviceFilter, DeviceTarget};

pub fn router() -> OpenApiRouter<Shared> {
    OpenApiRouter::new()
        .routes(routes!(list))
        .routes(routes!(one))
        .routes(routes!(move_device))
        .routes(routes!(retire))
        .routes(routes!(choose_configuration))
        .routes(routes!(answer_reinstall))
        .routes(routes!(identity_settings, save_identity_settings))
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DeviceView {
    pub id: DeviceId,
    pub agent_id: String,
    pub policy_id: Option<PolicyId>,
    pub facts: bindery_shared::DeviceFacts,
    pub agent_version: String,
    pub enrolled_ms: i64,
    pub last_seen_ms: i64,
    pub retired: bool,
    pub binding: BindingView,
    /// Alert events the agent had to drop from its full spool while the server was unreachable.
    pub alert_events_dropped: i64,
    /// The device this one may be a reinstall of: it waits for an admin's answer.
    pub reinstall_of: Option<DeviceId>,
    /// The device an admin merged this one into (this record is retired).
    pub merged_into: Option<DeviceId>,
    /// Its MAC is another live device's too (a dock, a USB adapter, a cloned VM): still
    /// written to its configuration, never used to match a configuration or a reinstall.
    pub mac_shared: bool,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BindingView {
    /// `pending`, `bound`, `failed`, `inactive`, `needs_person`; `none` for a device never
    /// bound.
    pub state: &'static str,
    pub company_id: Option<CompanyId>,
    pub configuration_id: Option<ConfigurationId>,
    /// ConnectWise's error, as it gave it; for `needs_person`, why.
    pub error: Option<String>,
    /// For `needs_person`: the configurations the device could be.
    pub candidates: Vec<ConfigurationId>,
    /// An admin's choice of configuration: `auto` (Bindery decides), `adopt` (with its id) or
    /// `createNew`.
    pub choice: PersonChoice,
}

/// One device's view, from its record and its binding target (one read for the target).
pub async fn view(state: &Shared, d: Device) -> Result<DeviceView, ApiFailure> {
    let target = state.store.device_target(d.id).await?;
    Ok(view_with(d, target.as_ref()))
}

fn view_with(d: Device, target: Option<&DeviceTarget>) -> DeviceView {
    let choice = target.map(|t| t.choice).unwrap_or_default();
    let binding = match target.and_then(|t| t.binding.clone()) {
        Some(b) => BindingView {
            state: b.state.as_str(),
            company_id: b.company_id,
            configuration_id: b.configuration_id,
            error: b.error,
            candidates: b.candidates,
            choice,
        },
        None => BindingView {
            state: if target.and_then(|t| t.company_id).is_some() {
                "pending"
            } else {
                "none"
            },
            company_id: None,
            configuration_id: None,
            error: None,
            candidates: Vec::new(),
            choice,
        },
    };
    DeviceView {
        id: d.id,
        agent_id: d.agent_id,
        policy_id: d.policy_id,
        facts: d.facts,
        agent_version: d.agent_version,
        enrolled_ms: d.enrolled_ms,
        last_seen_ms: d.last_seen_ms,
        retired: d.retired_ms.is_some(),
        binding,
        alert_events_dropped: d.alert_events_dropped,
        reinstall_of: d.reinstall_of,
        merged_into: d.merged_into,
        mac_shared: target.is_some_and(|t| t.mac_shared),
    }
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct Filter {
    /// Only the devices of this policy.
    policy: Option<PolicyId>,
    /// Looked for, without case, in the name, serial, MAC, IP, user, OS and agent id.
    #[serde(default)]
    #[param(max_length = 100)]
    q: String,
    /// A binding state (`pending`, `bound`, `failed`, `needs_person`, `inactive`, `none`).
    state: Option<String>,
    /// At most this many (1-1000, default 1000), from `offset`; `X-Total-Count` says how many
    /// match in all.
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<i64>,
    /// Skip this many (paging).
    #[serde(default)]
    #[param(minimum = 0)]
    offset: i64,
    /// Only devices with a larger id: walking the whole fleet, each page (after the last id of
    /// the one before) costs what the first does.
    after: Option<DeviceId>,
}

/// Devices, filtered and paged by the database (retired ones too, marked).
#[utoipa::path(
    get,
    path = "/devices",
    params(Filter),
    responses((status = 200, body = Vec<DeviceView>, headers(("x-total-count" = i64, description = "How many devices match in all"))))
)]
async fn list(
    State(state): State<Shared>,
    _: AdminAuth,
    Query(filter): Query<Filter>,
) -> Result<Response, ApiFailure> {
    if filter.q.chars().count() > 100 {
        return Err(ApiFailure::invalid_body(
            "search for at most 100 characters",
            Some("q".into()),
        ));
    }
    // Filtered and paged by the database; then the page's bindings in one more query.
    let (page, total) = state
        .store
        .device_page(&DeviceFilter {
            q: filter.q,
            policy: filter.policy,
            state: filter.state.filter(|s| !s.is_empty()),
            retired_too: true,
            limit: filter.limit.unwrap_or(1000),
            offset: filter.offset,
            after: filter.after,
        })
        .await?;
    let ids: Vec<DeviceId> = page.iter().map(|r| r.device.id).collect();
    let targets: HashMap<DeviceId, DeviceTarget> = state
        .store
        .targets_of(&ids)
        .await?
        .into_iter()
        .map(|t| (t.device_id, t))
        .collect();
    let views: Vec<DeviceView> = page
        .into_iter()
        .map(|r| {
            let t = targets.get(&r.device.id);
            view_with(r.device, t)
        })
        .collect();
    Ok(([("x-total-count", total.to_string())], Json(views)).into_response())
}

/// One device.
#[utoipa::path(
    get,
    path = "/devices/{id}",
    params(DevicePath),
    responses((status = 200, body = DeviceView))
)]
async fn one(
    State(state): State<Shared>,
    _: AdminAuth,
    Path(id): Path<DeviceId>,
) -> Result<Json<DeviceView>, ApiFailure> {
    let d = state.store.device(id).await?;
    Ok(Json(view(&state, d).await?))
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct MoveBody {
    /// The new policy; `null` takes the device out of every policy.
    policy_id: Option<PolicyId>,
}

/// Moves a device to another policy (or none): bound in the new company, deactivated in the
/// old.
#[utoipa::path(
    post,
    path = "/devices/{id}/move",
    params(DevicePath),
    request_body = MoveBody,
    responses((status = 200, body = DeviceView))
)]
async fn move_device(
    State(state): State<Shared>,
    auth: AdminAuth,
    Path(id): Path<DeviceId>,
    body: axum::body::Body,
) -> Result<Json<DeviceView>, ApiFailure> {
    let req: MoveBody = read_json(body).await?;
    let d = state
        .ops(&auth.actor)
        .move_device(id, req.policy_id)
        .await?;
    Ok(Json(view(&state, d).await?))
}

/// Retires a device: it can no longer report; its configuration is deactivated.
#[utoipa::path(
    post,
    path = "/devices/{id}/retire",
    params(DevicePath),
    responses((status = 200, body = DeviceView))
)]
async fn retire(
    State(state): State<Shared>,
    auth: AdminAuth,
    Path(id): Path<DeviceId>,
) -> Result<Json<DeviceView>, ApiFailure> {
    let d = state.ops(&auth.actor).retire_device(id).await?;
    Ok(Json(view(&state, d).await?))
}

/// Which configuration the device is: `{"kind": "adopt", "configurationId": N}` (any
/// configuration of its company no other device owns; a bound device is re-pointed),
/// `{"kind": "createNew"}`, or `{"kind": "auto"}` to let Bindery decide again.
#[utoipa::path(
    post,
    path = "/devices/{id}/configuration",
    params(DevicePath),
    request_body = PersonChoice,
    responses((status = 200, body = DeviceView))
)]
async fn choose_configuration(
    State(state): State<Shared>,
    auth: AdminAuth,
    Path(id): Path<DeviceId>,
    body: axum::body::Body,
) -> Result<Json<DeviceView>, ApiFailure> {
    let choice: PersonChoice = read_json(body).await?;
    let d = state
        .ops(&auth.actor)
        .choose_configuration(id, choice)
        .await?;
    Ok(Json(view(&state, d).await?))
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ReinstallBody {
    answer: ReinstallAnswer,
}

/// An admin's answer for a possible reinstall: `sameMachine` merges it into the device it may
/// be (that device is returned), `keepSeparate` makes it a device of its own.
#[utoipa::path(
    post,
    path = "/devices/{id}/reinstall",
    params(DevicePath),
    request_body = ReinstallBody,
    responses((status = 200, body = DeviceView))
)]
async fn answer_reinstall(
    State(state): State<Shared>,
    auth: AdminAuth,
    Path(id): Path<DeviceId>,
    body: axum::body::Body,
) -> Result<Json<DeviceView>, ApiFailure> {
    let req: ReinstallBody = read_json(body).await?;
    let d = state
        .ops(&auth.actor)
        .answer_reinstall(id, req.answer)
        .await?;
    Ok(Json(view(&state, d).await?))
}

#[derive(Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct IdentitySettings {
    /// Days a device must be silent before a machine with its serial or MAC, enrolling with a
    /// token of its policy, takes its record back without an admin; `null`: never.
    auto_approve_silent_days: Option<u32>,
}

/// The identity settings.
#[utoipa::path(
    get,
    path = "/identity",
    responses((status = 200, body = IdentitySettings))
)]
async fn identity_settings(
    State(state): State<Shared>,
    _: AdminAuth,
) -> Result<Json<IdentitySettings>, ApiFailure> {
    let days = identity::auto_approve_days(&state.store).await?;
    Ok(Json(IdentitySettings {
        auto_approve_silent_days: days.and_then(|d| u32::try_from(d).ok()),
    }))
}

/// Sets the identity settings.
#[utoipa::path(
    put,
    path = "/identity",
    request_body = IdentitySettings,
    responses((status = 200, body = IdentitySettings))
)]
async fn save_identity_settings(
    State(state): State<Shared>,
    auth: AdminAuth,
    body: axum::body::Body,
) -> Result<Json<IdentitySettings>, ApiFailure> {
    let req: IdentitySettings = read_json(body).await?;
    state
        .ops(&auth.actor)
        .set_auto_approve_days(req.auto_approve_silent_days)
        .await?;
    Ok(Json(req))
}
