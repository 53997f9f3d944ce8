//! Policies: created, renamed and deleted, and "Retry Pending", with one rule for a name
//! (1-100 characters, no control characters, unique; the store keeps it), whoever asks.

use super::{OpError, Ops};
use crate::access::Act;
use crate::ids::PolicyId;
use crate::reconcile::queue;
use crate::store::Policy;

impl Ops<'_> {
    /// A new policy, not linked to any company.
    pub async fn create_policy(&self, name: &str) -> Result<Policy, OpError> {
        self.allow(Act::CreatePolicy)?;
        let p = self.store.create_policy(name).await?;
        self.audited(Act::CreatePolicy, format!("policy {}", p.id), Some(&p.name))
            .await;
        Ok(p)
    }

    /// Renames a policy; its link and devices stay as they are.
    pub async fn rename_policy(&self, policy_id: PolicyId, name: &str) -> Result<Policy, OpError> {
        self.allow(Act::RenamePolicy)?;
        let p = self.store.rename_policy(policy_id, name).await?;
        self.audited(
            Act::RenamePolicy,
            format!("policy {policy_id}"),
            Some(&p.name),
        )
        .await;
        Ok(p)
    }

    /// Deletes a policy; its devices stay, without a policy, and their configurations are
    /// deactivated. Returns how many devices that is.
    pub async fn delete_policy(&self, policy_id: PolicyId) -> Result<usize, OpError> {
        self.allow(Act::DeletePolicy)?;
        let name = self.store.policy(policy_id).await?.name;
        self.stop_billing(policy_id).await?;
        let n = queue::delete_policy(self.store, policy_id).await?;
        self.wake();
        let detail = format!("{name}; {n} devices left without a policy");
        self.audited(
            Act::DeletePolicy,
            format!("policy {policy_id}"),
            Some(&detail),
        )
        .await;
        Ok(n)
    }

    /// "Retry Pending": every device of the policy not bound is tried again now. Returns how
    /// many devices that is.
    pub async fn retry_pending(&self, policy_id: PolicyId) -> Result<usize, OpError> {
        self.allow(Act::RetryPending)?;
        let n = queue::retry_pending(self.store, policy_id).await?;
        self.wake();
        let detail = format!("{n} devices");
        self.audited(
            Act::RetryPending,
            format!("policy {policy_id}"),
            Some(&detail),
        )
        .await;
        Ok(n)
    }
}
