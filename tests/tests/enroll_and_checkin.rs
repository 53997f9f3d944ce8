//! The real binaries: an admin makes a policy and a token with `bindery-server admin`, the server
//! runs, the agent enrolls and checks in, and the server's store holds this machine's facts.
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use bindery_e2e::{ServerProcess, admin, run};
use bindery_server::store::Store;
use serde_json::Value;

#[tokio::test]
async fn an_agent_enrolls_checks_in_and_reports_this_machine() {
    let data = tempfile::tempdir().unwrap();
    let state = tempfile::tempdir().unwrap();
    let data_dir = data.path().to_str().unwrap();
    let state_dir = state.path().to_str().unwrap();

    let out = admin(data_dir, &["policy-create", "Office"]);
    assert!(out.contains("Office"));
    let token = admin(data_dir, &["token-create", "--policy", "Office"]);
    let token = token.trim().to_owned();

    let server = ServerProcess::start(&["--data-dir", data_dir, "--checkin-interval", "30"]);
    let (ok, out, err) = run(
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
    assert!(out.starts_with("enrolled with"), "{out}");
    let agent_id = std::fs::read_to_string(state.path().join("agent-id"))
        .unwrap()
        .trim()
        .to_owned();

    let (ok, _, err) = run(
        "bindery-agent",
        &["run", "--once", "--state-dir", state_dir],
    );
    assert!(ok, "{err}");
    let (_, status, _) = run("bindery-agent", &["status", "--state-dir", state_dir]);
    assert!(
        status.contains("last result ok")
            && status.contains(&agent_id)
            && status.contains("interval    30s"),
        "{status}"
    );

    // Enrolling again with the same state keeps one device.
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

    // A wrong secret is refused, and says so.
    let file = state.path().join("enrollment.json");
    let mut enrolled: Value =
        serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    let good = enrolled["secret"].as_str().unwrap().to_owned();
    enrolled["secret"] = Value::from("forged");
    std::fs::write(&file, enrolled.to_string()).unwrap();
    let (ok, _, err) = run(
        "bindery-agent",
        &["run", "--once", "--state-dir", state_dir],
    );
    assert!(!ok && err.contains("refused the credential"), "{err}");
    assert!(!err.contains(&good), "the secret never appears in messages");

    assert_eq!(
        server.terminate(),
        Some(0),
        "SIGTERM stops the server cleanly"
    );

    let store = Store::open_in_dir(data.path()).await.unwrap();
    let devices = store.devices(None).await.unwrap();
    assert_eq!(devices.len(), 1);
    assert_eq!(devices[0].agent_id, agent_id);
    let facts = serde_json::to_value(&devices[0].facts).unwrap();
    let hostname = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap();
    assert_eq!(facts["name"], hostname.trim());
    assert_eq!(facts["osType"], "Linux");
}

#[test]
fn a_token_that_does_not_exist_cannot_enroll() {
    let data = tempfile::tempdir().unwrap();
    let state = tempfile::tempdir().unwrap();
    let server = ServerProcess::start(&["--data-dir", data.path().to_str().unwrap()]);
    let (ok, _, err) = run(
        "bindery-agent",
        &[
            "enroll",
            "--server",
            &server.url,
            "--token",
            "bdy_enr_nope",
            "--state-dir",
            state.path().to_str().unwrap(),
        ],
    );
    assert!(!ok && err.contains("enrollment refused"), "{err}");
    let (ok, _, err) = run(
        "bindery-agent",
        &[
            "run",
            "--once",
            "--state-dir",
            state.path().to_str().unwrap(),
        ],
    );
    assert!(!ok && err.contains("not enrolled"), "{err}");
}
