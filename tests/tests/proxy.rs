//! The agent through an HTTP proxy that wants a password: Debian's tinyproxy on loopback, with
//! basic authentication. The proxy's user and password are given in BINDERY_PROXY (on the
//! command line they are refused), kept with the enrollment, and never printed; every request
//! goes through the proxy (its log shows them, and with the proxy gone the agent reaches
//! nothing). install.sh's `--proxy-file` is tested by scripts/test-packages, the MSI's
//! `PROXY_FILE` under Wine.
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use std::process::Command;

use bindery_e2e::proxy::Proxy;
use bindery_e2e::{ServerProcess, admin, binary, enroll, run};

const PASSWORD: &str = "pr0xy-pass-81c2";

/// `bindery-agent enroll` with the proxy in BINDERY_PROXY: (succeeded, stdout and stderr).
fn enroll_through(proxy: &str, server: &str, token: &str, state: &str) -> (bool, String) {
    let out = Command::new(binary("bindery-agent"))
        .args([
            "enroll",
            "--server",
            server,
            "--token",
            token,
            "--state-dir",
            state,
        ])
        .env("BINDERY_PROXY", proxy)
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

#[tokio::test]
async fn the_agent_enrolls_and_checks_in_through_an_authenticating_proxy() {
    let data = tempfile::tempdir().unwrap();
    let state = tempfile::tempdir().unwrap();
    let scratch = tempfile::tempdir().unwrap();
    let (data_dir, state_dir) = (
        data.path().to_str().unwrap(),
        state.path().to_str().unwrap(),
    );
    admin(data_dir, &["policy-create", "Behind a proxy"]);
    let token = admin(data_dir, &["token-create", "--policy", "Behind a proxy"])
        .trim()
        .to_owned();
    let server = ServerProcess::start(&["--data-dir", data_dir]);
    let proxy = Proxy::start(scratch.path(), PASSWORD);

    // A password on the command line is refused before anything is sent (other users of the
    // machine can read command lines), and not repeated.
    let on_argv = proxy.url(PASSWORD);
    let (ok, _, err) = enroll(&server.url, &token, state_dir, &["--proxy", &on_argv]);
    assert!(!ok && err.contains("--proxy-file"), "{err}");
    assert!(!err.contains(PASSWORD), "{err}");
    assert!(
        proxy.log().lines().all(|l| !l.contains("Request")),
        "{}",
        proxy.log()
    );

    // A wrong password: the proxy refuses, the agent says so, and shows no password.
    let (ok, said) = enroll_through(&proxy.url("n0t-the-pass"), &server.url, &token, state_dir);
    assert!(!ok, "enrolled through a proxy that refused: {said}");
    assert!(!said.contains("n0t-the-pass"), "{said}");
    assert!(!state.path().join("enrollment.json").exists());

    // The right one: enrolled, and every later check-in goes the same way on its own.
    let (ok, said) = enroll_through(&proxy.url(PASSWORD), &server.url, &token, state_dir);
    assert!(ok, "{said}");
    assert!(!said.contains(PASSWORD), "{said}");
    let (ok, _, err) = run(
        "bindery-agent",
        &["run", "--once", "--state-dir", state_dir],
    );
    assert!(ok, "{err}");
    assert!(!err.contains(PASSWORD), "{err}");
    let log = proxy.log();
    let through = |path: &str| log.contains(&format!("POST {}/api/agent/v1/{path}", server.url));
    assert!(
        through("enroll") && through("checkin"),
        "the proxy's log:\n{log}"
    );
    let (_, status, _) = run("bindery-agent", &["status", "--state-dir", state_dir]);
    assert!(
        status.contains(&format!("proxy       http://127.0.0.1:{}", proxy.port))
            && !status.contains(PASSWORD),
        "{status}"
    );

    // With the proxy gone the agent reaches nothing: it never went around it.
    drop(proxy);
    let (ok, _, err) = run(
        "bindery-agent",
        &["run", "--once", "--state-dir", state_dir],
    );
    assert!(!ok, "checked in without its proxy: {err}");
    assert!(!err.contains(PASSWORD), "{err}");
}
