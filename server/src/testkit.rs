//! The test world (feature `testkit`): an engine bound to the ConnectWise sandbox over real
//! HTTP, on a fresh SQLite store, with helpers to enroll devices, link policies and wait for the
//! jobs to settle; and the same world served over HTTP. The server's tests and the benchmarks
//! start from it (the end-to-end tests run the real binaries instead).
#![allow(clippy::unwrap_used, clippy::missing_panics_doc)] // a test world: a failed unwrap is a failed test

use std::sync::Arc;
use std::time::Duration;

use crate::ids::{CompanyId, ConfigurationId, DeviceId, PolicyId};
use crate::reconcile::{Engine, EngineConfig, queue};
use crate::sealing::ServerKey;
use crate::settings::{Settings, assemble};
use crate::state::{AppState, Shared};
use crate::store::{NewDevice, Store};
use bindery_shared::{DeviceFacts, FactField};
use connectwise_sandbox::Seed;
use serde_json::Value;

pub struct World {
    pub sb: connectwise_sandbox::Running,
    pub store: Store,
    pub engine: Arc<Engine>,
    pub key: Arc<ServerKey>,
    pub stop: tokio::sync::watch::Sender<bool>,
    pub _dir: tempfile::TempDir,
}

/// The ground every test and benchmark stands on: the ConnectWise sandbox (default seed, over
/// real HTTP on 127.0.0.1), a fresh SQLite store connected to it, and the server key. No
/// start-up re-sync: tests and benchmarks ask for every sync themselves.
pub struct Ground {
    pub sb: connectwise_sandbox::Running,
    pub store: Store,
    pub key: Arc<ServerKey>,
    pub dir: tempfile::TempDir,
}

pub async fn ground() -> Ground {
    connectwise_client::install_tls_provider();
    let sb = connectwise_sandbox::spawn("127.0.0.1:0".parse().unwrap(), Seed::default_seed(), true)
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open_in_dir(dir.path()).await.unwrap();
    let key = Arc::new(ServerKey::load_or_create(&dir.path().join("server.key")).unwrap());
    crate::demo::connect_to_sandbox(&store, &key, &sb.url())
        .await
        .unwrap();
    store
        .put_setting(
            crate::reconcile::runner::LAST_FULL_SYNC,
            &crate::store::now_ms().to_string(),
        )
        .await
        .unwrap();
    Ground {
        sb,
        store,
        key,
        dir,
    }
}

impl Ground {
    /// An engine with exactly `config`, running until the sender says stop (or is dropped).
    pub fn engine(&self, config: EngineConfig) -> (Arc<Engine>, tokio::sync::watch::Sender<bool>) {
        let engine = Engine::new(self.store.clone(), self.key.clone(), config);
        let (stop, stopped) = tokio::sync::watch::channel(false);
        tokio::spawn(engine.clone().run(stopped));
        (engine, stop)
    }

    /// A server with `settings` on a free port of 127.0.0.1 (its engine run by the server):
    /// the engine, the serving state and the server's URL.
    pub async fn serve(&self, settings: &Settings) -> (Arc<Engine>, Shared, String) {
        let (engine, state) = assemble(self.store.clone(), self.key.clone(), settings);
        let (state, url) = launch_on_loopback(|_| state).await;
        (engine, state, url)
    }
}

/// Serves an engine already running over HTTP on a free port of 127.0.0.1, reached at that
/// address (install commands, `managementLink`, ConnectWise's callbacks): the serving state and
/// the address.
pub async fn serve_engine(
    store: &Store,
    key: &Arc<ServerKey>,
    engine: &Arc<Engine>,
) -> (Shared, String) {
    launch_on_loopback(|url| {
        let web = Settings::for_tests().reached_at(Some(url.to_owned())).web;
        AppState::with_engine(store.clone(), web, Some((engine.clone(), key.clone())))
    })
    .await
}

/// Serves the state `make` builds (given the address it will be served at) on a free port of
/// 127.0.0.1 until the process ends: the state and the address.
async fn launch_on_loopback(make: impl FnOnce(&str) -> Shared) -> (Shared, String) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let state = make(&url);
    tokio::spawn(crate::app::launch(
        state.clone(),
        listener,
        std::future::pending(),
    ));
    (state, url)
}

pub async fn world() -> World {
    world_with(EngineConfig::default()).await
}

/// A world whose engine starts from `config` (its timings made quick for tests, as
/// [`Settings::for_tests`] makes them).
pub async fn world_with(config: EngineConfig) -> World {
    let g = ground().await;
    let quick = Settings::for_tests().engine;
    let (engine, stop) = g.engine(EngineConfig {
        lease: quick.lease,
        poll: quick.poll,
        retry_base: quick.retry_base,
        retry_max: quick.retry_max,
        ..config
    });
    World {
        sb: g.sb,
        store: g.store,
        engine,
        key: g.key,
        stop,
        _dir: g.dir,
    }
}

pub fn facts(n: usize, os_info: &str) -> DeviceFacts {
    let mut f = DeviceFacts::default();
    f.set(FactField::Name, format!("host-{n:03}"));
    f.set(FactField::SerialNumber, format!("SN{n:05}"));
    f.set(
        FactField::MacAddress,
        format!("02:00:00:00:{:02x}:{:02x}", n / 256, n % 256),
    );
    f.set(
        FactField::IpAddress,
        format!("10.0.{}.{}", n / 250, n % 250 + 1),
    );
    f.set(FactField::OsType, "Linux");
    f.set(FactField::OsInfo, os_info);
    f.set(FactField::CpuSpeed, "2.40 GHz");
    f.set(FactField::Ram, "16 GB");
    f.set(FactField::LastLoginName, "ana");
    f.normalized()
}

pub fn agent_id(n: usize) -> String {
    format!("agent-{n:04}")
}

/// Enrolls a device with `facts` into the policy as its agent would (its agent id its
/// `deviceIdentifier`), queueing nothing: the caller decides what runs.
pub async fn enroll_facts(
    store: &Store,
    policy_id: PolicyId,
    agent: &str,
    mut f: DeviceFacts,
) -> DeviceId {
    f.set(FactField::DeviceIdentifier, agent.to_owned());
    let json = serde_json::to_string(&f).unwrap();
    let d = store
        .enroll_device(&NewDevice {
            agent_id: agent,
            serial: f.serial_number.as_deref(),
            mac: f.mac_address.as_deref(),
            name: f.name.as_deref(),
            policy_id,
            facts_json: &json,
            facts_hash: &crate::secrets::hash_secret(&json),
            agent_version: "test",
            secret_hash: "x",
            proven: false,
            auto_approve_silent_ms: None,
        })
        .await
        .unwrap();
    d.device().id
}

impl World {
    /// This world's engine served over HTTP (see [`serve_engine`]): the state and its address.
    pub async fn serve(&self) -> (Shared, String) {
        serve_engine(&self.store, &self.key, &self.engine).await
    }

    pub async fn enroll(
        &self,
        policy_id: PolicyId,
        range: std::ops::Range<usize>,
    ) -> Vec<DeviceId> {
        let mut ids = Vec::new();
        for n in range {
            let os = if n % 10 == 0 {
                "Windows Server 2022 Standard"
            } else {
                "Debian GNU/Linux 12"
            };
            ids.push(self.enroll_with(policy_id, n, facts(n, os)).await);
        }
        ids
    }

    pub async fn enroll_with(&self, policy_id: PolicyId, n: usize, f: DeviceFacts) -> DeviceId {
        let id = enroll_facts(&self.store, policy_id, &agent_id(n), f).await;
        queue::device_changed(&self.store, id).await.unwrap();
        id
    }

    pub async fn link(&self, policy_id: PolicyId, company: Option<(CompanyId, &str)>) {
        let before = self.store.policy_targets(policy_id).await.unwrap();
        self.store.link_policy(policy_id, company).await.unwrap();
        match company {
            Some(_) => queue::policy_linked(&self.store, policy_id).await.unwrap(),
            None => {
                queue::devices_released(&self.store, &before).await.unwrap();
            }
        }
        self.engine.wake();
    }

    /// A sync of `company` (of the first instance), waited out.
    pub async fn resync(&self, company: CompanyId) {
        queue::sync_company(&self.store, crate::ids::IntegrationId::FIRST, company)
            .await
            .unwrap();
        self.engine.wake();
        self.settled().await;
    }

    /// Waits until no job is queued or running (up to two minutes: the two-server test waits
    /// out a dead server's leases under load).
    pub async fn settled(&self) {
        for _ in 0..2400 {
            let c = self.store.job_counts().await.unwrap();
            if c.queued == 0 && c.running == 0 {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let left: Vec<(String, String, i64, Option<String>)> = sqlx::query_as(
            "SELECT kind, payload, run_after_ms, last_error FROM jobs WHERE state IN ('queued', 'running')",
        )
        .fetch_all(self.store.pool())
        .await
        .unwrap_or_default();
        panic!(
            "jobs did not settle: {:?}; left: {left:?} (now {})",
            self.store.job_counts().await.unwrap(),
            crate::store::now_ms()
        );
    }

    /// The sandbox's configurations of one device.
    pub fn configs(&self, n: usize) -> Vec<Value> {
        let agent = agent_id(n);
        self.sb
            .sandbox
            .data()
            .configurations
            .values()
            .filter(|c| c["deviceIdentifier"] == agent.as_str())
            .cloned()
            .collect()
    }

    /// Puts a configuration into the sandbox as someone other than Bindery made it (no
    /// deviceIdentifier unless given); returns its id.
    pub fn seed_config(&self, company: CompanyId, name: &str, extra: Value) -> ConfigurationId {
        let mut data = self.sb.sandbox.data();
        let c = data.companies.get(company.0).cloned().unwrap();
        let mut record = serde_json::json!({
            "name": name,
            "type": {"id": 1, "name": "Managed Workstation"},
            "status": {"id": 1, "name": "Active"},
            "activeFlag": true,
            "company": {"id": company, "identifier": c["identifier"], "name": c["name"]},
        });
        for (k, v) in extra.as_object().unwrap() {
            record[k] = v.clone();
        }
        ConfigurationId(data.configurations.insert(record))
    }

    /// One configuration as the sandbox holds it now.
    pub fn config(&self, id: ConfigurationId) -> Value {
        self.sb
            .sandbox
            .data()
            .configurations
            .get(id.0)
            .cloned()
            .unwrap()
    }

    pub fn all_configs(&self) -> Vec<Value> {
        self.sb
            .sandbox
            .data()
            .configurations
            .values()
            .cloned()
            .collect()
    }

    /// API requests (method, path) since the log was last cleared.
    pub fn requests(&self) -> Vec<(String, String)> {
        self.sb
            .sandbox
            .requests()
            .into_iter()
            .filter(|r| !r.path.starts_with("/_sandbox"))
            .map(|r| (r.method, r.path))
            .collect()
    }

    pub async fn finish(self) {
        let _ = self.stop.send(true);
        self.sb.stop().await;
    }
}
