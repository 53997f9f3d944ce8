//! The dashboard: the fleet online and offline, binding states per instance, open alerts, help
//! requests and tickets opened over the last 30 days, and the billed quantities; each a count a
//! page links to its list.

use std::collections::BTreeMap;

use super::billing::BillingLine;
use super::{OpError, Ops};
use crate::store::now_ms;

const DAY_MS: i64 = 86_400_000;
/// How far back help requests and tickets are counted.
pub const DAYS: i64 = 30;

/// One instance's devices by binding state.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct InstanceBindings {
    pub id: crate::ids::IntegrationId,
    pub name: String,
    /// (state as lists name it, devices), in the order people read them.
    pub states: Vec<(&'static str, i64)>,
    pub total: i64,
}

/// What the dashboard shows.
#[derive(Clone, Debug, Default)]
pub struct DashboardView {
    pub devices: i64,
    pub online: i64,
    pub instances: Vec<InstanceBindings>,
    pub open_alerts: i64,
    pub help_requests: i64,
    /// The last 30 UTC days, oldest first: (date, tickets opened).
    pub tickets_per_day: Vec<(String, i64)>,
    pub billing: Vec<BillingLine>,
}

/// Binding states in the order the dashboard shows them.
pub const STATES: [&str; 5] = ["bound", "pending", "needs_person", "failed", "inactive"];

impl Ops<'_> {
    /// The dashboard; a device is online when it checked in within `online_within_ms`.
    pub async fn dashboard(&self, online_within_ms: i64) -> Result<DashboardView, OpError> {
        let now = now_ms();
        let today = now.div_euclid(DAY_MS);
        let since = (today - (DAYS - 1)) * DAY_MS;
        let d = self.store.dashboard(now - online_within_ms, since).await?;
        let names: BTreeMap<_, _> = self
            .store
            .integrations()
            .await?
            .into_iter()
            .map(|i| (i.id, i.name))
            .collect();
        let mut instances: Vec<InstanceBindings> = Vec::new();
        for (id, state, n) in d.bindings {
            if instances.last().is_none_or(|i| i.id != id) {
                instances.push(InstanceBindings {
                    id,
                    name: names.get(&id).cloned().unwrap_or_else(|| format!("#{id}")),
                    states: STATES.iter().map(|s| (*s, 0)).collect(),
                    total: 0,
                });
            }
            if let Some(i) = instances.last_mut() {
                i.total += n;
                if let Some(slot) = i.states.iter_mut().find(|(s, _)| *s == state) {
                    slot.1 += n;
                }
            }
        }
        let per_day: BTreeMap<i64, i64> = d.tickets_per_day.into_iter().collect();
        let tickets_per_day = (today - (DAYS - 1)..=today)
            .map(|day| {
                let date = bindery_shared::time::utc_date(day * DAY_MS);
                (date, per_day.get(&day).copied().unwrap_or(0))
            })
            .collect();
        Ok(DashboardView {
            devices: d.devices,
            online: d.online,
            instances,
            open_alerts: d.open_alerts,
            help_requests: d.help_requests,
            tickets_per_day,
            billing: self.billing_lines().await?,
        })
    }
}
