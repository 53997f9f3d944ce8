//! The Windows agent, built for x86_64-pc-windows-gnu (scripts/windows-agent) and run under Wine
//! 8 on this Linux machine. Wine answers the Win32 API with the host's real values, so the
//! Windows agent's facts are compared with what the Linux agent reads on the same host; then it
//! enrolls, checks in, runs its monitors and sends a help request against the real Linux server
//! and the ConnectWise sandbox.
//!
//! `BINDERY_WINDOWS_AGENT` names a built exe (scripts/test builds it once); without it the test
//! builds one. `WINE` names the Wine loader (default: Debian's `/usr/lib/wine/wine64`).
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use bindery_e2e::{ServerProcess, admin, run};
use connectwise_sandbox::Seed;
use serde_json::Value;

/// The built exe (with the test-only bcryptprimitives.dll beside it).
fn exe() -> &'static Path {
    static EXE: OnceLock<PathBuf> = OnceLock::new();
    EXE.get_or_init(|| {
        if let Ok(p) = std::env::var("BINDERY_WINDOWS_AGENT") {
            return PathBuf::from(p);
        }
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let out = Command::new(root.join("scripts/windows-agent"))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "building the Windows agent: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        PathBuf::from(String::from_utf8(out.stdout).unwrap().trim())
    })
}

/// A Wine prefix of the test's own (Wine makes it on first use).
struct Wine {
    prefix: tempfile::TempDir,
}

impl Wine {
    fn new() -> Wine {
        Wine {
            prefix: tempfile::tempdir().unwrap(),
        }
    }

    /// Runs the Windows agent with `args` under Wine.
    fn agent(&self, args: &[&str]) -> Output {
        let wine = std::env::var("WINE").unwrap_or_else(|_| "/usr/lib/wine/wine64".into());
        Command::new(wine)
            .arg(exe())
            .args(args)
            .env("WINEPREFIX", self.prefix.path())
            .env("WINEDEBUG", "-all")
            // No Mono or Gecko installer prompts in a fresh prefix.
            .env("WINEDLLOVERRIDES", "mscoree,mshtml=")
            .env_remove("DISPLAY")
            .output()
            .unwrap()
    }

    fn ok(&self, args: &[&str]) -> String {
        let out = self.agent(args);
        assert!(
            out.status.success(),
            "bindery-agent.exe {args:?}: {}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// A Linux path as the Windows agent sees it (Wine maps `/` to drive Z:).
    fn path(p: &Path) -> String {
        format!("Z:{}", p.display()).replace('/', "\\")
    }
}

fn json(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("{e}: {text}"))
}

/// Gigabytes in a fact like "15.6 GB".
fn gb(v: &Value) -> f64 {
    v.as_str()
        .and_then(|s| s.strip_suffix(" GB"))
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("not a size: {v}"))
}

#[test]
fn under_wine_the_windows_agent_reads_this_host_s_facts_through_win32() {
    let wine = Wine::new();
    let windows = json(&wine.ok(&["facts", "--json"]));
    let (ok, linux, err) = run("bindery-agent", &["facts", "--json"]);
    assert!(ok, "{err}");
    let linux = json(&linux);
    assert_eq!(windows["osType"], "Windows", "{windows}");
    assert!(
        windows["osInfo"].as_str().unwrap().starts_with("Windows"),
        "{windows}"
    );
    // The same machine: its name, and the default route's interface, MAC and address.
    let name = |v: &Value| v["name"].as_str().unwrap().to_lowercase();
    assert_eq!(name(&windows), name(&linux), "{windows}\n{linux}");
    for fact in ["macAddress", "ipAddress"] {
        assert_eq!(windows[fact], linux[fact], "{fact}: {windows}\n{linux}");
    }
    // Wine reports the memory Linux has (the Linux agent may prefer the firmware's figure).
    let (w, l) = (gb(&windows["ram"]), gb(&linux["ram"]));
    assert!((w - l).abs() / l < 0.1, "ram {w} vs {l}");
    assert!(
        windows["cpuSpeed"].as_str().unwrap().ends_with(" GHz"),
        "{windows}"
    );
    // The raw readings print too (how samples are recorded).
    let inventory = json(&wine.ok(&["facts", "--inventory"]));
    assert_eq!(inventory["mac"], windows["macAddress"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn under_wine_the_windows_agent_enrolls_checks_in_monitors_and_asks_for_help() {
    connectwise_client::install_tls_provider();
    let sb = connectwise_sandbox::spawn("127.0.0.1:0".parse().unwrap(), Seed::default_seed(), true)
        .await
        .unwrap();
    let data = tempfile::tempdir().unwrap();
    let d = data.path().to_str().unwrap().to_owned();
    admin(&d, &["connect-sandbox", &sb.url()]);
    admin(&d, &["policy-create", "Windows fleet"]);
    admin(&d, &["link", "--policy", "Windows fleet", "--company", "2"]);
    let token = admin(&d, &["token-create", "--policy", "Windows fleet"])
        .trim()
        .to_owned();
    let server = ServerProcess::start(&["--data-dir", &d, "--retry-base-ms", "100"]);

    let wine = Wine::new();
    let state = tempfile::tempdir().unwrap();
    let state_dir = Wine::path(state.path());
    let out = wine.ok(&[
        "enroll",
        "--server",
        &server.url,
        "--token",
        &token,
        "--state-dir",
        &state_dir,
    ]);
    assert!(out.starts_with("enrolled with"), "{out}");
    // One check-in, which also reads the monitors once: what Wine cannot answer is reported,
    // never a crash.
    wine.ok(&["run", "--once", "--state-dir", &state_dir]);
    let status = wine.ok(&["status", "--state-dir", &state_dir]);
    assert!(status.contains("last result ok"), "{status}");

    // The device's configuration in ConnectWise, with Windows facts.
    let agent_id = std::fs::read_to_string(state.path().join("agent-id"))
        .unwrap()
        .trim()
        .to_owned();
    bindery_e2e::wait_for("the Windows configuration", 60, || {
        sb.sandbox
            .data()
            .configurations
            .values()
            .any(|c| c["deviceIdentifier"] == agent_id.as_str())
    });
    let c = sb
        .sandbox
        .data()
        .configurations
        .values()
        .find(|c| c["deviceIdentifier"] == agent_id.as_str())
        .cloned()
        .unwrap();
    assert_eq!(c["osType"], "Windows", "{c}");
    assert!(c["osInfo"].as_str().unwrap().starts_with("Windows"), "{c}");

    // A help request from the Windows agent: a self-service ticket, listed back with its state.
    let out = wine.ok(&["help", "The printer is jammed", "--state-dir", &state_dir]);
    assert!(out.contains('#'), "{out}");
    let list = wine.ok(&["help", "--list", "--state-dir", &state_dir]);
    assert!(list.contains("The printer is jammed"), "{list}");
    drop(server);
    sb.stop().await;
}
