//! A strict local emulator of the ConnectWise Manage endpoints Bindery uses, for the demo and the
//! tests. It serves `/login/companyinfo/{companyId}` (codebase `v4_6_release/`) and
//! `/v4_6_release/apis/3.0/…` on plain HTTP for loopback use, rejects what the real API rejects
//! (bad auth, missing clientId, wrong types, over-long values, missing required fields,
//! unanswered required questions, malformed conditions and patches), injects faults on request,
//! and shows its state and request log on `/_sandbox/…` so tests can assert on what ConnectWise
//! would hold.

pub mod callbacks;
pub mod conditions;
mod control;
mod errors;
pub mod faults;
mod finance_seed;
mod inventory_seed;
mod listing;
mod routes;
mod routing_seed;
pub mod schema;
pub mod seed;
mod store;

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};

pub use faults::Faults;
pub use seed::{Credentials, Seed};
use serde::Serialize;
pub use store::Data;

/// The codebase the sandbox announces, as an on-premise server does.
pub const CODEBASE: &str = "v4_6_release/";

/// Most requests kept in the log.
const LOG_LIMIT: usize = 200_000;

/// One request as the log shows it.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LoggedRequest {
    pub method: String,
    pub path: String,
    pub query: String,
    pub status: u16,
    /// The injected fault, if any: `rate-limited`, `server-error`, `timeout`, `lost-reply`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fault: Option<&'static str>,
    /// Sent while the integration was throttled: after a 429 was answered (and had time to
    /// arrive) and before its `Retry-After` ran out. A client that honours 429s sends none.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub during_retry_after: bool,
}

pub struct Sandbox {
    seed: Seed,
    require_client_id: bool,
    data: Mutex<Data>,
    faults: Mutex<faults::FaultState>,
    outbox: callbacks::Outbox,
    log: Mutex<VecDeque<LoggedRequest>>,
}

impl Sandbox {
    pub fn new(seed: Seed, require_client_id: bool) -> Arc<Sandbox> {
        Arc::new(Sandbox {
            data: Mutex::new(seed.data()),
            seed,
            require_client_id,
            faults: Mutex::new(faults::FaultState::default()),
            outbox: callbacks::Outbox::default(),
            log: Mutex::new(VecDeque::new()),
        })
    }

    pub fn credentials(&self) -> &Credentials {
        &self.seed.credentials
    }

    /// The records, locked (a poisoned lock still holds consistent data: every handler
    /// validates before it writes).
    pub fn data(&self) -> MutexGuard<'_, Data> {
        self.data.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn set_faults(&self, faults: Faults) {
        self.faults
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .set(faults);
    }

    pub fn faults(&self) -> Faults {
        self.faults
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .faults
            .clone()
    }

    pub fn requests(&self) -> Vec<LoggedRequest> {
        self.log
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .cloned()
            .collect()
    }

    /// The log so far, emptied in the same step (a benchmark's per-second tally loses none).
    pub fn take_requests(&self) -> Vec<LoggedRequest> {
        std::mem::take(&mut *self.log.lock().unwrap_or_else(|p| p.into_inner()))
            .into_iter()
            .collect()
    }

    pub fn clear_requests(&self) {
        self.log.lock().unwrap_or_else(|p| p.into_inner()).clear();
    }

    /// Back to the seed: records, faults and logs.
    pub fn reset(&self) {
        *self.data() = self.seed.data();
        self.set_faults(Faults::default());
        self.clear_requests();
        self.outbox.clear();
    }

    /// The callback messages sent (and lost) so far.
    pub fn callbacks_sent(&self) -> Vec<callbacks::Sent> {
        self.outbox.sent()
    }

    /// The key callbacks are signed with (what `key_url` serves).
    pub fn signing_key(&self) -> &str {
        &self.outbox.signing_key
    }

    fn record(&self, entry: LoggedRequest) {
        let mut log = self.log.lock().unwrap_or_else(|p| p.into_inner());
        if log.len() >= LOG_LIMIT {
            log.pop_front();
        }
        log.push_back(entry);
    }
}

/// The whole HTTP surface.
pub fn router(sandbox: Arc<Sandbox>) -> axum::Router {
    routes::router(sandbox)
}

/// A sandbox serving on a listener of its own until stopped.
pub struct Running {
    pub addr: SocketAddr,
    pub sandbox: Arc<Sandbox>,
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<()>,
}

impl Running {
    /// `http://127.0.0.1:PORT`: what to give the client as the site.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub async fn stop(self) {
        let _ = self.stop.send(());
        let _ = self.task.await;
    }
}

/// Starts a sandbox on `listen` (use port 0 for a free one).
pub async fn spawn(
    listen: SocketAddr,
    seed: Seed,
    require_client_id: bool,
) -> std::io::Result<Running> {
    let listener = tokio::net::TcpListener::bind(listen).await?;
    let addr = listener.local_addr()?;
    let sandbox = Sandbox::new(seed, require_client_id);
    let app = router(sandbox.clone());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, app)
            .with_graceful_shutdown(async {
                let _ = stopped.await;
            })
            .await;
    });
    Ok(Running {
        addr,
        sandbox,
        stop,
        task,
    })
}
