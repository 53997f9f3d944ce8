//! Everything a server runs with, as one typed value built once: by `serve` from its config
//! file, environment and flags (`cli/serve.rs`), by the demo, and by tests and benchmarks from
//! [`Settings::for_tests`]. [`assemble`] makes the engine and the serving state from it, so no
//! caller builds them by hand.

use std::sync::Arc;
use std::time::Duration;

use crate::reconcile::{Engine, EngineConfig};
use crate::sealing::ServerKey;
use crate::state::{AgentSettings, AppState, Shared};
use crate::store::Store;

/// The engine's tunables and the serving ones.
#[derive(Clone, Debug, Default)]
pub struct Settings {
    pub engine: EngineConfig,
    pub web: AgentSettings,
}

impl Settings {
    /// For tests and benchmarks: an engine that polls every 50 ms and retries within half a
    /// second, and a ConnectWise that may be the sandbox on plain http.
    pub fn for_tests() -> Settings {
        Settings {
            engine: EngineConfig {
                lease: Duration::from_secs(10),
                poll: Duration::from_millis(50),
                retry_base: Duration::from_millis(50),
                retry_max: Duration::from_millis(500),
                ..EngineConfig::default()
            },
            web: AgentSettings {
                connectwise_allow_http: true,
                ..AgentSettings::default()
            },
        }
    }

    /// The same settings where the server is reached at `public_url` (install commands, the
    /// configurations' `managementLink`, callbacks).
    pub fn reached_at(mut self, public_url: Option<String>) -> Settings {
        self.engine.public_url = public_url.clone();
        self.web.public_url = public_url;
        self
    }
}

/// The engine (not yet running: `tokio::spawn(engine.clone().run(stop))`, or `app::launch`,
/// which runs it) and the state a server serves with.
pub fn assemble(store: Store, key: Arc<ServerKey>, settings: &Settings) -> (Arc<Engine>, Shared) {
    let engine = Engine::new(store.clone(), key.clone(), settings.engine.clone());
    let state = AppState::with_engine(store, settings.web.clone(), Some((engine.clone(), key)));
    (engine, state)
}
