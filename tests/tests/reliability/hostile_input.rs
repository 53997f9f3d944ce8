//! Hostile facts, bodies and credentials, throttling, and hostile devices among hundreds.

use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_facts_and_bodies_change_nothing_they_should_not() {
    connectwise_client::install_tls_provider();
    let sb = connectwise_sandbox::spawn("127.0.0.1:0".parse().unwrap(), Seed::default_seed(), true)
        .await
        .unwrap();
    // Another client's record, which no query of Bindery's may match.
    let bystander = sb.sandbox.data().configurations.insert(json!({
        "name": "x", "serialNumber": "x", "deviceIdentifier": "x",
        "company": {"id": 3}, "type": {"id": 1}, "status": {"id": 1}, "activeFlag": true
    }));
    let before = sb.sandbox.data().configurations.get(bystander).cloned();
    let data = tempfile::tempdir().unwrap();
    let d = data.path().to_str().unwrap().to_owned();
    admin(&d, &["connect-sandbox", &sb.url()]);
    admin(&d, &["policy-create", "Hostile"]);
    admin(&d, &["link", "--policy", "Hostile", "--company", "2"]);
    let token = admin(&d, &["token-create", "--policy", "Hostile"])
        .trim()
        .to_owned();
    let server = ServerProcess::start(&[
        "--data-dir",
        &d,
        "--retry-base-ms",
        "100",
        "--enroll-per-minute",
        "1000",
    ]);
    let hostile = [
        "x\" or company/id=3 or serialNumber=\"x",
        "x' or 1=1 --",
        "back\\slash\\\\ and \"quotes\"",
        "zero\u{200b}width\u{202e}override",
        "ctrl\u{0}\u{7}\u{1b}[31mchars\r\n",
        "名前-ünïcödé-🚀",
        &"L".repeat(5000),
    ];
    for (n, h) in hostile.iter().enumerate() {
        let facts = json!({"name": h, "serialNumber": h, "osInfo": h, "lastLoginName": h,
            "macAddress": h, "ipAddress": h});
        let status = enroll_with_facts(&server.url, &token, &format!("hostile-{n}"), &facts).await;
        assert_eq!(status, 200, "{h:?}");
    }
    wait_for("the hostile devices bound", 60, || {
        bindings_line(&["--data-dir", &d], "Hostile").contains("\tBlue\t")
    });
    assert_eq!(
        sb.sandbox.data().configurations.get(bystander).cloned(),
        before,
        "another company's record is untouched"
    );
    let ours: Vec<Value> = sb
        .sandbox
        .data()
        .configurations
        .values()
        .filter(|c| c["company"]["id"] == 2)
        .cloned()
        .collect();
    assert_eq!(ours.len(), hostile.len());
    for c in &ours {
        for field in ["name", "serialNumber", "osInfo", "lastLoginName"] {
            let v = c[field].as_str().unwrap_or("");
            assert!(
                !v.chars()
                    .any(|ch| ch.is_control() || ch == '\u{202e}' || ch == '\u{200b}'),
                "{field} is normalised: {v:?}"
            );
            let max = if field == "serialNumber" || field == "osInfo" {
                250
            } else {
                100
            };
            assert!(
                v.encode_utf16().count() <= max,
                "{field} within ConnectWise's limit"
            );
        }
    }

    // Hostile bodies: clean 4xx answers, and the store unchanged.
    let devices_before = admin(&d, &["device-list"]);
    let cred_probe = json!({"token": "bdy_enr_not-a-token", "agentId": "probe", "agentVersion": "1", "facts": {}});
    let cases: Vec<(String, Vec<u8>, u16)> = vec![
        ("10 MB".into(), vec![b'{'; 10 * 1024 * 1024], 413),
        (
            "truncated".into(),
            br#"{"token": "abc", "agentId": "#.to_vec(),
            400,
        ),
        (
            "wrong types".into(),
            br#"{"token": 7, "agentId": [], "agentVersion": {}, "facts": "x"}"#.to_vec(),
            400,
        ),
        ("not json".into(), b"\xff\xfe\x00garbage".to_vec(), 400),
        (
            "unknown token".into(),
            cred_probe.to_string().into_bytes(),
            401,
        ),
    ];
    // No pooled connections here: the server closes the connection it refused a 10 MB body on,
    // and a request sent on that connection just as it closes would fail for the wrong reason.
    let unpooled = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .build()
        .unwrap();
    for (what, body, want) in cases {
        let r = unpooled
            .post(format!("{}/api/agent/v1/enroll", server.url))
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await;
        let status = match r {
            Ok(r) => r.status().as_u16(),
            // The server may stop reading a 10 MB body early and close the connection.
            Err(_) if want == 413 => 413,
            Err(e) => panic!("{what}: {e}"),
        };
        assert_eq!(status, want, "{what}");
    }
    assert_eq!(
        admin(&d, &["device-list"]),
        devices_before,
        "the store is unchanged"
    );
    drop(server);
    sb.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_the_right_credentials_get_in() {
    connectwise_client::install_tls_provider();
    let data = tempfile::tempdir().unwrap();
    let d = data.path().to_str().unwrap().to_owned();
    admin(&d, &["policy-create", "Locked"]);
    let token = admin(&d, &["token-create", "--policy", "Locked"])
        .trim()
        .to_owned();
    let revoked = admin(&d, &["token-create", "--policy", "Locked"])
        .trim()
        .to_owned();
    let list = admin(&d, &["token-list", "--policy", "Locked"]);
    let revoked_id = list
        .lines()
        .last()
        .unwrap()
        .split('\t')
        .next()
        .unwrap()
        .to_owned();
    admin(&d, &["token-revoke", &revoked_id]);
    let server = ServerProcess::start(&["--data-dir", &d, "--enroll-per-minute", "5"]);
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let post = |path: &str, auth: Option<String>, body: Value| {
        let mut r = http
            .post(format!("{}{path}", server.url))
            .header("content-type", "application/json")
            .body(body.to_string());
        if let Some(a) = auth {
            r = r.header("authorization", a);
        }
        r.send()
    };
    let enroll_body = |token: &str, agent: &str| json!({"token": token, "agentId": agent, "agentVersion": "0.1.0", "facts": {"name": agent}});
    // A revoked token cannot enroll; a good one can.
    let r = post("/api/agent/v1/enroll", None, enroll_body(&revoked, "a1"))
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let r = post("/api/agent/v1/enroll", None, enroll_body(&token, "a1"))
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let a1: Value = serde_json::from_slice(&r.bytes().await.unwrap()).unwrap();
    let r = post("/api/agent/v1/enroll", None, enroll_body(&token, "a2"))
        .await
        .unwrap();
    let a2: Value = serde_json::from_slice(&r.bytes().await.unwrap()).unwrap();
    // A device cannot report as another: its secret does not open another's id.
    let forged = format!(
        "Bearer {}.{}",
        a2["agentId"].as_str().unwrap(),
        a1["deviceSecret"].as_str().unwrap()
    );
    let checkin = json!({"agentVersion": "0.1.0", "facts": {"name": "forged"}});
    let r = post("/api/agent/v1/checkin", Some(forged), checkin.clone())
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    // With its own credential, the facts land on its own record whatever the body claims.
    let own = format!(
        "Bearer {}.{}",
        a1["agentId"].as_str().unwrap(),
        a1["deviceSecret"].as_str().unwrap()
    );
    let claim =
        json!({"agentVersion": "0.1.0", "facts": {"name": "claims-a2", "deviceIdentifier": "a2"}});
    assert_eq!(
        post("/api/agent/v1/checkin", Some(own), claim)
            .await
            .unwrap()
            .status(),
        200
    );
    let devices = admin(&d, &["device-list"]);
    assert!(
        devices
            .lines()
            .any(|l| l.contains("a1") && l.contains("claims-a2")),
        "{devices}"
    );
    // Enrollment is rate-limited per address.
    let mut limited = false;
    for n in 0..10 {
        let r = post(
            "/api/agent/v1/enroll",
            None,
            enroll_body(&token, &format!("r{n}")),
        )
        .await
        .unwrap();
        limited |= r.status() == 429;
    }
    assert!(limited, "enrollment is rate-limited");
    // The admin API and the console refuse requests without a session.
    let r = http
        .get(format!("{}/api/admin/v1/devices", server.url))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let r = http
        .get(format!("{}/console/devices", server.url))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303, "to the sign-in page");
    // A cross-site form post (a forged session cookie, no CSRF token) changes nothing.
    let r = http
        .post(format!("{}/console/policies", server.url))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("cookie", "bindery_session=bdy_ses_forged")
        .header("origin", "https://evil.example")
        .body("name=Evil")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303, "no session: to the sign-in page");
    assert!(!admin(&d, &["policy-list"]).contains("Evil"));
    drop(server);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_throttled_integration_sends_nothing_until_retry_after_has_passed() {
    let scale = scale();
    let Fleet {
        sb,
        data: _data,
        d,
        token,
    } = fleet("Throttled").await;
    let server = ServerProcess::start(&fast_args(&d));
    let devices = scale.scale_out_devices;
    let creds = enroll(&server.url, &token, "thr", devices).await;
    admin(&d, &["link", "--policy", "Throttled", "--company", "2"]);
    // While it binds and opens tickets, ConnectWise throttles it again and again: each round
    // answers the next three requests with 429 and Retry-After: 1.
    let rounds = if devices > 500 { 20 } else { 8 };
    let started = Instant::now();
    for round in 0..rounds {
        sb.sandbox.set_faults(Faults {
            latency_ms: 5,
            burst_429: 3,
            retry_after_secs: 1,
            ..Faults::default()
        });
        for (n, cred) in creds.iter().enumerate().skip(round * 5).take(5) {
            assert!(raise(&server.url, cred, n).await, "alert {n} taken");
        }
        // The round's tickets meet its burst (once the last round's Retry-After has passed):
        // the next round starts after that, however quickly or slowly the server gets there.
        wait_for("the round's burst met", 60, || {
            sb.sandbox.faults().burst_429 == 0
        });
        tokio::time::sleep(Duration::from_millis(700)).await;
    }
    sb.sandbox.set_faults(Faults::default());
    let alerts = rounds * 5;
    wait_for("every device bound and every ticket open", 300, || {
        let b = bindings_line(&["--data-dir", &d], "Throttled");
        b.contains("\tBlue\t") && sb.sandbox.data().tickets.len() == alerts
    });
    let log = sb.sandbox.requests();
    let throttled = log.iter().filter(|r| r.status == 429).count();
    let during = log.iter().filter(|r| r.during_retry_after).count();
    println!(
        "throttling: {devices} devices and {alerts} alerts over {:.1} s of 429 bursts; {throttled} 429s met; \
         requests sent during a Retry-After window: {during}",
        started.elapsed().as_secs_f64()
    );
    assert!(throttled >= rounds, "the bursts were met");
    assert_eq!(during, 0, "no request while throttled");
    assert_eq!(configurations_per_device(&sb).len(), devices);
    drop(server);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_devices_among_hundreds_leave_every_other_device_bound_on_sqlite() {
    let data = tempfile::tempdir().unwrap();
    hostile_devices_among_hundreds(vec![
        "--data-dir".into(),
        data.path().to_str().unwrap().to_owned(),
    ])
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_devices_among_hundreds_leave_every_other_device_bound_on_postgres() {
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("server.key");
    hostile_devices_among_hundreds(vec![
        "--database-url".into(),
        fresh_postgres(),
        "--server-key-file".into(),
        key.to_str().unwrap().to_owned(),
    ])
    .await;
}
