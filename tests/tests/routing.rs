//! Ticket routing with the real binaries: `routing-set` refuses a rule ConnectWise would refuse
//! (with its reason) and saves sound ones, `routing-dry-run` names the rule and the summary, and
//! a simulated agent's alert and help request then land in the sandbox with the rules' type,
//! subtype, item, priority, source, severity, impact and summary.
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use bindery_e2e::{ServerProcess, admin, run, wait_for};
use connectwise_sandbox::Seed;
use serde_json::{Value, json};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn routing_rules_are_checked_at_save_and_tickets_land_as_they_say() {
    connectwise_client::install_tls_provider();
    let sb = connectwise_sandbox::spawn("127.0.0.1:0".parse().unwrap(), Seed::default_seed(), true)
        .await
        .unwrap();
    let data = tempfile::tempdir().unwrap();
    let d = data.path().to_str().unwrap().to_owned();
    admin(&d, &["connect-sandbox", &sb.url()]);
    admin(&d, &["policy-create", "Acme"]);
    admin(&d, &["link", "--policy", "Acme", "--company", "2"]);
    let token = admin(&d, &["token-create", "--policy", "Acme"]);

    // Board 1 does not allow subtype 2 with item 1: refused, with the rule and why.
    let file = data.path().join("rules.json");
    let wrong = json!({"rules": [{"name": "disks", "kinds": ["disk"], "typeId": 1,
        "subtypeId": 2, "itemId": 1}]});
    std::fs::write(&file, wrong.to_string()).unwrap();
    let path = file.to_str().unwrap();
    let (ok, _, err) = run(
        "bindery-server",
        &["admin", "--data-dir", &d, "routing-set", "--file", path],
    );
    assert!(
        !ok && err.contains("rule 1") && err.contains("together"),
        "{err}"
    );
    let rules = json!({"rules": [
        {"name": "server disks", "kinds": ["disk"], "class": "server", "typeId": 1,
         "subtypeId": 1, "itemId": 1, "priorityId": 1, "sourceId": 3, "severity": "High",
         "impact": "Medium", "summary": "{device}: {monitor} at {value}%"},
        {"name": "help", "kinds": ["help"], "typeId": 3, "subtypeId": 5, "priorityId": 3,
         "summary": "{user} needs help on {device}"}
    ]});
    std::fs::write(&file, rules.to_string()).unwrap();
    admin(&d, &["routing-set", "--file", path]);
    let shown: Value = serde_json::from_str(&admin(&d, &["routing"])).unwrap();
    assert_eq!(shown, rules);

    let server = ServerProcess::start(&["--data-dir", &d, "--retry-base-ms", "100"]);
    let http = reqwest::Client::new();
    let facts = json!({"name": "sql-01", "serialNumber": "SRV00001", "osType": "Windows",
        "osInfo": "Windows Server 2022 Standard", "lastLoginName": "ana"});
    let auth = bindery_e2e::enroll_simulated(&http, &server.url, &token, "srv-1", facts).await;
    let device = admin(&d, &["device-list"])
        .lines()
        .find(|l| l.contains("srv-1"))
        .and_then(|l| l.split('\t').next().map(str::to_owned))
        .unwrap();
    let dry: Value = serde_json::from_str(&admin(
        &d,
        &[
            "routing-dry-run",
            "--device",
            &device,
            "--monitor",
            "disk-free",
            "--value",
            "3",
        ],
    ))
    .unwrap();
    assert_eq!(dry["rule"], "server disks", "{dry}");
    assert_eq!(dry["summary"], "sql-01: disk-free at 3.0%", "{dry}");

    let post = |path: &str, body: Value| {
        http.post(format!("{}/api/agent/v1{path}", server.url))
            .header("content-type", "application/json")
            .header("authorization", &auth)
            .body(body.to_string())
            .send()
    };
    let alert = json!({"events": [{"seq": 1, "monitorId": "disk-free", "subject": "C:",
        "kind": "raised", "atMs": bindery_server::store::now_ms(), "summary": "Disk C: has 3.0% free",
        "value": 3.0}]});
    assert_eq!(post("/alerts", alert).await.unwrap().status(), 200);
    let help = json!({"requestId": "0b6c0000-0000-4000-8000-000000000009", "user": "ana",
        "summary": "VPN down"});
    assert!(post("/help", help).await.unwrap().status().is_success());
    wait_for("both tickets", 60, || sb.sandbox.data().tickets.len() == 2);
    let tickets: Vec<Value> = sb.sandbox.data().tickets.values().cloned().collect();
    let alert = tickets.iter().find(|t| t["board"]["id"] == 1).unwrap();
    assert_eq!(alert["summary"], dry["summary"]);
    for (field, id) in [
        ("type", 1),
        ("subType", 1),
        ("item", 1),
        ("priority", 1),
        ("source", 3),
    ] {
        assert_eq!(alert[field]["id"], id, "{field}: {alert}");
    }
    assert_eq!(
        (&alert["severity"], &alert["impact"]),
        (&json!("High"), &json!("Medium"))
    );
    let asked = tickets.iter().find(|t| t["board"]["id"] == 2).unwrap();
    assert_eq!(asked["summary"], "ana needs help on sql-01");
    assert_eq!(
        (&asked["type"]["id"], &asked["subType"]["id"]),
        (&json!(3), &json!(5))
    );
    server.terminate();
    sb.stop().await;
}
