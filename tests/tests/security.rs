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

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn slow_clients_are_cut_and_check_ins_still_get_through() {
    let data = tempfile::tempdir().unwrap();
    let data_dir = data.path().to_str().unwrap();
    connectwise_client::install_tls_provider();
    admin(data_dir, &["policy-create", "Office"]);
    let n = slow_clients();
    let cap = (n + 50).to_string();
    let server = ServerProcess::start(&[
        "--data-dir",
        data_dir,
        "--header-timeout",
        "3",
        "--max-connections",
        &cap,
    ]);
    let addr = server.url.trim_start_matches("http://").to_owned();
    let http = reqwest::Client::new();
    let cred = enrolled(&http, &server.url, data_dir).await;

    let idle = tokio::spawn(idle_after_one_request(
        addr.clone(),
        Duration::from_secs(40),
    ));
    let slow: Vec<_> = (0..n)
        .map(|_| tokio::spawn(trickle(addr.clone(), Duration::from_secs(40))))
        .collect();
    tokio::time::sleep(Duration::from_secs(1)).await;
    // While they trickle, a device's check-in is answered.
    let checkin = json!({"agentVersion": "0.1.0", "facts": {"name": "pc-1"}});
    let reply = http
        .post(format!("{}/api/agent/v1/checkin", server.url))
        .header("authorization", &cred)
        .header("content-type", "application/json")
        .body(checkin.to_string())
        .timeout(Duration::from_secs(10))
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), 200);

    let mut cut = 0;
    let mut longest = Duration::ZERO;
    for s in slow {
        if let Some(lived) = s.await.unwrap() {
            cut += 1;
            longest = longest.max(lived);
        }
    }
    println!("slow clients: {n} opened, {cut} cut by the server, the longest after {longest:?}");
    assert_eq!(cut, n, "every slow client is cut, none held on");
    assert!(
        idle.await.unwrap().is_some(),
        "an idle keep-alive connection is closed"
    );
}

#[tokio::test]
async fn past_the_connection_cap_a_client_is_told_the_server_is_busy() {
    connectwise_client::install_tls_provider();
    let data = tempfile::tempdir().unwrap();
    let server = ServerProcess::start(&[
        "--data-dir",
        data.path().to_str().unwrap(),
        "--max-connections",
        "5",
    ]);
    let addr = server.url.trim_start_matches("http://").to_owned();
    let mut held = Vec::new();
    for _ in 0..5 {
        held.push(TcpStream::connect(&addr).await.unwrap());
    }
    // The server has taken the five (accepting is asynchronous).
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut sixth = TcpStream::connect(&addr).await.unwrap();
    let mut answer = String::new();
    tokio::time::timeout(Duration::from_secs(10), sixth.read_to_string(&mut answer))
        .await
        .unwrap()
        .unwrap();
    assert!(answer.starts_with("HTTP/1.1 503"), "{answer}");
    assert!(answer.contains("\"code\":\"busy\""), "{answer}");
    // Once the held connections go, the server serves again.
    drop(held);
    let mut ok = false;
    for _ in 0..40 {
        let got = reqwest::get(format!("{}/healthz", server.url)).await;
        if got.is_ok_and(|r| r.status() == 200) {
            ok = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    assert!(ok, "the server serves again once connections are free");
}
