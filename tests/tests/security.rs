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
    let asked = Instant::now();
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
    let answered_in = asked.elapsed();

    let mut cut = 0;
    let mut longest = Duration::ZERO;
    for s in slow {
        if let Some(lived) = s.await.unwrap() {
            cut += 1;
            longest = longest.max(lived);
        }
    }
    println!(
        "slow clients: {n} opened, {cut} cut by the server, the longest after {longest:?}; \
         a check-in meanwhile answered in {answered_in:?}"
    );
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

/// One client cannot hold every connection: from 127.0.0.2 (another address of this machine,
/// so not the uncapped 127.0.0.1 a local proxy uses), three are served and held, the fourth is
/// told the server is busy, while 127.0.0.1 is still served.
#[tokio::test]
async fn one_client_cannot_hold_every_connection() {
    connectwise_client::install_tls_provider();
    let data = tempfile::tempdir().unwrap();
    let server = ServerProcess::start(&[
        "--data-dir",
        data.path().to_str().unwrap(),
        "--max-connections-per-client",
        "3",
    ]);
    let addr: std::net::SocketAddr = server.url.trim_start_matches("http://").parse().unwrap();
    let from_other_address = || async move {
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        socket.bind("127.0.0.2:0".parse().unwrap()).unwrap();
        socket.connect(addr).await.unwrap()
    };
    // Each held connection has been answered once, so the server has surely counted it.
    let mut held = Vec::new();
    for _ in 0..3 {
        let mut c = from_other_address().await;
        c.write_all(b"GET /healthz HTTP/1.1\r\nhost: x\r\n\r\n")
            .await
            .unwrap();
        let mut head = [0u8; 12];
        c.read_exact(&mut head).await.unwrap();
        assert_eq!(&head, b"HTTP/1.1 200");
        held.push(c);
    }
    let mut fourth = from_other_address().await;
    let mut answer = String::new();
    tokio::time::timeout(Duration::from_secs(30), fourth.read_to_string(&mut answer))
        .await
        .unwrap()
        .unwrap();
    assert!(answer.starts_with("HTTP/1.1 503"), "{answer}");
    assert!(answer.contains("\"code\":\"busy\""), "{answer}");
    let local = reqwest::get(format!("{}/healthz", server.url))
        .await
        .unwrap();
    assert_eq!(local.status(), 200, "another client is served meanwhile");
    drop(held);
}

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

#[tokio::test]
async fn limits_follow_the_client_behind_a_trusted_proxy_and_the_user_name() {
    connectwise_client::install_tls_provider();
    let http = reqwest::Client::new();
    // No proxy trusted: a forged X-Forwarded-For does not buy a fresh budget.
    let data = tempfile::tempdir().unwrap();
    let direct = ServerProcess::start(&[
        "--data-dir",
        data.path().to_str().unwrap(),
        "--enroll-per-minute",
        "2",
    ]);
    let mut statuses = Vec::new();
    for n in 0..3 {
        statuses.push(enroll_attempt(&http, &direct.url, &format!("198.51.100.{n}")).await);
    }
    assert_eq!(statuses, [401, 401, 429]);

    // Behind a trusted proxy (this test, from 127.0.0.1): each client its own budget...
    let data = tempfile::tempdir().unwrap();
    let proxied = ServerProcess::start(&[
        "--data-dir",
        data.path().to_str().unwrap(),
        "--enroll-per-minute",
        "2",
        "--trusted-proxies",
        "127.0.0.1/32",
    ]);
    let url = proxied.url.as_str();
    let a = [
        enroll_attempt(&http, url, "203.0.113.1").await,
        enroll_attempt(&http, url, "203.0.113.1").await,
        enroll_attempt(&http, url, "203.0.113.1").await,
    ];
    assert_eq!(a, [401, 401, 429]);
    let b = enroll_attempt(&http, url, "203.0.113.2").await;
    assert_eq!(b, 401, "another client behind the proxy is not locked out");
    // ...the right-most hop that is not the proxy counts, whatever the client put left of it...
    let c = enroll_attempt(&http, url, "203.0.113.2, 203.0.113.1, 127.0.0.1").await;
    assert_eq!(c, 429, "{c}");
    // ...and an IPv6 client by its /64.
    let v6 = [
        enroll_attempt(&http, url, "2001:db8:5:6::1").await,
        enroll_attempt(&http, url, "2001:db8:5:6::2").await,
        enroll_attempt(&http, url, "2001:db8:5:6:ffff::9").await,
    ];
    assert_eq!(v6, [401, 401, 429], "the same /64 shares one budget");

    // One address is limited on every sign-in, right or wrong (ten a minute).
    let mut statuses = Vec::new();
    for _ in 0..11 {
        statuses.push(sign_in(&http, url, "alice", Some("192.0.2.1")).await.0);
    }
    assert_eq!(statuses[..10], [401; 10], "{statuses:?}");
    assert_eq!(statuses[10], 429, "{statuses:?}");
}

/// Guessing one user's password from many addresses slows the guessers, not the user: an
/// address that has been failing waits a growing delay for that name, while the right password
/// from an address that has not been failing gets in.
#[tokio::test]
async fn guesses_at_a_name_from_many_addresses_do_not_keep_its_user_out() {
    connectwise_client::install_tls_provider();
    let http = reqwest::Client::new();
    let data = tempfile::tempdir().unwrap();
    let data_dir = data.path().to_str().unwrap();
    admin(data_dir, &["admin-create", "alice"]);
    let password = "correct horse battery staple";
    let status = std::process::Command::new(bindery_e2e::binary("bindery-server"))
        .args(["admin", "--data-dir", data_dir, "admin-password", "alice"])
        .env("BINDERY_ADMIN_PASSWORD", password)
        .status()
        .unwrap();
    assert!(status.success());
    let server = ServerProcess::start(&["--data-dir", data_dir, "--trusted-proxies", "127.0.0.1"]);
    let url = server.url.as_str();
    let mut guesses = Vec::new();
    for n in 1..=14 {
        let hop = format!("192.0.2.{n}");
        guesses.push(sign_in(&http, url, "alice", Some(&hop)).await.0);
    }
    assert_eq!(guesses, [401; 14], "each guess is checked");
    // The real user, from an address of their own.
    let right = http
        .post(format!("{url}/api/admin/v1/session"))
        .header("content-type", "application/json")
        .header("x-forwarded-for", "192.0.2.15")
        .body(json!({"username": "alice", "password": password}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(
        right.status(),
        200,
        "the right password from a clean address"
    );
    // A guesser's address comes back for the name: it waits.
    let (again, code) = sign_in(&http, url, "alice", Some("192.0.2.3")).await;
    assert_eq!((again, code.as_str()), (429, "rate_limited"));
    // Another name from that address is not slowed by alice's failures.
    assert_eq!(sign_in(&http, url, "bob", Some("192.0.2.3")).await.0, 401);
}

/// A proxy that writes `X-Forwarded-For` passes a client's own `Forwarded` through untouched:
/// a new address in it each time must not buy a fresh budget. Only the header the proxy writes
/// (`--proxy-header`) names the client.
#[tokio::test]
async fn a_clients_own_forwarded_header_does_not_dodge_the_limits() {
    connectwise_client::install_tls_provider();
    let http = reqwest::Client::new();
    let attempt = |url: String, n: usize| {
        let http = http.clone();
        async move {
            let body = json!({"token": "bdy_enr_unknown", "agentId": "agent-x", "agentVersion": "0.1.0",
                "facts": {"name": "pc"}});
            http.post(format!("{url}/api/agent/v1/enroll"))
                .header("content-type", "application/json")
                .header("x-forwarded-for", "203.0.113.50")
                .header("forwarded", format!("for=198.51.100.{n}"))
                .body(body.to_string())
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    // Fifteen enrollments, each with a new `Forwarded`, through a server told `extra`.
    let statuses = |extra: &'static [&'static str]| {
        let attempt = &attempt;
        async move {
            let data = tempfile::tempdir().unwrap();
            let mut args = vec![
                "--data-dir",
                data.path().to_str().unwrap(),
                "--enroll-per-minute",
                "5",
                "--trusted-proxies",
                "127.0.0.1",
            ];
            args.extend_from_slice(extra);
            let server = ServerProcess::start(&args);
            let mut statuses = Vec::new();
            for n in 0..15 {
                statuses.push(attempt(server.url.clone(), n).await);
            }
            statuses
        }
    };
    // By default the proxy is taken to write X-Forwarded-For.
    let xff = statuses(&[]).await;
    assert_eq!(xff[..5], [401; 5], "{xff:?}");
    assert!(xff[5..].iter().all(|s| *s == 429), "{xff:?}");
    // A proxy that writes Forwarded: that header names the client, X-Forwarded-For is ignored.
    let rfc = statuses(&["--proxy-header", "forwarded"]).await;
    assert_eq!(rfc, [401; 15], "each client its own budget: {rfc:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn password_checks_are_bounded_and_a_busy_server_says_so() {
    connectwise_client::install_tls_provider();
    let data = tempfile::tempdir().unwrap();
    let server = ServerProcess::start(&[
        "--data-dir",
        data.path().to_str().unwrap(),
        "--trusted-proxies",
        "127.0.0.1",
    ]);
    let http = reqwest::Client::new();
    // Forty sign-ins at once, each from its own client and for its own name: at most four argon2
    // verifications run together; the rest are told to come back.
    let attempts: Vec<_> = (0..40)
        .map(|n| {
            let (http, url) = (http.clone(), server.url.clone());
            tokio::spawn(async move {
                sign_in(
                    &http,
                    &url,
                    &format!("n{n}"),
                    Some(&format!("198.18.0.{n}")),
                )
                .await
            })
        })
        .collect();
    let mut answers = Vec::new();
    for a in attempts {
        answers.push(a.await.unwrap());
    }
    let busy = answers
        .iter()
        .filter(|(s, c)| *s == 429 && c == "busy")
        .count();
    let refused = answers.iter().filter(|(s, _)| *s == 401).count();
    println!("password checks: 40 at once, {refused} checked, {busy} told the server is busy");
    assert_eq!(busy + refused, 40, "{answers:?}");
    assert!(busy > 0 && refused >= 4, "{answers:?}");
    let healthy = reqwest::get(format!("{}/healthz", server.url))
        .await
        .unwrap();
    assert_eq!(healthy.status(), 200);
}

#[tokio::test]
async fn every_answer_carries_the_security_headers_and_https_cookies_are_secure() {
    connectwise_client::install_tls_provider();
    let data = tempfile::tempdir().unwrap();
    let data_dir = data.path().to_str().unwrap();
    let server = ServerProcess::start(&[
        "--data-dir",
        data_dir,
        "--public-url",
        "https://bindery.example.com",
    ]);
    let http = reqwest::Client::new();
    let paths = [
        "/healthz",
        "/no/such/page",
        "/api/admin/v1/policies",
        "/api/agent/v1/checkin",
        "/console/login",
    ];
    for path in paths {
        let r = http
            .get(format!("{}{path}", server.url))
            .send()
            .await
            .unwrap();
        let h = r.headers();
        assert_eq!(h["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(h["x-frame-options"], "DENY", "{path}");
        assert!(h.contains_key("content-security-policy"), "{path}");
        assert_eq!(h["referrer-policy"], "no-referrer", "{path}");
        // The public URL is https: HSTS, even though no proxy said how the client came.
        assert_eq!(h["strict-transport-security"], "max-age=31536000", "{path}");
    }
    // Without an https public URL, HSTS only where the request came over https.
    let plain_data = tempfile::tempdir().unwrap();
    let plain = ServerProcess::start(&["--data-dir", plain_data.path().to_str().unwrap()]);
    let r = http
        .get(format!("{}/healthz", plain.url))
        .send()
        .await
        .unwrap();
    assert!(!r.headers().contains_key("strict-transport-security"));
    let r = http
        .get(format!("{}/healthz", plain.url))
        .header("x-forwarded-proto", "https")
        .send()
        .await
        .unwrap();
    assert!(r.headers().contains_key("strict-transport-security"));

    // The public URL is https: the sign-in cookie is Secure, whatever the request said.
    admin(data_dir, &["admin-create", "alice"]);
    let password = "correct horse battery staple";
    let mut cmd = std::process::Command::new(bindery_e2e::binary("bindery-server"));
    let status = cmd
        .args(["admin", "--data-dir", data_dir, "admin-password", "alice"])
        .env("BINDERY_ADMIN_PASSWORD", password)
        .status()
        .unwrap();
    assert!(status.success());
    let r = http
        .post(format!("{}/api/admin/v1/session", server.url))
        .header("content-type", "application/json")
        .body(json!({"username": "alice", "password": password}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let cookie = r.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(
        cookie.contains("; Secure") && cookie.contains("HttpOnly"),
        "{cookie}"
    );
}

/// The ConnectWise private key as the store holds it, opened with the key file at `key`.
async fn stored_private_key(data_dir: &std::path::Path, key: &std::path::Path) -> Option<String> {
    let store = bindery_server::store::Store::open_in_dir(data_dir)
        .await
        .unwrap();
    let key = bindery_server::sealing::ServerKey::load_or_create(key).unwrap();
    let config = bindery_server::integration::client_config(&store, &key).await;
    store.pool().close().await;
    config
        .ok()
        .map(|c| c.credentials.private_key.expose().to_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_key_is_rotated_safely_and_a_loose_one_is_named() {
    connectwise_client::install_tls_provider();
    let sb = connectwise_sandbox::spawn(
        "127.0.0.1:0".parse().unwrap(),
        connectwise_sandbox::Seed::default_seed(),
        true,
    )
    .await
    .unwrap();
    let data = tempfile::tempdir().unwrap();
    let dir = data.path();
    let d = dir.to_str().unwrap();
    admin(d, &["connect-sandbox", &sb.url()]);
    let key = dir.join("server.key");
    let before = std::fs::read(&key).unwrap();
    assert_eq!(
        stored_private_key(dir, &key).await.as_deref(),
        Some("sandbox-private")
    );

    let out = admin(d, &["rekey"]);
    assert!(out.contains("re-sealed 1"), "{out}");
    assert_ne!(
        std::fs::read(&key).unwrap(),
        before,
        "a new key is in place"
    );
    assert_eq!(std::fs::read(dir.join("server.key.old")).unwrap(), before);
    assert_eq!(
        stored_private_key(dir, &key).await.as_deref(),
        Some("sandbox-private"),
        "the secret opens under the new key"
    );
    assert_eq!(
        stored_private_key(dir, &dir.join("server.key.old")).await,
        None
    );

    // A rekey that crashed after re-sealing, before the new key took its place: running it again
    // finishes, and nothing is lost.
    let next = dir.join("server.key.new");
    let new = bindery_server::sealing::create_key_file(&next).unwrap();
    {
        let store = bindery_server::store::Store::open_in_dir(dir)
            .await
            .unwrap();
        let current = bindery_server::sealing::ServerKey::load_or_create(&key).unwrap();
        bindery_server::integration::reseal(&store, &current, &new)
            .await
            .unwrap();
        store.pool().close().await;
    }
    assert_eq!(
        stored_private_key(dir, &key).await,
        None,
        "the crash's state"
    );
    let out = admin(d, &["rekey"]);
    assert!(out.contains("re-sealed 0"), "{out}");
    assert!(!next.exists());
    assert_eq!(
        stored_private_key(dir, &key).await.as_deref(),
        Some("sandbox-private")
    );

    // A key others may read: the server says so, naming the file.
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
    let log = dir.join("server.log");
    let server = ServerProcess::start_logged(&["--data-dir", d], &log);
    drop(server);
    let logged = std::fs::read_to_string(&log).unwrap();
    assert!(
        logged.contains("readable by group or others") && logged.contains("server.key"),
        "{logged}"
    );
    // The secrets themselves never reach the log: neither the ConnectWise key nor the server key.
    assert!(!logged.contains("sandbox-private"), "{logged}");
    let key_bytes = std::fs::read(&key).unwrap();
    let key_hex: String = key_bytes.iter().map(|b| format!("{b:02x}")).collect();
    assert!(!logged.contains(&key_hex));
}

#[tokio::test]
async fn each_agent_build_has_its_sha256_published_beside_it() {
    connectwise_client::install_tls_provider();
    let data = tempfile::tempdir().unwrap();
    let downloads = tempfile::tempdir().unwrap();
    let build = "pretend agent build\n";
    std::fs::write(downloads.path().join("bindery-agent-linux-x86_64"), build).unwrap();
    let server = ServerProcess::start(&[
        "--data-dir",
        data.path().to_str().unwrap(),
        "--downloads-dir",
        downloads.path().to_str().unwrap(),
    ]);
    let get = |path: &str| reqwest::get(format!("{}{path}", server.url));
    let published = get("/downloads/bindery-agent-linux-x86_64.sha256")
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(
        published,
        format!(
            "{}  bindery-agent-linux-x86_64\n",
            bindery_server::secrets::hash_secret(build)
        )
    );
    for missing in [
        "/downloads/bindery-agent-macos-aarch64.sha256",
        "/downloads/server.key.sha256",
        "/downloads/..%2Fserver.key.sha256",
    ] {
        assert_eq!(get(missing).await.unwrap().status(), 404, "{missing}");
    }
}
