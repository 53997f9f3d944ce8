//! `/_sandbox/…`: what tests and the demo use to look inside and to inject faults. Not part of
//! ConnectWise's API; it needs no credentials (the sandbox listens on loopback).

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::Value;

use crate::{Faults, LoggedRequest, Sandbox};

pub fn router() -> Router<Arc<Sandbox>> {
    Router::new()
        .route("/_sandbox/state", get(state))
        .route("/_sandbox/requests", get(requests).delete(clear_requests))
        .route("/_sandbox/faults", get(get_faults).put(put_faults))
        .route("/_sandbox/reset", post(reset))
        .route("/_sandbox/callbacks/sent", get(callbacks_sent))
}

async fn state(State(sb): State<Arc<Sandbox>>) -> Json<Value> {
    Json(serde_json::to_value(&*sb.data()).unwrap_or_default())
}

async fn requests(State(sb): State<Arc<Sandbox>>) -> Json<Vec<LoggedRequest>> {
    Json(sb.requests())
}

async fn clear_requests(State(sb): State<Arc<Sandbox>>) -> StatusCode {
    sb.clear_requests();
    StatusCode::NO_CONTENT
}

async fn get_faults(State(sb): State<Arc<Sandbox>>) -> Json<Faults> {
    Json(sb.faults())
}

async fn put_faults(State(sb): State<Arc<Sandbox>>, Json(faults): Json<Faults>) -> Json<Faults> {
    sb.set_faults(faults);
    Json(sb.faults())
}

async fn reset(State(sb): State<Arc<Sandbox>>) -> StatusCode {
    sb.reset();
    StatusCode::NO_CONTENT
}

async fn callbacks_sent(State(sb): State<Arc<Sandbox>>) -> Json<Vec<crate::callbacks::Sent>> {
    Json(sb.callbacks_sent())
}
