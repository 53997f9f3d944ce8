//! Benchmark (not a test): one server, several ConnectWise instances (default 10), each with
//! its own sandbox over real HTTP on 127.0.0.1, POLICIES policies per instance (default 100),
//! each linked to a company of its own and billed to that company's agreement, and DEVICES
//! devices in all (default 10,000), on SQLite. It binds them all, then measures per instance:
//! the requests of a full re-sync of the unchanged fleet, and of the month's billing update
//! (a first run creating each addition once approved, then an unchanged run).
//!
//! cargo run --release -p bindery-server --example instances_bench -- [INSTANCES] [POLICIES] [DEVICES]
#![allow(clippy::unwrap_used, clippy::expect_used)] // a benchmark: failing loudly is the point

use std::sync::Arc;
use std::time::{Duration, Instant};

use bindery_server::ids::{CompanyId, IntegrationId};
use bindery_server::reconcile::jobs::{BillAgreement, JobKind};
use bindery_server::reconcile::{Engine, EngineConfig, queue};
use bindery_server::sealing::ServerKey;
use bindery_server::store::{PolicyBilling, Product, Store};
use bindery_shared::{DeviceFacts, FactField};
use connectwise_sandbox::{Running, Seed};
use serde_json::json;

/// Company `n` of every instance's seed (101, 102, …), and its agreement (`n + 1000`).
fn company(n: usize) -> i64 {
    100 + n as i64
}

fn seed(policies: usize) -> Seed {
    let mut seed = Seed::default_seed();
    for n in 1..=policies {
        let id = company(n);
        seed.companies
            .push(json!({ "id": id, "identifier": format!("Client{id}"),
            "name": format!("Client {id}"), "status": { "id": 1, "name": "Active" },
            "types": [{ "id": 1, "name": "Client" }], "deletedFlag": false }));
        seed.agreements.push(
            json!({ "id": id + 1000, "name": format!("Client {id} Managed"),
            "type": { "id": 1, "name": "Managed Services" }, "company": { "id": id },
            "contact": { "id": 5 }, "startDate": "2026-01-01T00:00:00Z", "noEndingDateFlag": true,
            "cancelledFlag": false, "agreementStatus": "Active",
            "billingCycle": { "id": 1, "name": "Monthly" }, "prorateFlag": false }),
        );
    }
    seed
}

async fn settle(store: &Store, engine: &Engine) {
    engine.wake();
    loop {
        let c = store.job_counts().await.unwrap();
        if c.queued == 0 && c.running == 0 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A sandbox's API requests since it was last cleared: (reads, writes).
fn requests(sb: &Running) -> (usize, usize) {
    let log = sb.sandbox.requests();
    let api = log.iter().filter(|r| !r.path.starts_with("/_sandbox"));
    let reads = api.clone().filter(|r| r.method == "GET").count();
    (reads, api.count() - reads)
}

fn clear(sandboxes: &[(IntegrationId, Running)]) {
    for (_, sb) in sandboxes {
        sb.sandbox.clear_requests();
    }
}

/// One line per instance: its requests (reads + writes), then the most and the least.
fn report(what: &str, sandboxes: &[(IntegrationId, Running)], time: Duration) {
    let per: Vec<(usize, usize)> = sandboxes.iter().map(|(_, sb)| requests(sb)).collect();
    let most = per.iter().max_by_key(|(r, w)| r + w).unwrap();
    let least = per.iter().min_by_key(|(r, w)| r + w).unwrap();
    println!(
        "{what}: {:.2} s; per instance, most {} reads + {} writes, least {} reads + {} writes",
        time.as_secs_f64(),
        most.0,
        most.1,
        least.0,
        least.1
    );
}

#[tokio::main]
async fn main() {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let instances = args.first().copied().unwrap_or(10).max(1);
    let policies = args.get(1).copied().unwrap_or(100).max(1);
    let devices = args.get(2).copied().unwrap_or(10_000);
    let per_policy = devices.div_ceil(instances * policies);
    connectwise_client::install_tls_provider();

    let dir = tempfile::tempdir().unwrap();
    let store = Store::open_in_dir(dir.path()).await.unwrap();
    let key = Arc::new(ServerKey::load_or_create(&dir.path().join("server.key")).unwrap());
    // No start-up re-sync: the runs measured below are asked for.
    store
        .put_setting(
            bindery_server::reconcile::runner::LAST_FULL_SYNC,
            &bindery_server::store::now_ms().to_string(),
        )
        .await
        .unwrap();
    let mut sandboxes = Vec::new();
    let started = Instant::now();
    let mut n = 0usize;
    for i in 0..instances {
        let sb = connectwise_sandbox::spawn("127.0.0.1:0".parse().unwrap(), seed(policies), true)
            .await
            .unwrap();
        let id = if i == 0 {
            IntegrationId::FIRST
        } else {
            let name = format!("Instance {}", i + 1);
            store.create_integration(&name).await.unwrap().id
        };
        bindery_server::demo::connect_integration_to_sandbox(&store, &key, id, &sb.url())
            .await
            .unwrap();
        for p in 1..=policies {
            let policy = store.create_policy(&format!("I{id} P{p}")).await.unwrap();
            for _ in 0..per_policy {
                n += 1;
                enroll(&store, policy.id, n).await;
            }
            let c = CompanyId(company(p));
            let name = format!("Client {c}");
            store
                .link_policy_at(policy.id, Some((id, c, &name)), None)
                .await
                .unwrap();
            store
                .set_policy_billing(&PolicyBilling {
                    policy_id: policy.id,
                    integration_id: id,
                    company_id: c,
                    agreement_id: c.0 + 1000,
                    agreement_name: format!("Client {c} Managed"),
                    workstation_product: Some(Product {
                        id: 1,
                        identifier: "MANAGED-WS".into(),
                    }),
                    server_product: None,
                    bill_customer: "Billable".into(),
                    cover_configurations: false,
                })
                .await
                .unwrap();
        }
        sandboxes.push((id, sb));
    }
    eprintln!(
        "{instances} instances, {} policies, {n} devices set up in {:.1?}",
        instances * policies,
        started.elapsed()
    );

    let engine = Engine::new(
        store.clone(),
        key.clone(),
        EngineConfig {
            poll: Duration::from_millis(100),
            resync_every: Duration::from_secs(86_400),
            cw_requests_per_minute: 60_000,
            workers: 32,
            ..EngineConfig::default()
        },
    );
    let (_stop, stopped) = tokio::sync::watch::channel(false);
    tokio::spawn(engine.clone().run(stopped));

    let rpm = engine.cw_requests_per_minute();
    let started = Instant::now();
    queue::sync_all(&store, rpm).await.unwrap();
    settle(&store, &engine).await;
    let bound: usize = sandboxes
        .iter()
        .map(|(_, sb)| sb.sandbox.data().configurations.len())
        .sum();
    report("first binding", &sandboxes, started.elapsed());
    eprintln!("configurations in the sandboxes: {bound}");

    // A full re-sync of the unchanged fleet.
    clear(&sandboxes);
    let started = Instant::now();
    let queued = queue::sync_all(&store, rpm).await.unwrap();
    settle(&store, &engine).await;
    report(
        &format!("full re-sync ({queued} companies)"),
        &sandboxes,
        started.elapsed(),
    );

    // The month's billing: the first run holds each first quantity for a person, who approves
    // them all; the next run writes them; a run after that finds nothing to change.
    let bill_all = || async {
        let jobs: Vec<_> = store
            .billed_agreements()
            .await
            .unwrap()
            .into_iter()
            .map(|(integration, agreement_id)| {
                BillAgreement {
                    integration,
                    agreement_id,
                }
                .job()
            })
            .collect();
        store.enqueue_many(&jobs).await.unwrap();
        settle(&store, &engine).await;
    };
    clear(&sandboxes);
    let started = Instant::now();
    bill_all().await;
    report("billing, first run (held)", &sandboxes, started.elapsed());
    for mut rec in store.billed_additions(None).await.unwrap() {
        rec.approved_quantity = rec.held_quantity;
        store.record_billed_addition(&rec).await.unwrap();
    }
    clear(&sandboxes);
    let started = Instant::now();
    bill_all().await;
    report("billing, approved run", &sandboxes, started.elapsed());
    clear(&sandboxes);
    let started = Instant::now();
    bill_all().await;
    report("billing, unchanged run", &sandboxes, started.elapsed());
    let additions: usize = sandboxes
        .iter()
        .map(|(_, sb)| sb.sandbox.data().additions.len())
        .sum();
    println!(
        "additions in the sandboxes: {additions} ({} billed agreements, plus one seeded each)",
        instances * policies
    );
    for (_, sb) in sandboxes {
        sb.stop().await;
    }
}

async fn enroll(store: &Store, policy_id: bindery_server::ids::PolicyId, n: usize) {
    let mut f = DeviceFacts::default();
    f.set(FactField::Name, format!("ws-{n:06}"));
    f.set(FactField::SerialNumber, format!("BN{n:08}"));
    f.set(FactField::OsType, "Windows");
    f.set(FactField::OsInfo, "Windows 11 Pro 23H2");
    let agent = format!("bench-{n:06}");
    bindery_server::testkit::enroll_facts(store, policy_id, &agent, f.normalized()).await;
}
