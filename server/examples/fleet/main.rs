//! Benchmark harness (not a test): a fleet of 100,000 devices on one server, or on several
//! sharing one PostgreSQL, run the way an MSP's day runs it. The servers are the real
//! `bindery-server` binary; the ConnectWise sandbox and the simulated agents run here.
//!
//! 1. Seed: one policy per company (200 devices each), linked, every device enrolled (straight
//!    into the store), the sandbox holding the companies.
//! 2. Bind: the servers create every configuration (with an unlimited ConnectWise budget); the
//!    sandbox must then hold exactly one per device.
//! 3. Outage: every device last seen an hour ago and the periodic re-sync due; the servers start
//!    again with the real budget (1,000 requests a minute). Time until each serves check-ins.
//! 4. Re-sync: the fleet checks in (nothing changed) while every company is re-synced: its
//!    requests, its busiest minute, its writes (none).
//! 5. Steady state: check-ins at the rate for the duration, a share with changed facts; latency,
//!    CPU and memory per window.
//! 6. Storage and the offline monitor: the database's size and growth, and no device flagged
//!    offline by the outage.
//!
//! Every phase checks what must hold and stops loudly when it does not. `--smoke` is the small
//! run CI makes so this cannot rot.
//!
//! scripts/bench-fleet [--devices 100000] [--database postgres://…] [--servers 2]
//!                     [--seconds 600] [--rate 1700] [--changed-percent 5] [--smoke]
#![allow(clippy::unwrap_used, clippy::expect_used)] // a benchmark: failing loudly is the point

mod load;
mod phases;
mod scenario;
mod seed;
mod server;
mod storage;

use std::sync::Arc;
use std::time::Duration;

use bindery_server::store::Store;
use clap::Parser;

use server::{Data, Server};

pub const AGENT_VERSION: &str = "0.1.0";

#[derive(Parser)]
struct Args {
    #[arg(long, default_value_t = 100_000)]
    devices: usize,
    #[arg(long, default_value_t = 200)]
    per_company: usize,
    /// A PostgreSQL server (postgres://…) to make a scratch database on (dropped at the end);
    /// default: SQLite in a temporary directory.
    #[arg(long)]
    database: Option<String>,
    /// Servers sharing the database (more than one needs PostgreSQL).
    #[arg(long, default_value_t = 1)]
    servers: usize,
    /// Seconds of steady-state check-ins.
    #[arg(long, default_value_t = 600)]
    seconds: u64,
    /// Check-ins a second (default: every device once a minute).
    #[arg(long)]
    rate: Option<f64>,
    #[arg(long, default_value_t = 5)]
    changed_percent: u64,
    /// CI's run: 1,000 devices, 8 s of steady state at 500 a second.
    #[arg(long)]
    smoke: bool,
}

/// What every phase works with.
pub struct Fleet {
    pub store: Store,
    pub data: Data,
    pub key: std::path::PathBuf,
    pub logs: std::path::PathBuf,
    pub sandbox: connectwise_sandbox::Running,
    pub agents: Arc<Vec<seed::Agent>>,
    pub companies: usize,
    pub servers: usize,
    pub rate: f64,
    pub http: reqwest::Client,
}

impl Fleet {
    /// Starts one server with `extra` flags.
    pub fn start_one(&self, extra: &[&str]) -> Server {
        Server::start(&self.data, &self.key, &self.logs, extra)
    }

    /// Starts every server with `extra` flags.
    pub fn start(&self, extra: &[&str]) -> Vec<Server> {
        (0..self.servers).map(|_| self.start_one(extra)).collect()
    }
}

#[tokio::main]
async fn main() {
    scenario::run(Args::parse()).await;
}

/// Milliseconds, for printing.
pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
