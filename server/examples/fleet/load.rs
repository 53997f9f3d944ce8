//! Check-ins as a fleet sends them: open loop, at a fixed rate whatever the server's latency
//! (each device once per round, in turn), spread over the servers, a set share carrying
//! changed facts. Latencies are collected per window so growth over time shows.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use tokio::sync::{Mutex, Semaphore};

use crate::seed::{Agent, facts};

/// What one load run asks for.
pub struct Load {
    pub per_second: f64,
    pub duration: Duration,
    /// Check-ins in 100 that carry changed facts.
    pub changed_percent: u64,
}

/// What the load run counted. Latencies are in microseconds, from sending to the whole answer.
#[derive(Default)]
pub struct Tally {
    pub sent: AtomicU64,
    pub changed: AtomicU64,
    pub failed: AtomicU64,
    /// The latest a check-in left after its scheduled time (the load generator falling behind).
    pub worst_lag_us: AtomicU64,
    window: Mutex<Vec<u32>>,
}

impl Tally {
    /// The latencies since the last call.
    pub async fn take_window(&self) -> Vec<u32> {
        std::mem::take(&mut *self.window.lock().await)
    }
}

/// The facts version device `i` sends in round `round` when `changed_percent` of check-ins
/// change: each device changes once every 100 / percent rounds, devices taking turns.
fn version(i: usize, round: u64, changed_percent: u64) -> u64 {
    if changed_percent == 0 {
        return 0;
    }
    let every = (100 / changed_percent).max(1);
    (round + i as u64 % every) / every
}

/// Runs `load` against `servers` (each an agent API base URL) until its duration is over;
/// `tally` fills meanwhile. Never more than 2,048 requests in flight.
pub async fn run(
    http: reqwest::Client,
    servers: Arc<Vec<String>>,
    agents: Arc<Vec<Agent>>,
    load: Load,
    tally: Arc<Tally>,
) {
    let in_flight = Arc::new(Semaphore::new(2048));
    let start = tokio::time::Instant::now();
    let period = Duration::from_secs_f64(1.0 / load.per_second);
    let mut tasks = tokio::task::JoinSet::new();
    for k in 0u64.. {
        let due = start + period.mul_f64(k as f64);
        if due.duration_since(start) >= load.duration {
            break;
        }
        tokio::time::sleep_until(due).await;
        let permit = in_flight
            .clone()
            .acquire_owned()
            .await
            .expect("never closed");
        let lag = due.elapsed().as_micros() as u64;
        tally.worst_lag_us.fetch_max(lag, Ordering::Relaxed);
        let i = (k % agents.len() as u64) as usize;
        let round = k / agents.len() as u64;
        let now = version(i, round, load.changed_percent);
        let changed = round > 0 && now != version(i, round - 1, load.changed_percent);
        let body = serde_json::json!({
            "agentVersion": crate::AGENT_VERSION,
            "facts": facts(i, now),
        })
        .to_string();
        let url = format!("{}/checkin", servers[k as usize % servers.len()]);
        let (http, agents, tally) = (http.clone(), agents.clone(), tally.clone());
        tasks.spawn(async move {
            let sent = Instant::now();
            let ok = match http
                .post(&url)
                .header("authorization", &agents[i].authorization)
                .header("content-type", "application/json")
                .body(body)
                .send()
                .await
            {
                Ok(r) => r.status().is_success() && r.bytes().await.is_ok(),
                Err(_) => false,
            };
            let took = sent.elapsed().as_micros().min(u128::from(u32::MAX)) as u32;
            tally.sent.fetch_add(1, Ordering::Relaxed);
            tally
                .changed
                .fetch_add(u64::from(changed), Ordering::Relaxed);
            if ok {
                tally.window.lock().await.push(took);
            } else {
                tally.failed.fetch_add(1, Ordering::Relaxed);
            }
            drop(permit);
        });
        // Reap finished tasks as we go, so the set stays small.
        while tasks.try_join_next().is_some() {}
    }
    while tasks.join_next().await.is_some() {}
}

/// The `p`-th percentile (0.0–1.0) of sorted latencies, in ms.
pub fn percentile_ms(sorted: &[u32], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let at = ((sorted.len() as f64 * p) as usize).min(sorted.len() - 1);
    f64::from(sorted[at]) / 1000.0
}
