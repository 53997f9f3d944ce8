//! Running the server as an operator would: settings from a config file (flags still win), a
//! config file with a mistake refused with its name, metrics, health and readiness on a listener
//! of their own, HTTPS from a certificate of the operator's own CA (which the agent is given), and
//! the systemd units.
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use std::path::PathBuf;
use std::process::Command;

use bindery_e2e::{ServerProcess, admin, enroll, free_port, own_ca, run};
use serde_json::{Value, json};

#[tokio::test]
async fn a_config_file_sets_the_server_up_and_metrics_are_served_apart() {
    connectwise_client::install_tls_provider();
    let data = tempfile::tempdir().unwrap();
    let d = data.path().to_str().unwrap().to_owned();
    admin(&d, &["policy-create", "Ops"]);
    let token = admin(&d, &["token-create", "--policy", "Ops"])
        .trim()
        .to_owned();
    let metrics = format!("127.0.0.1:{}", free_port());
    let config = data.path().join("bindery-server.toml");
    std::fs::write(
        &config,
        format!(
            "data_dir = {d:?}\nlisten = \"127.0.0.1:1\"\ncheckin_interval = 17\nmetrics_listen = {metrics:?}\nlog_json = true\n"
        ),
    )
    .unwrap();
    // The --listen flag (127.0.0.1:0) wins over the file's.
    let server = ServerProcess::start(&["--config", config.to_str().unwrap()]);
    let http = reqwest::Client::new();
    let body = json!({"token": token, "agentId": "ops-1", "agentVersion": "0.1.0", "facts": {"name": "ops"}});
    let r = http
        .post(format!("{}/api/agent/v1/enroll", server.url))
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let enrolled: Value = serde_json::from_slice(&r.bytes().await.unwrap()).unwrap();
    assert_eq!(enrolled["checkinIntervalSecs"], 17, "from the config file");
    let cred = format!(
        "Bearer ops-1.{}",
        enrolled["deviceSecret"].as_str().unwrap()
    );
    let r = http
        .post(format!("{}/api/agent/v1/checkin", server.url))
        .header("content-type", "application/json")
        .header("authorization", cred)
        .body(json!({"agentVersion": "0.1.0", "facts": {"name": "ops"}}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);

    let get = |url: String| {
        let http = http.clone();
        async move {
            let r = http.get(url).send().await.unwrap();
            (r.status().as_u16(), r.text().await.unwrap())
        }
    };
    let (status, text) = get(format!("http://{metrics}/metrics")).await;
    assert_eq!(status, 200);
    assert!(text.contains("bindery_checkins_total 1"), "{text}");
    assert!(text.contains("# TYPE bindery_jobs gauge"), "{text}");
    assert!(text.contains("bindery_jobs{state=\"queued\"}"), "{text}");
    assert_eq!(
        get(format!("http://{metrics}/readyz")).await,
        (200, "ready".into())
    );
    assert_eq!(
        get(format!("http://{metrics}/healthz")).await,
        (200, "ok".into())
    );
    // Not where agents and admins connect.
    assert_eq!(get(format!("{}/metrics", server.url)).await.0, 404);
    assert_eq!(get(format!("{}/readyz", server.url)).await.0, 200);
    assert_eq!(server.terminate(), Some(0), "SIGTERM stops it cleanly");

    // A mistake in the file is refused with its name, before anything starts.
    std::fs::write(&config, "listen = \"127.0.0.1:0\"\nchekin_interval = 5\n").unwrap();
    let (ok, _, err) = run(
        "bindery-server",
        &["serve", "--config", config.to_str().unwrap()],
    );
    assert!(!ok);
    assert!(err.contains("chekin_interval"), "{err}");
}

/// The systemd units of packaging/ pass `systemd-analyze verify` (pointed at the built binaries;
/// the agent's unit as `bindery-agent service install` writes it).
#[test]
fn the_systemd_units_verify() {
    let root = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let dir = tempfile::tempdir().unwrap();
    let server = std::fs::read_to_string(root.join("packaging/bindery-server.service"))
        .unwrap()
        .replace(
            "/usr/bin/bindery-server",
            bindery_e2e::binary("bindery-server").to_str().unwrap(),
        );
    let agent = std::fs::read_to_string(root.join("packaging/bindery-agent.service"))
        .unwrap()
        .replace(
            "/usr/bin/bindery-agent",
            bindery_e2e::binary("bindery-agent").to_str().unwrap(),
        );
    let (s, a) = (
        dir.path().join("bindery-server.service"),
        dir.path().join("bindery-agent.service"),
    );
    std::fs::write(&s, server).unwrap();
    std::fs::write(&a, agent).unwrap();
    let out = std::process::Command::new("systemd-analyze")
        .arg("verify")
        .arg(&s)
        .arg(&a)
        .output()
        .expect("systemd-analyze runs: scripts/install-test-deps installs systemd");
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success() && said.trim().is_empty(), "{said}");
}

#[tokio::test]
async fn the_server_serves_https_and_the_agent_trusts_the_ca_it_was_given() {
    connectwise_client::install_tls_provider();
    let data = tempfile::tempdir().unwrap();
    let d = data.path().to_str().unwrap().to_owned();
    let [ca, cert, key, ca_key] = own_ca(data.path());
    let s = |p: &PathBuf| p.to_str().unwrap().to_owned();
    admin(&d, &["policy-create", "Secure"]);
    let token = admin(&d, &["token-create", "--policy", "Secure"])
        .trim()
        .to_owned();

    // A key that is not the certificate's stops the server at start, naming both files.
    let (ok, _, err) = run(
        "bindery-server",
        &[
            "serve",
            "--data-dir",
            &d,
            "--listen",
            "127.0.0.1:0",
            "--tls-cert",
            &s(&cert),
            "--tls-key",
            &s(&ca_key),
        ],
    );
    assert!(
        !ok && err.contains("does not fit") && err.contains("cert.pem"),
        "{err}"
    );

    let server = ServerProcess::start(&[
        "--data-dir",
        &d,
        "--tls-cert",
        &s(&cert),
        "--tls-key",
        &s(&key),
    ]);
    assert!(server.url.starts_with("https://"), "{}", server.url);
    let trusting = bindery_e2e::trusting(&ca).build().unwrap();
    let r = trusting
        .get(format!("{}/healthz", server.url))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    // The console knows it is served over HTTPS: its session cookie is Secure.
    let created = Command::new(bindery_e2e::binary("bindery-server"))
        .args(["admin", "--data-dir", &d, "admin-create", "ops"])
        .env("BINDERY_ADMIN_PASSWORD", "a-long-enough-password")
        .output()
        .unwrap();
    assert!(created.status.success());
    let no_redirects = bindery_e2e::trusting(&ca)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let signed_in = no_redirects
        .post(format!("{}/console/login", server.url))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("username=ops&password=a-long-enough-password")
        .send()
        .await
        .unwrap();
    let cookie = signed_in
        .headers()
        .get("set-cookie")
        .map(|c| c.to_str().unwrap().to_owned())
        .unwrap_or_default();
    assert!(cookie.contains("; Secure"), "{cookie:?}");
    // Plain http on the TLS port gets nowhere.
    let plain = server.url.replace("https://", "http://");
    assert!(
        reqwest::Client::new()
            .get(format!("{plain}/healthz"))
            .send()
            .await
            .is_err()
    );

    // Without the CA the agent refuses the server, and saves no enrollment.
    let state = data.path().join("agent");
    let st = s(&state);
    let (ok, _, err) = enroll(&server.url, &token, &st, &[]);
    assert!(!ok, "an unknown CA is refused");
    assert!(err.to_lowercase().contains("certificate"), "{err}");
    assert!(!state.join("enrollment.json").exists());
    // A file that is not a certificate is refused as such.
    let (ok, _, err) = enroll(&server.url, &token, &st, &["--ca-cert", &s(&ca_key)]);
    assert!(!ok && err.contains("no certificate"), "{err}");
    // With it, enrollment and every later check-in go through.
    let (ok, out, err) = enroll(&server.url, &token, &st, &["--ca-cert", &s(&ca)]);
    assert!(ok, "{out}{err}");
    let (ok, out, err) = run("bindery-agent", &["run", "--once", "--state-dir", &st]);
    assert!(ok, "{out}{err}");
    let devices = admin(&d, &["device-list"]);
    assert_eq!(devices.lines().count(), 1, "{devices}");
}

#[test]
fn the_agent_as_a_service_logs_with_journal_priorities_and_stops_on_sigterm() {
    let data = tempfile::tempdir().unwrap();
    let d = data.path().to_str().unwrap().to_owned();
    admin(&d, &["policy-create", "Journal"]);
    let token = admin(&d, &["token-create", "--policy", "Journal"])
        .trim()
        .to_owned();
    let server = ServerProcess::start(&["--data-dir", &d]);
    let state = data.path().join("agent");
    let st = state.to_str().unwrap();
    let (ok, out, err) = enroll(&server.url, &token, st, &[]);
    assert!(ok, "{out}{err}");
    // The server gone, the service's check-in fails: a warning, as journald reads priorities.
    drop(server);
    let mut agent = Command::new(bindery_e2e::binary("bindery-agent"))
        .args(["run", "--service", "--state-dir", st])
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = agent.stderr.take().unwrap();
    let lines = std::thread::spawn(move || {
        use std::io::BufRead;
        std::io::BufReader::new(stderr)
            .lines()
            .map_while(Result::ok)
            .collect::<Vec<_>>()
    });
    let state_file = state.join("status.json");
    bindery_e2e::wait_for("the failed check-in", 30, || state_file.exists());
    let pid = agent.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    let status = agent.wait().unwrap();
    assert_eq!(status.code(), Some(0), "SIGTERM stops the service cleanly");
    let lines = lines.join().unwrap();
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("<6>agent ") && l.contains("reporting to")),
        "{lines:?}"
    );
    assert!(
        lines.iter().any(|l| l.starts_with("<4>check-in failed")),
        "{lines:?}"
    );
    assert!(
        lines.iter().all(|l| l.starts_with('<')),
        "every line carries a priority: {lines:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clients_that_never_finish_a_tls_handshake_cannot_exhaust_the_servers_files() {
    connectwise_client::install_tls_provider();
    let data = tempfile::tempdir().unwrap();
    let d = data.path().to_str().unwrap().to_owned();
    let [ca, cert, key, _] = own_ca(data.path());
    let s = |p: &PathBuf| p.to_str().unwrap().to_owned();
    let server = ServerProcess::start(&[
        "--data-dir",
        &d,
        "--tls-cert",
        &s(&cert),
        "--tls-key",
        &s(&key),
    ]);
    let addr = server.url.trim_start_matches("https://").to_owned();
    let open_files = || {
        std::fs::read_dir(format!("/proc/{}/fd", server.child.id()))
            .unwrap()
            .count()
    };
    let before = open_files();
    // 400 connections that never say a word: the server holds at most 256 of them while their
    // handshakes may still come, and closes the rest at once.
    let mut silent = Vec::new();
    for _ in 0..400 {
        silent.push(tokio::net::TcpStream::connect(&addr).await.unwrap());
    }
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let during = open_files();
    println!(
        "TLS handshakes never finished: 400 opened; the server's open files {before} -> {during}"
    );
    assert!(during < before + 300, "{before} -> {during}");
    drop(silent);
    // Once they go, an honest client gets through.
    let trusting = bindery_e2e::trusting(&ca).build().unwrap();
    let mut ok = false;
    for _ in 0..40 {
        let r = trusting.get(format!("{}/healthz", server.url)).send().await;
        if r.is_ok_and(|r| r.status() == 200) {
            ok = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
    assert!(ok);
}
