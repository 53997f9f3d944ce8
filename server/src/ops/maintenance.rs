//! Maintenance windows: a policy's schedule, replaced whole (an empty one: none).

use super::{OpError, Ops};
use crate::access::Act;
use crate::ids::PolicyId;
use crate::monitoring::held;
use crate::monitoring::maintenance::Maintenance;

impl Ops<'_> {
    /// Gives the policy these windows; alerts raised inside one open no ticket until it ends.
    pub async fn set_maintenance(
        &self,
        policy_id: PolicyId,
        windows: &Maintenance,
    ) -> Result<(), OpError> {
        self.allow(Act::SetMaintenance)?;
        windows.check().map_err(|m| OpError::Invalid {
            field: None,
            message: m,
        })?;
        held::save(self.store, policy_id, windows).await?;
        self.wake();
        let detail = serde_json::to_string(windows).ok();
        self.audited(
            Act::SetMaintenance,
            format!("policy {policy_id}"),
            detail.as_deref(),
        )
        .await;
        Ok(())
    }
}
