//! Slow clients, connection caps, per-client limits behind proxies, and password checks.

use super::*;

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
