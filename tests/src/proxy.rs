//! Debian's tinyproxy in the foreground on a free loopback port, with basic authentication, its
//! log (one line per request, `CONNECT host:port` for HTTPS) kept to show what went through it.
//! Stopped when dropped.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use crate::{free_port, wait_for};

pub struct Proxy {
    child: Child,
    pub port: u16,
    log: PathBuf,
}

/// The user every test proxy wants.
pub const USER: &str = "proxyuser";

impl Proxy {
    /// A proxy in `dir` that lets in `USER` with `password` only.
    pub fn start(dir: &Path, password: &str) -> Proxy {
        Proxy::launch(dir, &format!("BasicAuth {USER} {password}\n"))
    }

    /// A proxy in `dir` that asks for no password (as a machine-wide proxy setting names one).
    pub fn open(dir: &Path) -> Proxy {
        Proxy::launch(dir, "")
    }

    fn launch(dir: &Path, auth: &str) -> Proxy {
        let port = free_port();
        let conf = dir.join("tinyproxy.conf");
        let written = std::fs::write(
            &conf,
            format!(
                "Port {port}\nListen 127.0.0.1\nTimeout 30\nLogLevel Connect\nMaxClients 50\n\
                 Allow 127.0.0.1\n{auth}"
            ),
        );
        written.expect("the proxy's configuration is written");
        let log = dir.join("tinyproxy.log");
        let child = Command::new("tinyproxy")
            .args(["-d", "-c"])
            .arg(&conf)
            .stdout(std::fs::File::create(&log).expect("the proxy's log is created"))
            .stderr(Stdio::null())
            .spawn()
            .expect("tinyproxy is installed (scripts/install-test-deps)");
        wait_for("tinyproxy to listen", 10, || {
            std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
        });
        Proxy { child, port, log }
    }

    /// The proxy's URL with `password` (the right one, or not).
    pub fn url(&self, password: &str) -> String {
        format!("http://{USER}:{password}@127.0.0.1:{}", self.port)
    }

    /// Every request it has logged so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
