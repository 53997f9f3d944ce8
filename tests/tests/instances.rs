//! Several ConnectWise instances with the real binaries: `bindery-server serve`, its admin
//! commands and simulated agents, against two sandboxes as two instances. Each instance binds
//! its own policy's devices (company 2 in both is two companies) at its company's site, a help
//! request opens its ticket in the device's instance, a 5xx storm on one instance never holds
//! the other back, and a device moved to a policy of the other instance leaves an inactive
//! configuration behind and is bound in the new one.
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use bindery_e2e::{ServerProcess, admin, wait_for};
use connectwise_sandbox::{Faults, Running, Seed};
use serde_json::{Value, json};

const BERLIN: i64 = 2;
const ACTIVE: i64 = 1;
const INACTIVE: i64 = 2;

/// The configurations a sandbox holds for simulated agents whose id starts with `prefix`.
fn configs(sb: &Running, prefix: &str) -> Vec<Value> {
    sb.sandbox
        .data()
        .configurations
        .values()
        .filter(|c| {
            c["deviceIdentifier"]
                .as_str()
                .is_some_and(|d| d.starts_with(prefix))
        })
        .cloned()
        .collect()
}

/// Enrolls a simulated workstation; returns its bearer credential.
async fn enroll(http: &reqwest::Client, url: &str, token: &str, agent: &str) -> String {
    let facts = json!({"name": agent, "serialNumber": format!("SN-{agent}"), "osType": "Windows",
        "osInfo": "Windows 11 Pro 23H2", "ram": "16 GB", "lastLoginName": "ana"});
    bindery_e2e::enroll_simulated(http, url, token, agent, facts).await
}

/// The device id `device-list` shows for an agent.
fn device_id(d: &str, agent: &str) -> String {
    admin(d, &["device-list"])
        .lines()
        .find(|l| l.split('\t').nth(1) == Some(agent))
        .and_then(|l| l.split('\t').next())
        .unwrap()
        .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_bind_ticket_fail_and_move_devices_apart() {
    connectwise_client::install_tls_provider();
    let spawn =
        || connectwise_sandbox::spawn("127.0.0.1:0".parse().unwrap(), Seed::default_seed(), true);
    let (a, b) = (spawn().await.unwrap(), spawn().await.unwrap());
    let data = tempfile::tempdir().unwrap();
    let d = data.path().to_str().unwrap().to_owned();
    admin(&d, &["connect-sandbox", &a.url()]);
    admin(&d, &["integration-add", "--name", "Acquired"]);
    admin(
        &d,
        &["connect-sandbox", &b.url(), "--integration", "Acquired"],
    );
    let budget = [
        "integration-budget",
        "--integration",
        "Acquired",
        "--requests-per-minute",
        "600",
    ];
    admin(&d, &budget);
    let listed = admin(&d, &["integrations"]);
    assert!(
        listed.contains("1\tConnectWise\t0\tserver's budget\n")
            && listed.contains("2\tAcquired\t0\t600/min\n"),
        "{listed}"
    );
    admin(&d, &["policy-create", "First office"]);
    admin(&d, &["policy-create", "Acquired office"]);
    admin(&d, &["link", "--policy", "First office", "--company", "2"]);
    let sites = admin(
        &d,
        &["sites", "--integration", "Acquired", "--company", "2"],
    );
    assert!(sites.contains("2\tBerlin Office"), "{sites}");
    let link = [
        "link",
        "--policy",
        "Acquired office",
        "--integration",
        "Acquired",
        "--company",
        "2",
        "--site",
        "2",
    ];
    admin(&d, &link);
    let first_token = admin(&d, &["token-create", "--policy", "First office"]);
    let acquired_token = admin(&d, &["token-create", "--policy", "Acquired office"]);
    let server = ServerProcess::start(&[
        "--data-dir",
        &d,
        "--retry-base-ms",
        "100",
        "--enroll-per-minute",
        "1000",
    ]);
    let http = reqwest::Client::new();
    for n in 0..5 {
        enroll(
            &http,
            &server.url,
            first_token.trim(),
            &format!("first-{n}"),
        )
        .await;
    }
    let mut acquired = Vec::new();
    for n in 0..5 {
        let agent = format!("acq-{n}");
        acquired.push(enroll(&http, &server.url, acquired_token.trim(), &agent).await);
    }
    wait_for("both instances to bind their own", 60, || {
        configs(&a, "first-").len() == 5 && configs(&b, "acq-").len() == 5
    });
    assert!(configs(&a, "acq-").is_empty() && configs(&b, "first-").is_empty());
    for c in configs(&b, "acq-") {
        assert_eq!(c["site"]["id"], BERLIN, "{c}");
    }

    // A help request opens its ticket in the device's own instance, at its site.
    let help = json!({"requestId": "7f0c2a4e-0000-4000-8000-000000000001", "user": "ana",
        "summary": "Printer jammed"});
    let r = http
        .post(format!("{}/api/agent/v1/help", server.url))
        .header("authorization", &acquired[0])
        .header("content-type", "application/json")
        .body(help.to_string())
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{}", r.status());
    wait_for("the ticket in the second instance", 30, || {
        !b.sandbox.data().tickets.is_empty()
    });
    let ticket = b.sandbox.data().tickets.values().next().cloned().unwrap();
    assert_eq!(ticket["site"]["id"], BERLIN, "{ticket}");
    assert!(a.sandbox.data().tickets.is_empty());

    // Every request to the first instance fails: the second binds its newcomers regardless.
    a.sandbox.set_faults(Faults {
        error_rate: 1.0,
        ..Faults::default()
    });
    enroll(&http, &server.url, first_token.trim(), "first-5").await;
    for n in 5..10 {
        enroll(
            &http,
            &server.url,
            acquired_token.trim(),
            &format!("acq-{n}"),
        )
        .await;
    }
    wait_for("the second instance to bind during the storm", 30, || {
        configs(&b, "acq-").len() == 10
    });
    assert_eq!(configs(&a, "first-").len(), 5);
    let first = admin(&d, &["bindings", "--policy", "First office"]);
    assert!(!first.contains("Blue"), "{first}");
    a.sandbox.set_faults(Faults::default());
    admin(&d, &["retry-pending", "--policy", "First office"]);
    wait_for("the first instance to catch up", 60, || {
        admin(&d, &["bindings", "--policy", "First office"]).contains("Blue")
    });
    assert_eq!(configs(&a, "first-").len(), 6);

    // A device moved to the other instance's policy: inactive in the first, bound in the second.
    let moved = device_id(&d, "first-0");
    admin(&d, &["device-move", &moved, "--policy", "Acquired office"]);
    let one = |sb: &Running| -> Option<Value> {
        let c = configs(sb, "first-0");
        (c.len() == 1).then(|| c[0].clone())
    };
    wait_for("the device to move between instances", 60, || {
        one(&a).is_some_and(|c| c["status"]["id"] == INACTIVE)
            && one(&b).is_some_and(|c| c["status"]["id"] == ACTIVE)
    });
    let there = one(&b).unwrap();
    assert_eq!(
        (
            there["company"]["id"].as_i64(),
            there["site"]["id"].as_i64()
        ),
        (Some(2), Some(BERLIN))
    );
    let listed = admin(&d, &["integrations"]);
    assert!(listed.contains("2\tAcquired\t1\t600/min\n"), "{listed}");
    server.terminate();
    a.stop().await;
    b.stop().await;
}
