//! Device identity beyond the agent's credential: the setting that lets a reinstalled machine
//! take its old record back without a person, and a person's decisions about possible
//! reinstalls and about which configuration a device is. The rules themselves live where they
//! act: enrollment in `store::devices`, adoption in `reconcile::adoption`.

use serde::Deserialize;

use super::{OpError, Ops};
use crate::access::Act;
use crate::ids::DeviceId;
use crate::reconcile::{plan::PersonChoice, queue};
use crate::store::{Device, Result as StoreResult, Store};

/// Days a device must have been silent before a machine with its serial or MAC, enrolling with
/// a token of its policy, takes its record back without a person. Absent: never (the default).
pub const AUTO_APPROVE_DAYS: &str = "identity.auto_approve_silent_days";

/// The auto-approval threshold in milliseconds, when it is on.
pub async fn auto_approve_silent_ms(store: &Store) -> StoreResult<Option<i64>> {
    Ok(store
        .setting(AUTO_APPROVE_DAYS)
        .await?
        .and_then(|v| v.parse::<i64>().ok())
        .filter(|d| *d > 0)
        .map(|d| d.saturating_mul(86_400_000)))
}

/// The current setting in days (`None`: off).
pub async fn auto_approve_days(store: &Store) -> StoreResult<Option<i64>> {
    Ok(auto_approve_silent_ms(store)
        .await?
        .map(|ms| ms / 86_400_000))
}

/// A person's answer about a device waiting as a possible reinstall.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub enum ReinstallAnswer {
    /// The same machine: merge into the device it may be.
    SameMachine,
    /// Another machine: an ordinary device of its own.
    KeepSeparate,
}

/// Carries out a person's answer and queues the binding it needs; returns the device that
/// remains (the merged one, or the one kept separate).
pub async fn resolve_reinstall(
    store: &Store,
    device_id: DeviceId,
    answer: ReinstallAnswer,
) -> StoreResult<Device> {
    let device = match answer {
        ReinstallAnswer::SameMachine => {
            let merged = store.approve_reinstall(device_id).await?;
            // The record that waited is retired: its pending binding ends.
            queue::device_changed(store, device_id).await?;
            merged
        }
        ReinstallAnswer::KeepSeparate => store.keep_separate(device_id).await?,
    };
    queue::device_changed(store, device.id).await?;
    Ok(device)
}

impl Ops<'_> {
    /// Turns auto-approval on after `days` of silence (1–3,650), or off (`None`).
    pub async fn set_auto_approve_days(&self, days: Option<u32>) -> Result<(), OpError> {
        self.allow(Act::AutoApprove)?;
        let value = match days {
            Some(d) if (1..=3650).contains(&d) => d.to_string(),
            Some(_) => {
                return Err(OpError::invalid(
                    "autoApproveSilentDays",
                    "auto-approval takes 1 to 3650 days of silence, or null for never",
                ));
            }
            None => "off".to_owned(),
        };
        self.store.put_setting(AUTO_APPROVE_DAYS, &value).await?;
        self.audited(
            Act::AutoApprove,
            "the server",
            Some(&format!("days of silence: {value}")),
        )
        .await;
        Ok(())
    }

    /// Carries out a person's answer about a possible reinstall.
    pub async fn answer_reinstall(
        &self,
        device_id: DeviceId,
        answer: ReinstallAnswer,
    ) -> Result<Device, OpError> {
        self.allow(Act::AnswerReinstall)?;
        let d = resolve_reinstall(self.store, device_id, answer).await?;
        self.wake();
        let detail = format!("{answer:?}");
        self.audited(
            Act::AnswerReinstall,
            format!("device {device_id}"),
            Some(&detail),
        )
        .await;
        Ok(d)
    }

    /// A person decides which configuration a device is (adopt this one, which also re-points
    /// a bound device, or make a new one), or gives the choice back to Bindery (`Auto`); the
    /// device is bound again accordingly.
    pub async fn choose_configuration(
        &self,
        device_id: DeviceId,
        choice: PersonChoice,
    ) -> Result<Device, OpError> {
        self.allow(Act::ChooseConfiguration)?;
        if let PersonChoice::Adopt(id) = choice
            && id.0 <= 0
        {
            return Err(OpError::invalid(
                "configurationId",
                "a configuration id is positive",
            ));
        }
        let device = self.store.device(device_id).await?;
        if device.retired_ms.is_some() {
            return Err(OpError::invalid("id", "a retired device is bound nowhere"));
        }
        self.store.set_bind_choice(device_id, choice).await?;
        self.device_changed(device_id).await?;
        let detail = format!("{choice:?}");
        self.audited(
            Act::ChooseConfiguration,
            format!("device {device_id}"),
            Some(&detail),
        )
        .await;
        Ok(device)
    }
}
