//! Policies: created, renamed and deleted, and "Retry Pending", with one rule for a name
//! (1-100 characters, no control characters, unique; the store keeps it), whoever asks.

use super::{OpError, Ops};
use crate::ids::PolicyId;
use crate::reconcile::queue;
use crate::store::Policy;

impl Ops<'_> {
    /// A new policy, not linked to any company.
    pub async fn create_policy(&self, name: &str) -> Result<Policy, OpError> {
        Ok(self.store.create_policy(name).await?)
    }

    /// Renames a policy; its link and devices stay as they are.
    pub async fn rename_policy(&self, policy_id: PolicyId, name: &str) -> Result<Policy, OpError> {
        Ok(self.store.rename_policy(policy_id, name).await?)
    }

    /// Deletes a policy; its devices stay, without a policy, and their configurations are
    /// deactivated. Returns how many devices that is.
    pub async fn delete_policy(&self, policy_id: PolicyId) -> Result<usize, OpError> {
        self.clear_billing(policy_id).await?;
        let n = queue::delete_policy(self.store, policy_id).await?;
        self.wake();
        Ok(n)
    }

    /// "Retry Pending": every device of the policy not bound is tried again now. Returns how
    /// many devices that is.
    pub async fn retry_pending(&self, policy_id: PolicyId) -> Result<usize, OpError> {
        let n = queue::retry_pending(self.store, policy_id).await?;
        self.wake();
        Ok(n)
    }
}
