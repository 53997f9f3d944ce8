//! Binding: the jobs that keep each device's ConnectWise configuration in line. It decides
//! nothing itself (`plan`, `adoption` and `company` do); it reads, writes and records.
//!
//! - A sync reads a company's configurations in one paged query, plans every device at once,
//!   and queues one write job per device that needs one, carrying what it read, so the write
//!   needs no read of its own.
//! - A write job that is retried (a timeout, a lost reply, a crash) looks the device up again
//!   first, so a create or an adoption that did land is found, never repeated.
//! - A device that waits for a person (several candidates, a possible reinstall) is recorded
//!   as such, with nothing written.

use connectwise_client::{Client, Error as CwError};

use super::adoption::{Candidacy, MatchKey};
use super::binding_records::{needs_person, same_binding, settle};
use super::fields;
use super::job_error::JobError;
use super::plan::{self, Action, BindingSettings, Desired, Observed, PersonChoice};
use super::queue::{self, BindDevice, Snapshot, WRITE_VISIBLE_AFTER_MS};
use super::runner::Engine;
use super::sync;
use crate::ids::{CompanyId, IntegrationId};
use crate::store::{Binding, BindingState, DeviceTarget, now_ms};

impl Engine {
    /// One paged read of the company's configurations, planned for every device at once (see
    /// `company`); then, per device, either nothing (in line), a binding record (in line, or
    /// waiting for a person) or a queued write carrying what the read showed.
    pub(super) async fn sync_company(
        &self,
        integration: IntegrationId,
        company_id: CompanyId,
    ) -> Result<(), JobError> {
        let settings = self.settings(integration).await?;
        let instance = self.instance(integration).await?;
        let (targets, unreadable) = sync::split_readable(
            sync::instance_targets(&self.store, integration, company_id).await?,
        );
        for t in &unreadable {
            self.unreadable_facts(t).await?;
        }
        let read = sync::read_company(
            &self.store,
            &instance.client,
            integration,
            company_id,
            &targets,
            &settings,
            self.extras_source(&instance, &settings.field_map),
        )
        .await?;
        let (mut jobs, mut pending) = (Vec::new(), Vec::new());
        let (mut settled, mut waiting) = (0usize, 0usize);
        for (t, d) in targets.iter().zip(read.plan.devices) {
            let recent_write = t
                .binding
                .as_ref()
                .and_then(|b| b.write_started_ms)
                .is_some_and(|w| w >= read.taken_ms - WRITE_VISIBLE_AFTER_MS);
            // Its configuration in another instance is deactivated by its own job.
            let leaving = t.leaving().is_some();
            match &d.action {
                // A recent write's job records its own outcome; this read may predate it.
                _ if recent_write && !d.action.writes() => {}
                Action::InLine | Action::NeedsPerson { .. } if leaving => {
                    jobs.push(queue::bind_job(t.device_id, None));
                    pending.push(t.device_id);
                }
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
                        integration,
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
            %integration,
            company = %company_id,
            configurations = read.configurations,
            devices = targets.len(),
            writes_queued = jobs.len(),
            settled,
            waiting_for_a_person = waiting,
            unreadable_facts = unreadable.len(),
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
    pub(super) async fn bind_device(&self, job: BindDevice, attempts: i64) -> Result<(), JobError> {
        let Some(target) = self.store.device_target(job.device_id).await? else {
            return Ok(()); // the device was deleted: nothing to bind
        };
        match self
            .bind_target(&target, job.snapshot.map(|s| *s), attempts)
            .await
        {
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
                // What is recorded stays with the instance it is in.
                let integration_id = previous
                    .as_ref()
                    .filter(|b| b.company_id.is_some())
                    .map_or(target.instance(), |b| b.integration_id);
                let record = Binding {
                    device_id: target.device_id,
                    state: if e.is_failure() {
                        BindingState::Failed
                    } else {
                        BindingState::Pending
                    },
                    integration_id,
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

    /// A device whose stored facts cannot be read: it shows why (failed, with its own error)
    /// and its next check-in writes its facts again, which queues its binding. Nothing else
    /// waits on it. Returns the error its job reports.
    async fn unreadable_facts(&self, t: &DeviceTarget) -> Result<JobError, JobError> {
        let e = sync::unreadable(t);
        self.store.forget_facts_hash(t.device_id).await?;
        let b = Binding {
            device_id: t.device_id,
            state: BindingState::Failed,
            integration_id: t
                .binding
                .as_ref()
                .map_or(t.instance(), |b| b.integration_id),
            company_id: t.binding.as_ref().and_then(|b| b.company_id),
            configuration_id: t.binding.as_ref().and_then(|b| b.configuration_id),
            error: Some(e.message().to_owned()),
            updated_ms: now_ms(),
            write_started_ms: None,
            candidates: Vec::new(),
        };
        if !same_binding(t.binding.as_ref(), &b) {
            self.store.set_binding(&b).await?;
        }
        Ok(e)
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
        settings: &BindingSettings,
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
            (PersonChoice::Auto, None) if !settings.adoption.any() => {
                return Ok(Some(Candidacy::Nothing));
            }
            (PersonChoice::Auto, None) => return Ok(None),
        };
        // Read the configuration again: it must still be in the company and nobody's.
        let fresh = match client.get_configuration(pick.0.0).await {
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

    /// What is known of the device's configurations and candidates: the snapshot when it can be
    /// trusted, else a fresh lookup. `None` when only the company's read can tell whether
    /// something made by others is this device: a sync of the company is then queued, which
    /// plans the device with every other one.
    async fn known(
        &self,
        client: &Client,
        target: &DeviceTarget,
        snapshot: Option<Snapshot>,
        attempts: i64,
        settings: &BindingSettings,
    ) -> Result<Option<(Vec<Observed>, Candidacy)>, JobError> {
        let write_started = target.binding.as_ref().and_then(|b| b.write_started_ms);
        if let Some(s) = snapshot.as_ref()
            && s.usable(attempts, write_started)
        {
            return Ok(snapshot.map(|s| (s.observed, s.candidacy)));
        }
        let observed = self.lookup(client, target, settings).await?;
        let from_read = snapshot.map(|s| s.candidacy);
        match self
            .candidacy(client, target, &observed, from_read, settings)
            .await?
        {
            Some(c) => Ok(Some((observed, c))),
            None => {
                if let Some(company) = target.company_id {
                    queue::sync_company(&self.store, target.instance(), company).await?;
                    self.wake();
                }
                Ok(None)
            }
        }
    }

    /// Returns true when the device is settled (bound or inactive), false when it waits (for a
    /// person, or for the company sync it queued). A device that moved to another instance has
    /// its configuration in the old one deactivated first; a snapshot is used only in the
    /// instance it was read from.
    async fn bind_target(
        &self,
        target: &DeviceTarget,
        snapshot: Option<Snapshot>,
        attempts: i64,
    ) -> Result<bool, JobError> {
        let of = |i: IntegrationId| snapshot.clone().filter(|s| s.integration == i);
        if let Some(old) = target.leaving() {
            let gone = DeviceTarget {
                integration_id: None,
                company_id: None,
                site_id: None,
                ..target.clone()
            };
            let instance = self.instance(old).await?;
            if self.bind_in(&gone, &instance, of(old), attempts).await? {
                // Done there: a read of its new instance need not wait for those writes to show.
                self.store.forget_write_started(target.device_id).await?;
            }
        }
        let here = target.instance();
        let instance = self.instance(here).await?;
        self.bind_in(target, &instance, of(here), attempts).await
    }

    /// `bind_target` within one instance.
    async fn bind_in(
        &self,
        target: &DeviceTarget,
        instance: &super::runner::Instance,
        snapshot: Option<Snapshot>,
        attempts: i64,
    ) -> Result<bool, JobError> {
        let settings = self.settings(instance.id).await?;
        let client = &instance.client;
        if target.facts_unreadable {
            return Err(self.unreadable_facts(target).await?);
        }
        let facts = &target.facts;
        let Some((mut observed, candidacy)) = self
            .known(client, target, snapshot, attempts, &settings)
            .await?
        else {
            return Ok(false);
        };
        let hold = target.hold();
        let extras = self
            .wanted_extras(instance, &settings.field_map, target, &observed)
            .await;
        let desired = Desired {
            agent_id: &target.agent_id,
            facts,
            company_id: target.company_id,
            choice: target.choice,
            hold: hold.as_deref(),
            extras: &extras,
        };
        let mut remembered = target.written.clone();
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
            self.write_and_see(
                client,
                target,
                &action,
                &settings,
                &mut observed,
                &mut remembered,
            )
            .await?;
        }
        Err(JobError::Permanent(
            "the configuration keeps changing under Bindery; look at it in ConnectWise".into(),
        ))
    }
}
