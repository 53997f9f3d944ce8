//! The job runner: leases durable jobs from the store, carries them out through the ConnectWise
//! client, and records each device's binding. It decides nothing itself: `plan` does.
//!
//! - A sync reads a company's configurations in one paged query and queues one write job per
//!   device that needs one, carrying what it read, so the write needs no read of its own.
//! - A write job that is retried (a timeout, a lost reply, a crash) looks the device up again
//!   first, so a create that did land is found, never repeated.
//! - Transient failures come back with exponential backoff and jitter (and never sooner than
//!   ConnectWise's Retry-After); permanent ones wait for a person, with ConnectWise's words.
//! - A running job's lease is renewed while it runs; a server that dies loses its leases, and
//!   another server (or this one, restarted) takes the jobs over.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use bindery_shared::DeviceFacts;
use connectwise_client::conditions::Op;
use connectwise_client::{Client, Condition, Error as CwError, ListQuery};
use tokio::sync::{Mutex, Notify, watch};
use tokio::task::JoinSet;

use super::adoption::{Candidacy, MatchKey};
use super::fields;
pub use super::job_error::JobError;
use super::plan::{self, Action, BindingSettings, Desired, Observed, PersonChoice};
use super::queue::{self, BindDevice, Snapshot, SyncCompany, TicketWork, WRITE_VISIBLE_AFTER_MS};
use super::sync::{self, device_facts};
use super::tickets;
use crate::integration::{self, IntegrationError};
use crate::sealing::ServerKey;
use crate::store::{Backend, Binding, BindingState, DeviceTarget, Job, Store, now_ms};

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
    /// ConnectWise requests a minute from this server. ConnectWise throttles around 1,000 per
    /// integration; raise it only where the instance allows more (on-premise, a raised limit).
    pub cw_requests_per_minute: u32,
    /// ConnectWise requests in flight at once.
    pub cw_concurrency: usize,
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
    store: Store,
    key: Arc<ServerKey>,
    config: EngineConfig,
    /// This process's name in leases.
    owner: String,
    lease_batches: AtomicU64,
    wake: Notify,
    /// The client for the saved credentials (rebuilt when they change), so its rate limiter and
    /// codebase lookup are shared by every job.
    client: Mutex<Option<(String, Client)>>,
    pub stats: EngineStats,
}

/// The setting holding when the last full re-sync was queued (ms since the epoch).
pub const LAST_FULL_SYNC: &str = "reconcile.last_full_sync_ms";

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
            client: Mutex::new(None),
            stats: EngineStats::default(),
        })
    }

    /// The shared ConnectWise client's figures, once it has been used.
    pub async fn client_stats(&self) -> Option<ClientStats> {
        let cached = self.client.lock().await;
        cached.as_ref().map(|(_, c)| {
            let (pauses, paused_requests) = c.retry_after_pauses();
            ClientStats {
                answers: c.answers_by_status(),
                rate_limit_waits: c.rate_limit_waits(),
                retry_after_pauses: pauses,
                paused_requests,
            }
        })
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
        let last = match self.store.setting(LAST_FULL_SYNC).await {
            Ok(v) => v.and_then(|v| v.parse::<i64>().ok()).unwrap_or(0),
            Err(e) => {
                tracing::warn!(error = %e, "cannot read the last re-sync time");
                return;
            }
        };
        if now - last >= self.config.resync_every.as_millis() as i64 {
            let result = async {
                self.store
                    .put_setting(LAST_FULL_SYNC, &now.to_string())
                    .await?;
                queue::sync_all(&self.store).await
            }
            .await;
            match result {
                Ok(n) => tracing::info!(companies = n, "periodic re-sync queued"),
                Err(e) => tracing::warn!(error = %e, "cannot queue the periodic re-sync"),
            }
        }
        if let Err(e) = self.store.purge_done_jobs(now - 7 * 86_400_000).await {
            tracing::warn!(error = %e, "cannot prune finished jobs");
        }
        if let Err(e) = self.store.purge_activity(now - 30 * 86_400_000).await {
            tracing::warn!(error = %e, "cannot prune the activity log");
        }
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
                tracing::info!(job = job.id, kind = %job.kind, attempts = job.attempts, retry_in_ms = delay.as_millis() as u64, error = %message, "job will be retried");
                let at = now_ms() + delay.as_millis() as i64;
                self.store
                    .fail_job(job.id, &owner, &message, Some(at))
                    .await
            }
            Some(Err(JobError::Permanent(message))) => {
                self.stats.jobs_failed.fetch_add(1, Ordering::Relaxed);
                tracing::warn!(job = job.id, kind = %job.kind, error = %message, "job failed; it waits for a person");
                self.store.fail_job(job.id, &owner, &message, None).await
            }
        };
        if let Err(e) = recorded {
            tracing::warn!(job = job.id, error = %e, "cannot record a job's outcome; it runs again after its lease");
        }
    }

    async fn perform(&self, job: &Job) -> Result<(), JobError> {
        match job.kind.as_str() {
            queue::SYNC_COMPANY => {
                let p: SyncCompany = decode(&job.payload)?;
                self.sync_company(p.company_id).await
            }
            queue::BIND_DEVICE => {
                let p: BindDevice = decode(&job.payload)?;
                self.bind_device(p, job.attempts).await
            }
            queue::TICKET => {
                let p: TicketWork = decode(&job.payload)?;
                let connection = async {
                    let choices = integration::choices(&self.store).await?.ok_or_else(|| {
                        JobError::Permanent(
                            "choose the ticket boards and statuses in the ConnectWise settings first"
                                .into(),
                        )
                    })?;
                    Ok((self.shared_client().await?, choices))
                }
                .await;
                tickets::work(&self.store, connection, p.ticket_id).await
            }
            other => Err(JobError::Permanent(format!(
                "unknown job kind {other:?} (written by a newer server?)"
            ))),
        }
    }

    /// The ConnectWise client for the saved credentials, shared by every job and by the admin
    /// paths of this process (one rate budget), rebuilt when the credentials change.
    pub async fn shared_client(&self) -> Result<Client, JobError> {
        let version = integration::credentials_version(&self.store)
            .await?
            .ok_or(IntegrationError::NotConfigured)?;
        let mut cached = self.client.lock().await;
        if let Some((v, c)) = cached.as_ref()
            && *v == version
        {
            return Ok(c.clone());
        }
        let mut config = integration::client_config(&self.store, &self.key).await?;
        config.requests_per_minute = self.config.cw_requests_per_minute.max(1);
        config.max_concurrency = self.config.cw_concurrency.max(1);
        let client = Client::new(config).map_err(|e| JobError::Permanent(e.to_string()))?;
        *cached = Some((version, client.clone()));
        Ok(client)
    }

    async fn settings(&self) -> Result<BindingSettings, JobError> {
        integration::choices(&self.store)
            .await?
            .map(|c| c.binding_settings())
            .ok_or_else(|| {
                JobError::Permanent(
                    "choose the configuration statuses and type in the ConnectWise settings first"
                        .into(),
                )
            })
    }

    /// One paged read of the company's configurations, planned for every device at once (see
    /// `company`); then, per device, either nothing (in line), a binding record (in line, or
    /// waiting for a person) or a queued write carrying what the read showed.
    async fn sync_company(&self, company_id: i64) -> Result<(), JobError> {
        let settings = self.settings().await?;
        let client = self.shared_client().await?;
        let targets = self.store.company_targets(company_id).await?;
        let read =
            sync::read_company(&self.store, &client, company_id, &targets, &settings).await?;
        let (mut jobs, mut pending) = (Vec::new(), Vec::new());
        let (mut settled, mut waiting) = (0usize, 0usize);
        for (t, d) in targets.iter().zip(read.plan.devices) {
            let recent_write = t
                .binding
                .as_ref()
                .and_then(|b| b.write_started_ms)
                .is_some_and(|w| w >= read.taken_ms - WRITE_VISIBLE_AFTER_MS);
            match &d.action {
                // A recent write's job records its own outcome; this read may predate it.
                _ if recent_write && !d.action.writes() => {}
                Action::InLine => {
                    if let Some(b) = settle(t, &d.observed, &settings)
                        && !same_binding(t.binding.as_ref(), &b)
                    {
                        self.store.set_binding(&b).await?;
                        settled += 1;
                    }
                }
                Action::NeedsPerson { candidates, reason } => {
                    let b = needs_person(t, candidates, reason);
                    if !same_binding(t.binding.as_ref(), &b) {
                        self.store.set_binding(&b).await?;
                    }
                    waiting += 1;
                }
                _ => {
                    // The read covers the device only if it should be bound here or nowhere.
                    let covered = t.company_id.is_none_or(|c| c == company_id);
                    let snapshot = (covered && !recent_write).then(|| Snapshot {
                        taken_ms: read.taken_ms,
                        observed: d.observed.clone(),
                        candidacy: d.candidacy.clone(),
                    });
                    jobs.push(queue::bind_job(t.device_id, snapshot));
                    pending.push(t.device_id);
                }
            }
        }
        // Pending before queued: a write job that finishes at once must not have its result
        // overwritten by this mark.
        self.store.mark_pending(&pending).await?;
        self.store.enqueue_many(&jobs).await?;
        tracing::info!(
            company = company_id,
            configurations = read.configurations,
            devices = targets.len(),
            writes_queued = jobs.len(),
            settled,
            waiting_for_a_person = waiting,
            "company synced"
        );
        if !jobs.is_empty() {
            self.wake();
        }
        Ok(())
    }

    /// Brings one device's configurations in line, one planned write at a time, and records
    /// its binding: bound, inactive, waiting for a person, or (on failure) pending or failed
    /// with the error.
    async fn bind_device(&self, job: BindDevice, attempts: i64) -> Result<(), JobError> {
        let Some(target) = self.store.device_target(job.device_id).await? else {
            return Ok(()); // the device was deleted: nothing to bind
        };
        match self.bind_target(&target, job.snapshot, attempts).await {
            Ok(true) => {
                // Tickets opened before the device had a configuration get it attached now.
                let waiting = self.store.tickets_to_attach(target.device_id).await?;
                if !waiting.is_empty() {
                    let jobs: Vec<_> = waiting.into_iter().map(queue::ticket_job).collect();
                    self.store.enqueue_many(&jobs).await?;
                    self.wake();
                }
                Ok(())
            }
            Ok(false) => Ok(()),
            Err(e) => {
                let previous = target.binding.clone();
                let record = Binding {
                    device_id: target.device_id,
                    state: match e {
                        JobError::Transient { .. } => BindingState::Pending,
                        JobError::Permanent(_) => BindingState::Failed,
                    },
                    company_id: previous
                        .as_ref()
                        .and_then(|b| b.company_id)
                        .or(target.company_id),
                    configuration_id: previous.as_ref().and_then(|b| b.configuration_id),
                    error: Some(e.message().to_owned()),
                    updated_ms: now_ms(),
                    write_started_ms: None,
                    candidates: Vec::new(),
                };
                self.store.set_binding(&record).await?;
                Err(e)
            }
        }
    }

    /// What the device could adopt, when its own configuration is not there: the candidacy a
    /// company read found (checked again if it may be stale), or a person's pick, read by id.
    /// `None` when only a company read can tell (a sync is queued for that).
    async fn candidacy(
        &self,
        client: &Client,
        target: &DeviceTarget,
        observed: &[Observed],
        snapshot: Option<Candidacy>,
    ) -> Result<Option<Candidacy>, JobError> {
        let Some(company_id) = target.company_id else {
            return Ok(Some(Candidacy::Nothing));
        };
        // Its own configuration there is the one, unless a person pointed it at another.
        let own = observed.iter().filter(|o| o.company_id == company_id);
        let pinned_elsewhere = match target.choice {
            PersonChoice::Adopt(id) => !observed.iter().any(|o| o.id == id),
            _ => false,
        };
        if own.count() > 0 && !pinned_elsewhere {
            return Ok(Some(Candidacy::Nothing));
        }
        let pick = match (target.choice, snapshot) {
            (PersonChoice::CreateNew, _) => return Ok(Some(Candidacy::Nothing)),
            (PersonChoice::Adopt(id), _) => (id, MatchKey::Person),
            (PersonChoice::Auto, Some(Candidacy::One { config, key })) => (config.id, key),
            (PersonChoice::Auto, Some(other)) => return Ok(Some(other)),
            (PersonChoice::Auto, None) if !self.settings().await?.adoption.any() => {
                return Ok(Some(Candidacy::Nothing));
            }
            (PersonChoice::Auto, None) => return Ok(None),
        };
        // Read the configuration again: it must still be in the company and nobody's.
        let fresh = match client.get_configuration(pick.0).await {
            Ok(c) => fields::observed(&c).zip(Some(c.device_identifier)),
            Err(CwError::NotFound { .. }) => None,
            Err(e) => return Err(e.into()),
        };
        let Some((config, ident)) = fresh else {
            return Ok(Some(Candidacy::Nothing));
        };
        let owned = match ident.as_deref().map(str::trim).filter(|i| !i.is_empty()) {
            Some(i) if i.eq_ignore_ascii_case(&target.agent_id) => false,
            Some(i) => !self
                .store
                .known_agent_ids(&[i.to_owned()])
                .await?
                .is_empty(),
            None => false,
        };
        Ok(Some(if config.company_id == company_id && !owned {
            Candidacy::One {
                config,
                key: pick.1,
            }
        } else {
            Candidacy::Nothing
        }))
    }

    /// Returns true when the device is settled (bound or inactive), false when it waits (for a
    /// person, or for the company sync it queued).
    async fn bind_target(
        &self,
        target: &DeviceTarget,
        snapshot: Option<Snapshot>,
        attempts: i64,
    ) -> Result<bool, JobError> {
        let settings = self.settings().await?;
        let client = self.shared_client().await?;
        let facts = device_facts(target)?;
        let write_started = target.binding.as_ref().and_then(|b| b.write_started_ms);
        let (mut observed, candidacy) = match snapshot {
            Some(s) if s.usable(attempts, write_started) => (s.observed, s.candidacy),
            stale => {
                let observed = self.lookup(&client, target).await?;
                let from_read = stale.map(|s| s.candidacy);
                match self
                    .candidacy(&client, target, &observed, from_read)
                    .await?
                {
                    Some(c) => (observed, c),
                    None => {
                        // Whether something made by others is this device, only the company's
                        // read can tell: the sync plans it with every other device.
                        if let Some(company) = target.company_id {
                            queue::sync_company(&self.store, company).await?;
                            self.wake();
                        }
                        return Ok(false);
                    }
                }
            }
        };
        let hold = target.hold();
        let desired = Desired {
            agent_id: &target.agent_id,
            facts: &facts,
            company_id: target.company_id,
            choice: target.choice,
            hold: hold.as_deref(),
        };
        // A device needs at most a deactivation elsewhere and one write here; a few more rounds
        // absorb configurations deleted by hand meanwhile.
        for _ in 0..6 {
            let action = plan::plan(&desired, &observed, &candidacy, &settings);
            match &action {
                Action::InLine => {
                    if let Some(b) = settle(target, &observed, &settings) {
                        self.store.set_binding(&b).await?;
                    }
                    return Ok(true);
                }
                Action::NeedsPerson { candidates, reason } => {
                    self.store
                        .set_binding(&needs_person(target, candidates, reason))
                        .await?;
                    return Ok(false);
                }
                _ => {}
            }
            self.store
                .mark_write_started(target.device_id, now_ms())
                .await?;
            self.stats.writes.fetch_add(1, Ordering::Relaxed);
            let written = self
                .write(&client, &action, &settings, &target.agent_id)
                .await;
            self.log_write(&action, target, &facts, &written).await;
            match written {
                Ok(Some(after)) => {
                    observed.retain(|o| o.id != after.id);
                    observed.push(after);
                }
                Ok(None) => {}
                // Deleted by hand: plan again without it (a create follows if it is needed).
                Err(CwError::NotFound { .. }) => {
                    if let Action::Update {
                        configuration_id, ..
                    }
                    | Action::Deactivate { configuration_id }
                    | Action::Adopt {
                        configuration_id, ..
                    } = action
                    {
                        observed.retain(|o| o.id != configuration_id);
                    }
                }
                Err(e) => return Err(e.into()),
            }
        }
        Err(JobError::Permanent(
            "the configuration keeps changing under Bindery; look at it in ConnectWise".into(),
        ))
    }

    /// Records a configuration write in the activity log.
    async fn log_write(
        &self,
        action: &Action,
        target: &DeviceTarget,
        facts: &DeviceFacts,
        written: &Result<Option<Observed>, CwError>,
    ) {
        let (name, known_id) = match action {
            Action::InLine | Action::NeedsPerson { .. } => return,
            Action::Create { .. } => ("configuration.create", None),
            Action::Adopt {
                configuration_id, ..
            } => ("configuration.adopt", Some(*configuration_id)),
            Action::Update {
                configuration_id, ..
            } => ("configuration.update", Some(*configuration_id)),
            Action::Deactivate { configuration_id } => {
                ("configuration.deactivate", Some(*configuration_id))
            }
        };
        let subject = match facts.get(bindery_shared::FactField::Name) {
            Some(n) => format!("{n} ({})", target.agent_id),
            None => target.agent_id.clone(),
        };
        let (cw_id, refusal) = match written {
            Ok(after) => (after.as_ref().map(|o| o.id).or(known_id), None),
            Err(e) => (known_id, Some(e.to_string())),
        };
        if let (
            Action::Adopt {
                key,
                fields,
                before,
                type_id,
                ..
            },
            None,
        ) = (action, &refusal)
        {
            // What changed, field by field, so a person can see and undo it.
            let detail = adoption_detail(*key, fields, before, *type_id);
            self.store
                .record_activity_detail(name, &subject, cw_id, true, Some(&detail))
                .await;
            return;
        }
        let outcome = refusal.as_deref().map_or(Ok(()), Err);
        self.store
            .record_activity(name, &subject, cw_id, outcome)
            .await;
    }

    /// The device's configurations (by deviceIdentifier) in the companies it is bound or to
    /// be bound in. Its agent id showing up anywhere else is never touched.
    async fn lookup(
        &self,
        client: &Client,
        target: &DeviceTarget,
    ) -> Result<Vec<Observed>, JobError> {
        let allowed: Vec<i64> = target
            .company_id
            .into_iter()
            .chain(target.binding.as_ref().and_then(|b| b.company_id))
            .collect();
        if allowed.is_empty() {
            return Ok(Vec::new());
        }
        let query = ListQuery::filter(
            Condition::text("deviceIdentifier", Op::Eq, &target.agent_id).map_err(CwError::from)?,
        )
        .fields(fields::READ_FIELDS);
        let found = client.configurations(&query).await?;
        Ok(found
            .iter()
            .filter(|c| {
                c.device_identifier
                    .as_deref()
                    .is_some_and(|d| d.eq_ignore_ascii_case(&target.agent_id))
            })
            .filter_map(fields::observed)
            .filter(|o| allowed.contains(&o.company_id))
            .collect())
    }

    /// Carries out one planned write; returns the configuration as it now is.
    async fn write(
        &self,
        client: &Client,
        action: &Action,
        settings: &BindingSettings,
        agent_id: &str,
    ) -> Result<Option<Observed>, CwError> {
        let written = match action {
            Action::InLine | Action::NeedsPerson { .. } => return Ok(None),
            Action::Adopt {
                configuration_id,
                fields: values,
                activate,
                type_id,
                ..
            } => {
                let mut ops = fields::patch(values, activate.then_some(settings.active_status_id));
                if let Some(t) = type_id {
                    ops.push(connectwise_client::model::PatchOp::replace_reference(
                        "type", *t,
                    ));
                }
                client.patch_configuration(*configuration_id, &ops).await?
            }
            Action::Create {
                company_id,
                type_id,
                fields: values,
            } => {
                let body = fields::new_configuration(
                    *company_id,
                    *type_id,
                    settings.active_status_id,
                    values,
                    agent_id,
                );
                let mut made = client.create_configuration(&body).await?;
                // What was sent is what is there, whatever the answer leaves out.
                made.company = made.company.or(body.company);
                made.status = made.status.or(body.status);
                made
            }
            Action::Update {
                configuration_id,
                fields: values,
                activate,
            } => {
                let ops = fields::patch(values, activate.then_some(settings.active_status_id));
                client.patch_configuration(*configuration_id, &ops).await?
            }
            Action::Deactivate { configuration_id } => {
                let ops = fields::patch(&[], Some(settings.inactive_status_id));
                client.patch_configuration(*configuration_id, &ops).await?
            }
        };
        Ok(fields::observed(&written))
    }
}

fn decode<T: serde::de::DeserializeOwned>(payload: &str) -> Result<T, JobError> {
    serde_json::from_str(payload)
        .map_err(|e| JobError::Permanent(format!("the job's payload is damaged: {e}")))
}

/// The binding record for a device whose configurations are in line.
fn settle(t: &DeviceTarget, observed: &[Observed], settings: &BindingSettings) -> Option<Binding> {
    let base = Binding {
        device_id: t.device_id,
        state: BindingState::Bound,
        company_id: None,
        configuration_id: None,
        error: None,
        updated_ms: now_ms(),
        write_started_ms: None,
        candidates: Vec::new(),
    };
    match t.company_id {
        Some(company) => plan::chosen(observed, company, settings).map(|o| Binding {
            company_id: Some(company),
            configuration_id: Some(o.id),
            ..base
        }),
        None => t.binding.as_ref().map(|b| Binding {
            state: BindingState::Inactive,
            company_id: b.company_id,
            configuration_id: b.configuration_id,
            ..base
        }),
    }
}

fn same_binding(current: Option<&Binding>, new: &Binding) -> bool {
    current.is_some_and(|c| {
        (
            c.state,
            c.company_id,
            c.configuration_id,
            &c.error,
            &c.candidates,
        ) == (
            new.state,
            new.company_id,
            new.configuration_id,
            &new.error,
            &new.candidates,
        )
    })
}

/// The record of a device that waits for a person, with the configurations it could be.
fn needs_person(t: &DeviceTarget, candidates: &[i64], reason: &str) -> Binding {
    Binding {
        device_id: t.device_id,
        state: BindingState::NeedsPerson,
        company_id: t.company_id,
        configuration_id: None,
        error: Some(reason.to_owned()),
        updated_ms: now_ms(),
        write_started_ms: None,
        candidates: candidates.to_vec(),
    }
}

/// An adoption for the activity log: the key, then each field as it was and as it is now.
fn adoption_detail(
    key: MatchKey,
    fields: &[(bindery_shared::FactField, String)],
    before: &[(bindery_shared::FactField, Option<String>)],
    type_id: Option<i64>,
) -> String {
    let mut parts = vec![format!("adopted by {}", key.as_str())];
    for (f, after) in fields {
        let was = before
            .iter()
            .find(|(g, _)| g == f)
            .and_then(|(_, v)| v.as_deref())
            .unwrap_or("");
        parts.push(format!("{}: {was:?} -> {after:?}", f.as_str()));
    }
    if let Some(t) = type_id {
        parts.push(format!("type -> {t}"));
    }
    parts.join("; ")
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
