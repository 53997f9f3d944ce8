//! The ConnectWise instances themselves: list, add, rename and remove. Each one's settings are
//! `settings`'s; removing one is refused while a policy links to one of its companies (or a
//! configuration there is still active), and takes its settings and secrets with it.

use super::{OpError, Ops};
use crate::access::Act;
use crate::ids::IntegrationId;
use crate::integration;
use crate::store::{Integration, StoreError};

/// The most requests a minute an instance may be given (ConnectWise throttles near 1,000 an
/// integration; a hosted instance with more allows more, not this much).
pub const MAX_BUDGET: u32 = 100_000;

impl Ops<'_> {
    pub async fn integrations(&self) -> Result<Vec<Integration>, OpError> {
        Ok(self.store.integrations().await?)
    }

    /// A new integration, to be set up (site, keys, choices) like the first.
    pub async fn add_integration(&self, name: &str) -> Result<Integration, OpError> {
        self.allow(Act::AddIntegration)?;
        let made = self.store.create_integration(name).await?;
        self.audited(
            Act::AddIntegration,
            format!("integration {}", made.id),
            Some(&made.name),
        )
        .await;
        Ok(made)
    }

    pub async fn rename_integration(
        &self,
        id: IntegrationId,
        name: &str,
    ) -> Result<Integration, OpError> {
        self.allow(Act::RenameIntegration)?;
        let renamed = self.store.rename_integration(id, name).await?;
        self.audited(
            Act::RenameIntegration,
            format!("integration {id}"),
            Some(&renamed.name),
        )
        .await;
        Ok(renamed)
    }

    /// Sets the instance's own ConnectWise request budget a minute (`None` or 0: the
    /// server's); its client is made again with it, and its re-syncs are paced by it.
    pub async fn set_integration_budget(
        &self,
        id: IntegrationId,
        requests_per_minute: Option<u32>,
    ) -> Result<Integration, OpError> {
        self.allow(Act::SetIntegrationBudget)?;
        let budget = requests_per_minute.filter(|n| *n > 0);
        if budget.is_some_and(|n| n > MAX_BUDGET) {
            return Err(OpError::invalid(
                "requestsPerMinute",
                format!("at most {MAX_BUDGET} requests a minute (0: the server's budget)"),
            ));
        }
        let set = self
            .store
            .set_integration_budget(id, budget.map(i64::from))
            .await?;
        let detail = budget.map_or("the server's".into(), |n| format!("{n} a minute"));
        self.audited(
            Act::SetIntegrationBudget,
            format!("integration {id}"),
            Some(&detail),
        )
        .await;
        Ok(set)
    }

    /// Removes the integration with its settings; its callback in ConnectWise is removed first
    /// where it can be (a failure to reach ConnectWise does not keep the integration).
    pub async fn remove_integration(&self, id: IntegrationId) -> Result<(), OpError> {
        self.allow(Act::RemoveIntegration)?;
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
        self.audited(
            Act::RemoveIntegration,
            format!("integration {id}"),
            Some(&found.name),
        )
        .await;
        Ok(())
    }
}
