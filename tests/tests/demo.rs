//! The README's run command: `bindery-server demo` starts everything, this machine's
//! configuration appears in the sandbox within seconds, and Ctrl-C stops it all cleanly.
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use bindery_e2e::binary;
use serde_json::Value;

/// The URL after `label` on the demo's banner line that contains it.
fn url_after<'a>(lines: &'a [String], label: &str) -> &'a str {
    let line = lines.iter().find(|l| l.contains(label)).unwrap();
    let rest = &line[line.find("http://").unwrap()..];
    rest.split_whitespace().next().unwrap()
}

#[tokio::test]
async fn the_demo_binds_this_machine_within_seconds_and_stops_cleanly() {
    let mut child = Command::new(binary("bindery-server"))
        .args([
            "demo",
            "--listen",
            "127.0.0.1:0",
            "--sandbox-listen",
            "127.0.0.1:0",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut lines = Vec::new();
    loop {
        let mut line = String::new();
        assert!(out.read_line(&mut line).unwrap() > 0, "banner: {lines:?}");
        let done = line.starts_with("Press Ctrl-C");
        lines.push(line);
        if done {
            break;
        }
    }
    let sandbox = url_after(&lines, "ConnectWise sandbox:").to_owned();
    assert!(url_after(&lines, "Server").starts_with("http://127.0.0.1:"));
    assert!(
        lines.iter().any(|l| l.contains("agent is enrolled")),
        "{lines:?}"
    );
    let data_line = lines.iter().find(|l| l.contains("Data: ")).unwrap();
    let data_dir = data_line.trim().trim_start_matches("Data: ");
    let data_dir = std::path::PathBuf::from(data_dir.split(" (").next().unwrap());
    assert!(data_dir.exists());

    // This machine's configuration, in the linked company, active, named after this host.
    let hostname = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .unwrap()
        .trim()
        .to_owned();
    let started = Instant::now();
    let config = loop {
        let out = Command::new("curl")
            .args(["-sf", &format!("{sandbox}/_sandbox/state")])
            .output()
            .unwrap();
        let state: Value = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
        let found = state["configurations"]["rows"]
            .as_object()
            .and_then(|rows| rows.values().next().cloned());
        if let Some(c) = found {
            break c;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "no configuration in the sandbox after 20 s"
        );
        std::thread::sleep(Duration::from_millis(200));
    };
    assert_eq!(config["company"]["id"], 2);
    assert_eq!(config["status"]["name"], "Active");
    assert_eq!(
        config["name"].as_str().unwrap().to_lowercase(),
        hostname.to_lowercase()
    );
    assert!(
        config["deviceIdentifier"]
            .as_str()
            .is_some_and(|d| !d.is_empty())
    );

    // The console's address leads to its sign-in page.
    let console = url_after(&lines, "Console:").to_owned();
    let out = Command::new("curl")
        .args(["-sfL", &console])
        .output()
        .unwrap();
    let page = String::from_utf8_lossy(&out.stdout);
    assert!(page.contains("Sign in"), "{console}: {page}");

    // The install scripts' download of this machine's agent works, as from a packaged server.
    let server = url_after(&lines, "Server:").to_owned();
    let download = format!(
        "{server}/downloads/bindery-agent-{}-{}",
        std::env::consts::OS,
        std::env::consts::ARCH
    );
    let out = Command::new("curl")
        .args(["-sf", &download])
        .output()
        .unwrap();
    assert!(out.status.success(), "{download}");
    assert_eq!(
        out.stdout,
        std::fs::read(binary("bindery-agent")).unwrap(),
        "the demo offers its own agent"
    );

    // Ctrl-C: everything stops and the temporary data goes.
    Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    let status = child.wait().unwrap();
    assert!(status.success(), "{status:?}");
    assert!(!data_dir.exists(), "the temporary data dir is removed");
}
