//! The Windows agent, built for x86_64-pc-windows-gnu (scripts/windows-agent) and run under Wine
//! 8 on this Linux machine. Wine answers the Win32 API with the host's real values, so the
//! Windows agent's facts are compared with what the Linux agent reads on the same host; then it
//! enrolls, checks in, runs its monitors and sends a help request against the real Linux server
//! and the ConnectWise sandbox. Its MSI (scripts/package-msi) is downloaded from the server and
//! installed with Wine's msiexec against the server over HTTPS, trusting the MSP's own CA
//! (`CA_CERT`): the machine enrolls, the service runs in Wine's service
//! manager, an upgrade keeps the identity, and uninstalling removes the service (and with PURGE=1
//! the state).
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
        self.program(exe().to_str().unwrap(), args)
    }

    /// Runs a Windows program (Wine's own `msiexec`, `sc`, or a path) with `args`.
    fn program(&self, program: &str, args: &[&str]) -> Output {
        let wine = std::env::var("WINE").unwrap_or_else(|_| "/usr/lib/wine/wine64".into());
        Command::new(wine)
            .arg(program)
            .args(args)
            .env("WINEPREFIX", self.prefix.path())
            .env("WINEDEBUG", "-all")
            // No Mono or Gecko installer prompts in a fresh prefix.
            .env("WINEDLLOVERRIDES", "mscoree,mshtml=")
            .env_remove("DISPLAY")
            .output()
            .unwrap()
    }

    /// `bindery-agent.exe enroll` with a token, which must succeed; what it printed.
    fn enroll(&self, server: &str, token: &str, state_dir: &str) -> String {
        let out = self.ok(&[
            "enroll",
            "--server",
            server,
            "--token",
            token,
            "--state-dir",
            state_dir,
        ]);
        assert!(out.starts_with("enrolled with"), "{out}");
        out
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

    /// The prefix's C: drive.
    fn drive_c(&self) -> PathBuf {
        self.prefix.path().join("drive_c")
    }
}

impl Drop for Wine {
    /// Ends the prefix's processes (a service keeps its wineserver alive).
    fn drop(&mut self) {
        let wine = std::env::var("WINE").unwrap_or_else(|_| "/usr/lib/wine/wine64".into());
        let server = Path::new(&wine).with_file_name("wineserver");
        let _ = Command::new(server)
            .arg("-k")
            .env("WINEPREFIX", self.prefix.path())
            .status();
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

mod proxy_under_wine;
mod under_wine;

/// The sandbox, and a server data dir whose policy "Windows fleet" is linked to company 2.
async fn windows_fleet() -> (connectwise_sandbox::Running, tempfile::TempDir) {
    connectwise_client::install_tls_provider();
    let sb = connectwise_sandbox::spawn("127.0.0.1:0".parse().unwrap(), Seed::default_seed(), true)
        .await
        .unwrap();
    let data = tempfile::tempdir().unwrap();
    let d = data.path().to_str().unwrap();
    admin(d, &["connect-sandbox", &sb.url()]);
    admin(d, &["policy-create", "Windows fleet"]);
    admin(d, &["link", "--policy", "Windows fleet", "--company", "2"]);
    (sb, data)
}

/// Every process command line on this machine, read from `/proc` every few milliseconds by a
/// thread of its own while an install runs (Wine's processes show their Windows command line).
struct CommandLines {
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    thread: std::thread::JoinHandle<Vec<String>>,
}

impl CommandLines {
    fn watch() -> CommandLines {
        use std::sync::atomic::Ordering;
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let stopped = stop.clone();
        let thread = std::thread::spawn(move || {
            let mut seen = std::collections::BTreeSet::new();
            while !stopped.load(Ordering::Relaxed) {
                for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
                    if let Ok(raw) = std::fs::read(entry.path().join("cmdline")) {
                        let line = String::from_utf8_lossy(&raw).replace('\0', " ");
                        if line.contains("bindery-agent") {
                            seen.insert(line.trim().to_owned());
                        }
                    }
                }
                std::thread::sleep(std::time::Duration::from_millis(2));
            }
            seen.into_iter().collect()
        });
        CommandLines { stop, thread }
    }

    fn stop(self) -> Vec<String> {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        self.thread.join().unwrap()
    }
}

/// The MSI of the Windows agent at `version` (scripts/package-msi).
fn msi(version: &str, dir: &Path) -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let output = dir.join(format!("bindery-agent-{version}.msi"));
    let out = Command::new(root.join("scripts/package-msi"))
        .args(["--exe", exe().to_str().unwrap(), "--version", version])
        .arg("--output")
        .arg(&output)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "building the MSI: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    output
}

/// Whether the prefix's service manager knows the agent's service, and its `sc query` answer.
fn service(wine: &Wine) -> (bool, String) {
    let out = wine.program("sc", &["query", "bindery-agent"]);
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    (out.status.success() && text.contains("bindery-agent"), text)
}
