//! `cw.bind_device`: bring one device's configurations in line (`binding.rs` carries it out).

use serde::{Deserialize, Serialize};

use super::JobKind;
use crate::ids::{DeviceId, IntegrationId};
use crate::reconcile::Engine;
use crate::reconcile::adoption::Candidacy;
use crate::reconcile::job_error::JobError;
use crate::reconcile::plan::Observed;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BindDevice {
    pub device_id: DeviceId,
    /// What a read already showed, so the first attempt needs no read of its own. Without one,
    /// or when it may be stale (a retry, or a write since), the job looks the device up.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub snapshot: Option<Box<Snapshot>>,
}

impl JobKind for BindDevice {
    const KIND: &'static str = "cw.bind_device";

    fn dedupe_key(&self) -> String {
        format!("bind:{}", self.device_id)
    }

    async fn process(self, engine: &Engine, attempts: i64) -> Result<(), JobError> {
        engine.bind_device(self, attempts).await
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Snapshot {
    /// The instance it was read from (payloads from before there were several: the first).
    #[serde(default = "IntegrationId::first")]
    pub integration: IntegrationId,
    /// When the read that produced it started.
    pub taken_ms: i64,
    pub observed: Vec<Observed>,
    /// What the device could adopt, as the company's read found it.
    #[serde(default)]
    pub candidacy: Candidacy,
}

/// A write started less than this long before a read may not show in it (a request can take up
/// to the client's 30 s timeout to land).
pub const WRITE_VISIBLE_AFTER_MS: i64 = 60_000;

impl Snapshot {
    /// True when the snapshot can stand in for a fresh lookup of the device.
    pub fn usable(&self, attempts: i64, write_started_ms: Option<i64>) -> bool {
        attempts <= 1 && write_started_ms.is_none_or(|w| w < self.taken_ms - WRITE_VISIBLE_AFTER_MS)
    }
}
