//! The ConnectWise settings: saving the site and keys, the connection test, and saving the
//! choices made from what the test found. Saving either re-syncs every company under the new
//! settings and retries the tickets ConnectWise refused under the old ones.

use crate::access::Act;
use crate::ids::IntegrationId;
use crate::integration::{self, Catalog, Choices, CwCredentials, CwCredentialsView};
use crate::reconcile::callbacks::{self, CallbackStatus};
use crate::reconcile::queue;
use crate::sealing::ServerKey;

use super::{OpError, Ops};

impl Ops<'_> {
    pub(super) fn server_key(&self) -> Result<&ServerKey, OpError> {
        self.key
            .ok_or_else(|| OpError::Unavailable("this server runs without a server key".into()))
    }

    /// Saves the credentials (the private key is write-only: `None` keeps the stored one);
    /// returns them as an admin sees them.
    pub async fn save_credentials(
        &self,
        id: IntegrationId,
        credentials: &CwCredentials,
        private_key: Option<&str>,
    ) -> Result<Option<CwCredentialsView>, OpError> {
        self.allow(Act::SaveCredentials)?;
        if credentials.allow_http && !self.plain_http {
            return Err(OpError::invalid(
                "allowHttp",
                "plain http to ConnectWise is only for a sandbox on this machine, and only on a \
                 server started with --connectwise-allow-http (connectwise_allow_http)",
            ));
        }
        self.store.integration(id).await?;
        integration::save_credentials(self.store, self.server_key()?, id, credentials, private_key)
            .await?;
        if integration::choices(self.store, id).await?.is_some() {
            self.resync_everything().await?;
        }
        // What changed, never the key itself.
        let detail = format!(
            "site {}, company {}, public key {}, client id {}{}",
            credentials.site,
            credentials.company_id,
            credentials.public_key,
            credentials.client_id,
            if private_key.is_some() {
                ", a new private key"
            } else {
                ""
            }
        );
        self.audited(
            Act::SaveCredentials,
            format!("integration {id}"),
            Some(&detail),
        )
        .await;
        Ok(integration::credentials(self.store, id).await?)
    }

    /// "Test connection" with the saved settings, through the server's one client: what
    /// ConnectWise offers to choose from, or precisely what failed.
    pub async fn test_connection(&self, id: IntegrationId) -> Result<Catalog, OpError> {
        self.allow(Act::TestConnection)?;
        let client = self.client(id).await?;
        Ok(integration::test_connection(&client).await?)
    }

    /// Saves the choices after checking them against what ConnectWise offers now.
    pub async fn save_choices(&self, id: IntegrationId, choices: &Choices) -> Result<(), OpError> {
        let catalog = self.test_connection(id).await?;
        self.save_choices_against(id, &catalog, choices).await
    }

    /// As `save_choices`, against a catalog the caller has just read (the console shows each
    /// refusal beside the catalog's entry).
    pub async fn save_choices_against(
        &self,
        id: IntegrationId,
        catalog: &Catalog,
        choices: &Choices,
    ) -> Result<(), OpError> {
        self.allow(Act::SaveChoices)?;
        integration::save_choices(self.store, id, catalog, choices).await?;
        self.register_callbacks(id).await;
        self.resync_everything().await?;
        let detail = serde_json::to_string(choices).ok();
        self.audited(
            Act::SaveChoices,
            format!("integration {id}"),
            detail.as_deref(),
        )
        .await;
        Ok(())
    }

    /// "Register again": the ticket callback registered now, as an owner asked.
    pub async fn register_callbacks_again(
        &self,
        id: IntegrationId,
    ) -> Result<CallbackStatus, OpError> {
        self.allow(Act::RegisterCallbacks)?;
        let status = self.register_callbacks(id).await;
        self.audited(Act::RegisterCallbacks, format!("integration {id}"), None)
            .await;
        Ok(status)
    }

    /// Registers ConnectWise's ticket callback at the public URL (or records why there is
    /// none: Bindery then polls); never fails the save.
    pub async fn register_callbacks(&self, id: IntegrationId) -> CallbackStatus {
        if self.engine.is_none() {
            // An admin command outside the server does not know the server's public URL: the
            // registration stays as the server last made it.
            return callbacks::status(self.store, id).await.unwrap_or_default();
        }
        match self.client(id).await {
            Ok(client) => callbacks::register(self.store, &client, id, self.public_url).await,
            Err(e) => CallbackStatus {
                reason: Some(format!("cannot reach ConnectWise to register: {e}")),
                ..CallbackStatus::default()
            },
        }
    }

    /// Removes the ticket callback (Bindery polls from then on).
    pub async fn unregister_callbacks(&self, id: IntegrationId) -> Result<CallbackStatus, OpError> {
        self.allow(Act::RegisterCallbacks)?;
        let client = self.client(id).await?;
        let status = callbacks::unregister(self.store, &client, id).await;
        self.audited(
            Act::RegisterCallbacks,
            format!("integration {id}"),
            Some("removed"),
        )
        .await;
        Ok(status)
    }

    /// Every company synced again, and the tickets ConnectWise refused tried again.
    async fn resync_everything(&self) -> Result<(), OpError> {
        queue::sync_all(self.store, self.cw_requests_per_minute()).await?;
        queue::retry_failed_tickets(self.store).await?;
        self.wake();
        Ok(())
    }

    /// "Sync now": a re-sync of every company Bindery binds in. Returns how many companies.
    pub async fn sync_now(&self) -> Result<usize, OpError> {
        self.allow(Act::SyncNow)?;
        let n = queue::sync_all(self.store, self.cw_requests_per_minute()).await?;
        self.wake();
        self.audited(
            Act::SyncNow,
            "every company",
            Some(&format!("{n} companies")),
        )
        .await;
        Ok(n)
    }
}
