//! Benchmark (not a test): the device list at fleet scale. Seeds N devices (default 100,000) in
//! 500 policies straight into a fresh store, then times pages of the list the way the console
//! and the admin API ask for them: the first page, a search, a policy, a binding state, a deep
//! page. Prints each query's median and p95 over 20 runs.
//!
//! cargo run --release -p bindery-server --example device_list_bench -- [DEVICES] [postgres://…]
#![allow(clippy::unwrap_used, clippy::expect_used)] // a benchmark: failing loudly is the point

use std::time::{Duration, Instant};

use bindery_server::ids::PolicyId;
use bindery_server::store::{DeviceFilter, Store};

#[tokio::main]
async fn main() {
    let devices: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(100_000);
    let dir = tempfile::tempdir().unwrap();
    let store = match std::env::args().nth(2) {
        Some(url) => Store::open(&url).await.unwrap(),
        None => Store::open_in_dir(dir.path()).await.unwrap(),
    };
    let started = Instant::now();
    let mut policies = Vec::new();
    for n in 0..500 {
        policies.push(
            store
                .create_policy(&format!("Customer {n:03}"))
                .await
                .unwrap()
                .id,
        );
    }
    seed(&store, devices, &policies).await;
    println!(
        "{:?}: {devices} devices in {} policies seeded in {:.1} s",
        store.backend(),
        policies.len(),
        started.elapsed().as_secs_f64()
    );
    let page = |q: &str, policy: Option<PolicyId>, state: Option<&str>, offset: i64| DeviceFilter {
        q: q.into(),
        policy,
        state: state.map(str::to_owned),
        retired_too: false,
        limit: 50,
        offset,
    };
    let cases = [
        ("first page", page("", None, None, 0)),
        ("search a host name", page("host-04217", None, None, 0)),
        ("search an IP prefix", page("10.1.2.", None, None, 0)),
        ("one policy", page("", Some(policies[250]), None, 0)),
        ("state pending", page("", None, Some("pending"), 0)),
        ("page 1,000", page("", None, None, 50 * 999)),
    ];
    for (name, filter) in cases {
        let mut times = Vec::new();
        let mut total = 0;
        for _ in 0..20 {
            let t = Instant::now();
            total = store.device_page(&filter).await.unwrap().1;
            times.push(t.elapsed());
        }
        times.sort();
        println!(
            "{name:>22}: {total:>7} match; median {:>6.1} ms, p95 {:>6.1} ms",
            ms(times[10]),
            ms(times[18])
        );
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Devices written straight into the store, 500 to a statement.
async fn seed(store: &Store, devices: usize, policies: &[PolicyId]) {
    let mut n = 0;
    while n < devices {
        let batch = (devices - n).min(500);
        let mut sql = String::from(
            "INSERT INTO devices (agent_id, secret_hash, policy_id, facts_json, facts_hash, \
             agent_version, enrolled_ms, last_seen_ms, search_text) VALUES ",
        );
        for i in n..n + batch {
            let policy = policies[i % policies.len()];
            let facts = format!(
                r#"{{"name":"host-{i:05}","serialNumber":"SN{i:07}","ipAddress":"10.{}.{}.{}","lastLoginName":"user{i}"}}"#,
                i / 65536 % 256,
                i / 256 % 256,
                i % 256
            );
            let search = format!(
                "host-{i:05} sn{i:07} 10.{}.{}.{} user{i}",
                i / 65536 % 256,
                i / 256 % 256,
                i % 256
            );
            if i > n {
                sql.push(',');
            }
            sql.push_str(&format!(
                "('agent-{i:06}', 'x', {policy}, '{facts}', 'h{i}', 'bench', 0, 0, '{search}')"
            ));
        }
        sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
            .execute(store.pool())
            .await
            .unwrap();
        n += batch;
    }
}
