//! Crashes, ConnectWise faults and two servers on one PostgreSQL lose and duplicate nothing.

use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crashes_and_connectwise_faults_lose_nothing_and_duplicate_nothing() {
    let scale = scale();
    let Fleet { sb, data, d, token } = fleet("Fleet").await;
    let log = data.path().join("server.log");
    let args = fast_args(&d);
    let mut server = Some(ServerProcess::start_logged(&args, &log));
    let url = server.as_ref().unwrap().url.clone();
    let creds = enroll(&url, &token, "crash", scale.devices).await;
    // Linked now, so that binding all of them is what the crashes interrupt.
    admin(&d, &["link", "--policy", "Fleet", "--company", "2"]);

    // ConnectWise misbehaves throughout: 10 % 500s, 5 % timeouts, 5 % lost replies, 429 bursts.
    let faults = |round: u64| Faults {
        latency_ms: 5,
        error_rate: 0.10,
        timeout_rate: 0.05,
        lost_reply_rate: 0.05,
        hang_ms: 300,
        burst_429: 5,
        retry_after_secs: 1,
        seed: Some(round),
        ..Faults::default()
    };
    let started = Instant::now();
    let mut rng = fastrand::Rng::with_seed(42);
    let per_round = scale.alerts.div_ceil(scale.crashes);
    let mut raised = 0;
    for round in 0..scale.crashes {
        sb.sandbox.set_faults(faults(round as u64));
        let live = match server.take() {
            Some(s) => s,
            None => ServerProcess::start_logged(&args, &log),
        };
        // Alerts arrive while it works; each is sent until taken (the spool's way).
        let batch = raised..(raised + per_round).min(scale.alerts);
        for (n, cred) in creds.iter().enumerate().take(batch.end).skip(batch.start) {
            let deadline = Instant::now() + Duration::from_secs(10);
            while !raise(&live.url, cred, n).await {
                assert!(Instant::now() < deadline, "alert {n} never taken");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
        raised = (raised + per_round).min(scale.alerts);
        tokio::time::sleep(Duration::from_millis(rng.u64(200..1500))).await;
        live.crash();
    }
    let crashed_for = started.elapsed();

    // Back up for good; once the faults stop everything converges.
    let server = ServerProcess::start_logged(&args, &log);
    sb.sandbox.set_faults(Faults::default());
    let settle = wait_for(
        "every device bound and every ticket open and attached",
        300,
        || {
            let b = bindings_line(&["--data-dir", &d], "Fleet");
            let alerts = admin(&d, &["alerts", "--limit", "5000"]);
            let open_with_number = alerts
                .lines()
                .filter(|l| {
                    let cols: Vec<&str> = l.split('\t').collect();
                    cols.get(5) == Some(&"open") && cols.get(6).is_some_and(|n| !n.is_empty())
                })
                .count();
            // A ticket raised before its device was bound gets its configuration once it is.
            let attached = sb.sandbox.data().ticket_configurations.len();
            b.contains("\tBlue\t") && open_with_number == scale.alerts && attached >= scale.alerts
        },
    );

    // Exactly one configuration per device, one ticket per alert, nothing else.
    let per_device = configurations_per_device(&sb);
    assert_eq!(per_device.len(), scale.devices);
    assert!(
        per_device.values().all(|&n| n == 1),
        "a device has two configurations"
    );
    let tickets: Vec<Value> = sb.sandbox.data().tickets.values().cloned().collect();
    assert_eq!(tickets.len(), scale.alerts, "one ticket per alert");
    let keys: HashSet<&str> = tickets
        .iter()
        .map(|t| t["externalXRef"].as_str().unwrap())
        .collect();
    assert_eq!(keys.len(), scale.alerts);
    let attached = sb.sandbox.data().ticket_configurations.len();
    assert_eq!(
        attached, scale.alerts,
        "each ticket has its configuration once"
    );
    let faults_met = sb
        .sandbox
        .requests()
        .iter()
        .filter(|r| r.fault.is_some())
        .count();
    println!(
        "crash safety: {} devices, {} alerts, {} SIGKILLs over {:.1} s, {} injected ConnectWise faults; \
         settled {:.1} s after the last restart; configurations {}, tickets {}",
        scale.devices,
        scale.alerts,
        scale.crashes,
        crashed_for.as_secs_f64(),
        faults_met,
        settle.as_secs_f64(),
        per_device.len(),
        tickets.len()
    );

    // Secrets: an admin looks around (API and console); then the logs, the answers and the
    // pages are scanned for the private key, the device secrets and the admin password.
    let created = Command::new(binary("bindery-server"))
        .args(["admin", "--data-dir", &d, "admin-create", "rel"])
        .env("BINDERY_ADMIN_PASSWORD", ADMIN_PASSWORD)
        .output()
        .unwrap();
    assert!(created.status.success());
    let mut seen = Vec::new();
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let login = http
        .post(format!("{}/api/admin/v1/session", server.url))
        .header("content-type", "application/json")
        .body(json!({"username": "rel", "password": ADMIN_PASSWORD}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), 200);
    let session: Value = serde_json::from_slice(&login.bytes().await.unwrap()).unwrap();
    let bearer = format!("Bearer {}", session["token"].as_str().unwrap());
    let cookie = format!("bindery_session={}", session["token"].as_str().unwrap());
    for path in [
        "/api/admin/v1/integration",
        "/api/admin/v1/integration/choices",
        "/api/admin/v1/policies",
        "/api/admin/v1/devices",
        "/api/admin/v1/alerts?perPage=500",
        "/api/admin/v1/help-requests",
    ] {
        let r = http
            .get(format!("{}{path}", server.url))
            .header("authorization", &bearer)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{path}");
        seen.push(r.text().await.unwrap());
    }
    for path in [
        "/console/policies",
        "/console/policies/1",
        "/console/devices",
        "/console/alerts",
        "/console/activity",
        "/console/integration",
    ] {
        let r = http
            .get(format!("{}{path}", server.url))
            .header("cookie", &cookie)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{path}");
        seen.push(r.text().await.unwrap());
    }
    server.terminate();
    seen.push(std::fs::read_to_string(&log).unwrap());
    let mut secrets: Vec<String> = creds
        .iter()
        .map(|c| c.rsplit('.').next().unwrap().to_owned())
        .collect();
    secrets.push(PRIVATE_KEY.into());
    secrets.push(ADMIN_PASSWORD.into());
    secrets.push(token.clone());
    let scanned: usize = seen.iter().map(String::len).sum();
    for text in &seen {
        for s in &secrets {
            assert!(
                !text.contains(s.as_str()),
                "a secret leaked into a log, answer or page"
            );
        }
    }
    println!(
        "secrets: {} secrets looked for in {} logs, answers and pages ({} KiB): none found",
        secrets.len(),
        seen.len(),
        scanned / 1024
    );
    sb.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_servers_share_one_postgres_queue_and_one_dying_leaves_the_other_finishing() {
    let scale = scale();
    connectwise_client::install_tls_provider();
    let sb = connectwise_sandbox::spawn("127.0.0.1:0".parse().unwrap(), Seed::default_seed(), true)
        .await
        .unwrap();
    let db = fresh_postgres();
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("server.key");
    let key = key.to_str().unwrap();
    let db_args = ["--database-url", db.as_str(), "--server-key-file", key];
    let admin_db = |extra: &[&str]| {
        let mut a = db_args.to_vec();
        a.extend_from_slice(extra);
        admin_raw(&a)
    };
    admin_db(&["connect-sandbox", &sb.url()]);
    admin_db(&["policy-create", "Shared"]);
    let token = admin_db(&["token-create", "--policy", "Shared"])
        .trim()
        .to_owned();
    let mut args = db_args.to_vec();
    args.extend([
        "--lease-secs",
        "3",
        "--retry-base-ms",
        "100",
        "--enroll-per-minute",
        "1000000",
        "--cw-requests-per-minute",
        "1000000",
        "--workers",
        "4",
    ]);
    let log = dir.path().join("servers.log");
    let a = ServerProcess::start_logged(&args, &log);
    let b = ServerProcess::start_logged(&args, &log);
    enroll(&a.url, &token, "pair", scale.scale_out_devices).await;
    // Slow enough that both servers are mid-way when one dies.
    sb.sandbox.set_faults(Faults {
        latency_ms: 40,
        ..Faults::default()
    });
    sb.sandbox.clear_requests();
    admin_db(&["link", "--policy", "Shared", "--company", "2"]);
    wait_for("binding to start", 30, || {
        configurations_per_device(&sb).len() >= scale.scale_out_devices / 5
    });
    a.crash();
    let took = wait_for("the other server to finish", 300, || {
        bindings_line(&db_args, "Shared").contains("\tBlue\t")
    });
    let per_device = configurations_per_device(&sb);
    assert_eq!(per_device.len(), scale.scale_out_devices);
    assert!(per_device.values().all(|&n| n == 1));
    // Every create that reached ConnectWise made a configuration: no job ran twice at once,
    // and the dead server's jobs were taken over by looking first.
    let creates = sb
        .sandbox
        .requests()
        .iter()
        .filter(|r| r.method == "POST" && r.path.ends_with("/company/configurations"))
        .count();
    assert_eq!(creates, scale.scale_out_devices, "one create per device");
    println!(
        "scale-out: {} devices, two servers on one PostgreSQL, one SIGKILLed mid-way; the other finished {:.1} s later; {} creates, {} configurations",
        scale.scale_out_devices,
        took.as_secs_f64(),
        creates,
        per_device.len()
    );
    drop(b);
    sb.stop().await;
}

/// Billing's create, with the server killed (-9) after ConnectWise made the addition and
/// before the server heard back: started again, it finds the addition it made and makes no
/// second one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crash_between_an_addition_s_create_and_its_record_makes_no_second_addition() {
    let Fleet { sb, data, d, token } = fleet("Billed").await;
    let log = data.path().join("server.log");
    let args = fast_args(&d);
    let server = ServerProcess::start_logged(&args, &log);
    enroll(&server.url, &token, "bill", 5).await;
    admin(&d, &["link", "--policy", "Billed", "--company", "2"]);
    wait_for("the devices to bind", 60, || {
        bindings_line(&["--data-dir", &d], "Billed").contains("\tBlue\t")
    });
    // The workstations billed as a product the agreement has no addition of yet: Bindery
    // creates one.
    admin(
        &d,
        &[
            "billing-set",
            "--policy",
            "Billed",
            "--agreement",
            "1",
            "--workstation-product",
            "MANAGED-SRV",
        ],
    );
    wait_for("the first quantity to wait", 60, || {
        admin(&d, &["billing"]).contains("waits: a new addition for 5")
    });
    // Every create's reply is lost; the server dies once ConnectWise has made the addition.
    sb.sandbox.set_faults(Faults {
        lost_reply_rate: 1.0,
        only_method: Some("POST".into()),
        only_path: Some("/additions".into()),
        ..Faults::default()
    });
    admin(
        &d,
        &["billing-approve", "--agreement", "1", "--product", "2"],
    );
    let created = || {
        sb.sandbox
            .requests()
            .iter()
            .filter(|r| r.method == "POST" && r.path.ends_with("/additions"))
            .count()
    };
    wait_for("the addition's create", 60, || created() >= 1);
    server.crash();
    sb.sandbox.set_faults(Faults::default());
    let _server = ServerProcess::start_logged(&args, &log);
    wait_for("the server to record the addition it made", 60, || {
        admin(&d, &["billing"])
            .lines()
            .any(|l| l.contains("MANAGED-SRV") && l.contains("quantity 5"))
    });
    let servers_billed = sb
        .sandbox
        .data()
        .additions
        .values()
        .filter(|a| a["agreementId"] == 1 && a["product"]["id"] == 2)
        .count();
    assert_eq!(
        (servers_billed, created()),
        (1, 1),
        "one create, one addition"
    );
}
