//! Identity and adoption with the real binaries: a ConnectWise that already holds this machine's
//! record (made by hand, found by host name) gets no duplicate; `link --dry-run` says so before
//! anything is written; a machine with this one's MAC and another policy's token takes nothing
//! over; and once an admin approves a reinstall, the real agent carries on under the old agent
//! id, while the old credential stops working.
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use bindery_e2e::{ServerProcess, admin, enroll, run, wait_for};
use connectwise_sandbox::Seed;
use serde_json::{Value, json};

fn configs(sb: &connectwise_sandbox::Running) -> Vec<Value> {
    sb.sandbox.data().configurations.values().cloned().collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_known_machine_is_adopted_previewed_and_cannot_be_taken_over() {
    connectwise_client::install_tls_provider();
    let sb = connectwise_sandbox::spawn("127.0.0.1:0".parse().unwrap(), Seed::default_seed(), true)
        .await
        .unwrap();
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap();
    let host = host.trim().split('.').next().unwrap().to_owned();
    // What a technician typed before Bindery: this machine's name in capitals, and a printer.
    let earlier = {
        let mut data = sb.sandbox.data();
        let acme = json!({"id": 2, "identifier": "Acme", "name": "Acme Corporation"});
        let record = |name: &str| {
            json!({"name": name, "type": {"id": 2, "name": "Managed Server"},
            "status": {"id": 1, "name": "Active"}, "company": acme})
        };
        data.configurations.insert(record("printer"));
        data.configurations.insert(record(&host.to_uppercase()))
    };

    let data = tempfile::tempdir().unwrap();
    let d = data.path().to_str().unwrap().to_owned();
    admin(&d, &["connect-sandbox", &sb.url()]);
    admin(&d, &["policy-create", "Office"]);
    admin(&d, &["policy-create", "Lab"]);
    let token = admin(&d, &["token-create", "--policy", "Office"])
        .trim()
        .to_owned();
    let lab_token = admin(&d, &["token-create", "--policy", "Lab"])
        .trim()
        .to_owned();
    let server = ServerProcess::start(&["--data-dir", &d, "--retry-base-ms", "100"]);

    let state = tempfile::tempdir().unwrap();
    let state_dir = state.path().to_str().unwrap();
    let (ok, _, err) = enroll(&server.url, &token, state_dir, &[]);
    assert!(ok, "{err}");
    let agent_id = std::fs::read_to_string(state.path().join("agent-id"))
        .unwrap()
        .trim()
        .to_owned();

    // The preview: this machine's record would be adopted by name, nothing created.
    let plan = admin(
        &d,
        &["link", "--policy", "Office", "--company", "2", "--dry-run"],
    );
    assert!(
        plan.contains("adopt 1 existing configurations (0 by serial, 0 by MAC, 1 by name"),
        "{plan}"
    );
    assert!(
        plan.contains("create 0") && plan.contains("leave alone 1 configurations"),
        "{plan}"
    );
    assert_eq!(configs(&sb).len(), 2);
    assert!(
        configs(&sb).iter().all(|c| c["deviceIdentifier"].is_null()),
        "a dry run writes nothing"
    );

    admin(&d, &["link", "--policy", "Office", "--company", "2"]);
    wait_for("the record adopted", 30, || {
        sb.sandbox.data().configurations.get(earlier).unwrap()["deviceIdentifier"]
            == agent_id.as_str()
    });
    let adopted = sb
        .sandbox
        .data()
        .configurations
        .get(earlier)
        .cloned()
        .unwrap();
    assert_eq!(adopted["name"], host.as_str());
    assert_eq!(adopted["type"]["id"], 2, "its type is kept");
    assert_eq!(configs(&sb).len(), 2, "no duplicate");
    let activity = admin(&d, &["bindings", "--policy", "Office"]);
    assert!(activity.contains("\tbound\t"), "{activity}");

    // Someone with the Lab's token and this machine's MAC: a device of their own, waiting.
    let mac = adopted["macAddress"]
        .as_str()
        .expect("this machine reports a MAC")
        .to_owned();
    let http = reqwest::Client::new();
    let body = json!({"token": lab_token, "agentId": "impostor", "agentVersion": "0.1.0",
        "facts": {"name": "impostor", "macAddress": mac}});
    let answer = http
        .post(format!("{}/api/agent/v1/enroll", server.url))
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    let reply: Value = serde_json::from_slice(&answer.bytes().await.unwrap()).unwrap();
    assert_eq!(reply["agentId"], "impostor");
    let (ok, _, err) = run(
        "bindery-agent",
        &["run", "--once", "--state-dir", state_dir],
    );
    assert!(ok, "the real agent keeps working: {err}");
    let office = admin(&d, &["device-list", "--policy", "Office"]);
    assert!(
        office.contains(&agent_id) && !office.contains("impostor"),
        "{office}"
    );
    let lab = admin(&d, &["bindings", "--policy", "Lab"]);
    assert!(lab.contains("impostor"), "{lab}");

    // Its machine, reinstalled, is approved by an admin as the same machine: the real agent
    // (given the new record's credential, as a fresh install would have) takes the old id.
    let fresh = tempfile::tempdir().unwrap();
    std::fs::write(fresh.path().join("agent-id"), "impostor\n").unwrap();
    let enrollment = json!({"server": server.url, "agentId": "impostor",
        "secret": reply["deviceSecret"], "allowHttp": true});
    std::fs::write(fresh.path().join("enrollment.json"), enrollment.to_string()).unwrap();
    let listed = admin(&d, &["device-list"]);
    let new_id = listed
        .lines()
        .find(|l| l.contains("impostor"))
        .and_then(|l| l.split('\t').next())
        .unwrap()
        .to_owned();
    let out = admin(&d, &["device-reinstall", &new_id, "--same-machine"]);
    assert!(out.contains(&agent_id), "{out}");
    let fresh_dir = fresh.path().to_str().unwrap();
    let (ok, _, err) = run(
        "bindery-agent",
        &["run", "--once", "--state-dir", fresh_dir],
    );
    assert!(ok, "{err}");
    let now = std::fs::read_to_string(fresh.path().join("agent-id")).unwrap();
    assert_eq!(
        now.trim(),
        agent_id,
        "the agent carries on under the old id"
    );
    let (ok, _, err) = run(
        "bindery-agent",
        &["run", "--once", "--state-dir", fresh_dir],
    );
    assert!(ok, "and checks in with it: {err}");
    let (ok, _, err) = run(
        "bindery-agent",
        &["run", "--once", "--state-dir", state_dir],
    );
    assert!(
        !ok && err.contains("refused the credential"),
        "the old credential is gone: {err}"
    );
    assert_eq!(configs(&sb).len(), 2, "still no duplicate");
    drop(server);
}
