//! The real `bindery-server` binary (built beside this example), started and stopped as a
//! service manager would, with what the benchmark reads of it: its Prometheus counters, its
//! resident memory and CPU time from /proc.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Where the servers keep their data: a SQLite data dir, or one PostgreSQL database for all.
#[derive(Clone)]
pub enum Data {
    Sqlite(PathBuf),
    Postgres(String),
}

pub struct Server {
    child: Child,
    /// `http://127.0.0.1:PORT/api/agent/v1`
    pub agent_api: String,
    metrics: String,
}

/// `bindery-server` beside this example's folder (target/<profile>/).
fn binary() -> PathBuf {
    let exe = std::env::current_exe().expect("this program's path");
    let dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("the example runs from target/<profile>/examples");
    let server = dir.join("bindery-server");
    assert!(
        server.exists(),
        "{} is missing: build it first (cargo build [--release] -p bindery-server), or run scripts/bench-fleet",
        server.display()
    );
    server
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

impl Server {
    /// Starts a server on free loopback ports; its log goes to `log`. Returns once it has
    /// printed its address (it may still be getting ready).
    pub fn start(data: &Data, key: &Path, log: &Path, extra: &[&str]) -> Server {
        let (port, metrics_port) = (free_port(), free_port());
        let mut cmd = Command::new(binary());
        cmd.arg("serve");
        match data {
            Data::Sqlite(dir) => cmd.arg("--data-dir").arg(dir),
            Data::Postgres(url) => cmd.args(["--database-url", url]),
        };
        cmd.arg("--server-key-file")
            .arg(key)
            .args([
                "--listen",
                &format!("127.0.0.1:{port}"),
                "--metrics-listen",
                &format!("127.0.0.1:{metrics_port}"),
                "--connectwise-allow-http",
                "--max-connections",
                "4096",
            ])
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::from(
                std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(log)
                    .expect("the log opens"),
            ));
        let mut child = cmd.spawn().expect("bindery-server starts");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout is piped"))
            .read_line(&mut line)
            .expect("the server prints its address");
        assert!(
            line.contains("127.0.0.1"),
            "the server did not start: {line:?} (see {})",
            log.display()
        );
        Server {
            child,
            agent_api: format!("http://127.0.0.1:{port}/api/agent/v1"),
            metrics: format!("http://127.0.0.1:{metrics_port}/metrics"),
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// SIGTERM, then wait: the way systemd stops it.
    pub fn stop(mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let _ = self.child.wait();
    }

    /// One Prometheus sample: `name` or `name{label="value"}`; 0 when absent.
    pub async fn metric(&self, http: &reqwest::Client, sample: &str) -> u64 {
        let Ok(text) = async { http.get(&self.metrics).send().await?.text().await }.await else {
            return 0;
        };
        text.lines()
            .filter_map(|l| l.strip_prefix(sample))
            .filter_map(|rest| rest.strip_prefix(' '))
            .find_map(|v| v.trim().parse().ok())
            .unwrap_or(0)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A process's resident memory (KiB): its own (heap, stacks) and the file pages it maps (the
/// SQLite database under `mmap_size`, shared with the OS's cache), and its peak since start.
#[derive(Clone, Copy, Default)]
pub struct Memory {
    pub anon: u64,
    pub file: u64,
    pub peak: u64,
}

/// From /proc/PID/status.
pub fn memory(pid: u32) -> Memory {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    Memory {
        anon: field("RssAnon:"),
        file: field("RssFile:") + field("RssShmem:"),
        peak: field("VmHWM:"),
    }
}

/// CPU time a process has used (user + system), from /proc/PID/stat.
pub fn cpu_time(pid: &str) -> Duration {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // The fields after the command name (which may hold spaces) end with ')'.
    let after = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or_default();
    let ticks: u64 = after
        .split_whitespace()
        .skip(11)
        .take(2)
        .filter_map(|v| v.parse::<u64>().ok())
        .sum();
    Duration::from_millis(ticks * 1000 / clock_ticks())
}

fn clock_ticks() -> u64 {
    static TICKS: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
    *TICKS.get_or_init(|| {
        Command::new("getconf")
            .arg("CLK_TCK")
            .output()
            .ok()
            .and_then(|o| String::from_utf8(o.stdout).ok())
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or(100)
    })
}

/// The database's size on disk: the SQLite files, or PostgreSQL's own figure.
pub async fn database_bytes(data: &Data, store: &bindery_server::store::Store) -> u64 {
    match data {
        Data::Sqlite(dir) => std::fs::read_dir(dir)
            .map(|entries| {
                entries
                    .flatten()
                    .filter(|e| e.file_name().to_string_lossy().starts_with("bindery.db"))
                    .filter_map(|e| e.metadata().ok())
                    .map(|m| m.len())
                    .sum()
            })
            .unwrap_or(0),
        Data::Postgres(_) => {
            let (bytes,): (i64,) = sqlx::query_as("SELECT pg_database_size(current_database())")
                .fetch_one(store.pool())
                .await
                .expect("PostgreSQL reports its size");
            bytes as u64
        }
    }
}

/// One table's bytes with its indexes.
pub async fn table_bytes(data: &Data, store: &bindery_server::store::Store, table: &str) -> u64 {
    let sql = match data {
        // SQLite's dbstat: every page of the table and of the indexes on it.
        Data::Sqlite(_) => format!(
            "SELECT COALESCE(SUM(pgsize), 0) FROM dbstat WHERE name IN \
             (SELECT name FROM sqlite_master WHERE tbl_name = '{table}')"
        ),
        Data::Postgres(_) => format!("SELECT pg_total_relation_size('{table}')"),
    };
    let (bytes,): (i64,) = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .fetch_one(store.pool())
        .await
        .expect("the database reports a table's size");
    bytes as u64
}

/// Waits until `done` holds, up to `limit`; false when it never did.
pub async fn wait_until<F, Fut>(limit: Duration, mut done: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if done().await {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    false
}
