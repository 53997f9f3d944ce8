//! Device identity beyond the agent's credential: the setting that lets a reinstalled machine
//! take its old record back without a person, and the person's decisions about possible
//! reinstalls and which configuration a device is. The rules themselves live where they act:
//! enrollment in `store::devices`, adoption in `reconcile::adoption`.

use crate::reconcile::{plan::PersonChoice, queue};
use crate::store::{Device, Result, Store, StoreError};

/// Days a device must have been silent before a machine with its serial or MAC, enrolling with
/// a token of its policy, takes its record back without a person. Absent: never (the default).
pub const AUTO_APPROVE_DAYS: &str = "identity.auto_approve_silent_days";

/// The auto-approval threshold in milliseconds, when it is on.
pub async fn auto_approve_silent_ms(store: &Store) -> Result<Option<i64>> {
    Ok(store
        .setting(AUTO_APPROVE_DAYS)
        .await?
        .and_then(|v| v.parse::<i64>().ok())
        .filter(|d| *d > 0)
        .map(|d| d.saturating_mul(86_400_000)))
}

/// Turns auto-approval on after `days` of silence (1–3,650), or off (`None`).
pub async fn set_auto_approve_days(store: &Store, days: Option<u32>) -> Result<()> {
    match days {
        Some(d) if (1..=3650).contains(&d) => store.put_setting(AUTO_APPROVE_DAYS, &d.to_string()).await,
        Some(_) => Err(StoreError::Conflict(
            "auto-approval takes 1 to 3650 days of silence (or off)".into(),
        )),
        None => store.put_setting(AUTO_APPROVE_DAYS, "off").await,
    }
}

/// The current setting in days (`None`: off).
pub async fn auto_approve_days(store: &Store) -> Result<Option<i64>> {
    Ok(auto_approve_silent_ms(store).await?.map(|ms| ms / 86_400_000))
}

/// A person's answer about a device waiting as a possible reinstall.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
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
    device_id: i64,
    answer: ReinstallAnswer,
) -> Result<Device> {
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

/// A person decides which configuration a device is (adopt this one, or make a new one), or
/// gives the choice back to Bindery (`Auto`); the device is bound again accordingly.
pub async fn choose_configuration(
    store: &Store,
    device_id: i64,
    choice: PersonChoice,
) -> Result<Device> {
    let device = store.device(device_id).await?;
    store.set_bind_choice(device_id, choice).await?;
    queue::device_changed(store, device_id).await?;
    Ok(device)
}
