//! Benchmark (not a test): binding N devices (default 10,000) into one company against the
//! ConnectWise sandbox at 50 ms latency and 1,000 requests a minute, then a re-sync of the same
//! unchanged devices. Prints the requests used by kind, the 429s met (each is retried), and the
//! times. Everything runs in this process over real HTTP on 127.0.0.1, with SQLite.
//!
//! cargo run --release -p bindery-server --example binding_bench -- [DEVICES] [LATENCY_MS] [RPM]
#![allow(clippy::unwrap_used, clippy::expect_used)] // a benchmark: failing loudly is the point

use std::time::{Duration, Instant};

use bindery_server::reconcile::{EngineConfig, queue};
use bindery_server::store::NewDevice;
use bindery_server::testkit;
use bindery_shared::{DeviceFacts, FactField};
use connectwise_sandbox::Faults;

const ACME: bindery_server::ids::CompanyId = bindery_server::ids::CompanyId(2);

#[tokio::main]
async fn main() {
    let args: Vec<u64> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let devices = args.first().copied().unwrap_or(10_000) as usize;
    let latency_ms = args.get(1).copied().unwrap_or(50);
    let rpm = args.get(2).copied().unwrap_or(1000) as u32;

    let g = testkit::ground().await;
    let (sb, store) = (&g.sb, &g.store);
    let policy = store.create_policy("Bench").await.unwrap();
    let started = Instant::now();
    for n in 0..devices {
        let agent = format!("bench-{n:05}");
        let mut f = DeviceFacts::default();
        f.set(FactField::Name, format!("ws-{n:05}"));
        f.set(FactField::SerialNumber, format!("BN{n:07}"));
        f.set(FactField::OsType, "Windows");
        f.set(FactField::OsInfo, "Windows 11 Pro 23H2");
        f.set(FactField::Ram, "16 GB");
        f.set(FactField::DeviceIdentifier, agent.clone());
        let json = serde_json::to_string(&f.normalized()).unwrap();
        store
            .enroll_device(&NewDevice {
                agent_id: &agent,
                serial: None,
                mac: None,
                name: None,
                policy_id: policy.id,
                facts_json: &json,
                facts_hash: &bindery_server::secrets::hash_secret(&json),
                agent_version: "bench",
                secret_hash: "-",
                proven: false,
                auto_approve_silent_ms: None,
            })
            .await
            .unwrap();
    }
    eprintln!("{devices} devices enrolled in {:.1?}", started.elapsed());

    sb.sandbox.set_faults(Faults {
        latency_ms,
        rate_limit_per_minute: Some(rpm),
        retry_after_secs: 5,
        ..Faults::default()
    });
    sb.sandbox.clear_requests();
    let (engine, _stop) = g.engine(EngineConfig {
        poll: Duration::from_millis(100),
        // No periodic re-sync during the run: the one measured below is asked for.
        resync_every: Duration::from_secs(86_400),
        ..EngineConfig::default()
    });

    let started = Instant::now();
    store
        .link_policy(policy.id, Some((ACME, "Acme Corporation")))
        .await
        .unwrap();
    queue::policy_linked(store, policy.id).await.unwrap();
    engine.wake();
    let mut last_report = Instant::now();
    loop {
        let s = store.policy_bindings(policy.id).await.unwrap();
        if s.bound as usize == devices {
            break;
        }
        if last_report.elapsed() > Duration::from_secs(30) {
            eprintln!(
                "{:>5.0} s: {} bound, {} pending, {} failed",
                started.elapsed().as_secs_f64(),
                s.bound,
                s.pending,
                s.failed
            );
            last_report = Instant::now();
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let bind_time = started.elapsed();
    let bind = tally(&sb.sandbox.requests());
    let configs = sb.sandbox.data().configurations.len();

    sb.sandbox.clear_requests();
    let writes_before = engine
        .stats
        .writes
        .load(std::sync::atomic::Ordering::Relaxed);
    let started = Instant::now();
    queue::sync_company(store, bindery_server::ids::IntegrationId::FIRST, ACME)
        .await
        .unwrap();
    engine.wake();
    loop {
        let c = store.job_counts().await.unwrap();
        if c.queued == 0 && c.running == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let resync_time = started.elapsed();
    let resync = tally(&sb.sandbox.requests());
    let resync_writes = engine
        .stats
        .writes
        .load(std::sync::atomic::Ordering::Relaxed)
        - writes_before;

    println!(
        "devices {devices}, sandbox latency {latency_ms} ms, limit {rpm}/min, configurations in the sandbox {configs}"
    );
    println!(
        "bind:    {:.1} s, requests {} (reads {}, creates {}, patches {}), 429s met and retried {}",
        bind_time.as_secs_f64(),
        bind.total,
        bind.reads,
        bind.creates,
        bind.patches,
        bind.throttled
    );
    println!(
        "re-sync: {:.2} s, requests {} (reads {}, writes {}), 429s {}, engine writes {resync_writes}",
        resync_time.as_secs_f64(),
        resync.total,
        resync.reads,
        resync.creates + resync.patches,
        resync.throttled
    );
}

#[derive(Default)]
struct Tally {
    total: usize,
    reads: usize,
    creates: usize,
    patches: usize,
    throttled: usize,
}

fn tally(log: &[connectwise_sandbox::LoggedRequest]) -> Tally {
    let mut t = Tally::default();
    for r in log.iter().filter(|r| !r.path.starts_with("/_sandbox")) {
        t.total += 1;
        if r.status == 429 {
            t.throttled += 1;
        }
        match r.method.as_str() {
            "GET" => t.reads += 1,
            "POST" => t.creates += 1,
            "PATCH" => t.patches += 1,
            _ => {}
        }
    }
    t
}
