//! Benchmark (not a test): alert-to-ticket latency. The server runs in this process on
//! 127.0.0.1 (SQLite, the real agent API over HTTP, the job engine); DEVICES enrolled and bound
//! devices each send one "raised" event, RATE a second, and the time from sending the event to
//! its ticket appearing in the ConnectWise sandbox (50 ms a request) is measured. A ticket is
//! created by two ConnectWise requests (the ticket, then its configuration); the latency is to
//! the first.
//!
//! Then each alert is resolved and its ticket closed, and the database's growth per alert (its
//! whole life) is printed by table.
//!
//! cargo run --release -p bindery-server --example alert_bench -- [ALERTS] [RATE] [LATENCY_MS] [RPM] [WORKERS]
#![allow(clippy::unwrap_used, clippy::expect_used)] // a benchmark: failing loudly is the point

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bindery_server::reconcile::{EngineConfig, queue};
use bindery_server::settings::Settings;
use bindery_server::state::AgentSettings;
use bindery_server::store::Store;
use bindery_server::testkit;
use connectwise_sandbox::Faults;
use serde_json::json;

const ACME: bindery_server::ids::CompanyId = bindery_server::ids::CompanyId(2);

#[tokio::main]
async fn main() {
    let args: Vec<u64> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let alerts = args.first().copied().unwrap_or(1000) as usize;
    let rate = args.get(1).copied().unwrap_or(100).max(1);
    let latency_ms = args.get(2).copied().unwrap_or(50);
    let rpm = args.get(3).copied().unwrap_or(60_000) as u32;
    let workers = args.get(4).copied().unwrap_or(16) as usize;

    let g = testkit::ground().await;
    let (sb, store) = (&g.sb, &g.store);
    let policy = store.create_policy("Bench").await.unwrap();
    let (_, token) = store
        .create_token(policy.id, "bench", None, None)
        .await
        .unwrap();
    let settings = Settings {
        engine: EngineConfig {
            workers,
            cw_requests_per_minute: rpm,
            cw_concurrency: workers,
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

    // Enroll and bind the devices with no sandbox latency: only the alerts are measured.
    let http = reqwest::Client::new();
    let mut credentials = Vec::new();
    for n in 0..alerts {
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
    while (store.policy_bindings(policy.id).await.unwrap().bound as usize) < alerts {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    eprintln!("{alerts} devices enrolled and bound");

    sb.sandbox.set_faults(Faults {
        latency_ms,
        ..Faults::default()
    });
    // Watches the sandbox for tickets every 2 ms: ticket summary → when first seen.
    let seen: Arc<std::sync::Mutex<HashMap<String, Instant>>> = Arc::default();
    let watcher = {
        let seen = seen.clone();
        let sandbox = sb.sandbox.clone();
        tokio::spawn(async move {
            loop {
                let now = Instant::now();
                let summaries: Vec<String> = {
                    let data = sandbox.data();
                    data.tickets
                        .values()
                        .filter_map(|t| t["summary"].as_str().map(str::to_owned))
                        .collect()
                };
                {
                    let mut first_seen = seen.lock().unwrap();
                    for s in summaries {
                        first_seen.entry(s).or_insert(now);
                    }
                }
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
        })
    };

    let before = table_bytes(store).await;
    let started = Instant::now();
    let mut sent_at = vec![started; alerts];
    let mut senders = tokio::task::JoinSet::new();
    for (n, cred) in credentials.iter().enumerate() {
        let due = started + Duration::from_secs_f64(n as f64 / rate as f64);
        tokio::time::sleep_until(due.into()).await;
        sent_at[n] = Instant::now();
        let body = json!({"events": [{"seq": 1, "monitorId": "disk-free", "subject": "C:", "kind": "raised",
            "atMs": bindery_server::store::now_ms(), "summary": "Disk C: has 4.0% free", "value": 4.0}]});
        let (http, url, cred) = (http.clone(), url.clone(), cred.clone());
        senders.spawn(async move { send_events(&http, &url, &cred, &body).await });
    }
    while senders.join_next().await.is_some() {}
    let send_time = started.elapsed();
    let deadline = Instant::now() + Duration::from_secs(600);
    while seen.lock().unwrap().len() < alerts && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    watcher.abort();
    let seen = seen.lock().unwrap().clone();
    let mut latencies: Vec<f64> = (0..alerts)
        .filter_map(|n| {
            let summary = format!("Disk C: has 4.0% free on ws-{n:05}");
            seen.get(&summary)
                .map(|t| t.duration_since(sent_at[n]).as_secs_f64() * 1000.0)
        })
        .collect();
    latencies.sort_by(f64::total_cmp);
    let pct = |p: f64| {
        latencies[((latencies.len() as f64 * p).ceil() as usize).clamp(1, latencies.len()) - 1]
    };
    println!(
        "alerts {alerts} at {rate}/s (sent in {:.1} s), sandbox latency {latency_ms} ms, limit {rpm}/min, workers {workers}",
        send_time.as_secs_f64()
    );
    println!(
        "tickets created {} of {alerts}; event → ticket: p50 {:.0} ms, p90 {:.0} ms, p99 {:.0} ms, max {:.0} ms",
        latencies.len(),
        pct(0.50),
        pct(0.90),
        pct(0.99),
        latencies.last().copied().unwrap_or(0.0)
    );

    // The rest of each alert's life, for what it stores: resolved, and its ticket closed.
    for cred in &credentials {
        let body = json!({"events": [{"seq": 2, "monitorId": "disk-free", "subject": "C:", "kind": "resolved",
            "atMs": bindery_server::store::now_ms(), "summary": "Disk C: has 30.0% free", "value": 30.0}]});
        send_events(&http, &url, cred, &body).await;
    }
    let closed = || {
        sb.sandbox
            .data()
            .tickets
            .values()
            .filter(|t| t["status"]["name"] == "Closed")
            .count()
    };
    let deadline = Instant::now() + Duration::from_secs(600);
    while closed() < alerts && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(closed(), alerts, "every ticket closed");
    let after = table_bytes(store).await;
    let per_alert = |table: &str| {
        (after.get(table).copied().unwrap_or(0) - before.get(table).copied().unwrap_or(0)) as f64
            / alerts as f64
    };
    let all: f64 = after.keys().map(|t| per_alert(t)).sum();
    println!(
        "storage per alert (raised, ticket opened, resolved, ticket closed), SQLite pages with \
         indexes: {all:.0} bytes in all: alerts {:.0}, tickets {:.0}, activity {:.0}, jobs {:.0}",
        per_alert("alerts"),
        per_alert("tickets"),
        per_alert("activity"),
        per_alert("jobs"),
    );
}

/// Sends one device's alert events to the agent API, as its agent would.
async fn send_events(
    http: &reqwest::Client,
    url: &str,
    credential: &str,
    body: &serde_json::Value,
) {
    let r = http
        .post(format!("{url}/api/agent/v1/alerts"))
        .header("content-type", "application/json")
        .header("authorization", credential)
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}

/// Each table's bytes with its indexes (SQLite's `dbstat`: every page of every b-tree).
async fn table_bytes(store: &Store) -> std::collections::BTreeMap<String, i64> {
    sqlx::query_as::<_, (String, i64)>(
        "SELECT m.tbl_name, SUM(d.pgsize) FROM dbstat d JOIN sqlite_master m ON m.name = d.name \
         GROUP BY m.tbl_name",
    )
    .fetch_all(store.pool())
    .await
    .unwrap()
    .into_iter()
    .collect()
}
