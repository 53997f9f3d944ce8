//! Prometheus metrics and health, served on a listener of their own (`--metrics-listen`) so that
//! they are never exposed where agents and admins connect. `/metrics` is the text exposition
//! format; `/healthz` says the process runs, `/readyz` that its database answers.

use std::fmt::Write as _;
use std::sync::atomic::Ordering;

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;

use crate::state::Shared;

pub fn router(state: Shared) -> Router {
    Router::new()
        .route("/metrics", get(metrics))
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(ready))
        .with_state(state)
}

/// Ready when the database answers.
pub async fn ready(State(state): State<Shared>) -> impl IntoResponse {
    match state.store.ping().await {
        Ok(()) => (StatusCode::OK, "ready"),
        Err(e) => {
            tracing::warn!(error = %e, "not ready: the database does not answer");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                "the database does not answer",
            )
        }
    }
}

fn family(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
}

async fn metrics(State(state): State<Shared>) -> impl IntoResponse {
    let mut out = String::new();
    family(
        &mut out,
        "bindery_checkins_total",
        "counter",
        "Check-ins taken from agents.",
    );
    let _ = writeln!(out, "bindery_checkins_total {}", state.checkins());
    family(
        &mut out,
        "bindery_facts_writes_total",
        "counter",
        "Check-ins whose facts changed and were written.",
    );
    let _ = writeln!(out, "bindery_facts_writes_total {}", state.facts_writes());
    if let Ok(c) = state.store.job_counts().await {
        family(
            &mut out,
            "bindery_jobs",
            "gauge",
            "ConnectWise jobs by state.",
        );
        for (s, n) in [
            ("queued", c.queued),
            ("running", c.running),
            ("done", c.done),
            ("failed", c.failed),
        ] {
            let _ = writeln!(out, "bindery_jobs{{state=\"{s}\"}} {n}");
        }
    }
    if let Some(engine) = &state.engine {
        let s = &engine.stats;
        family(
            &mut out,
            "bindery_job_attempts_total",
            "counter",
            "Job attempts by outcome, since this process started.",
        );
        for (o, n) in [
            ("done", s.jobs_done.load(Ordering::Relaxed)),
            ("retried", s.jobs_retried.load(Ordering::Relaxed)),
            ("failed", s.jobs_failed.load(Ordering::Relaxed)),
        ] {
            let _ = writeln!(out, "bindery_job_attempts_total{{outcome=\"{o}\"}} {n}");
        }
        if let Some(stats) = engine.client_stats().await {
            family(
                &mut out,
                "bindery_connectwise_requests_total",
                "counter",
                "ConnectWise requests by HTTP status (0: no answer), since this process started.",
            );
            for (status, n) in stats.answers {
                let _ = writeln!(
                    out,
                    "bindery_connectwise_requests_total{{status=\"{status}\"}} {n}"
                );
            }
            family(
                &mut out,
                "bindery_connectwise_rate_limit_waits_total",
                "counter",
                "ConnectWise requests that waited for the rate limiter.",
            );
            let _ = writeln!(
                out,
                "bindery_connectwise_rate_limit_waits_total {}",
                stats.rate_limit_waits
            );
            family(
                &mut out,
                "bindery_connectwise_retry_after_pauses_total",
                "counter",
                "429s from ConnectWise whose Retry-After held back every request of the integration.",
            );
            let _ = writeln!(
                out,
                "bindery_connectwise_retry_after_pauses_total {}",
                stats.retry_after_pauses
            );
            family(
                &mut out,
                "bindery_connectwise_paused_requests_total",
                "counter",
                "ConnectWise requests that waited for a Retry-After pause to end.",
            );
            let _ = writeln!(
                out,
                "bindery_connectwise_paused_requests_total {}",
                stats.paused_requests
            );
        }
    }
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        out,
    )
}
