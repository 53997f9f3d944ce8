//! Benchmark (not a test): turning Bindery on in a ConnectWise that is already full. N devices
//! (default 10,000) in one policy; their company already holds N configurations: half of them
//! the devices' by serial, 1,000 by MAC, 50 devices with two records each (ambiguous), the rest
//! unrelated. Measures the link's preview (requests, writes, time) and then the link itself
//! (writes by kind; nothing for the ambiguous). Over real HTTP on 127.0.0.1, with SQLite.
//!
//! cargo run --release -p bindery-server --example adoption_bench -- [DEVICES]
#![allow(clippy::unwrap_used, clippy::expect_used)] // a benchmark: failing loudly is the point

use std::time::{Duration, Instant};

use bindery_server::ops::Ops;
use bindery_server::reconcile::{EngineConfig, queue};
use bindery_server::store::NewDevice;
use bindery_server::testkit;
use bindery_shared::{DeviceFacts, FactField};
use serde_json::json;

const ACME: bindery_server::ids::CompanyId = bindery_server::ids::CompanyId(2);
const AMBIGUOUS: usize = 50;
const BY_MAC: usize = 1_000;

fn mac(n: usize) -> String {
    format!(
        "02:00:00:{:02X}:{:02X}:{:02X}",
        n >> 16,
        (n >> 8) & 0xff,
        n & 0xff
    )
}

#[tokio::main]
async fn main() {
    let devices: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(10_000);
    let by_serial = devices / 2;
    let g = testkit::ground().await;
    let (sb, store) = (&g.sb, &g.store);
    let policy = store.create_policy("Bench").await.unwrap();
    for n in 0..devices {
        let agent = format!("bench-{n:05}");
        let mut f = DeviceFacts::default();
        f.set(FactField::Name, format!("ws-{n:05}"));
        f.set(FactField::SerialNumber, format!("BN{n:07}"));
        f.set(FactField::MacAddress, mac(n));
        f.set(FactField::OsType, "Windows");
        f.set(FactField::DeviceIdentifier, agent.clone());
        let f = f.normalized();
        let json = serde_json::to_string(&f).unwrap();
        store
            .enroll_device(&NewDevice {
                agent_id: &agent,
                serial: f.serial_number.as_deref(),
                mac: f.mac_address.as_deref(),
                name: f.name.as_deref(),
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
    // The company as an earlier tool left it: N records, none with a deviceIdentifier.
    {
        let mut data = sb.sandbox.data();
        let acme = json!({"id": ACME, "identifier": "Acme", "name": "Acme Corporation"});
        let record = |name: String| {
            json!({"name": name, "type": {"id": 1, "name": "Managed Workstation"},
                "status": {"id": 1, "name": "Active"}, "company": acme})
        };
        let mut made = 0;
        for n in 0..by_serial {
            let mut r = record(format!("old-{n}"));
            r["serialNumber"] = json!(format!("bn{n:07}"));
            data.configurations.insert(r);
            made += 1;
        }
        for n in by_serial..by_serial + BY_MAC {
            let mut r = record(format!("old-{n}"));
            r["macAddress"] = json!(mac(n).replace(':', "-"));
            data.configurations.insert(r);
            made += 1;
        }
        for n in by_serial + BY_MAC..by_serial + BY_MAC + AMBIGUOUS {
            for copy in 0..2 {
                let mut r = record(format!("dup-{n}-{copy}"));
                r["serialNumber"] = json!(format!("BN{n:07}"));
                data.configurations.insert(r);
                made += 1;
            }
        }
        for n in made..devices {
            data.configurations.insert(record(format!("unrelated-{n}")));
        }
    }
    let before = sb.sandbox.data().configurations.len();
    let (engine, _stop) = g.engine(EngineConfig {
        poll: Duration::from_millis(100),
        resync_every: Duration::from_secs(86_400),
        cw_requests_per_minute: 1_000_000,
        cw_concurrency: 16,
        ..EngineConfig::default()
    });

    // The preview, with the client warm as in a running server (its one-time codebase
    // discovery done).
    engine
        .shared_client(bindery_server::ids::IntegrationId::FIRST)
        .await
        .unwrap()
        .get_company(ACME.0)
        .await
        .unwrap();
    sb.sandbox.clear_requests();
    let started = Instant::now();
    let preview = Ops::new(store, None, Some(&engine))
        .preview_link(policy.id, (bindery_server::ids::IntegrationId::FIRST, ACME))
        .await
        .unwrap();
    let preview_time = started.elapsed();
    let log = sb.sandbox.requests();
    if std::env::var_os("BENCH_VERBOSE").is_some() {
        for r in &log {
            eprintln!("{} {} {}", r.method, r.path, r.status);
        }
    }
    let reads = log.iter().filter(|r| r.method == "GET").count();
    let writes = log.len() - reads;
    let plan = &preview.plan;
    println!("devices {devices}, configurations already in the company {before}");
    println!(
        "preview: {:.2} s, requests {} (reads {reads}, writes {writes}); adopt {} by serial, {} by MAC, {} by name; create {}; need a person {}; left alone {}",
        preview_time.as_secs_f64(),
        log.len(),
        plan.adopt_by_serial,
        plan.adopt_by_mac,
        plan.adopt_by_name,
        plan.create,
        plan.needs_person.len(),
        plan.unclaimed.len()
    );

    // The link.
    sb.sandbox.clear_requests();
    let started = Instant::now();
    store
        .link_policy(policy.id, Some((ACME, "Acme Corporation")))
        .await
        .unwrap();
    queue::policy_linked(store, policy.id).await.unwrap();
    engine.wake();
    loop {
        let c = store.job_counts().await.unwrap();
        if c.queued == 0 && c.running == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let link_time = started.elapsed();
    let log = sb.sandbox.requests();
    let count = |m: &str| log.iter().filter(|r| r.method == m).count();
    let s = store.policy_bindings(policy.id).await.unwrap();
    println!(
        "link: {:.1} s, requests {} (reads {}, creates {}, patches {}); bound {}, need a person {}, pending {}, failed {}; configurations now {}",
        link_time.as_secs_f64(),
        log.len(),
        count("GET"),
        count("POST"),
        count("PATCH"),
        s.bound,
        s.needs_person,
        s.pending,
        s.failed,
        sb.sandbox.data().configurations.len()
    );
}
