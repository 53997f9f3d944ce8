//! The other admin actions that reach ConnectWise through jobs: deleting a policy, "Retry
//! Pending", "Sync now", moving and retiring a device, closing an alert. Each queues what it
//! needs and wakes the engine, whoever asks.

use super::{OpError, Ops};
use crate::ids::{AlertId, DeviceId, PolicyId};
use crate::monitoring;
use crate::reconcile::queue;
use crate::store::{Alert, Device};

impl Ops<'_> {
    /// Deletes a policy; its devices stay, without a policy, and their configurations are
    /// deactivated. Returns how many devices that is.
    pub async fn delete_policy(&self, policy_id: PolicyId) -> Result<usize, OpError> {
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

    /// "Sync now": a re-sync of every company Bindery binds in. Returns how many companies.
    pub async fn sync_now(&self) -> Result<usize, OpError> {
        let n = queue::sync_all(self.store, self.cw_requests_per_minute()).await?;
        self.wake();
        Ok(n)
    }

    /// Moves a device to another policy (or out of every policy); it is bound accordingly.
    pub async fn move_device(
        &self,
        device_id: DeviceId,
        policy_id: Option<PolicyId>,
    ) -> Result<Device, OpError> {
        let d = self.store.move_device(device_id, policy_id).await?;
        self.device_changed(device_id).await?;
        Ok(d)
    }

    /// Retires a device: it can no longer report, and its configuration is deactivated.
    pub async fn retire_device(&self, device_id: DeviceId) -> Result<Device, OpError> {
        let d = self.store.retire_device(device_id).await?;
        self.device_changed(device_id).await?;
        Ok(d)
    }

    /// Closes an open alert as `who`; its ticket gets the closed status and a note. `None`
    /// when there is no such alert.
    pub async fn close_alert(
        &self,
        alert_id: AlertId,
        who: &str,
    ) -> Result<Option<Alert>, OpError> {
        let a = monitoring::close_alert(self.store, alert_id, who).await?;
        self.wake();
        Ok(a)
    }

    /// Queues what a changed device needs, and wakes the engine if anything was queued.
    pub(super) async fn device_changed(&self, device_id: DeviceId) -> Result<(), OpError> {
        if queue::device_changed(self.store, device_id).await? {
            self.wake();
        }
        Ok(())
    }
}
