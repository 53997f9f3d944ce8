//! The engine's ConnectWise instances, one per integration (`Instance`): each made for its
//! saved credentials and made again when they change, each with its own client (rate budget,
//! Retry-After pauses), callback signing keys and contacts, so one instance failing never slows
//! another.

use std::sync::Arc;

use connectwise_client::Client;

use super::job_error::JobError;
use super::plan::BindingSettings;
use super::runner::{ClientStats, Engine, Instance};
use crate::ids::IntegrationId;
use crate::integration::{self, IntegrationError};

impl Engine {
    /// The ConnectWise clients' figures summed over every integration, once one has been used.
    pub async fn client_stats(&self) -> Option<ClientStats> {
        let cached = self.instances.lock().await;
        let mut all: Option<ClientStats> = None;
        for (_, instance) in cached.values() {
            let c = &instance.client;
            let (pauses, paused_requests) = c.retry_after_pauses();
            let sum = all.get_or_insert_with(ClientStats::default);
            for (status, n) in c.answers_by_status() {
                match sum.answers.iter_mut().find(|(s, _)| *s == status) {
                    Some((_, total)) => *total += n,
                    None => sum.answers.push((status, n)),
                }
            }
            sum.answers.sort_unstable();
            sum.rate_limit_waits += c.rate_limit_waits();
            sum.retry_after_pauses += pauses;
            sum.paused_requests += paused_requests;
        }
        all
    }

    /// One integration's client's figures, once it has been used.
    pub async fn instance_stats(&self, id: IntegrationId) -> Option<ClientStats> {
        let cached = self.instances.lock().await;
        cached.get(&id).map(|(_, instance)| {
            let c = &instance.client;
            let (pauses, paused_requests) = c.retry_after_pauses();
            ClientStats {
                answers: c.answers_by_status(),
                rate_limit_waits: c.rate_limit_waits(),
                retry_after_pauses: pauses,
                paused_requests,
            }
        })
    }

    /// Integration `id`'s instance for its saved credentials, shared by every job and by the
    /// admin paths of this process (one rate budget per instance), made again when the
    /// credentials change.
    pub async fn instance(&self, id: IntegrationId) -> Result<Instance, JobError> {
        let credentials = integration::credentials_version(&self.store, id)
            .await?
            .ok_or(IntegrationError::NotConfigured)?;
        let budget = self
            .store
            .integration(id)
            .await?
            .requests_per_minute
            .and_then(|n| u32::try_from(n).ok())
            .unwrap_or(self.config.cw_requests_per_minute);
        // A new budget makes the client again, as new credentials do.
        let version = format!("{credentials}/{budget}");
        let mut cached = self.instances.lock().await;
        if let Some((v, instance)) = cached.get(&id)
            && *v == version
        {
            return Ok(instance.clone());
        }
        let mut config = integration::client_config(&self.store, &self.key, id).await?;
        config.requests_per_minute = budget.max(1);
        config.max_concurrency = self.config.cw_concurrency.max(1);
        let client = Client::new(config).map_err(|e| JobError::Permanent(e.to_string()))?;
        let instance = Instance {
            id,
            requests_per_minute: budget.max(1),
            client,
            callback_keys: Arc::default(),
            contacts: Arc::default(),
            manufacturers: Arc::default(),
        };
        cached.insert(id, (version, instance.clone()));
        Ok(instance)
    }

    /// Integration `id`'s ConnectWise client (see `instance`).
    pub async fn shared_client(&self, id: IntegrationId) -> Result<Client, JobError> {
        Ok(self.instance(id).await?.client)
    }

    pub(super) async fn settings(&self, id: IntegrationId) -> Result<BindingSettings, JobError> {
        let field_map = integration::field_map(&self.store, id).await?;
        integration::choices(&self.store, id)
            .await?
            .map(|c| BindingSettings {
                field_map,
                ..BindingSettings::from_choices(&c)
            })
            .ok_or_else(|| {
                JobError::Permanent(
                    "choose the configuration statuses and type in the ConnectWise settings first"
                        .into(),
                )
            })
    }
}
