//! What every request handler shares: the store, the engine and key, the agent API's tunables
//! and limiters, and the last-seen times not yet written. Everything above the store imports
//! this; it imports nothing that serves requests.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use crate::ids::DeviceId;
use crate::reconcile::Engine;
use crate::sealing::ServerKey;
use crate::store::Store;

/// Tunables of serving: the agent API's, and the connection limits every client meets.
#[derive(Clone, Debug)]
pub struct AgentSettings {
    /// Seconds between check-ins, sent to agents.
    pub checkin_interval_secs: u32,
    /// Enrollment attempts a minute from one address (429 past it).
    pub enroll_per_minute: u32,
    /// Agent builds served at /downloads/ for the install scripts.
    pub downloads_dir: Option<std::path::PathBuf>,
    /// The connection cap and timeouts (slow and idle clients are cut).
    pub connections: crate::connections::ConnectionLimits,
    /// Reverse proxies whose forwarding headers name the client (none: the TCP peer is).
    pub trusted_proxies: crate::client_addr::TrustedProxies,
    /// How agents and admins reach this server (`https://bindery.example.com`): install
    /// commands are built from it, never from a request's headers.
    pub public_url: Option<String>,
    /// The server terminates TLS itself.
    pub tls: bool,
    /// An admin session ends this long after sign-in, however busy.
    pub session_lifetime: std::time::Duration,
    /// What the console's new-token form starts with: days until a token expires, and machines
    /// that may enroll with it (0: never / any number, which an admin may still choose).
    pub token_expiry_days: u32,
    pub token_max_uses: u32,
    /// Whether the ConnectWise settings may use plain http (a sandbox on this machine); set
    /// only by the server's own options, so a session cannot turn it on.
    pub connectwise_allow_http: bool,
}

impl AgentSettings {
    /// True when clients reach the server over https (its public URL, or its own TLS).
    pub fn serves_https(&self) -> bool {
        self.tls
            || self
                .public_url
                .as_deref()
                .is_some_and(|u| u.starts_with("https://"))
    }
}

impl Default for AgentSettings {
    fn default() -> AgentSettings {
        AgentSettings {
            checkin_interval_secs: 60,
            enroll_per_minute: 10,
            downloads_dir: None,
            connections: crate::connections::ConnectionLimits::default(),
            trusted_proxies: crate::client_addr::TrustedProxies::default(),
            public_url: None,
            tls: false,
            session_lifetime: std::time::Duration::from_secs(12 * 3600),
            token_expiry_days: 7,
            token_max_uses: 100,
            connectwise_allow_http: false,
        }
    }
}

pub struct AppState {
    pub store: Store,
    pub agents: AgentSettings,
    /// The binding engine and the key that seals secrets; absent in tests of the agent API
    /// alone (changes are then only queued).
    pub engine: Option<Arc<Engine>>,
    pub key: Option<Arc<ServerKey>>,
    /// Last-seen times not yet written: check-ins only touch memory; a flusher writes them in
    /// batches, so an unchanged check-in costs no database write.
    seen: Mutex<HashMap<DeviceId, i64>>,
    /// Check-ins whose facts had to be written (the rest cost no write).
    facts_writes: AtomicU64,
    /// Check-ins taken.
    checkins: AtomicU64,
    pub enroll_limiter: crate::rate_limit::KeyedLimiter,
    /// Sign-in attempts a minute from one address (all of them, right or wrong).
    pub login_limiter: crate::rate_limit::KeyedLimiter,
    /// Wrong passwords per user name (a growing delay for addresses that have been failing)...
    pub login_name_failures: crate::rate_limit::FailureLog<String>,
    /// ...and per address: an address that has not been failing is never slowed for a name.
    pub login_address_failures: crate::rate_limit::FailureLog<std::net::IpAddr>,
}

pub type Shared = Arc<AppState>;

impl AppState {
    /// The admin actions, with this server's key and engine (so one ConnectWise client).
    /// The operations, acting as `actor` (who signed in: their role decides what they may do).
    pub fn ops<'a>(&'a self, actor: &'a crate::access::Actor) -> crate::ops::Ops<'a> {
        crate::ops::Ops::new(&self.store, self.key.as_deref(), self.engine.as_deref())
            .allowing_plain_http(self.agents.connectwise_allow_http)
            .with_public_url(self.agents.public_url.as_deref())
            .acting_as(actor)
    }

    pub fn new(store: Store, agents: AgentSettings) -> Shared {
        AppState::with_engine(store, agents, None)
    }

    /// A server that also binds: `engine` carries out the jobs that requests queue.
    pub fn with_engine(
        store: Store,
        agents: AgentSettings,
        engine: Option<(Arc<Engine>, Arc<ServerKey>)>,
    ) -> Shared {
        let enroll_limiter = crate::rate_limit::KeyedLimiter::new(agents.enroll_per_minute);
        let (engine, key) = match engine {
            Some((e, k)) => (Some(e), Some(k)),
            None => (None, None),
        };
        Arc::new(AppState {
            store,
            agents,
            engine,
            key,
            seen: Mutex::new(HashMap::new()),
            facts_writes: AtomicU64::new(0),
            checkins: AtomicU64::new(0),
            enroll_limiter,
            login_limiter: crate::rate_limit::KeyedLimiter::new(10),
            login_name_failures: crate::rate_limit::FailureLog::new(10),
            login_address_failures: crate::rate_limit::FailureLog::new(0),
        })
    }

    /// Queues what a changed device needs and nudges the engine. A failure is logged, not
    /// returned: the change itself is stored, and the periodic re-sync repairs the binding.
    pub async fn device_changed(&self, device_id: DeviceId) {
        match crate::reconcile::queue::device_changed(&self.store, device_id).await {
            Ok(true) => self.wake_engine(),
            Ok(false) => {}
            Err(e) => {
                tracing::warn!(device = %device_id, error = %e, "cannot queue the device's binding; the next re-sync will")
            }
        }
    }

    /// The key a request's client is limited under: the peer, or behind a trusted proxy the
    /// client it names; an IPv6 client by its /64.
    pub fn client_key(
        &self,
        peer: std::net::SocketAddr,
        headers: &axum::http::HeaderMap,
    ) -> std::net::IpAddr {
        crate::client_addr::limit_key(self.agents.trusted_proxies.client(peer.ip(), headers))
    }

    pub fn wake_engine(&self) {
        if let Some(e) = &self.engine {
            e.wake();
        }
    }

    pub fn count_facts_write(&self) {
        self.facts_writes.fetch_add(1, Ordering::Relaxed);
    }

    pub fn count_checkin(&self) {
        self.checkins.fetch_add(1, Ordering::Relaxed);
    }

    pub fn checkins(&self) -> u64 {
        self.checkins.load(Ordering::Relaxed)
    }

    pub fn facts_writes(&self) -> u64 {
        self.facts_writes.load(Ordering::Relaxed)
    }

    pub fn mark_seen(&self, device_id: DeviceId, at_ms: i64) {
        self.seen
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(device_id, at_ms);
    }

    /// Writes the pending last-seen times.
    pub async fn flush_seen(&self) {
        let pending: Vec<(DeviceId, i64)> = self
            .seen
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .drain()
            .collect();
        if pending.is_empty() {
            return;
        }
        if let Err(e) = self.store.touch_seen(&pending).await {
            tracing::warn!(error = %e, "could not record last-seen times; keeping them for the next flush");
            let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
            for (id, at) in pending {
                seen.entry(id)
                    .and_modify(|t| *t = (*t).max(at))
                    .or_insert(at);
            }
        }
    }
}
