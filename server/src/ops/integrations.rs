//! The ConnectWise instances themselves: list, add, rename and remove. Each one's settings are
//! `settings`'s; removing one is refused while a policy links to one of its companies (or a
//! configuration there is still active), and takes its settings and secrets with it.

use super::{OpError, Ops};
use crate::ids::IntegrationId;
use crate::integration;
use crate::store::{Integration, StoreError};

impl Ops<'_> {
    pub async fn integrations(&self) -> Result<Vec<Integration>, OpError> {
        Ok(self.store.integrations().await?)
    }

    /// A new integration, to be set up (site, keys, choices) like the first.
    pub async fn add_integration(&self, name: &str) -> Result<Integration, OpError> {
        Ok(self.store.create_integration(name).await?)
    }

    pub async fn rename_integration(
        &self,
        id: IntegrationId,
        name: &str,
    ) -> Result<Integration, OpError> {
        Ok(self.store.rename_integration(id, name).await?)
    }

    /// Removes the integration with its settings; its callback in ConnectWise is removed first
    /// where it can be (a failure to reach ConnectWise does not keep the integration).
    pub async fn remove_integration(&self, id: IntegrationId) -> Result<(), OpError> {
        let found = self.store.integration(id).await?;
        if found.linked_policies > 0 {
            return Err(StoreError::Conflict(format!(
                "{} polic{} linked to companies of {:?}: unlink or move them first",
                found.linked_policies,
                if found.linked_policies == 1 {
                    "y is"
                } else {
                    "ies are"
                },
                found.name
            ))
            .into());
        }
        if self.engine.is_some()
            && let Err(e) = self.unregister_callbacks(id).await
        {
            tracing::warn!(integration = %id, error = %e, "cannot remove the integration's callback from ConnectWise");
        }
        self.store
            .delete_integration(id, &integration::setting_names(id))
            .await?;
        Ok(())
    }
}
