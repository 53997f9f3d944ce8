//! What one device may do to the boards: raise only the monitors its policy runs, and have at
//! most so many alerts active and help requests open at once (the ticket rules; 20 and 10 by
//! default). A stolen device credential cannot flood the boards or spend the shared ConnectWise
//! budget: past a limit the device gets 429 and nothing is stored.

use std::collections::HashSet;

use bindery_shared::protocol::MonitorSpec;

use crate::ids::{DeviceId, IntegrationId, PolicyId};
use crate::integration::TicketRules;
use crate::store::{AlertInput, Result, Store, StoreError};

use super::settings::MonitorSettings;

/// The ticket rules saved with the device's integration's choices (the defaults before they
/// are, or while its policy is not linked: the first integration's).
pub async fn ticket_rules(store: &Store, integration: Option<IntegrationId>) -> TicketRules {
    let id = integration.unwrap_or(IntegrationId::FIRST);
    match crate::integration::choices(store, id).await {
        Ok(Some(c)) => c.tickets,
        _ => TicketRules::default(),
    }
}

/// The monitors the device's policy runs (the defaults without a policy of its own).
pub async fn monitors(store: &Store, policy_id: Option<PolicyId>) -> Result<Vec<MonitorSpec>> {
    let stored = match policy_id {
        Some(p) => store.policy_monitors(p).await?,
        None => None,
    };
    Ok(MonitorSettings::from_stored(stored.as_deref()).monitors)
}

/// Refuses the batch when it would leave more than `max` alerts active on the device (a raise
/// of something not active yet counts one, a resolve frees one).
pub async fn check_active_alerts(
    store: &Store,
    device_id: DeviceId,
    inputs: &[AlertInput],
    max: u32,
) -> Result<()> {
    let mut active: HashSet<(String, String)> = store
        .active_alert_keys(device_id)
        .await?
        .into_iter()
        .collect();
    for e in inputs.iter().filter(|e| !e.refused) {
        let key = (e.monitor_id.clone(), e.subject.clone());
        if !e.raised {
            active.remove(&key);
        } else if !active.contains(&key) {
            if active.len() >= max as usize {
                return Err(StoreError::Limited(format!(
                    "this device has {} alerts open, the most allowed ({max}); nothing in this \
                     batch was taken",
                    active.len()
                )));
            }
            active.insert(key);
        }
    }
    Ok(())
}

/// Refuses a new help request when the device has `max` open already.
pub async fn check_open_help(store: &Store, device_id: DeviceId, max: u32) -> Result<()> {
    let open = store.open_help_count(device_id).await?;
    if open >= i64::from(max) {
        return Err(StoreError::Limited(format!(
            "this device has {open} help requests open, the most allowed ({max}); wait until \
             the helpdesk closes one"
        )));
    }
    Ok(())
}
