//! A real server (engine, SQLite, the ConnectWise sandbox) driven through its admin API over
//! HTTP. Every answer is checked against the OpenAPI document as it arrives.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use bindery_server::app;
use bindery_server::reconcile::EngineConfig;
use bindery_server::sealing::ServerKey;
use bindery_server::settings::{Settings, assemble};
use bindery_server::state::AgentSettings;
use bindery_server::store::Store;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use super::openapi::Documented;

pub const PASSWORD: &str = "correct horse battery staple";
pub const PRIVATE_KEY: &str = "sandbox-private";

pub struct Server {
    pub base: String,
    pub admin: String,
    pub agent: String,
    pub http: reqwest::Client,
    pub sb: connectwise_sandbox::Running,
    /// Every response body seen, to check that no secret was ever in one.
    pub seen: std::sync::Mutex<Vec<String>>,
    /// The document every answer is checked against, and the operations answered so far.
    pub documented: Documented,
    pub covered: std::sync::Mutex<BTreeSet<String>>,
    /// API tokens of lesser roles, for tests that walk the routes with each role.
    pub roles: std::sync::Mutex<Vec<(bindery_server::access::Role, String)>>,
    pub _dir: tempfile::TempDir,
    pub stop: tokio::sync::oneshot::Sender<()>,
}

pub async fn server() -> Server {
    // The sandbox is plain http on this machine, which the server allows only when told to.
    server_with(AgentSettings {
        connectwise_allow_http: true,
        ..AgentSettings::default()
    })
    .await
}

/// A server with these serving settings.
pub async fn server_with(agents: AgentSettings) -> Server {
    connectwise_client::install_tls_provider();
    let sb = connectwise_sandbox::spawn(
        "127.0.0.1:0".parse().unwrap(),
        connectwise_sandbox::Seed::default_seed(),
        true,
    )
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open_in_dir(dir.path()).await.unwrap();
    let hash = bindery_server::secrets::hash_password(PASSWORD).unwrap();
    store
        .create_admin("alice", &hash, bindery_server::access::Role::Owner)
        .await
        .unwrap();
    let key = Arc::new(ServerKey::load_or_create(&dir.path().join("server.key")).unwrap());
    let settings = Settings {
        engine: EngineConfig {
            poll: Duration::from_millis(50),
            ..EngineConfig::default()
        },
        web: agents,
    };
    let (_, state) = assemble(store, key, &settings);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(app::launch(state, listener, async move {
        let _ = stopped.await;
    }));
    Server {
        admin: format!("{base}/api/admin/v1"),
        agent: format!("{base}/api/agent/v1"),
        base,
        http: reqwest::Client::new(),
        sb,
        seen: std::sync::Mutex::new(Vec::new()),
        documented: Documented::load(),
        covered: std::sync::Mutex::new(BTreeSet::new()),
        roles: std::sync::Mutex::new(Vec::new()),
        _dir: dir,
        stop,
    }
}

impl Server {
    /// A call with optional headers; (status, JSON body or Null).
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut req = self
            .http
            .request(method.clone(), format!("{}{path}", self.admin));
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        if let Some(b) = body {
            req = req
                .header("content-type", "application/json")
                .body(b.to_string());
        }
        let resp = req.send().await.unwrap();
        let status = resp.status();
        let text = resp.text().await.unwrap();
        self.seen.lock().unwrap().push(text.clone());
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        match self
            .documented
            .check(method.as_str(), path, status.as_u16(), &body)
        {
            Ok(operation) => {
                self.covered.lock().unwrap().insert(operation);
            }
            Err(mismatch) => panic!("the answer differs from the OpenAPI document: {mismatch}"),
        }
        (status, body)
    }

    pub async fn login(&self) -> (String, String) {
        let (s, b) = self
            .call(
                Method::POST,
                "/session",
                &[],
                Some(json!({"username": "alice", "password": PASSWORD})),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{b}");
        (
            b["token"].as_str().unwrap().to_owned(),
            b["csrfToken"].as_str().unwrap().to_owned(),
        )
    }

    /// A GET whose answer is not JSON (an export): status and text, unchecked by the document.
    pub async fn call_text(&self, token: &str, path: &str) -> (StatusCode, String) {
        let resp = self
            .http
            .get(format!("{}{path}", self.admin))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        let status = resp.status();
        let text = resp.text().await.unwrap();
        self.seen.lock().unwrap().push(text.clone());
        (status, text)
    }

    pub async fn as_admin(
        &self,
        token: &str,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let auth = format!("Bearer {token}");
        self.call(method, path, &[("authorization", &auth)], body)
            .await
    }
}

/// Credentials and choices saved, as an admin would after "Connect".
pub async fn connect(s: &Server, t: &str) {
    let creds = json!({"site": s.sb.url(), "companyId": "bindery", "publicKey": "sandbox-public",
        "clientId": "tests", "allowHttp": true, "privateKey": PRIVATE_KEY});
    let (status, _) = s
        .as_admin(t, Method::PUT, "/integration", Some(creds))
        .await;
    assert_eq!(status, StatusCode::OK);
    let choices = json!({
        "monitoring": {"boardId": 1, "openStatusId": 1, "closedStatusId": 2},
        "selfService": {"boardId": 2, "openStatusId": 3, "closedStatusId": 4},
        "activeStatusId": 1, "inactiveStatusId": 2, "defaultTypeId": 1, "typeRules": []});
    let (status, body) = s
        .as_admin(t, Method::PUT, "/integration/choices", Some(choices))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

/// A configuration made by someone else in Acme.
pub fn seed(s: &Server, name: &str, serial: Option<&str>) -> i64 {
    let mut record = json!({"name": name, "type": {"id": 1, "name": "Managed Workstation"},
        "status": {"id": 1, "name": "Active"},
        "company": {"id": 2, "identifier": "Acme", "name": "Acme Corporation"}});
    if let Some(serial) = serial {
        record["serialNumber"] = serial.into();
    }
    s.sb.sandbox.data().configurations.insert(record)
}
