//! The runner's part of retention: at most once an hour, history past the retention settings
//! is removed in small batches (the store's `prune`), with pauses that leave the database to
//! check-ins and jobs; and the callback message ids kept against replays expire.

use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use crate::store::Store;

const DAY_MS: i64 = 86_400_000;
/// Rows of each kind per batch, and the pause between batches.
const BATCH: i64 = 500;
const PAUSE: Duration = Duration::from_millis(50);

/// The cut-off for rows kept `days` days (0: kept forever).
fn cutoff(now: i64, days: u32) -> i64 {
    match days {
        0 => i64::MIN,
        d => now - i64::from(d) * DAY_MS,
    }
}

/// At most once an hour, starts removing what is past its retention (in a task of its own, so
/// the runner keeps leasing jobs meanwhile), and the callback message ids no longer needed.
/// `days`: how long history and finished jobs are kept (0: forever).
pub(super) fn prune_history(store: &Store, days: (u32, u32), last: &AtomicI64, now: i64) {
    if now - last.load(Ordering::Relaxed) < 3_600_000 {
        return;
    }
    last.store(now, Ordering::Relaxed);
    let (history, jobs) = (cutoff(now, days.0), cutoff(now, days.1));
    let store = store.clone();
    tokio::spawn(async move {
        if let Err(e) = store.purge_callback_messages().await {
            tracing::warn!(error = %e, "cannot prune callback message ids");
        }
        match store.prune(history, jobs, BATCH, PAUSE).await {
            Ok(p) if p.total() > 0 => tracing::info!(
                activity = p.activity,
                alerts = p.alerts,
                help_requests = p.help_requests,
                tickets = p.tickets,
                jobs = p.jobs,
                "history past its retention removed"
            ),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "cannot remove history past its retention"),
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_days_keeps_everything() {
        assert_eq!(cutoff(10 * DAY_MS, 0), i64::MIN);
        assert_eq!(cutoff(10 * DAY_MS, 7), 3 * DAY_MS);
    }
}
