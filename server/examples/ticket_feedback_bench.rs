//! Benchmark (not a test): ConnectWise telling Bindery about its tickets.
//!
//! - `callbacks [CLOSES] [RATE]`: the server runs in this process on 127.0.0.1 with its ticket
//!   callback registered in the sandbox. CLOSES alerts get their tickets; then a person closes
//!   them through the sandbox's API, RATE a second, and the time from each close to its alert
//!   reading "acknowledged" in Bindery is measured (the sandbox's signed callback, Bindery's
//!   verification, the check job's re-read, the store).
//! - `poll [TICKETS]`: TICKETS tickets open in ConnectWise and in Bindery's store (seeded
//!   directly), 1 % of them closed by a person; one poll is timed and its requests counted.
//!
//! cargo run --release -p bindery-server --example ticket_feedback_bench -- callbacks 500 50
//! cargo run --release -p bindery-server --example ticket_feedback_bench -- poll 10000
#![allow(clippy::unwrap_used, clippy::expect_used)] // a benchmark: failing loudly is the point

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bindery_server::ids::{AlertId, CompanyId, DeviceId};
use bindery_server::integration::{self, CloseRule};
use bindery_server::reconcile::{Engine, EngineConfig, queue};
use bindery_server::sealing::ServerKey;
use bindery_server::store::{AlertFilter, AlertState, NewDevice, Store, now_ms};
use bindery_server::testkit;
use bindery_shared::protocol::{AlertBatch, AlertEvent, AlertEventKind};
use serde_json::json;

struct Bench {
    sb: connectwise_sandbox::Running,
    store: Store,
    engine: Arc<Engine>,
    key: Arc<ServerKey>,
    _dir: tempfile::TempDir,
}

async fn bench() -> Bench {
    let g = testkit::ground().await;
    for setting in [
        bindery_server::reconcile::runner::LAST_FULL_SYNC,
        bindery_server::reconcile::runner::LAST_TICKET_POLL,
    ] {
        g.store
            .put_setting(setting, &now_ms().to_string())
            .await
            .unwrap();
    }
    let (engine, stop) = g.engine(EngineConfig {
        cw_requests_per_minute: 600_000,
        poll: Duration::from_millis(20),
        resync_every: Duration::from_secs(86_400),
        ..EngineConfig::default()
    });
    // The engine runs as long as the benchmark does.
    std::mem::forget(stop);
    let testkit::Ground {
        sb,
        store,
        key,
        dir,
    } = g;
    Bench {
        sb,
        store,
        engine,
        key,
        _dir: dir,
    }
}

async fn settled(store: &Store) {
    loop {
        let c = store.job_counts().await.unwrap();
        if c.queued == 0 && c.running == 0 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// One device in a policy linked to Acme, bound.
async fn device(b: &Bench) -> DeviceId {
    let policy = b.store.create_policy("Bench").await.unwrap();
    let facts = json!({ "name": "bench-01", "deviceIdentifier": "agent-bench" }).to_string();
    let d = b
        .store
        .enroll_device(&NewDevice {
            agent_id: "agent-bench",
            serial: None,
            mac: None,
            name: None,
            policy_id: policy.id,
            facts_json: &facts,
            facts_hash: "x",
            agent_version: "bench",
            secret_hash: "x",
            proven: false,
            auto_approve_silent_ms: None,
        })
        .await
        .unwrap()
        .device()
        .id;
    b.store
        .link_policy(policy.id, Some((CompanyId(2), "Acme")))
        .await
        .unwrap();
    queue::policy_linked(&b.store, policy.id).await.unwrap();
    b.engine.wake();
    settled(&b.store).await;
    d
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1]
}

async fn callbacks(closes: usize, rate: u64) {
    let b = bench().await;
    let mut rules = integration::choices(&b.store, bindery_server::ids::IntegrationId::FIRST)
        .await
        .unwrap()
        .unwrap()
        .tickets;
    rules.max_open_alerts = closes as u32 + 1;
    integration::save_ticket_rules(
        &b.store,
        bindery_server::ids::IntegrationId::FIRST,
        rules,
        CloseRule::Untouched,
        CloseRule::Untouched,
    )
    .await
    .unwrap();
    let (state, _) = testkit::serve_engine(&b.store, &b.key, &b.engine).await;
    let owner = bindery_server::access::Actor::command_line();
    assert!(
        state
            .ops(&owner)
            .register_callbacks(bindery_server::ids::IntegrationId::FIRST)
            .await
            .registered
    );
    let d = device(&b).await;
    let events: Vec<AlertEvent> = (0..closes)
        .map(|n| AlertEvent {
            seq: n as u64 + 1,
            monitor_id: "disk-free".into(),
            subject: Some(format!("/m{n}")),
            kind: AlertEventKind::Raised,
            at_ms: now_ms() as u64,
            summary: format!("Disk /m{n} nearly full"),
            detail: None,
            value: Some(3.0),
        })
        .collect();
    for chunk in events.chunks(500) {
        bindery_server::monitoring::take_alert_batch(
            &b.store,
            d,
            &AlertBatch {
                events: chunk.to_vec(),
            },
        )
        .await
        .unwrap();
    }
    b.engine.wake();
    settled(&b.store).await;
    let (alerts, _) = b
        .store
        .alerts(&AlertFilter {
            limit: 500,
            ..AlertFilter::default()
        })
        .await
        .unwrap();
    let mut alerts = alerts;
    if closes > 500 {
        let (more, _) = b
            .store
            .alerts(&AlertFilter {
                limit: 500,
                offset: 500,
                ..AlertFilter::default()
            })
            .await
            .unwrap();
        alerts.extend(more);
    }
    let targets: Vec<(AlertId, i64)> = alerts
        .iter()
        .map(|a| (a.id, a.ticket.as_ref().unwrap().number.unwrap()))
        .collect();
    println!(
        "{} tickets open; closing them as a person, {rate} a second",
        targets.len()
    );
    let http = reqwest::Client::new();
    let site = b.sb.url();
    let mut sent: HashMap<AlertId, Instant> = HashMap::new();
    let mut seen: HashMap<AlertId, Duration> = HashMap::new();
    let gap = Duration::from_secs_f64(1.0 / rate as f64);
    let started = Instant::now();
    let mut next = 0usize;
    while seen.len() < targets.len() {
        while next < targets.len() && started.elapsed() >= gap * next as u32 {
            let (alert, cw) = targets[next];
            let http = http.clone();
            let url = format!("{site}/v4_6_release/apis/3.0/service/tickets/{cw}");
            sent.insert(alert, Instant::now());
            tokio::spawn(async move {
                http.patch(url)
                    .basic_auth("bindery+tech-public", Some("tech-private"))
                    .header("clientId", "bench")
                    .header("content-type", "application/json")
                    .body(r#"[{"op":"replace","path":"status","value":{"id":2}}]"#)
                    .send()
                    .await
                    .unwrap();
            });
            next += 1;
        }
        let (acked, _) = b
            .store
            .alerts(&AlertFilter {
                state: Some(AlertState::Acknowledged),
                limit: 500,
                ..AlertFilter::default()
            })
            .await
            .unwrap();
        for a in acked {
            if let (Some(t0), false) = (sent.get(&a.id), seen.contains_key(&a.id)) {
                seen.insert(a.id, t0.elapsed());
            }
        }
        assert!(
            started.elapsed() < Duration::from_secs(300),
            "not all acknowledged"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let mut times: Vec<Duration> = seen.into_values().collect();
    times.sort();
    println!(
        "{} closes at {rate}/s: close -> acknowledged p50 {:.0} ms, p99 {:.0} ms, max {:.0} ms",
        times.len(),
        percentile(&times, 0.5).as_secs_f64() * 1000.0,
        percentile(&times, 0.99).as_secs_f64() * 1000.0,
        times.last().unwrap().as_secs_f64() * 1000.0
    );
}

async fn poll(tickets: usize) {
    let b = bench().await;
    let now = now_ms();
    {
        let mut data = b.sb.sandbox.data();
        for n in 0..tickets {
            let closed = n % 100 == 0;
            data.tickets.insert(json!({
                "id": n as i64 + 1, "summary": format!("Ticket {n}"), "company": { "id": 2 },
                "board": { "id": 1, "name": "Monitoring" },
                "status": { "id": if closed { 2 } else { 1 } }, "closedFlag": closed,
                "_info": { "enteredBy": "BinderyAPI", "updatedBy": if closed { "jtech" } else { "BinderyAPI" } },
            }));
        }
    }
    let mut tx = b.store.pool().begin().await.unwrap();
    for n in 0..tickets {
        sqlx::query(
            "INSERT INTO tickets (board, company_id, summary, description, state, cw_ticket_id, created_ms, updated_ms) \
             VALUES ('monitoring', 2, $1, '', 'open', $2, $3, $3)",
        )
        .bind(format!("Ticket {n}"))
        .bind(n as i64 + 1)
        .bind(now)
        .execute(&mut *tx)
        .await
        .unwrap();
    }
    tx.commit().await.unwrap();
    b.sb.sandbox.clear_requests();
    let started = Instant::now();
    b.store
        .enqueue(&queue::poll_tickets_job(
            bindery_server::ids::IntegrationId::FIRST,
        ))
        .await
        .unwrap();
    b.engine.wake();
    settled(&b.store).await;
    let took = started.elapsed();
    let log = b.sb.sandbox.requests();
    let requests = log.len();
    let searches = log
        .iter()
        .filter(|r| r.path.ends_with("/service/tickets/search"))
        .count();
    let others: Vec<&str> = log
        .iter()
        .filter(|r| !r.path.ends_with("/service/tickets/search"))
        .map(|r| r.path.as_str())
        .collect();
    let closed = b
        .store
        .ticket_counts()
        .await
        .unwrap()
        .into_iter()
        .find(|(s, _)| s == "closed")
        .map_or(0, |(_, n)| n);
    println!(
        "poll of {tickets} open tickets: {requests} requests ({searches} searches; others: \
         {others:?}), {:.0} ms, {closed} found closed by a person",
        took.as_secs_f64() * 1000.0
    );
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let n = |i: usize, default: u64| {
        args.get(i)
            .and_then(|a| a.parse::<u64>().ok())
            .unwrap_or(default)
    };
    match args.first().map(String::as_str) {
        Some("poll") => poll(n(1, 10_000) as usize).await,
        _ => callbacks(n(1, 500) as usize, n(2, 50)).await,
    }
}
