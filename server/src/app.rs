//! The running server: shared state, the router, and `launch`, which serves on a given listener
//! until a shutdown signal (so tests bind 127.0.0.1:0 and run a real server in-process).

use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::routing::get;

use crate::api;
use crate::reconcile::Engine;
use crate::sealing::ServerKey;
use crate::store::Store;

/// Tunables of the agent API.
#[derive(Clone, Debug)]
pub struct AgentSettings {
    /// Seconds between check-ins, sent to agents.
    pub checkin_interval_secs: u32,
    /// Enrollment attempts a minute from one address (429 past it).
    pub enroll_per_minute: u32,
    /// Agent builds served at /downloads/ for the install scripts.
    pub downloads_dir: Option<std::path::PathBuf>,
}

impl Default for AgentSettings {
    fn default() -> AgentSettings {
        AgentSettings {
            checkin_interval_secs: 60,
            enroll_per_minute: 10,
            downloads_dir: None,
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
    seen: Mutex<HashMap<i64, i64>>,
    /// Check-ins whose facts had to be written (the rest cost no write).
    facts_writes: AtomicU64,
    /// Check-ins taken.
    checkins: AtomicU64,
    pub enroll_limiter: crate::api::rate_limit::KeyedLimiter,
    /// Sign-in attempts a minute from one address.
    pub login_limiter: crate::api::rate_limit::KeyedLimiter,
}

pub type Shared = Arc<AppState>;

impl AppState {
    /// The admin actions, with this server's key and engine (so one ConnectWise client).
    pub fn ops(&self) -> crate::ops::Ops<'_> {
        crate::ops::Ops::new(&self.store, self.key.as_deref(), self.engine.as_deref())
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
        let enroll_limiter = crate::api::rate_limit::KeyedLimiter::new(agents.enroll_per_minute);
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
            login_limiter: crate::api::rate_limit::KeyedLimiter::new(10),
        })
    }

    /// Queues what a changed device needs and nudges the engine. A failure is logged, not
    /// returned: the change itself is stored, and the periodic re-sync repairs the binding.
    pub async fn device_changed(&self, device_id: i64) {
        match crate::reconcile::queue::device_changed(&self.store, device_id).await {
            Ok(true) => self.wake_engine(),
            Ok(false) => {}
            Err(e) => {
                tracing::warn!(device = device_id, error = %e, "cannot queue the device's binding; the next re-sync will")
            }
        }
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

    pub fn mark_seen(&self, device_id: i64, at_ms: i64) {
        self.seen
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(device_id, at_ms);
    }

    /// Writes the pending last-seen times.
    pub async fn flush_seen(&self) {
        let pending: Vec<(i64, i64)> = self
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

pub fn router(state: Shared) -> Router {
    Router::new()
        .nest(bindery_shared::protocol::API_PREFIX, api::agent::router())
        .nest(api::admin::PREFIX, api::admin::router())
        .nest(crate::console::PREFIX, crate::console::router())
        .merge(crate::downloads::router())
        .route(
            "/",
            get(|| async { axum::response::Redirect::to("/console/policies") }),
        )
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(crate::metrics::ready))
        .with_state(state)
}

/// Serves plain HTTP (behind a reverse proxy, or for tests) until `shutdown` completes, then
/// finishes in-flight requests and writes pending state.
pub async fn launch(
    state: Shared,
    listener: tokio::net::TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    serve(state, listener, false, shutdown).await
}

/// As `launch`, over HTTPS with the server's own certificate.
pub async fn launch_https(
    state: Shared,
    listener: tokio::net::TcpListener,
    tls: Arc<rustls::ServerConfig>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let listener = crate::tls::TlsListener::new(listener, tls)?;
    serve(state, listener, true, shutdown).await
}

/// Requests that came over the server's own TLS say so as a proxy's would, whatever the client
/// sent: the console then marks its cookie Secure and shows https:// install commands.
async fn mark_https(mut request: axum::extract::Request) -> axum::extract::Request {
    request.headers_mut().insert(
        "x-forwarded-proto",
        axum::http::HeaderValue::from_static("https"),
    );
    request
}

async fn serve<L>(
    state: Shared,
    listener: L,
    https: bool,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()>
where
    L: axum::serve::Listener<Addr = std::net::SocketAddr>,
{
    let flusher = {
        let state = state.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(2));
            loop {
                tick.tick().await;
                state.flush_seen().await;
            }
        })
    };
    // The server's own monitor ("offline"); only a server that runs jobs sweeps.
    let sweeper = state.engine.is_some().then(|| {
        let state = state.clone();
        let started = crate::store::now_ms();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(15));
            loop {
                tick.tick().await;
                match crate::monitoring::offline::sweep(&state.store, started).await {
                    Ok(s) if s.raised + s.resolved > 0 => {
                        tracing::info!(raised = s.raised, resolved = s.resolved, "offline sweep");
                        state.wake_engine();
                    }
                    Ok(_) => {}
                    Err(e) => tracing::warn!(error = %e, "offline sweep failed"),
                }
            }
        })
    });
    // The peer address reaches handlers for per-address limits (behind a reverse proxy it is
    // the proxy's; see the server's deployment notes).
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let engine = state.engine.clone().map(|e| tokio::spawn(e.run(stopped)));
    let mut app = router(state.clone());
    if https {
        app = app.layer(axum::middleware::map_request(mark_https));
    }
    let app = app.into_make_service_with_connect_info::<std::net::SocketAddr>();
    // Plain TCP or TLS alike; `tap_io` gives handlers the peer address for either.
    let result = axum::serve(axum::serve::ListenerExt::tap_io(listener, |_| {}), app)
        .with_graceful_shutdown(shutdown)
        .await;
    flusher.abort();
    if let Some(s) = sweeper {
        s.abort();
    }
    state.flush_seen().await;
    // Running jobs finish (or return to the queue) before the process ends.
    let _ = stop.send(true);
    if let Some(engine) = engine {
        let _ = engine.await;
    }
    result
}
