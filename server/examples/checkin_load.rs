//! Benchmark (not a test): check-ins per second one server sustains with SQLite, for unchanged
//! and for changed facts, with latency percentiles. The server runs in this process on
//! 127.0.0.1 with real HTTP; the load comes from the same machine.
//!
//! cargo run --release -p bindery-server --example checkin_load -- [AGENTS] [SECONDS] [CONCURRENCY]
#![allow(clippy::unwrap_used, clippy::expect_used)] // a benchmark: failing loudly is the point

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use bindery_server::app;
use bindery_server::state::{AgentSettings, AppState};
use bindery_server::store::Store;
use serde_json::json;

#[tokio::main]
async fn main() {
    let args: Vec<u64> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let agents = args.first().copied().unwrap_or(500) as usize;
    let seconds = args.get(1).copied().unwrap_or(10);
    let concurrency = args.get(2).copied().unwrap_or(32) as usize;

    let dir = tempfile::tempdir().unwrap();
    let store = Store::open_in_dir(dir.path()).await.unwrap();
    let policy = store.create_policy("Load").await.unwrap();
    let (_, token) = store
        .create_token(policy.id, "load", None, None)
        .await
        .unwrap();
    let settings = AgentSettings {
        checkin_interval_secs: 60,
        enroll_per_minute: u32::MAX,
        ..AgentSettings::default()
    };
    let state = AppState::new(store, settings);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}/api/agent/v1", listener.local_addr().unwrap());
    tokio::spawn(app::launch(state.clone(), listener, std::future::pending()));

    let _ = rustls::crypto::ring::default_provider().install_default();
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(concurrency)
        .build()
        .unwrap();
    let mut credentials = Vec::with_capacity(agents);
    for i in 0..agents {
        let body = json!({"token": token, "agentId": format!("load-{i}"), "agentVersion": "0.1.0", "facts": facts(i, 0)});
        let reply: serde_json::Value = serde_json::from_str(
            &http
                .post(format!("{base}/enroll"))
                .header("content-type", "application/json")
                .body(body.to_string())
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap(),
        )
        .unwrap();
        credentials.push(format!(
            "Bearer {}.{}",
            reply["agentId"].as_str().unwrap(),
            reply["deviceSecret"].as_str().unwrap()
        ));
    }
    let credentials = Arc::new(credentials);
    println!(
        "{agents} agents, {concurrency} concurrent requests, {seconds} s per phase, SQLite, 2 cores shared with the load\n"
    );
    println!("| check-ins | per second | p50 | p99 | facts writes |");
    println!("|---|---|---|---|---|");
    for changed in [false, true] {
        let writes_before = state.facts_writes();
        let (count, mut latencies) =
            run_phase(&http, &base, &credentials, concurrency, seconds, changed).await;
        latencies.sort_unstable();
        let pct =
            |p: f64| latencies[((latencies.len() as f64 * p) as usize).min(latencies.len() - 1)];
        println!(
            "| {} | {:.0} | {:.2} ms | {:.2} ms | {} |",
            if changed {
                "changed facts"
            } else {
                "unchanged facts"
            },
            count as f64 / seconds as f64,
            pct(0.50) as f64 / 1000.0,
            pct(0.99) as f64 / 1000.0,
            state.facts_writes() - writes_before,
        );
    }
}

fn facts(agent: usize, round: u64) -> serde_json::Value {
    json!({
        "name": format!("pc-{agent}"), "osType": "Linux", "osInfo": "Debian GNU/Linux 12 (bookworm)",
        "ram": "16.0 GB", "cpuSpeed": "2.60 GHz", "macAddress": "02:00:00:00:00:01", "ipAddress": "10.0.0.5",
        "lastLoginName": format!("user-{round}"),
    })
}

/// Runs `concurrency` workers for `seconds`; returns check-ins done and their latencies (µs).
async fn run_phase(
    http: &reqwest::Client,
    base: &str,
    credentials: &Arc<Vec<String>>,
    concurrency: usize,
    seconds: u64,
    changed: bool,
) -> (u64, Vec<u64>) {
    let done = Arc::new(AtomicU64::new(0));
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let mut workers = Vec::new();
    for w in 0..concurrency {
        let (http, url, credentials, done) = (
            http.clone(),
            format!("{base}/checkin"),
            credentials.clone(),
            done.clone(),
        );
        workers.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut i = w;
            let mut round = 0u64;
            // Bounded in time, and by the deadline only.
            while Instant::now() < deadline {
                let agent = i % credentials.len();
                round += u64::from(changed);
                let body =
                    json!({"agentVersion": "0.1.0", "facts": facts(agent, round)}).to_string();
                let start = Instant::now();
                let resp = http
                    .post(&url)
                    .header("authorization", &credentials[agent])
                    .header("content-type", "application/json")
                    .body(body)
                    .send()
                    .await
                    .expect("the server answers");
                assert!(
                    resp.status().is_success(),
                    "check-in failed: {}",
                    resp.status()
                );
                let _ = resp.bytes().await;
                latencies.push(start.elapsed().as_micros() as u64);
                done.fetch_add(1, Ordering::Relaxed);
                i += concurrency;
            }
            latencies
        }));
    }
    let mut all = Vec::new();
    for w in workers {
        all.extend(w.await.unwrap());
    }
    (done.load(Ordering::Relaxed), all)
}
