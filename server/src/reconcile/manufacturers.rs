//! ConnectWise's manufacturer list, for the field map's `manufacturer`: read whole (it is short)
//! at most hourly per instance, and matched by name. Bindery never creates a manufacturer: a maker
//! the list does not have leaves the field alone.

use std::time::{Duration, Instant};

use connectwise_client::Client;
use tokio::sync::Mutex;

/// How long a read of the list is trusted; a failed read is retried after ten minutes.
const KEEP: Duration = Duration::from_secs(3600);
const RETRY: Duration = Duration::from_secs(600);

/// The active manufacturers (id, name) as last read, when, and whether that read failed.
type Held = (Vec<(i64, String)>, Instant, bool);

/// ConnectWise's manufacturers of one instance, as last read.
#[derive(Default)]
pub struct ManufacturerCache {
    held: Mutex<Option<Held>>,
}

impl ManufacturerCache {
    /// The manufacturer named `name` (ignoring case and surrounding spaces): its id and its
    /// name as ConnectWise spells it.
    pub async fn find(&self, client: &Client, name: &str) -> Option<(i64, String)> {
        let wanted = name.trim();
        self.list(client)
            .await
            .into_iter()
            .find(|(_, n)| n.trim().eq_ignore_ascii_case(wanted))
    }

    async fn list(&self, client: &Client) -> Vec<(i64, String)> {
        if let Some((list, at, failed)) = &*self.held.lock().await
            && at.elapsed() < if *failed { RETRY } else { KEEP }
        {
            return list.clone();
        }
        let (list, failed) = match client.manufacturers().await {
            Ok(all) => (
                all.into_iter()
                    .filter(|m| m.inactive_flag != Some(true))
                    .map(|m| (m.id, m.name))
                    .collect(),
                false,
            ),
            Err(e) => {
                tracing::warn!(error = %e, "cannot read ConnectWise's manufacturers; configurations get none for now");
                (Vec::new(), true)
            }
        };
        *self.held.lock().await = Some((list.clone(), Instant::now(), failed));
        list
    }
}
