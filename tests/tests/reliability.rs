//! The reliability suite: the real server binary crashed with SIGKILL while it binds devices and
//! opens tickets through ConnectWise faults; two servers sharing one PostgreSQL, one killed;
//! hostile facts and bodies; authentication; and a scan of everything the suite saw for
//! secrets. Each test ends on what the ConnectWise sandbox holds.
//!
//! The short form runs with every `scripts/test` (CI). `scripts/reliability` runs the long form
//! (BINDERY_RELIABILITY=long: 2,000 devices and 20 crashes) and prints the figures that
//! docs/RELIABILITY.md records.
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use std::collections::{HashMap, HashSet};
use std::process::Command;
use std::time::{Duration, Instant};

use bindery_e2e::{ServerProcess, admin, binary, wait_for};
use connectwise_sandbox::{Faults, Seed};
use serde_json::{Value, json};

const ADMIN_PASSWORD: &str = "reliability-suite-password";
const PRIVATE_KEY: &str = "sandbox-private";

struct Scale {
    devices: usize,
    crashes: usize,
    alerts: usize,
    scale_out_devices: usize,
}

fn scale() -> Scale {
    if std::env::var("BINDERY_RELIABILITY").as_deref() == Ok("long") {
        Scale {
            devices: 2000,
            crashes: 20,
            alerts: 200,
            scale_out_devices: 1000,
        }
    } else {
        Scale {
            devices: 200,
            crashes: 5,
            alerts: 30,
            scale_out_devices: 150,
        }
    }
}

/// Enrolls `count` simulated machines through the agent API; returns their credentials.
async fn enroll(url: &str, token: &str, prefix: &str, count: usize) -> Vec<String> {
    let http = reqwest::Client::new();
    let mut creds = Vec::with_capacity(count);
    for chunk in (0..count).collect::<Vec<_>>().chunks(50) {
        let mut set = tokio::task::JoinSet::new();
        for &n in chunk {
            let body = json!({"token": token, "agentId": format!("{prefix}-{n:05}"), "agentVersion": "0.1.0",
                "facts": {"name": format!("{prefix}-host-{n:05}"), "serialNumber": format!("{prefix}SN{n:07}"),
                    "osType": "Windows", "osInfo": "Windows 11 Pro"}});
            let (http, url) = (http.clone(), url.to_owned());
            set.spawn(async move {
                let r = http
                    .post(format!("{url}/api/agent/v1/enroll"))
                    .header("content-type", "application/json")
                    .body(body.to_string())
                    .send()
                    .await
                    .unwrap();
                assert_eq!(r.status(), 200);
                let v: Value = serde_json::from_slice(&r.bytes().await.unwrap()).unwrap();
                (
                    n,
                    format!(
                        "Bearer {}.{}",
                        v["agentId"].as_str().unwrap(),
                        v["deviceSecret"].as_str().unwrap()
                    ),
                )
            });
        }
        let mut got: Vec<(usize, String)> = set.join_all().await;
        got.sort();
        creds.extend(got.into_iter().map(|(_, c)| c));
    }
    creds
}

/// Enrolls one machine with `facts` through the agent API; returns the answer's status.
async fn enroll_with_facts(url: &str, token: &str, agent_id: &str, facts: &Value) -> u16 {
    let body =
        json!({"token": token, "agentId": agent_id, "agentVersion": "0.1.0", "facts": facts});
    reqwest::Client::new()
        .post(format!("{url}/api/agent/v1/enroll"))
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

/// Sends one "raised" event for device `n` until the server takes it (it may be down).
async fn raise(url: &str, cred: &str, n: usize) -> bool {
    let body = json!({"events": [{"seq": 1, "monitorId": "disk-free", "subject": "C:", "kind": "raised",
        "atMs": 1_795_310_405_000u64, "summary": format!("Disk C: almost full ({n})"), "value": 2.0}]});
    let r = reqwest::Client::new()
        .post(format!("{url}/api/agent/v1/alerts"))
        .header("content-type", "application/json")
        .header("authorization", cred)
        .timeout(Duration::from_secs(5))
        .body(body.to_string())
        .send()
        .await;
    r.is_ok_and(|r| r.status() == 200)
}

/// deviceIdentifier → how many configurations the sandbox holds for it.
fn configurations_per_device(sb: &connectwise_sandbox::Running) -> HashMap<String, usize> {
    let mut by = HashMap::new();
    for c in sb.sandbox.data().configurations.values() {
        *by.entry(c["deviceIdentifier"].as_str().unwrap_or("").to_owned())
            .or_default() += 1;
    }
    by
}

/// The policy's first `bindings` line: "NAME\tBlue\tN devices, B bound, …".
fn bindings_line(admin_args: &[&str], policy: &str) -> String {
    let mut args = admin_args.to_vec();
    args.extend(["bindings", "--policy", policy]);
    admin_raw(&args)
        .lines()
        .next()
        .unwrap_or_default()
        .to_owned()
}

/// `bindery-server admin ARGS…` (ARGS name the database), which must succeed.
fn admin_raw(args: &[&str]) -> String {
    let out = Command::new(binary("bindery-server"))
        .arg("admin")
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "admin {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A sandbox, a data dir set up against it with one policy, and that policy's enrollment token.
struct Fleet {
    sb: connectwise_sandbox::Running,
    data: tempfile::TempDir,
    d: String,
    token: String,
}

async fn fleet(policy: &str) -> Fleet {
    connectwise_client::install_tls_provider();
    let sb = connectwise_sandbox::spawn("127.0.0.1:0".parse().unwrap(), Seed::default_seed(), true)
        .await
        .unwrap();
    let data = tempfile::tempdir().unwrap();
    let d = data.path().to_str().unwrap().to_owned();
    admin(&d, &["connect-sandbox", &sb.url()]);
    admin(&d, &["policy-create", policy]);
    let token = admin(&d, &["token-create", "--policy", policy])
        .trim()
        .to_owned();
    Fleet { sb, data, d, token }
}

/// Server flags for load: fast retries, no enrollment or ConnectWise rate limit of its own.
fn fast_args(d: &str) -> [&str; 8] {
    [
        "--data-dir",
        d,
        "--retry-base-ms",
        "100",
        "--enroll-per-minute",
        "1000000",
        "--cw-requests-per-minute",
        "1000000",
    ]
}

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

/// A fresh database on the suite's PostgreSQL (BINDERY_TEST_POSTGRES_URL, started by
/// scripts/test).
fn fresh_postgres() -> String {
    let url = std::env::var("BINDERY_TEST_POSTGRES_URL").expect(
        "BINDERY_TEST_POSTGRES_URL is not set: run the suite with scripts/test or scripts/reliability",
    );
    let name = format!("rel_{}_{}", std::process::id(), fastrand::u32(..));
    let out = Command::new("psql")
        .args([&url, "-q", "-c", &format!("CREATE DATABASE {name}")])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    format!("{}/{name}", &url[..url.rfind('/').unwrap()])
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

/// Machines with hostile or missing facts enrolled among hundreds of ordinary ones, with
/// ConnectWise faults on throughout: each device's trouble stays its own, and every other
/// device is bound (issue 36: one nameless device once kept its whole company unbound).
async fn hostile_devices_among_hundreds(store_args: Vec<String>) {
    let scale = scale();
    connectwise_client::install_tls_provider();
    let sb = connectwise_sandbox::spawn("127.0.0.1:0".parse().unwrap(), Seed::default_seed(), true)
        .await
        .unwrap();
    let admin_with = |extra: &[&str]| {
        let mut a: Vec<&str> = store_args.iter().map(String::as_str).collect();
        a.extend_from_slice(extra);
        admin_raw(&a)
    };
    admin_with(&["connect-sandbox", &sb.url()]);
    admin_with(&["policy-create", "Mixed"]);
    admin_with(&["link", "--policy", "Mixed", "--company", "2"]);
    let token = admin_with(&["token-create", "--policy", "Mixed"])
        .trim()
        .to_owned();
    let mut args: Vec<&str> = store_args.iter().map(String::as_str).collect();
    args.extend([
        "--retry-base-ms",
        "100",
        "--enroll-per-minute",
        "1000000",
        "--cw-requests-per-minute",
        "1000000",
    ]);
    let server = ServerProcess::start(&args);
    sb.sandbox.set_faults(Faults {
        latency_ms: 2,
        error_rate: 0.05,
        timeout_rate: 0.02,
        lost_reply_rate: 0.02,
        hang_ms: 300,
        seed: Some(36),
        ..Faults::default()
    });
    let long = "L".repeat(5000);
    let hostile: Vec<Value> = vec![
        json!({"absent": {"name": "the host name could not be read"}, "serialNumber": "HOSTILE-1"}),
        json!({"name": "\u{200b}\u{feff}\u{202e}", "serialNumber": "HOSTILE-2"}),
        json!({}),
        json!({"name": long, "serialNumber": long, "osInfo": long, "lastLoginName": long}),
        json!({"name": "oem", "serialNumber": "To be filled by O.E.M.", "macAddress": "0200.0000.0001"}),
        json!({"name": "v6", "ipAddress": "fe80::1%eth0", "macAddress": "02-00-00-00-00-02"}),
        json!({"name": "x\" or company/id=3 or serialNumber=\"x", "serialNumber": "x' or 1=1 --"}),
        json!({"name": "ctrl\u{0}\u{7}\u{1b}[31m\r\n", "absent": {"serialNumber": "", "ram": "\u{0}"}}),
    ];
    let half = scale.devices / 2;
    enroll(&server.url, &token, "first", half).await;
    for (n, facts) in hostile.iter().enumerate() {
        let status = enroll_with_facts(&server.url, &token, &format!("hostile-{n}"), facts).await;
        assert_eq!(status, 200, "{facts}");
    }
    enroll(&server.url, &token, "after", scale.devices - half).await;
    let total = scale.devices + hostile.len();
    wait_for("every device bound, faults and all", 300, || {
        let line = admin_with(&["bindings", "--policy", "Mixed"]);
        line.lines()
            .next()
            .unwrap_or_default()
            .contains(&format!("\tBlue\t{total} devices, {total} bound"))
    });
    let per_device = configurations_per_device(&sb);
    assert_eq!(per_device.len(), total, "{per_device:?}");
    assert!(
        per_device.values().all(|&n| n == 1),
        "one configuration each"
    );
    for c in sb.sandbox.data().configurations.values() {
        let name = c["name"].as_str().unwrap_or_default();
        assert!(!name.trim().is_empty(), "{c}");
        let ident = c["deviceIdentifier"].as_str().unwrap_or_default();
        if ident == "hostile-0" || ident == "hostile-1" || ident == "hostile-2" {
            assert_eq!(
                name, ident,
                "a nameless machine is named after its agent id"
            );
        }
    }
    drop(server);
    sb.stop().await;
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
