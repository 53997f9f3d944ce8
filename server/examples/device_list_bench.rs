//! Benchmark (not a test): the console's lists at fleet scale. Seeds N devices (default 100,000)
//! in 500 policies linked to 500 companies (bindings: most bound, some pending or failed) and an
//! activity log of A rows (default 1,000,000) straight into a fresh store, then times the lists
//! the way the console and the admin API ask for them: device pages (the first, a search, a
//! policy, a binding state, a deep page), the policies page (every policy with its icon), and
//! activity and alert pages (200,000 alerts), and the dashboard. Prints each query's median and
//! p95 over 20 runs.
//!
//! cargo run --release -p bindery-server --example device_list_bench -- [DEVICES] [postgres://…|-] [ACTIVITY]
#![allow(clippy::unwrap_used, clippy::expect_used)] // a benchmark: failing loudly is the point

use std::time::{Duration, Instant};

use bindery_server::ids::{CompanyId, DeviceId, PolicyId};
use bindery_server::store::{AlertFilter, AlertState, Backend, DeviceFilter, LinkState, Store};

#[tokio::main]
async fn main() {
    let devices: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(100_000);
    let dir = tempfile::tempdir().unwrap();
    let store = match std::env::args().nth(2).filter(|a| a != "-") {
        Some(url) => Store::open(&url).await.unwrap(),
        None => Store::open_in_dir(dir.path()).await.unwrap(),
    };
    let activity: usize = std::env::args()
        .nth(3)
        .and_then(|a| a.parse().ok())
        .unwrap_or(1_000_000);
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
    for (n, p) in policies.iter().enumerate() {
        let company = CompanyId(1000 + n as i64);
        store
            .link_policy(*p, Some((company, &format!("Company {n}"))))
            .await
            .unwrap();
    }
    seed(&store, devices, &policies).await;
    seed_bindings(&store).await;
    seed_activity(&store, activity).await;
    seed_alerts(&store, 200_000, devices).await;
    if store.backend() == Backend::Postgres {
        // What autovacuum does soon after a bulk load: the planner's statistics, and the
        // visibility map that lets counts read the indexes alone.
        sqlx::raw_sql("VACUUM ANALYZE")
            .execute(store.pool())
            .await
            .unwrap();
    }
    println!(
        "{:?}: {devices} devices in {} linked policies, {activity} activity rows, seeded in {:.1} s",
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
        after: None,
    };
    let cases = [
        ("first page", page("", None, None, 0)),
        ("search a host name", page("host-04217", None, None, 0)),
        ("search an IP prefix", page("10.1.2.", None, None, 0)),
        ("one policy", page("", Some(policies[250]), None, 0)),
        ("state pending", page("", None, Some("pending"), 0)),
        ("page 1,000", page("", None, None, 50 * 999)),
        (
            "page 1,000 by keyset",
            DeviceFilter {
                after: Some(DeviceId(50 * 999)),
                ..page("", None, None, 0)
            },
        ),
    ];
    let store = &store;
    for (name, filter) in cases {
        let filter = &filter;
        timed(name, || async move {
            store.device_page(filter).await.unwrap().1
        })
        .await;
    }
    timed("policies page (500)", || async {
        let all = store.policies_with_bindings().await.unwrap();
        all.iter().filter(|(_, b)| b.link == LinkState::Red).count() as i64
    })
    .await;
    let alerts = |state: Option<AlertState>, policy_id: Option<PolicyId>| AlertFilter {
        state,
        policy_id,
        limit: 50,
        ..AlertFilter::default()
    };
    for (name, filter) in [
        ("alerts, first page", alerts(None, None)),
        ("alerts, open", alerts(Some(AlertState::Open), None)),
        ("alerts, one policy", alerts(None, Some(policies[250]))),
    ] {
        let filter = &filter;
        timed(
            name,
            || async move { store.alerts(filter).await.unwrap().1 },
        )
        .await;
    }
    timed("activity, first page", || async {
        store.activity("", false, 50, 0).await.unwrap().1
    })
    .await;
    timed("activity, ticket.*", || async {
        store.activity("ticket.", false, 50, 0).await.unwrap().1
    })
    .await;
    timed("activity, failed only", || async {
        store.activity("", true, 50, 0).await.unwrap().1
    })
    .await;
    // The console's dashboard, whole (its five grouped counts, the instances, billing).
    timed("dashboard", || async {
        let view = bindery_server::ops::Ops::new(store, None, None)
            .dashboard(180_000)
            .await
            .unwrap();
        view.devices
    })
    .await;
}

/// Runs `query` 20 times; prints its answer (how many match) and median and p95 times.
async fn timed<F, Fut>(name: &str, query: F)
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = i64>,
{
    let mut times = Vec::new();
    let mut total = 0;
    for _ in 0..20 {
        let t = Instant::now();
        total = query().await;
        times.push(t.elapsed());
    }
    times.sort();
    println!(
        "{name:>22}: {total:>7} match; median {:>6.1} ms, p95 {:>6.1} ms",
        ms(times[10]),
        ms(times[18])
    );
}

/// Every device's binding: 19 in 20 bound, the rest alternately pending and failed, so the
/// policies page's tally counts every state and some policies are red.
async fn seed_bindings(store: &Store) {
    sqlx::raw_sql(
        "INSERT INTO bindings (device_id, state, updated_ms) \
         SELECT id, CASE WHEN id % 20 <> 0 THEN 'bound' WHEN id % 40 = 0 THEN 'failed' \
         ELSE 'pending' END, 0 FROM devices",
    )
    .execute(store.pool())
    .await
    .unwrap();
}

/// The activity log, 1 in 50 entries failed, 500 rows to a statement.
async fn seed_activity(store: &Store, rows: usize) {
    let mut n = 0;
    while n < rows {
        let batch = (rows - n).min(500);
        let mut sql =
            String::from("INSERT INTO activity (at_ms, action, subject, cw_id, ok) VALUES ");
        for i in n..n + batch {
            let action = ["configuration.update", "ticket.create", "ticket.close"][i % 3];
            if i > n {
                sql.push(',');
            }
            sql.push_str(&format!(
                "({i}, '{action}', 'host-{:05}', {i}, {})",
                i % 100_000,
                i64::from(i % 50 != 0)
            ));
        }
        sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
            .execute(store.pool())
            .await
            .unwrap();
        n += batch;
    }
}

/// Alerts on every device in turn, 1 in 100 still open, the rest resolved; 500 to a statement.
async fn seed_alerts(store: &Store, rows: usize, devices: usize) {
    let mut n = 0;
    while n < rows {
        let batch = (rows - n).min(500);
        let mut sql = String::from(
            "INSERT INTO alerts (device_id, monitor_id, subject, state, summary, raised_ms, \
             created_ms, updated_ms) VALUES ",
        );
        for i in n..n + batch {
            let state = if i % 100 == 0 { "open" } else { "resolved" };
            if i > n {
                sql.push(',');
            }
            sql.push_str(&format!(
                "({}, 'disk', '/v{i}', '{state}', 'Disk low', {i}, {i}, {i})",
                i % devices.max(1) + 1
            ));
        }
        sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
            .execute(store.pool())
            .await
            .unwrap();
        n += batch;
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
