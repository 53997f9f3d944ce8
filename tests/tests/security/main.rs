//! The security part of the reliability suite (docs/RELIABILITY.md, "Security"), against the real
//! server binary: slow and idle clients cannot hold it, and a full server says so instead of
//! hanging. The short form runs with every other test; BINDERY_RELIABILITY=long uses more
//! connections.
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use std::time::{Duration, Instant};

use bindery_e2e::{ServerProcess, admin};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

fn slow_clients() -> usize {
    if std::env::var("BINDERY_RELIABILITY").as_deref() == Ok("long") {
        1000
    } else {
        300
    }
}

/// A client that starts a request and then sends one header line a second, never finishing.
/// Returns how long the server let it live (`None`: still open after `give_up`).
async fn trickle(addr: String, give_up: Duration) -> Option<Duration> {
    let started = Instant::now();
    let mut stream = TcpStream::connect(&addr).await.ok()?;
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nhost: bindery\r\n")
        .await
        .ok()?;
    let mut buf = [0u8; 512];
    while started.elapsed() < give_up {
        tokio::select! {
            read = stream.read(&mut buf) => match read {
                Ok(0) | Err(_) => return Some(started.elapsed()),
                Ok(_) => {}
            },
            () = tokio::time::sleep(Duration::from_secs(1)) => {
                if stream.write_all(b"x-slow: still-here\r\n").await.is_err() {
                    return Some(started.elapsed());
                }
            }
        }
    }
    None
}

/// A client that makes one request on a kept-alive connection and then says nothing: how long
/// the server keeps the idle connection (`None`: still open after `give_up`).
async fn idle_after_one_request(addr: String, give_up: Duration) -> Option<Duration> {
    let mut stream = TcpStream::connect(&addr).await.ok()?;
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nhost: bindery\r\n\r\n")
        .await
        .ok()?;
    let answered = Instant::now();
    let mut buf = [0u8; 512];
    loop {
        match tokio::time::timeout(
            give_up.saturating_sub(answered.elapsed()),
            stream.read(&mut buf),
        )
        .await
        {
            Err(_) => return None,
            Ok(Ok(0) | Err(_)) => return Some(answered.elapsed()),
            Ok(Ok(_)) => {}
        }
    }
}

/// An enrolled device's credential.
async fn enrolled(http: &reqwest::Client, url: &str, data_dir: &str) -> String {
    let token = admin(data_dir, &["token-create", "--policy", "Office"]);
    let body = json!({"token": token.trim(), "agentId": "agent-slow-test", "agentVersion": "0.1.0",
        "facts": {"name": "pc-1"}});
    let reply = http
        .post(format!("{url}/api/agent/v1/enroll"))
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    let reply: serde_json::Value = serde_json::from_str(&reply.text().await.unwrap()).unwrap();
    format!(
        "Bearer {}.{}",
        reply["agentId"].as_str().unwrap(),
        reply["deviceSecret"].as_str().unwrap()
    )
}

mod connections_and_limits;
mod headers_keys_and_builds;

/// `(status, code)` of a sign-in to the admin API, as from `forwarded_for` when given.
async fn sign_in(
    http: &reqwest::Client,
    url: &str,
    user: &str,
    forwarded_for: Option<&str>,
) -> (u16, String) {
    let mut req = http
        .post(format!("{url}/api/admin/v1/session"))
        .header("content-type", "application/json")
        .body(json!({"username": user, "password": "not the password"}).to_string());
    if let Some(f) = forwarded_for {
        req = req.header("x-forwarded-for", f);
    }
    let r = req.send().await.unwrap();
    let status = r.status().as_u16();
    let body: serde_json::Value =
        serde_json::from_str(&r.text().await.unwrap()).unwrap_or_default();
    (status, body["code"].as_str().unwrap_or_default().to_owned())
}

/// The status of an enrollment with an unknown token (401, or 429 once limited).
async fn enroll_attempt(http: &reqwest::Client, url: &str, forwarded_for: &str) -> u16 {
    let body = json!({"token": "bdy_enr_unknown", "agentId": "agent-x", "agentVersion": "0.1.0",
        "facts": {"name": "pc"}});
    http.post(format!("{url}/api/agent/v1/enroll"))
        .header("content-type", "application/json")
        .header("x-forwarded-for", forwarded_for)
        .body(body.to_string())
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

/// The ConnectWise private key as the store holds it, opened with the key file at `key`.
async fn stored_private_key(data_dir: &std::path::Path, key: &std::path::Path) -> Option<String> {
    let store = bindery_server::store::Store::open_in_dir(data_dir)
        .await
        .unwrap();
    let key = bindery_server::sealing::ServerKey::load_or_create(key).unwrap();
    let config = bindery_server::integration::client_config(
        &store,
        &key,
        bindery_server::ids::IntegrationId::FIRST,
    )
    .await;
    store.pool().close().await;
    config
        .ok()
        .map(|c| c.credentials.private_key.expose().to_owned())
}
