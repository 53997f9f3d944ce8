//! Devices: moved to another policy or out of every one, and retired; each is bound (or
//! deactivated) accordingly. Possible reinstalls are in `identity`.

use super::{OpError, Ops};
use crate::access::Act;
use crate::ids::{DeviceId, PolicyId};
use crate::reconcile::queue;
use crate::store::Device;

impl Ops<'_> {
    /// Moves a device to another policy (or out of every policy); it is bound accordingly.
    pub async fn move_device(
        &self,
        device_id: DeviceId,
        policy_id: Option<PolicyId>,
    ) -> Result<Device, OpError> {
        self.allow(Act::MoveDevice)?;
        let before = self.store.device(device_id).await?.policy_id;
        let d = self.store.move_device(device_id, policy_id).await?;
        self.device_changed(device_id).await?;
        let policy = |p: Option<PolicyId>| p.map_or("no policy".into(), |p| format!("policy {p}"));
        let detail = format!("{} -> {}", policy(before), policy(policy_id));
        self.audited(
            Act::MoveDevice,
            format!("device {device_id}"),
            Some(&detail),
        )
        .await;
        Ok(d)
    }

    /// Retires a device: it can no longer report, and its configuration is deactivated.
    pub async fn retire_device(&self, device_id: DeviceId) -> Result<Device, OpError> {
        self.allow(Act::RetireDevice)?;
        let d = self.store.retire_device(device_id).await?;
        self.device_changed(device_id).await?;
        self.audited(Act::RetireDevice, format!("device {device_id}"), None)
            .await;
        Ok(d)
    }

    /// Queues what a changed device needs, and wakes the engine if anything was queued.
    pub(super) async fn device_changed(&self, device_id: DeviceId) -> Result<(), OpError> {
        if queue::device_changed(self.store, device_id).await? {
            self.wake();
        }
        Ok(())
    }
}
