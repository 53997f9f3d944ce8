//! An engine bound to the ConnectWise sandbox over real HTTP, on a fresh SQLite store, with
//! helpers to enroll devices, link policies and wait for the jobs to settle.

use std::sync::Arc;
use std::time::Duration;

use bindery_server::ids::{CompanyId, ConfigurationId, DeviceId, PolicyId};
use bindery_server::reconcile::{Engine, EngineConfig, queue};
use bindery_server::sealing::ServerKey;
use bindery_server::store::{NewDevice, Store};
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

pub async fn world() -> World {
    world_with(EngineConfig::default()).await
}

/// A world whose engine starts from `config` (its timings made quick for tests).
pub async fn world_with(config: EngineConfig) -> World {
    connectwise_client::install_tls_provider();
    let sb = connectwise_sandbox::spawn("127.0.0.1:0".parse().unwrap(), Seed::default_seed(), true)
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open_in_dir(dir.path()).await.unwrap();
    let key = Arc::new(ServerKey::load_or_create(&dir.path().join("server.key")).unwrap());
    bindery_server::demo::connect_to_sandbox(&store, &key, &sb.url())
        .await
        .unwrap();
    // The tests ask for every sync themselves: no start-up re-sync racing with them.
    store
        .put_setting(
            bindery_server::reconcile::runner::LAST_FULL_SYNC,
            &bindery_server::store::now_ms().to_string(),
        )
        .await
        .unwrap();
    let engine = Engine::new(
        store.clone(),
        key.clone(),
        EngineConfig {
            lease: Duration::from_secs(10),
            poll: Duration::from_millis(50),
            retry_base: Duration::from_millis(50),
            retry_max: Duration::from_millis(500),
            ..config
        },
    );
    let (stop, stopped) = tokio::sync::watch::channel(false);
    tokio::spawn(engine.clone().run(stopped));
    World {
        sb,
        store,
        engine,
        key,
        stop,
        _dir: dir,
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

impl World {
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

    pub async fn enroll_with(&self, policy_id: PolicyId, n: usize, mut f: DeviceFacts) -> DeviceId {
        let agent = agent_id(n);
        f.set(FactField::DeviceIdentifier, agent.clone());
        let json = serde_json::to_string(&f).unwrap();
        let d = self
            .store
            .enroll_device(&NewDevice {
                agent_id: &agent,
                serial: f.serial_number.as_deref(),
                mac: f.mac_address.as_deref(),
                name: f.name.as_deref(),
                policy_id,
                facts_json: &json,
                facts_hash: &bindery_server::secrets::hash_secret(&json),
                agent_version: "test",
                secret_hash: "x",
                proven: false,
                auto_approve_silent_ms: None,
            })
            .await
            .unwrap();
        let id = d.device().id;
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
            bindery_server::store::now_ms()
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
