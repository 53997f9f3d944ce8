//! The full re-sync of every company Bindery binds in (periodic drift repair, "Sync now", new
//! settings), paced so that it never takes more than half of the ConnectWise request budget in
//! any minute: 500 companies must leave room for tickets.

use std::collections::HashMap;
use std::time::Duration;

use super::jobs::{BillAgreement, JobKind, SyncCompany};
use crate::ids::IntegrationId;
use crate::store::{NewJob, Result, Store, now_ms};

/// The setting holding when the last full re-sync was queued (ms since the epoch).
pub const LAST_FULL_SYNC: &str = "reconcile.last_full_sync_ms";

/// ConnectWise requests the sync of an unchanged company of up to 1,000 configurations costs at
/// most: its configurations (one page), and its contacts when this process holds no copy of
/// them under a day old (`extras`: to name the users of devices still without a contact).
pub const SYNC_REQUESTS: u32 = 2;

/// The share of the request budget a full re-sync may take in any minute (just under half, so
/// that a sync's requests landing late still leave half for tickets and device changes).
const RESYNC_SHARE_PERCENT: u32 = 45;

/// The gap between two companies' starts in a full re-sync, for a client allowed
/// `requests_per_minute`: unchanged companies then cost at most `RESYNC_SHARE_PERCENT` of the
/// budget in any minute.
pub fn resync_spacing_ms(requests_per_minute: u32) -> i64 {
    let share = u64::from(requests_per_minute.max(1)) * u64::from(RESYNC_SHARE_PERCENT);
    (60_000 * u64::from(SYNC_REQUESTS) * 100).div_ceil(share) as i64
}

/// Queues a sync of every company Bindery binds in (the periodic re-sync, "Sync now", new
/// settings), spread out by `resync_spacing_ms` so that 500 companies never take the whole
/// ConnectWise budget from tickets; returns how many companies. A company already queued keeps
/// the earlier start.
pub async fn sync_all(store: &Store, requests_per_minute: u32) -> Result<usize> {
    let jobs = spaced_syncs(store, requests_per_minute).await?;
    store.enqueue_many(&jobs).await?;
    Ok(jobs.iter().filter(|j| j.kind == SyncCompany::KIND).count())
}

/// A sync job for every company Bindery binds in, each starting `resync_spacing_ms` after the
/// one before in its instance; then a billing run for every agreement billed by device count,
/// once the bindings are fresh (each costs a read and at most a write per product, paced the
/// same way). Each instance has a budget of its own (`requests_per_minute` unless it has its
/// own), so each is paced on its own: ten instances re-sync side by side.
async fn spaced_syncs(store: &Store, requests_per_minute: u32) -> Result<Vec<NewJob>> {
    let companies = store.companies_to_sync().await?;
    let agreements = store.billed_agreements().await?;
    let gaps: HashMap<IntegrationId, i64> = store
        .integrations()
        .await?
        .into_iter()
        .map(|i| {
            let own = i.requests_per_minute.and_then(|n| u32::try_from(n).ok());
            (i.id, resync_spacing_ms(own.unwrap_or(requests_per_minute)))
        })
        .collect();
    let start = now_ms();
    let gap_of = |i: &IntegrationId| {
        gaps.get(i)
            .copied()
            .unwrap_or_else(|| resync_spacing_ms(requests_per_minute))
    };
    let syncs = companies.iter().map(|&(integration, company_id)| {
        let job = SyncCompany {
            integration,
            company_id,
        };
        (integration, job.job())
    });
    let bills = agreements.iter().map(|&(integration, agreement_id)| {
        let job = BillAgreement {
            integration,
            agreement_id,
        };
        (integration, job.job())
    });
    let mut queued_in: HashMap<IntegrationId, i64> = HashMap::new();
    Ok(syncs
        .chain(bills)
        .map(|(integration, job)| {
            let n = queued_in.entry(integration).or_default();
            *n += 1;
            NewJob {
                run_after_ms: start + (*n - 1) * gap_of(&integration),
                ..job
            }
        })
        .collect())
}

/// Queues the periodic re-sync when `every` has passed since the last one (read from the
/// store, so a restart or another server does not repeat it). The jobs and the new time are
/// written in one transaction that holds only if the time is still the one read: of several
/// servers seeing it due together, one queues it (a second would ask for a company already
/// running to run again).
pub async fn periodic(store: &Store, requests_per_minute: u32, every: Duration, now: i64) {
    let seen = match store.setting(LAST_FULL_SYNC).await {
        Ok(v) => v,
        Err(e) => {
            tracing::warn!(error = %e, "cannot read the last re-sync time");
            return;
        }
    };
    let last = seen
        .as_deref()
        .and_then(|v| v.parse::<i64>().ok())
        .unwrap_or(0);
    if now - last < every.as_millis() as i64 {
        return;
    }
    let result = async {
        let jobs = spaced_syncs(store, requests_per_minute).await?;
        let queued = store
            .enqueue_many_claiming(&jobs, LAST_FULL_SYNC, seen.as_deref(), &now.to_string())
            .await?;
        Ok::<_, crate::store::StoreError>(queued.then_some(jobs.len()))
    }
    .await;
    match result {
        Ok(Some(n)) => tracing::info!(companies = n, "periodic re-sync queued"),
        Ok(None) => tracing::debug!("periodic re-sync queued by another server"),
        Err(e) => tracing::warn!(error = %e, "cannot queue the periodic re-sync"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_resync_takes_at_most_half_the_budget_in_any_minute() {
        for budget in [60, 100, 999, 1_000, 3_000, 10_000] {
            let gap = resync_spacing_ms(budget);
            let starts: Vec<i64> = (0..2_000).map(|n| n * gap).collect();
            // The busiest minute: a window starting at any company's start.
            let busiest = starts
                .iter()
                .map(|s| {
                    starts
                        .iter()
                        .filter(|t| (*s..s + 60_000).contains(*t))
                        .count()
                })
                .max()
                .unwrap() as u32;
            assert!(
                busiest * SYNC_REQUESTS <= budget / 2,
                "{budget}/min: {busiest} companies in a minute"
            );
            assert!(
                busiest * SYNC_REQUESTS >= budget * 2 / 5,
                "{budget}/min: too slow"
            );
        }
        assert_eq!(resync_spacing_ms(1_000), 267, "500 companies in 2 min 13 s");
        assert!(resync_spacing_ms(0) > 0);
    }
}
