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

mod crashes_and_two_servers;
mod hostile_input;

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
