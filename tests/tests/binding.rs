//! Binding with the real binaries: `bindery-server serve`, its admin commands, the real agent
//! and many simulated agents (HTTP, distinct facts), against the ConnectWise sandbox injecting
//! 5xx, timeouts, lost replies and 429s. Once the faults stop, the sandbox holds exactly one
//! configuration per device, in the right company, with the right status and fields.
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use std::collections::HashMap;

use bindery_e2e::{ServerProcess, admin, run, wait_for};
use connectwise_sandbox::{Faults, Seed};
use serde_json::{Value, json};

const AGENTS: usize = 24;

/// The policy's icon and counts, from `admin bindings`.
fn bindings(data_dir: &str, policy: &str) -> String {
    admin(data_dir, &["bindings", "--policy", policy])
        .lines()
        .next()
        .unwrap_or_default()
        .to_owned()
}

/// deviceIdentifier → every configuration the sandbox holds for it.
fn configs_by_device(sb: &connectwise_sandbox::Running) -> HashMap<String, Vec<Value>> {
    let mut by: HashMap<String, Vec<Value>> = HashMap::new();
    for c in sb.sandbox.data().configurations.values() {
        if let Some(d) = c["deviceIdentifier"].as_str() {
            by.entry(d.to_owned()).or_default().push(c.clone());
        }
    }
    by
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_agents_bind_exactly_once_through_faults_moves_unlinks_and_retirement() {
    connectwise_client::install_tls_provider();
    let sb = connectwise_sandbox::spawn("127.0.0.1:0".parse().unwrap(), Seed::default_seed(), true)
        .await
        .unwrap();
    let data = tempfile::tempdir().unwrap();
    let d = data.path().to_str().unwrap().to_owned();
    admin(&d, &["connect-sandbox", &sb.url()]);
    admin(&d, &["policy-create", "Acme office"]);
    admin(&d, &["policy-create", "Globex office"]);
    // Each office at a site of its company: Globex's main one; Acme's Berlin office (below).
    let acme_sites = admin(&d, &["sites", "--company", "2"]);
    assert!(
        acme_sites.contains("2\tBerlin Office\tBerlin\n"),
        "{acme_sites}"
    );
    admin(
        &d,
        &[
            "link",
            "--policy",
            "Globex office",
            "--company",
            "3",
            "--site",
            "4",
        ],
    );
    let token = admin(&d, &["token-create", "--policy", "Acme office"])
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

    // The real agent, and simulated agents with distinct facts.
    let state = tempfile::tempdir().unwrap();
    let state_dir = state.path().to_str().unwrap();
    let (ok, _, err) = run(
        "bindery-agent",
        &[
            "enroll",
            "--server",
            &server.url,
            "--token",
            &token,
            "--state-dir",
            state_dir,
        ],
    );
    assert!(ok, "{err}");
    let real_agent = std::fs::read_to_string(state.path().join("agent-id"))
        .unwrap()
        .trim()
        .to_owned();
    let http = reqwest::Client::new();
    for n in 0..AGENTS {
        let os = if n % 6 == 0 {
            "Windows Server 2022 Standard"
        } else {
            "Windows 11 Pro 23H2"
        };
        let body = json!({"token": token, "agentId": format!("sim-{n:03}"), "agentVersion": "0.1.0",
            "facts": {"name": format!("ws-{n:03}"), "serialNumber": format!("SIM{n:05}"),
                "macAddress": format!("02:00:00:00:00:{n:02x}"), "osType": "Windows", "osInfo": os,
                "ram": "16 GB", "lastLoginName": format!("user{n}")}});
        let r = http
            .post(format!("{}/api/agent/v1/enroll", server.url))
            .header("content-type", "application/json")
            .body(body.to_string())
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
    }

    // Link (the command checks the company with ConnectWise), then bind through faults: the
    // server's engine picks the jobs up at its next poll.
    admin(
        &d,
        &[
            "link",
            "--policy",
            "Acme office",
            "--company",
            "2",
            "--site",
            "2",
        ],
    );
    sb.sandbox.set_faults(Faults {
        error_rate: 0.1,
        timeout_rate: 0.05,
        lost_reply_rate: 0.1,
        hang_ms: 100,
        burst_429: 4,
        retry_after_secs: 1,
        seed: Some(11),
        ..Faults::default()
    });
    wait_for("binding through faults", 90, || {
        configs_by_device(&sb).len() == AGENTS + 1
            || sb
                .sandbox
                .requests()
                .iter()
                .filter(|r| r.fault.is_some())
                .count()
                > 40
    });
    sb.sandbox.set_faults(Faults::default());
    admin(&d, &["retry-pending", "--policy", "Acme office"]);
    wait_for("the policy to turn blue", 90, || {
        bindings(&d, "Acme office").contains("Blue")
    });
    let faulted = sb
        .sandbox
        .requests()
        .iter()
        .filter(|r| r.fault.is_some())
        .count();
    assert!(faulted > 0, "faults were injected");
    let by = configs_by_device(&sb);
    assert_eq!(by.len(), AGENTS + 1);
    for (device, configs) in &by {
        assert_eq!(configs.len(), 1, "{device}: exactly one configuration");
        let c = &configs[0];
        assert_eq!(
            (c["company"]["id"].as_i64(), c["status"]["id"].as_i64()),
            (Some(2), Some(1))
        );
        assert_eq!(c["site"]["name"], "Berlin Office", "{device}");
    }
    let sim5 = &by["sim-005"][0];
    assert_eq!(
        (sim5["name"].as_str(), sim5["serialNumber"].as_str()),
        (Some("ws-005"), Some("SIM00005"))
    );
    assert_eq!(sim5["type"]["name"], "Managed Workstation");
    assert_eq!(
        by["sim-006"][0]["type"]["name"], "Managed Server",
        "the conditional type rule"
    );
    // Billed by device count: 21 workstations and 4 servers on Acme's agreement. The first
    // quantities wait for a person; approved, the seeded workstation addition (10) is adopted
    // and set, and one for servers is made.
    let agreements = admin(&d, &["agreements", "--company", "2"]);
    assert!(
        agreements.contains("1\tAcme Managed Services"),
        "{agreements}"
    );
    admin(
        &d,
        &[
            "billing-set",
            "--policy",
            "Acme office",
            "--agreement",
            "1",
            "--workstation-product",
            "MANAGED-WS",
            "--server-product",
            "MANAGED-SRV",
        ],
    );
    wait_for("the first quantities to wait for a person", 60, || {
        admin(&d, &["billing"]).matches("waits:").count() == 2
    });
    for product in ["1", "2"] {
        admin(
            &d,
            &["billing-approve", "--agreement", "1", "--product", product],
        );
    }
    let billed = |product: i64| -> Vec<f64> {
        sb.sandbox
            .data()
            .additions
            .values()
            .filter(|a| a["agreementId"] == 1 && a["product"]["id"] == product)
            .filter_map(|a| a["quantity"].as_f64())
            .collect()
    };
    wait_for("the agreement to bill the devices", 60, || {
        billed(1) == [21.0] && billed(2) == [4.0]
    });
    let rules = admin(
        &d,
        &[
            "billing-rules",
            "--counting",
            "month-high",
            "--max-drop-percent",
            "30",
        ],
    );
    assert_eq!(
        rules.trim(),
        "counting month-high\ta drop of more than 30 % waits"
    );

    let hostname = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap();
    assert_eq!(
        by[&real_agent][0]["name"].as_str().unwrap().to_lowercase(),
        hostname.trim().to_lowercase()
    );

    // Re-enrolling the real agent (same state) keeps its device and its one configuration.
    let (ok, _, err) = run(
        "bindery-agent",
        &[
            "enroll",
            "--server",
            &server.url,
            "--token",
            &token,
            "--state-dir",
            state_dir,
        ],
    );
    assert!(ok, "{err}");
    let (ok, _, err) = run(
        "bindery-agent",
        &["run", "--once", "--state-dir", state_dir],
    );
    assert!(ok, "{err}");

    // Move sim-001 to Globex, retire sim-002, then unlink Acme.
    let ids: HashMap<String, String> = admin(&d, &["device-list", "--policy", "Acme office"])
        .lines()
        .filter_map(|l| {
            let mut f = l.split('\t');
            let id = f.next()?.to_owned();
            Some((f.next()?.to_owned(), id))
        })
        .collect();
    assert_eq!(ids.len(), AGENTS + 1, "re-enrolling made no second device");
    admin(
        &d,
        &["device-move", &ids["sim-001"], "--policy", "Globex office"],
    );
    admin(&d, &["device-retire", &ids["sim-002"]]);
    wait_for("move and retirement", 60, || {
        let by = configs_by_device(&sb);
        by["sim-001"].len() == 2
            && by["sim-001"].iter().all(|c| {
                (c["company"]["id"] == 3 && c["status"]["id"] == 1 && c["site"]["id"] == 4)
                    || (c["company"]["id"] == 2 && c["status"]["id"] == 2 && c["site"]["id"] == 2)
            })
            && by["sim-002"][0]["status"]["id"] == 2
    });
    admin(&d, &["unlink", "--policy", "Acme office"]);
    wait_for("unlinking to deactivate", 60, || {
        configs_by_device(&sb)
            .values()
            .flatten()
            .filter(|c| c["company"]["id"] == 2)
            .all(|c| c["status"]["id"] == 2)
    });
    let by = configs_by_device(&sb);
    assert_eq!(
        by.values().map(Vec::len).sum::<usize>(),
        AGENTS + 2,
        "only the moved device has two"
    );
    assert!(bindings(&d, "Acme office").contains("Grey"));
    assert!(bindings(&d, "Globex office").contains("Blue"));
    assert_eq!(server.terminate(), Some(0));
    sb.stop().await;
}
