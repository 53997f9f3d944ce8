//! Helpers for end-to-end tests (in `tests/tests/`): they run the real `bindery-server` and
//! `bindery-agent` binaries, built by the same cargo that builds the tests.

pub mod proxy;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Once;
use std::time::{Duration, Instant};

/// The workspace's debug binary `name`. The workspace's test build (`scripts/test`) has just
/// built it; when it is missing or older than any source (say `cargo test -p bindery-e2e` alone),
/// it is built here, once per test process.
pub fn binary(name: &str) -> PathBuf {
    static BUILD: Once = Once::new();
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"));
    let path = target.join("debug").join(name);
    if !is_fresh(&path, &root) {
        BUILD.call_once(|| {
            let status = Command::new(env!("CARGO"))
                .args([
                    "build",
                    "--quiet",
                    "-p",
                    "bindery-server",
                    "-p",
                    "bindery-agent",
                ])
                .current_dir(&root)
                .status()
                .expect("cargo runs");
            assert!(status.success(), "building the binaries failed");
        });
    }
    path
}

/// True when `binary` exists and is newer than every source it is built from.
fn is_fresh(binary: &Path, root: &Path) -> bool {
    let Ok(built) = std::fs::metadata(binary).and_then(|m| m.modified()) else {
        return false;
    };
    // Each binary against its own sources only: the agent is built from shared/ and agent/.
    let is_agent = binary
        .file_name()
        .is_some_and(|n| n.to_string_lossy().starts_with("bindery-agent"));
    let sources: &[&str] = if is_agent {
        &["shared", "agent"]
    } else {
        &[
            "shared",
            "server",
            "connectwise/client",
            "connectwise/sandbox",
        ]
    };
    let mut newest = std::fs::metadata(root.join("Cargo.lock"))
        .and_then(|m| m.modified())
        .ok();
    let mut stack: Vec<PathBuf> = sources.iter().map(|s| root.join(s)).collect();
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if let Ok(modified) = entry.metadata().and_then(|m| m.modified()) {
                newest = newest.max(Some(modified));
            }
        }
    }
    newest.is_some_and(|n| n <= built)
}

/// A running `bindery-server serve`, stopped (SIGTERM, then wait) when dropped.
/// A child process killed when dropped, so a failing test leaves no agent running behind it
/// (one left behind once posted to a later test's sandbox on a reused port).
pub struct KillOnDrop(pub std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub struct ServerProcess {
    pub child: Child,
    /// `http://127.0.0.1:PORT` (`https://` when started with a certificate)
    pub url: String,
}

impl ServerProcess {
    /// Starts the server on a free loopback port with the given extra arguments.
    pub fn start(args: &[&str]) -> ServerProcess {
        ServerProcess::start_at("127.0.0.1:0", args)
    }

    /// Starts the server listening on `listen` (to restart it where its agents expect it).
    pub fn start_at(listen: &str, args: &[&str]) -> ServerProcess {
        ServerProcess::spawn(listen, args, Stdio::null())
    }

    /// Starts the server on a free loopback port, its log appended to `log` (the reliability
    /// suite scans logs for secrets).
    pub fn start_logged(args: &[&str], log: &Path) -> ServerProcess {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .expect("the log file opens");
        ServerProcess::spawn("127.0.0.1:0", args, Stdio::from(file))
    }

    fn spawn(listen: &str, args: &[&str], log: Stdio) -> ServerProcess {
        let mut child = Command::new(binary("bindery-server"))
            .args(["serve", "--listen", listen])
            .args(args)
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()
            .expect("bindery-server starts");
        let stdout = child.stdout.take().expect("stdout is piped");
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("the server prints its address");
        let url = line
            .trim()
            .rsplit(' ')
            .next()
            .unwrap_or_default()
            .to_owned();
        assert!(
            url.starts_with("http://127.0.0.1:") || url.starts_with("https://127.0.0.1:"),
            "unexpected first line {line:?}"
        );
        ServerProcess { child, url }
    }

    /// Asks the server to stop as a service manager would, and returns its exit code.
    pub fn terminate(mut self) -> Option<i32> {
        let pid = self.child.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        self.child.wait().ok().and_then(|s| s.code())
    }
}

impl ServerProcess {
    /// Kills the server without warning (SIGKILL): nothing is flushed, no job is handed back.
    pub fn crash(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs a binary to completion: (success, stdout, stderr).
pub fn run(bin: &str, args: &[&str]) -> (bool, String, String) {
    let out = Command::new(binary(bin))
        .args(args)
        .output()
        .expect("the binary runs");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Runs `bindery-agent enroll --server URL --token TOKEN --state-dir DIR EXTRA…`: (success,
/// stdout, stderr).
pub fn enroll(url: &str, token: &str, state_dir: &str, extra: &[&str]) -> (bool, String, String) {
    let mut args = vec![
        "enroll",
        "--server",
        url,
        "--token",
        token,
        "--state-dir",
        state_dir,
    ];
    args.extend_from_slice(extra);
    run("bindery-agent", &args)
}

/// Enrolls a simulated agent over HTTP (`POST /api/agent/v1/enroll` with `facts`), which must
/// succeed; returns the credential its requests carry (`Bearer agent.secret`).
pub async fn enroll_simulated(
    http: &reqwest::Client,
    url: &str,
    token: &str,
    agent: &str,
    facts: serde_json::Value,
) -> String {
    let body = serde_json::json!({"token": token.trim(), "agentId": agent,
        "agentVersion": "0.1.0", "facts": facts});
    let r = http
        .post(format!("{url}/api/agent/v1/enroll"))
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .expect("the server answers");
    assert_eq!(r.status(), 200, "enrolling {agent}");
    let bytes = r.bytes().await.expect("the answer arrives");
    let reply: serde_json::Value = serde_json::from_slice(&bytes).expect("the answer is JSON");
    let field = |name: &str| {
        reply[name]
            .as_str()
            .expect("the answer names it")
            .to_owned()
    };
    format!("Bearer {}.{}", field("agentId"), field("deviceSecret"))
}

/// Runs `bindery-server admin --data-dir DATA_DIR ARGS…`, which must succeed; returns its output.
pub fn admin(data_dir: &str, args: &[&str]) -> String {
    let mut all = vec!["admin", "--data-dir", data_dir];
    all.extend_from_slice(args);
    let (ok, out, err) = run("bindery-server", &all);
    assert!(ok, "admin {args:?}: {err}");
    out
}

/// Polls `done` every 250 ms until it holds (panicking after `secs`); returns how long it took.
pub fn wait_for(what: &str, secs: u64, mut done: impl FnMut() -> bool) -> Duration {
    let started = Instant::now();
    while !done() {
        assert!(
            started.elapsed() < Duration::from_secs(secs),
            "timed out after {secs} s waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(250));
    }
    started.elapsed()
}

/// A loopback port free right now (to start something where a test can find it again).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

/// An HTTP client builder that trusts `ca` (a PEM file, as `own_ca` makes) besides the
/// system's roots. The caller installs the TLS provider first.
pub fn trusting(ca: &Path) -> reqwest::ClientBuilder {
    let pem = std::fs::read(ca).expect("the CA file reads");
    reqwest::Client::builder()
        .tls_certs_merge(reqwest::Certificate::from_pem_bundle(&pem).expect("the CA is PEM"))
}

/// A CA and a certificate it signed for 127.0.0.1 and localhost, made with openssl as
/// docs/server.md shows: (ca.pem, cert.pem, key.pem, ca.key).
pub fn own_ca(dir: &Path) -> [PathBuf; 4] {
    let [ca, cert, key, ca_key, csr, ext] = [
        "ca.pem",
        "cert.pem",
        "key.pem",
        "ca.key",
        "server.csr",
        "san.ext",
    ]
    .map(|f| dir.join(f));
    std::fs::write(&ext, "subjectAltName=DNS:localhost,IP:127.0.0.1\n")
        .expect("the scratch folder is writable");
    let openssl = |args: &[&str]| {
        let out = Command::new("openssl")
            .args(args)
            .output()
            .expect("openssl runs");
        assert!(
            out.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    let p = |p: &PathBuf| p.to_str().expect("a UTF-8 path").to_owned();
    let ec = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
    ];
    openssl(
        &[
            &["req", "-x509"][..],
            &ec,
            &["-days", "3650", "-subj", "/CN=Bindery test CA"],
        ]
        .concat()
        .into_iter()
        .chain(["-keyout", &p(&ca_key), "-out", &p(&ca)])
        .collect::<Vec<_>>(),
    );
    openssl(
        &[&["req"][..], &ec, &["-subj", "/CN=bindery.test"]]
            .concat()
            .into_iter()
            .chain(["-keyout", &p(&key), "-out", &p(&csr)])
            .collect::<Vec<_>>(),
    );
    openssl(&[
        "x509",
        "-req",
        "-in",
        &p(&csr),
        "-CA",
        &p(&ca),
        "-CAkey",
        &p(&ca_key),
        "-CAcreateserial",
        "-days",
        "825",
        "-extfile",
        &p(&ext),
        "-out",
        &p(&cert),
    ]);
    [ca, cert, key, ca_key]
}
