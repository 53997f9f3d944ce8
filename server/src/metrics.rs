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

/// One metric family: its help, its type, and each sample (`label` like `state="queued"`, or
/// empty for the family's one sample).
fn family(out: &mut String, name: &str, kind: &str, help: &str, samples: &[(String, u64)]) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
    for (label, value) in samples {
        if label.is_empty() {
            let _ = writeln!(out, "{name} {value}");
        } else {
            let _ = writeln!(out, "{name}{{{label}}} {value}");
        }
    }
}

/// Samples labelled `key="value"`.
fn labelled<V: Into<u64>>(
    key: &str,
    pairs: impl IntoIterator<Item = (String, V)>,
) -> Vec<(String, u64)> {
    pairs
        .into_iter()
        .map(|(v, n)| (format!("{key}=\"{v}\""), n.into()))
        .collect()
}

fn one(n: u64) -> Vec<(String, u64)> {
    vec![(String::new(), n)]
}

async fn metrics(State(state): State<Shared>) -> impl IntoResponse {
    let mut out = String::new();
    let o = &mut out;
    family(
        o,
        "bindery_checkins_total",
        "counter",
        "Check-ins taken from agents.",
        &one(state.checkins()),
    );
    family(
        o,
        "bindery_facts_writes_total",
        "counter",
        "Check-ins whose facts changed and were written.",
        &one(state.facts_writes()),
    );
    if let Ok(c) = state.store.job_counts().await {
        let by_state = [
            ("queued", c.queued),
            ("running", c.running),
            ("done", c.done),
            ("failed", c.failed),
        ]
        .map(|(s, n)| (s.to_owned(), n.max(0) as u64));
        family(
            o,
            "bindery_jobs",
            "gauge",
            "ConnectWise jobs by state.",
            &labelled("state", by_state),
        );
    }
    if let Some(engine) = &state.engine {
        engine_metrics(o, engine).await;
    }
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        out,
    )
}

/// The job runner's and the ConnectWise client's counters, since this process started.
async fn engine_metrics(o: &mut String, engine: &crate::reconcile::Engine) {
    let s = &engine.stats;
    let outcomes = [
        ("done", s.jobs_done.load(Ordering::Relaxed)),
        ("retried", s.jobs_retried.load(Ordering::Relaxed)),
        ("failed", s.jobs_failed.load(Ordering::Relaxed)),
    ]
    .map(|(k, n)| (k.to_owned(), n));
    family(
        o,
        "bindery_job_attempts_total",
        "counter",
        "Job attempts by outcome, since this process started.",
        &labelled("outcome", outcomes),
    );
    if let Some(stats) = engine.client_stats().await {
        let answers = stats
            .answers
            .into_iter()
            .map(|(status, n)| (status.to_string(), n));
        family(
            o,
            "bindery_connectwise_requests_total",
            "counter",
            "ConnectWise requests by HTTP status (0: no answer), since this process started.",
            &labelled("status", answers),
        );
        family(
            o,
            "bindery_connectwise_rate_limit_waits_total",
            "counter",
            "ConnectWise requests that waited for the rate limiter.",
            &one(stats.rate_limit_waits),
        );
        family(
            o,
            "bindery_connectwise_retry_after_pauses_total",
            "counter",
            "429s from ConnectWise whose Retry-After held back every request of the integration.",
            &one(stats.retry_after_pauses),
        );
        family(
            o,
            "bindery_connectwise_paused_requests_total",
            "counter",
            "ConnectWise requests that waited for a Retry-After pause to end.",
            &one(stats.paused_requests),
        );
    }
}
