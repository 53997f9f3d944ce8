//! The agent API over real HTTP, served in-process on 127.0.0.1:0 with a SQLite store.
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use bindery_server::app;
use bindery_server::state::{AgentSettings, AppState, Shared};
use bindery_server::store::Store;
use reqwest::StatusCode;
use serde_json::{Value, json};

struct Server {
    url: String,
    state: Shared,
    token: String,
    http: reqwest::Client,
    _dir: tempfile::TempDir,
    stop: tokio::sync::oneshot::Sender<()>,
}

async fn server() -> Server {
    server_with(AgentSettings {
        checkin_interval_secs: 30,
        ..AgentSettings::default()
    })
    .await
}

async fn server_with(settings: AgentSettings) -> Server {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open_in_dir(dir.path()).await.unwrap();
    let policy = store.create_policy("Office").await.unwrap();
    let (_, token) = store
        .create_token(policy.id, "tests", None, None)
        .await
        .unwrap();
    let state = AppState::new(store, settings);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/api/agent/v1", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(app::launch(state.clone(), listener, async move {
        let _ = stopped.await;
    }));
    Server {
        url,
        state,
        token,
        http: http_client(),
        _dir: dir,
        stop,
    }
}

impl Server {
    async fn post(
        &self,
        path: &str,
        auth: Option<&str>,
        body: impl Into<reqwest::Body>,
    ) -> (StatusCode, Value) {
        let mut req = self
            .http
            .post(format!("{}{path}", self.url))
            .header("content-type", "application/json")
            .body(body);
        if let Some(a) = auth {
            req = req.header("authorization", a);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status();
        let text = resp.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    async fn enroll(&self, agent_id: &str) -> String {
        let body = json!({"token": self.token, "agentId": agent_id, "agentVersion": "0.1.0", "facts": {"name": "pc-1", "serialNumber": "77NDZ12"}});
        let (s, b) = self.post("/enroll", None, body.to_string()).await;
        assert_eq!(s, StatusCode::OK, "{b}");
        format!(
            "Bearer {}.{}",
            b["agentId"].as_str().unwrap(),
            b["deviceSecret"].as_str().unwrap()
        )
    }
}

fn checkin(name: &str) -> String {
    json!({"agentVersion": "0.1.0", "facts": {"name": name, "ram": "8.0 GB", "macAddress": "aa-bb-cc-dd-ee-ff"}}).to_string()
}

mod enrollment_and_checkins;
mod tokens;

/// A plain HTTP client (rustls needs its ring provider installed before any client is built).
fn http_client() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::new()
}
