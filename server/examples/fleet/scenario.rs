//! The benchmark's run, phase by phase: seed, bind, restart, re-sync, steady check-ins and
//! storage; and what it needs around it (the sandbox's own thread, scratch databases, metrics).

use std::sync::Arc;
use std::time::{Duration, Instant};

use bindery_server::reconcile::runner::LAST_FULL_SYNC;
use bindery_server::sealing::ServerKey;
use bindery_server::store::{Store, now_ms};

use crate::server::{Data, Server, database_bytes};
use crate::{Args, Fleet, phases, seed, storage};

/// The whole benchmark, phase by phase, as `Args` say.
pub async fn run(mut args: Args) {
    if args.smoke {
        args.devices = 1_000;
        args.seconds = 8;
        args.rate.get_or_insert(500.0);
    }
    assert!(
        args.servers == 1 || args.database.is_some(),
        "servers share a PostgreSQL database: give --database postgres://…"
    );
    connectwise_client::install_tls_provider();
    let dir = tempfile::tempdir().unwrap();
    let (data, store) = match &args.database {
        Some(url) => {
            let db = scratch_database(url).await;
            (Data::Postgres(db.clone()), Store::open(&db).await.unwrap())
        }
        None => {
            let path = dir.path().join("data");
            let store = Store::open_in_dir(&path).await.unwrap();
            (Data::Sqlite(path), store)
        }
    };
    let key = dir.path().join("server.key");
    let companies = args.devices.div_ceil(args.per_company);
    let sandbox = sandbox_thread(seed::sandbox_seed(companies));
    let started = Instant::now();
    let agents = seed::fleet(
        &store,
        &ServerKey::load_or_create(&key).unwrap(),
        &sandbox.url(),
        companies,
        args.devices,
    )
    .await;
    let rate = args.rate.unwrap_or(args.devices as f64 / 60.0);
    println!(
        "{:?}, {} server(s): {} devices in {companies} linked policies, seeded in {:.1} s; \
         {rate:.0} check-ins a second, {} % with changed facts",
        store.backend(),
        args.servers,
        args.devices,
        started.elapsed().as_secs_f64(),
        args.changed_percent
    );
    let fleet = Fleet {
        store,
        data,
        key,
        logs: dir.path().join("servers.log"),
        sandbox,
        agents: Arc::new(agents),
        companies,
        servers: args.servers,
        rate,
        // Idle connections are dropped before the server's own 10 s idle close: reusing one
        // just as the server closes it fails the request (twice in 1,000,000 check-ins).
        http: reqwest::Client::builder()
            .pool_max_idle_per_host(2048)
            .pool_idle_timeout(Duration::from_secs(5))
            .build()
            .unwrap(),
    };
    phases::bind(&fleet).await;

    // The outage: nobody checked in for an hour, and the periodic re-sync is due.
    let bound_bytes = database_bytes(&fleet.data, &fleet.store).await;
    sqlx::query("UPDATE devices SET last_seen_ms = $1")
        .bind(now_ms() - 3_600_000)
        .execute(fleet.store.pool())
        .await
        .unwrap();
    fleet.store.put_setting(LAST_FULL_SYNC, "0").await.unwrap();
    let servers = phases::restart(&fleet).await;
    let probes = fleet.servers as u64;
    let resync_checkins = phases::resync(&fleet, &servers).await;
    let before_steady = storage::rows(&fleet).await;
    let pg_before = storage::pg_work(&fleet).await;
    let steady = phases::steady(&fleet, &servers, args.seconds, args.changed_percent).await;
    let served: u64 = sum_metric(&fleet, &servers, "bindery_checkins_total").await;
    let writes: u64 = sum_metric(&fleet, &servers, "bindery_facts_writes_total").await;
    assert_eq!(
        served,
        probes + resync_checkins + steady.sent,
        "the servers counted every check-in sent, once"
    );
    assert_eq!(
        writes, steady.changed,
        "facts are written for changed check-ins only"
    );
    if fleet.servers > 1 {
        for s in &servers {
            let n = s.metric(&fleet.http, "bindery_checkins_total").await;
            assert!(n > 0, "every server took check-ins");
        }
    }
    for s in servers {
        s.stop();
    }
    if let (Some(before), Some(after)) = (pg_before, storage::pg_work(&fleet).await) {
        storage::report_pg_work(before, after, steady.sent, steady.changed);
    }
    storage::storage(
        &fleet,
        bound_bytes,
        before_steady,
        Duration::from_secs(args.seconds),
    )
    .await;
    phases::one_configuration_each(&fleet);
    if let Data::Postgres(url) = &fleet.data {
        fleet.store.pool().close().await;
        drop_database(url).await;
    }
    println!("\nall checks held");
}

/// The sandbox on a thread and runtime of its own (real ConnectWise has its own machines): on the
/// load's runtime its answers would hold back the check-ins being sent.
fn sandbox_thread(seed: connectwise_sandbox::Seed) -> connectwise_sandbox::Running {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async move {
            let running = connectwise_sandbox::spawn("127.0.0.1:0".parse().unwrap(), seed, true)
                .await
                .unwrap();
            tx.send(running).unwrap();
            std::future::pending::<()>().await;
        });
    });
    rx.recv().unwrap()
}

/// The sum of one counter over every server.
async fn sum_metric(fleet: &Fleet, servers: &[Server], sample: &str) -> u64 {
    let mut total = 0;
    for s in servers {
        total += s.metric(&fleet.http, sample).await;
    }
    total
}

/// A new database on the PostgreSQL server of `url`; returns its URL.
async fn scratch_database(url: &str) -> String {
    sqlx::any::install_default_drivers();
    let name = format!("fleet_{}_{}", std::process::id(), now_ms());
    let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(url)
        .await
        .expect("PostgreSQL answers");
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut conn)
        .await
        .unwrap();
    format!("{}/{name}", &url[..url.rfind('/').unwrap()])
}

async fn drop_database(db_url: &str) {
    let (server, name) = db_url.rsplit_once('/').unwrap();
    let mut conn =
        <sqlx::AnyConnection as sqlx::Connection>::connect(&format!("{server}/postgres"))
            .await
            .unwrap();
    let _ = sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
        "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
    )))
    .execute(&mut conn)
    .await;
}
