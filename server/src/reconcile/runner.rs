//! The job runner: leases durable jobs from the store, hands each to the code of its kind
//! (`binding` for syncs and device writes, `tickets` for tickets), and records the outcome. It
//! owns the process's ConnectWise clients, one per integration (`Instance`), so each instance
//! has its own rate budget and its own Retry-After pauses: one failing never slows another.
//!
//! - Transient failures come back with exponential backoff and jitter (and never sooner than
//!   ConnectWise's Retry-After); permanent ones wait for a person, with ConnectWise's words.
//! - A running job's lease is renewed while it runs; a server that dies loses its leases, and
//!   another server (or this one, restarted) takes the jobs over.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::time::Duration;

use connectwise_client::Client;
use tokio::sync::{Mutex, Notify, watch};
use tokio::task::JoinSet;

pub use super::job_error::JobError;
use super::jobs::Work;
use crate::ids::IntegrationId;
use crate::sealing::ServerKey;
use crate::store::{Backend, Job, Store, now_ms};

/// Tunables of the runner.
#[derive(Clone, Debug)]
pub struct EngineConfig {
    /// Jobs carried out at once (the client also caps requests in flight).
    pub workers: usize,
    /// How long a leased job stays ours without a renewal.
    pub lease: Duration,
    /// A full re-sync of every company this often (drift repair).
    pub resync_every: Duration,
    /// How often an idle runner looks for jobs queued by another process.
    pub poll: Duration,
    /// First retry delay; it doubles with each attempt, up to `retry_max`.
    pub retry_base: Duration,
    pub retry_max: Duration,
    /// ConnectWise requests a minute from this server (ConnectWise throttles near 1,000 per
    /// integration: raise it only where the instance allows more).
    pub cw_requests_per_minute: u32,
    /// ConnectWise requests in flight at once.
    pub cw_concurrency: usize,
    /// The console's address as ConnectWise users reach it (`managementLink`); none: no link.
    pub public_url: Option<String>,
    /// Days history and done jobs are kept (0: forever; retention.rs).
    pub retention_days: u32,
    pub job_retention_days: u32,
}

impl Default for EngineConfig {
    fn default() -> EngineConfig {
        EngineConfig {
            workers: 16,
            lease: Duration::from_secs(60),
            resync_every: Duration::from_secs(3 * 3600),
            poll: Duration::from_secs(1),
            retry_base: Duration::from_secs(5),
            retry_max: Duration::from_secs(15 * 60),
            cw_requests_per_minute: 1000,
            cw_concurrency: 16,
            public_url: None,
            retention_days: 90,
            job_retention_days: 7,
        }
    }
}

/// What the shared ConnectWise client counted since this process started.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ClientStats {
    /// Requests by HTTP status (0: no answer).
    pub answers: Vec<(u16, u64)>,
    /// Requests that waited for the rate limiter.
    pub rate_limit_waits: u64,
    /// 429s whose `Retry-After` paused every request of the client.
    pub retry_after_pauses: u64,
    /// Requests that waited for such a pause to end.
    pub paused_requests: u64,
}

/// Counters for tests, benchmarks and (later) metrics.
#[derive(Debug, Default)]
pub struct EngineStats {
    pub jobs_done: AtomicU64,
    pub jobs_retried: AtomicU64,
    pub jobs_failed: AtomicU64,
    pub writes: AtomicU64,
}

/// The delay before attempt `attempts + 1`: `base * 2^(attempts-1)`, at most `max`, scaled by
/// `jitter` (0.0–1.0 maps to 50–100 %) so that many jobs failing together do not return together.
pub fn backoff(attempts: i64, base: Duration, max: Duration, jitter: f64) -> Duration {
    let exp = attempts.clamp(1, 30) as u32 - 1;
    let full = base.saturating_mul(1u32 << exp.min(20)).min(max);
    full.mul_f64(0.5 + 0.5 * jitter.clamp(0.0, 1.0))
}

fn random_unit() -> f64 {
    let mut b = [0u8; 4];
    match getrandom::fill(&mut b) {
        Ok(()) => f64::from(u32::from_le_bytes(b)) / f64::from(u32::MAX),
        Err(_) => 1.0,
    }
}

pub struct Engine {
    pub(super) store: Store,
    pub(super) key: Arc<ServerKey>,
    pub(super) config: EngineConfig,
    /// This process's name in leases.
    owner: String,
    lease_batches: AtomicU64,
    wake: Notify,
    /// Each integration's instance, made for its saved credentials (and made again when they
    /// change), with the credentials' version it was made for.
    pub(super) instances: Mutex<HashMap<IntegrationId, (String, Instance)>>,
    /// When history was last pruned (ms): at most hourly.
    last_prune: AtomicI64,
    pub stats: EngineStats,
}

/// One ConnectWise instance as the engine talks to it: its client (its own rate budget and
/// Retry-After pauses), the signing keys of its callbacks, and its companies' contacts (company
/// ids repeat across instances, so each keeps its own).
#[derive(Clone)]
pub struct Instance {
    pub id: IntegrationId,
    /// Its request budget a minute (its own, else the server's).
    pub requests_per_minute: u32,
    pub client: Client,
    pub(super) callback_keys: Arc<super::callbacks::KeyCache>,
    pub(super) contacts: Arc<super::contact_lookup::ContactCache>,
    pub(super) manufacturers: Arc<super::manufacturers::ManufacturerCache>,
}

pub use super::resync::LAST_FULL_SYNC;
pub use super::ticket_watch::LAST_TICKET_POLL;

impl Engine {
    pub fn new(store: Store, key: Arc<ServerKey>, config: EngineConfig) -> Arc<Engine> {
        let suffix = crate::secrets::random_secret("")
            .map(|s| s.chars().take(8).collect::<String>())
            .unwrap_or_else(|_| now_ms().to_string());
        Arc::new(Engine {
            store,
            key,
            config,
            owner: format!("{}-{suffix}", std::process::id()),
            lease_batches: AtomicU64::new(0),
            wake: Notify::new(),
            instances: Mutex::new(HashMap::new()),
            last_prune: AtomicI64::new(0),
            stats: EngineStats::default(),
        })
    }

    /// The ConnectWise requests a minute this server allows itself.
    pub fn cw_requests_per_minute(&self) -> u32 {
        self.config.cw_requests_per_minute
    }

    /// Looks for jobs now rather than at the next poll (after queueing some in this process).
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// Runs jobs until `stop` turns true (or its sender is dropped), then lets running jobs
    /// finish for up to the lease time; what is cut off returns to the queue when its lease runs
    /// out, or at the next start.
    pub async fn run(self: Arc<Self>, mut stop: watch::Receiver<bool>) {
        if self.store.backend() == Backend::Sqlite {
            // SQLite belongs to this one server: nobody else can be running its jobs.
            match self.store.requeue_running().await {
                Ok(0) => {}
                Ok(n) => tracing::info!(jobs = n, "jobs cut off by the last stop are queued again"),
                Err(e) => tracing::warn!(error = %e, "cannot queue interrupted jobs again"),
            }
        }
        let mut running: JoinSet<()> = JoinSet::new();
        let mut next_housekeeping = tokio::time::Instant::now();
        loop {
            if *stop.borrow() {
                break;
            }
            if tokio::time::Instant::now() >= next_housekeeping {
                self.housekeeping().await;
                next_housekeeping = tokio::time::Instant::now() + Duration::from_secs(30);
            }
            let free = self.config.workers.saturating_sub(running.len());
            let mut leased = 0;
            if free > 0 {
                let batch = self.lease_batches.fetch_add(1, Ordering::Relaxed);
                let owner = format!("{}#{batch}", self.owner);
                match self
                    .store
                    .lease_jobs(
                        &owner,
                        now_ms(),
                        self.config.lease.as_millis() as i64,
                        free as i64,
                    )
                    .await
                {
                    Ok(jobs) => {
                        leased = jobs.len();
                        for job in jobs {
                            running.spawn(self.clone().execute(job, owner.clone()));
                        }
                    }
                    Err(e) => tracing::warn!(error = %e, "cannot lease jobs"),
                }
            }
            if leased > 0 && running.len() < self.config.workers {
                continue;
            }
            tokio::select! {
                _ = running.join_next(), if !running.is_empty() => {}
                _ = self.wake.notified() => {}
                _ = tokio::time::sleep(self.config.poll) => {}
                // A dropped sender can never say stop again: treat it as stop rather than spin.
                changed = stop.changed() => {
                    if changed.is_err() {
                        break;
                    }
                }
            }
        }
        let drain = async { while running.join_next().await.is_some() {} };
        if tokio::time::timeout(self.config.lease, drain)
            .await
            .is_err()
        {
            tracing::warn!("stopping with jobs still running; they return to the queue");
        }
    }

    /// The periodic re-sync and the pruning of finished jobs.
    async fn housekeeping(&self) {
        let now = now_ms();
        super::resync::periodic(
            &self.store,
            self.config.cw_requests_per_minute,
            self.config.resync_every,
            now,
        )
        .await;
        self.schedule_ticket_polls(now).await;
        super::retention::prune_history(
            &self.store,
            (self.config.retention_days, self.config.job_retention_days),
            &self.last_prune,
            now,
        );
    }

    /// Carries one leased job out, renewing its lease meanwhile, and records the outcome.
    async fn execute(self: Arc<Self>, job: Job, owner: String) {
        let work = self.perform(&job);
        tokio::pin!(work);
        let lease_ms = self.config.lease.as_millis() as i64;
        let mut beat = tokio::time::interval(self.config.lease / 3);
        beat.tick().await;
        let outcome = loop {
            tokio::select! {
                r = &mut work => break Some(r),
                _ = beat.tick() => {
                    match self.store.renew_lease(job.id, &owner, now_ms() + lease_ms).await {
                        Ok(true) => {}
                        // Another server took the job over: stop here, it carries on.
                        Ok(false) => break None,
                        Err(e) => tracing::warn!(job = job.id, error = %e, "cannot renew a job's lease"),
                    }
                }
            }
        };
        let recorded = match outcome {
            None => {
                tracing::warn!(
                    job = job.id,
                    "lost the lease of a running job; left to its new owner"
                );
                return;
            }
            Some(Ok(())) => {
                self.stats.jobs_done.fetch_add(1, Ordering::Relaxed);
                self.store.complete_job(job.id, &owner).await
            }
            Some(Err(JobError::Transient {
                message,
                retry_after,
            })) => {
                self.stats.jobs_retried.fetch_add(1, Ordering::Relaxed);
                let delay = backoff(
                    job.attempts,
                    self.config.retry_base,
                    self.config.retry_max,
                    random_unit(),
                )
                .max(retry_after.unwrap_or_default());
                tracing::info!(job = job.id, kind = %job.kind, attempts = job.attempts, retry_in_ms = delay.as_millis() as u64, error = %crate::logged::escaped(&message, 2000), "job will be retried");
                let at = now_ms() + delay.as_millis() as i64;
                self.store
                    .fail_job(job.id, &owner, &message, Some(at))
                    .await
            }
            Some(Err(JobError::Permanent(message))) => {
                self.stats.jobs_failed.fetch_add(1, Ordering::Relaxed);
                tracing::warn!(job = job.id, kind = %job.kind, error = %crate::logged::escaped(&message, 2000), "job failed; it waits for a person");
                self.store.fail_job(job.id, &owner, &message, None).await
            }
            Some(Err(JobError::Fault(message))) => {
                self.stats.jobs_retried.fetch_add(1, Ordering::Relaxed);
                tracing::error!(job = job.id, kind = %job.kind, error = %crate::logged::escaped(&message, 2000), "job failed by a fault in Bindery (please report it); it is tried again later");
                let at = now_ms() + self.config.retry_max.as_millis() as i64;
                self.store
                    .fail_job(job.id, &owner, &message, Some(at))
                    .await
            }
        };
        if let Err(e) = recorded {
            tracing::warn!(job = job.id, error = %e, "cannot record a job's outcome; it runs again after its lease");
        }
    }

    async fn perform(&self, job: &Job) -> Result<(), JobError> {
        Work::from_job(&job.kind, &job.payload)
            .map_err(JobError::Fault)?
            .process(self, job.attempts)
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_its_cap_and_jitter_stays_within_half() {
        let (base, max) = (Duration::from_secs(5), Duration::from_secs(900));
        assert_eq!(backoff(1, base, max, 1.0), Duration::from_secs(5));
        assert_eq!(backoff(2, base, max, 1.0), Duration::from_secs(10));
        assert_eq!(backoff(4, base, max, 1.0), Duration::from_secs(40));
        assert_eq!(backoff(30, base, max, 1.0), max);
        assert_eq!(backoff(2, base, max, 0.0), Duration::from_secs(5));
        assert_eq!(
            backoff(0, base, max, 1.0),
            base,
            "a first attempt waits the base"
        );
        for _ in 0..100 {
            let d = backoff(3, base, max, random_unit());
            assert!(d >= Duration::from_secs(10) && d <= Duration::from_secs(20));
        }
    }
}
