//! Benchmark (not a test): a maintenance window under load. The server runs in this process on
//! 127.0.0.1 (SQLite, the real agent API over HTTP, the job engine, the sandbox). DEVICES enrolled
//! and bound devices are in a policy whose one-off window is open now; each raises an alert and
//! resolves it, RATE events a second. The window then ends and the release sweep runs. Counted:
//! tickets and ConnectWise ticket requests (both must be 0), the intake latency of the events,
//! and the sweep's time.
//!
//! cargo run --release -p bindery-server --example maintenance_bench -- [DEVICES] [RATE]
#![allow(clippy::unwrap_used, clippy::expect_used)] // a benchmark: failing loudly is the point

use std::time::{Duration, Instant};

use bindery_server::monitoring::{held, maintenance};
use bindery_server::reconcile::{EngineConfig, queue};
use bindery_server::settings::Settings;
use bindery_server::state::AgentSettings;
use bindery_server::store::now_ms;
use bindery_server::testkit;
use serde_json::json;

const ACME: bindery_server::ids::CompanyId = bindery_server::ids::CompanyId(2);

fn civil(ms: i64) -> String {
    bindery_shared::time::utc_text(ms)
        .trim_end_matches(" UTC")
        .replace(' ', "T")
}

#[tokio::main]
async fn main() {
    let args: Vec<u64> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let devices = args.first().copied().unwrap_or(1000) as usize;
    let rate = args.get(1).copied().unwrap_or(200).max(1);

    let g = testkit::ground().await;
    let (sb, store) = (&g.sb, &g.store);
    let policy = store.create_policy("Bench").await.unwrap();
    let (_, token) = store
        .create_token(policy.id, "bench", None, None)
        .await
        .unwrap();
    let settings = Settings {
        engine: EngineConfig {
            workers: 16,
            cw_requests_per_minute: 60_000,
            poll: Duration::from_millis(100),
            resync_every: Duration::from_secs(86_400),
            ..EngineConfig::default()
        },
        web: AgentSettings {
            checkin_interval_secs: 60,
            enroll_per_minute: 1_000_000,
            ..AgentSettings::default()
        },
    };
    let (engine, _, url) = g.serve(&settings).await;

    let http = reqwest::Client::new();
    let mut credentials = Vec::new();
    for n in 0..devices {
        let body = json!({"token": token, "agentId": format!("bench-{n:05}"), "agentVersion": "bench",
            "facts": {"name": format!("ws-{n:05}"), "osType": "Windows", "osInfo": "Windows 11 Pro"}});
        let bytes = http
            .post(format!("{url}/api/agent/v1/enroll"))
            .header("content-type", "application/json")
            .body(body.to_string())
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap();
        let reply: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        credentials.push(format!(
            "Bearer {}.{}",
            reply["agentId"].as_str().unwrap(),
            reply["deviceSecret"].as_str().unwrap()
        ));
    }
    store
        .link_policy(policy.id, Some((ACME, "Acme Corporation")))
        .await
        .unwrap();
    queue::policy_linked(store, policy.id).await.unwrap();
    engine.wake();
    while (store.policy_bindings(policy.id).await.unwrap().bound as usize) < devices {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    eprintln!("{devices} devices enrolled and bound");

    // A window open now, ending once every event is in (plus a margin).
    let send_secs = (2 * devices) as f64 / rate as f64;
    let ends = now_ms() + (send_secs * 1000.0) as i64 + 5_000;
    let windows = maintenance::Maintenance {
        once: vec![maintenance::OneOff {
            start: civil(now_ms() - 60_000),
            end: civil(ends),
            note: Some("bench".into()),
        }],
        ..maintenance::Maintenance::default()
    };
    held::save(store, policy.id, &windows).await.unwrap();
    sb.sandbox.clear_requests();

    let started = Instant::now();
    let mut latencies = Vec::new();
    for (n, kind) in
        (0..2 * devices).map(|i| (i % devices, if i < devices { "raised" } else { "resolved" }))
    {
        let due = started + Duration::from_secs_f64(latencies.len() as f64 / rate as f64);
        tokio::time::sleep_until(due.into()).await;
        let seq = if kind == "raised" { 1 } else { 2 };
        let body = json!({"events": [{"seq": seq, "monitorId": "disk-free", "subject": "C:", "kind": kind,
            "atMs": now_ms(), "summary": "Disk C: has 4.0% free", "value": 4.0}]});
        let sent = Instant::now();
        let r = http
            .post(format!("{url}/api/agent/v1/alerts"))
            .header("content-type", "application/json")
            .header("authorization", &credentials[n])
            .body(body.to_string())
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        latencies.push(sent.elapsed().as_secs_f64() * 1000.0);
    }
    let sending = started.elapsed();
    let held_now = store.held_alert_count(policy.id).await.unwrap();
    tokio::time::sleep(Duration::from_millis((ends - now_ms()).max(0) as u64 + 100)).await;
    let sweep = Instant::now();
    let tickets_asked = held::release_due(store).await.unwrap();
    let sweep_time = sweep.elapsed();
    engine.wake();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let ticket_requests = sb
        .sandbox
        .requests()
        .iter()
        .filter(|r| r.path.contains("/service/"))
        .count();
    let tickets = sb.sandbox.data().tickets.values().count();
    latencies.sort_by(f64::total_cmp);
    let pct = |p: f64| {
        latencies[((latencies.len() as f64 * p).ceil() as usize).clamp(1, latencies.len()) - 1]
    };
    println!(
        "{devices} alerts raised and resolved inside a window ({} events in {:.1} s): held {held_now}, \
         intake p50 {:.1} ms, p99 {:.1} ms",
        latencies.len(),
        sending.as_secs_f64(),
        pct(0.5),
        pct(0.99)
    );
    println!(
        "window ended: release sweep {:.0} ms, tickets asked {tickets_asked}; tickets in ConnectWise {tickets}, \
         ConnectWise ticket requests {ticket_requests}",
        sweep_time.as_secs_f64() * 1000.0
    );
    assert_eq!((tickets_asked, tickets, ticket_requests), (0, 0, 0));
}
