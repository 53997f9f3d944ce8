//! The sandbox refuses what the real API refuses: each rule is a bad request sent over real HTTP
//! and the rejection it must get, in ConnectWise's error shape. And every object it returns is a
//! valid instance of the public schema, with no field the schema does not declare.
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use connectwise_sandbox::{Running, Seed, schema};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

const AUTH: (&str, &str) = ("bindery+sandbox-public", "sandbox-private");

struct Api {
    sb: Running,
    http: reqwest::Client,
}

impl Api {
    async fn new() -> Api {
        let sb =
            connectwise_sandbox::spawn("127.0.0.1:0".parse().unwrap(), Seed::default_seed(), true)
                .await
                .unwrap();
        Api {
            sb,
            http: http_client(),
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}/v4_6_release/apis/3.0/{path}", self.sb.url())
    }

    /// An authenticated call with a clientId; returns status, headers and JSON body.
    async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, reqwest::header::HeaderMap, Value) {
        let mut req = self
            .http
            .request(method, self.url(path))
            .basic_auth(AUTH.0, Some(AUTH.1))
            .header("clientId", "tests");
        if let Some(b) = body {
            req = req
                .header("content-type", "application/json")
                .body(b.to_string());
        }
        let resp = req.send().await.unwrap();
        let (status, headers) = (resp.status(), resp.headers().clone());
        let text = resp.text().await.unwrap();
        (
            status,
            headers,
            serde_json::from_str(&text).unwrap_or(Value::Null),
        )
    }

    async fn get(&self, path: &str) -> (StatusCode, Value) {
        let (s, _, b) = self.call(Method::GET, path, None).await;
        (s, b)
    }
}

/// A 400 in ConnectWise's shape, naming `field` among its errors.
fn assert_rejects_field(status: StatusCode, body: &Value, field: &str) {
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(
        body["code"].is_string() && body["message"].is_string(),
        "{body}"
    );
    let fields: Vec<&str> = body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert!(fields.contains(&field), "{field} not in {fields:?}");
    for e in body["errors"].as_array().unwrap() {
        for key in ["code", "message", "resource", "field"] {
            assert!(e[key].is_string(), "{key} missing in {e}");
        }
    }
}

fn configuration() -> Value {
    json!({ "name": "web-01", "type": {"id": 1}, "company": {"id": 2}, "deviceIdentifier": "agent-1" })
}

mod answers_and_tickets;
mod finance;
mod inventory;
mod requests;
mod routing;
mod sites;

/// A plain HTTP client (rustls needs its ring provider installed before any client is built).
fn http_client() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::new()
}
