//! The benchmark's phases after seeding (see main.rs), each printing what it measured and
//! asserting what must hold.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use bindery_server::reconcile::queue::{SYNC_REQUESTS, resync_spacing_ms};
use bindery_server::reconcile::runner::EngineConfig;

use crate::load::{self, Load, Tally, percentile_ms};
use crate::server::{Server, cpu_time, memory, wait_until};
use crate::{Fleet, ms};

/// Queued plus running jobs, as the first server counts them.
async fn jobs_left(fleet: &Fleet, s: &Server) -> u64 {
    s.metric(&fleet.http, "bindery_jobs{state=\"queued\"}")
        .await
        + s.metric(&fleet.http, "bindery_jobs{state=\"running\"}")
            .await
}

/// The servers bind the whole fleet, unthrottled: one configuration per device.
pub async fn bind(fleet: &Fleet) {
    let started = Instant::now();
    let servers = fleet.start(&[
        "--cw-requests-per-minute",
        "100000000",
        "--cw-concurrency",
        "32",
        "--workers",
        "32",
    ]);
    let devices = fleet.agents.len();
    let limit = Duration::from_secs(120 + devices as u64 / 20);
    let bound = wait_until(limit, || async {
        fleet.sandbox.sandbox.data().configurations.len() >= devices
            && jobs_left(fleet, &servers[0]).await == 0
    })
    .await;
    assert!(bound, "the fleet was not bound within {limit:?}");
    let took = started.elapsed();
    for s in servers {
        s.stop();
    }
    // What the re-sync phase counts starts here.
    fleet.sandbox.sandbox.clear_requests();
    println!(
        "\nbind: {devices} configurations created in {:.1} s ({:.0} a second, ConnectWise \
         budget unlimited)",
        took.as_secs_f64(),
        devices as f64 / took.as_secs_f64()
    );
    one_configuration_each(fleet);
}

/// Exactly one configuration per device, in its policy's company.
pub fn one_configuration_each(fleet: &Fleet) {
    let data = fleet.sandbox.sandbox.data();
    let ids: HashSet<&str> = data
        .configurations
        .values()
        .filter_map(|c| c["deviceIdentifier"].as_str())
        .collect();
    assert_eq!(
        (data.configurations.len(), ids.len()),
        (fleet.agents.len(), fleet.agents.len()),
        "one configuration per device, none twice"
    );
}

/// The servers start after the outage; prints how long each took to serve a check-in.
pub async fn restart(fleet: &Fleet) -> Vec<Server> {
    let mut servers = Vec::new();
    let mut took = Vec::new();
    for n in 0..fleet.servers {
        let started = Instant::now();
        let s = fleet.start_one(&[]);
        let agent = &fleet.agents[n];
        let body = serde_json::json!({
            "agentVersion": crate::AGENT_VERSION,
            "facts": crate::seed::facts(n, 0),
        })
        .to_string();
        let served = wait_until(Duration::from_secs(60), || async {
            fleet
                .http
                .post(format!("{}/checkin", s.agent_api))
                .header("authorization", &agent.authorization)
                .header("content-type", "application/json")
                .body(body.clone())
                .send()
                .await
                .is_ok_and(|r| r.status().is_success())
        })
        .await;
        assert!(served, "a restarted server served no check-in within 60 s");
        took.push(started.elapsed());
        servers.push(s);
    }
    let shown: Vec<String> = took.iter().map(|t| format!("{:.0} ms", ms(*t))).collect();
    println!(
        "\nrestart after an hour's outage: serving check-ins {} after the process started",
        shown.join(", ")
    );
    servers
}

/// Check-ins with nothing changed while every company is re-synced; returns the check-ins
/// sent. Counts the sandbox's requests per second.
pub async fn resync(fleet: &Fleet, servers: &[Server]) -> u64 {
    let budget = EngineConfig::default().cw_requests_per_minute;
    let spread = Duration::from_millis(fleet.companies as u64 * resync_spacing_ms(budget) as u64);
    let seconds = Arc::new(std::sync::Mutex::new(BTreeMap::<u64, Requests>::new()));
    let started = Instant::now();
    let counter = {
        let (sb, seconds) = (fleet.sandbox.sandbox.clone(), seconds.clone());
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_secs(1)).await;
                let second = started.elapsed().as_secs();
                let mut tally = seconds.lock().unwrap();
                let slot = tally.entry(second).or_default();
                for r in sb.take_requests() {
                    slot.count(&r);
                }
            }
        })
    };
    println!(
        "\nre-sync of {} companies, the fleet checking in meanwhile:",
        fleet.companies
    );
    let (tally, lat) = checkins(fleet, servers, spread + Duration::from_secs(15), 0).await;
    let settled = wait_until(Duration::from_secs(120), || async {
        jobs_left(fleet, &servers[0]).await == 0
    })
    .await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    counter.abort();
    assert!(settled, "the re-sync did not finish");
    let per_second: Vec<Requests> = seconds.lock().unwrap().values().copied().collect();
    let total = per_second
        .iter()
        .fold(Requests::default(), |a, b| a.plus(b));
    // The busiest minute: every 60-second window of the per-second tally.
    let busiest = (0..per_second.len())
        .map(|i| {
            per_second[i..(i + 60).min(per_second.len())]
                .iter()
                .map(Requests::sync)
                .sum::<u64>()
        })
        .max()
        .unwrap_or(0);
    let companies = fleet.companies as u64;
    println!(
        "\nre-sync of {companies} companies: {} requests ({} configuration reads, {} contact \
         reads; {:.2} a company), {} writes, {} other requests; busiest minute {busiest} of a \
         budget of {budget}; check-ins meanwhile p50 {:.2} ms, p99 {:.2} ms",
        total.sync(),
        total.configuration_reads,
        total.contact_reads,
        total.sync() as f64 / companies as f64,
        total.writes,
        total.other,
        percentile_ms(&lat, 0.5),
        percentile_ms(&lat, 0.99),
    );
    assert_eq!(
        total.writes, 0,
        "a re-sync of an unchanged fleet writes nothing"
    );
    assert_eq!(
        total.configuration_reads, companies,
        "each company read once, by one server"
    );
    assert!(
        total.sync() <= u64::from(SYNC_REQUESTS) * companies,
        "a company costs at most {SYNC_REQUESTS} requests"
    );
    assert!(
        busiest <= u64::from(budget) / 2,
        "the re-sync took more than half the budget"
    );
    assert_eq!(
        tally.failed.load(Ordering::Relaxed),
        0,
        "every check-in succeeded"
    );
    tally.sent.load(Ordering::Relaxed)
}

/// Prints a table row every 10 s while `run` sends check-ins: their rate and latency, the
/// servers' CPU, the largest server's memory (its own, and the database file pages it maps,
/// which the OS shares and may drop) and the jobs waiting. Returns every latency, sorted.
async fn watch(
    fleet: &Fleet,
    servers: &[Server],
    tally: &Tally,
    run: tokio::task::JoinHandle<()>,
) -> Vec<u32> {
    println!(
        "\n| s | check-ins/s | p50 | p99 | servers' CPU | load CPU | memory (own + mapped) | jobs waiting |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    let pids: Vec<String> = servers.iter().map(|s| s.pid().to_string()).collect();
    let mut before: Vec<Duration> = pids.iter().map(|p| cpu_time(p)).collect();
    let mut own_before = cpu_time("self");
    let started = Instant::now();
    let mut last = started;
    let mut all = Vec::new();
    let mut run = std::pin::pin!(run);
    loop {
        let finished = tokio::select! {
            _ = &mut run => true,
            _ = tokio::time::sleep(Duration::from_secs(10)) => false,
        };
        let window = last.elapsed().as_secs_f64();
        last = Instant::now();
        let mut lat = tally.take_window().await;
        lat.sort_unstable();
        let now: Vec<Duration> = pids.iter().map(|p| cpu_time(p)).collect();
        let servers_cpu: f64 = now
            .iter()
            .zip(&before)
            .map(|(n, b)| (*n - *b).as_secs_f64())
            .sum();
        before = now;
        let own = cpu_time("self");
        let load_cpu = (own - own_before).as_secs_f64();
        own_before = own;
        let mem = servers
            .iter()
            .map(|s| memory(s.pid()))
            .max_by_key(|m| m.anon + m.file)
            .unwrap_or_default();
        if !lat.is_empty() {
            println!(
                "| {:.0} | {:.0} | {:.2} ms | {:.2} ms | {:.0} % | {:.0} % | {} + {} MiB | {} |",
                started.elapsed().as_secs_f64(),
                lat.len() as f64 / window,
                percentile_ms(&lat, 0.5),
                percentile_ms(&lat, 0.99),
                servers_cpu / window * 100.0,
                load_cpu / window * 100.0,
                mem.anon / 1024,
                mem.file / 1024,
                jobs_left(fleet, &servers[0]).await,
            );
        }
        all.extend(lat);
        if finished {
            break;
        }
    }
    all.sort_unstable();
    all
}

/// Check-ins at the fleet's rate for `duration`, `changed_percent` of them with changed facts,
/// watched (`watch`); returns what was counted and every latency, sorted.
async fn checkins(
    fleet: &Fleet,
    servers: &[Server],
    duration: Duration,
    changed_percent: u64,
) -> (Arc<Tally>, Vec<u32>) {
    let tally = Arc::new(Tally::default());
    let urls = Arc::new(servers.iter().map(|s| s.agent_api.clone()).collect());
    let load = Load {
        per_second: fleet.rate,
        duration,
        changed_percent,
    };
    let run = tokio::spawn(load::run(
        fleet.http.clone(),
        urls,
        fleet.agents.clone(),
        load,
        tally.clone(),
    ));
    let latencies = watch(fleet, servers, &tally, run).await;
    (tally, latencies)
}

/// What the steady phase sent.
pub struct Steady {
    pub sent: u64,
    pub changed: u64,
}

/// The steady state: check-ins at the rate for `seconds`, with a table row every 10 s.
pub async fn steady(fleet: &Fleet, servers: &[Server], seconds: u64, changed: u64) -> Steady {
    println!("\nsteady state, {seconds} s:");
    let (tally, all) = checkins(fleet, servers, Duration::from_secs(seconds), changed).await;
    let peak = servers
        .iter()
        .map(|s| memory(s.pid()).peak)
        .max()
        .unwrap_or(0);
    let (sent, changed, failed) = (
        tally.sent.load(Ordering::Relaxed),
        tally.changed.load(Ordering::Relaxed),
        tally.failed.load(Ordering::Relaxed),
    );
    println!(
        "\n{sent} check-ins ({:.0} a second), {changed} with changed facts, {failed} failed; \
         p50 {:.2} ms, p99 {:.2} ms; the load fell behind its schedule by at most {:.1} ms; \
         the largest server's peak RSS since it started {} MiB",
        sent as f64 / seconds as f64,
        percentile_ms(&all, 0.5),
        percentile_ms(&all, 0.99),
        tally.worst_lag_us.load(Ordering::Relaxed) as f64 / 1000.0,
        peak / 1024,
    );
    assert_eq!(failed, 0, "every check-in succeeded");
    Steady { sent, changed }
}

/// The sandbox's requests in one second, by what they were for.
#[derive(Clone, Copy, Default)]
struct Requests {
    configuration_reads: u64,
    contact_reads: u64,
    writes: u64,
    other: u64,
}

impl Requests {
    fn count(&mut self, r: &connectwise_sandbox::LoggedRequest) {
        let slot = match (r.method.as_str(), r.path.as_str()) {
            ("GET", p) if p.ends_with("/company/configurations") => &mut self.configuration_reads,
            ("GET", p) if p.ends_with("/company/contacts") => &mut self.contact_reads,
            (_, p) if p.contains("/company/configurations") => &mut self.writes,
            _ => &mut self.other,
        };
        *slot += 1;
    }

    /// What the re-sync itself costs: its reads and any write.
    fn sync(&self) -> u64 {
        self.configuration_reads + self.contact_reads + self.writes
    }

    fn plus(&self, o: &Requests) -> Requests {
        Requests {
            configuration_reads: self.configuration_reads + o.configuration_reads,
            contact_reads: self.contact_reads + o.contact_reads,
            writes: self.writes + o.writes,
            other: self.other + o.other,
        }
    }
}
