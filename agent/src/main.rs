//! `bindery-agent`: the Bindery agent's command line.

mod facts;
mod server;
mod state;

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bindery_shared::protocol::{CheckIn, EnrollRequest};
use clap::{Parser, Subcommand};
use server::{ServerClient, ServerError};
use state::{Enrolled, StateDir};

const VERSION: &str = env!("CARGO_PKG_VERSION");

#[derive(Parser)]
#[command(
    name = "bindery-agent",
    version,
    about = "Bindery's agent for managed machines"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Print this machine's device facts (a table, or DeviceFacts JSON with --json).
    Facts {
        /// Print the protocol's DeviceFacts JSON.
        #[arg(long)]
        json: bool,
        /// The agent's state directory (holds the agent id).
        #[arg(long, value_name = "DIR")]
        state_dir: Option<PathBuf>,
        /// Linux: read /proc, /sys, /etc and /run under DIR instead of / (a mounted image, tests).
        #[arg(long, value_name = "DIR")]
        root: Option<PathBuf>,
    },
    /// Enroll this machine with a Bindery server, using a policy's enrollment token.
    Enroll {
        /// The server, e.g. https://bindery.example.com
        #[arg(long)]
        server: String,
        /// The enrollment token (or BINDERY_ENROLL_TOKEN, which keeps it out of process lists).
        #[arg(long, env = "BINDERY_ENROLL_TOKEN", hide_env_values = true)]
        token: String,
        #[arg(long, value_name = "DIR")]
        state_dir: Option<PathBuf>,
        /// Accept a plain-http server that is not on this machine (tests only).
        #[arg(long)]
        allow_http: bool,
    },
    /// Check in with the server on its schedule until stopped.
    Run {
        #[arg(long, value_name = "DIR")]
        state_dir: Option<PathBuf>,
        /// Check in once and exit (0 when the server took it).
        #[arg(long)]
        once: bool,
    },
    /// Show the enrollment and the last check-in.
    Status {
        #[arg(long, value_name = "DIR")]
        state_dir: Option<PathBuf>,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Facts {
            json,
            state_dir,
            root,
        } => print_facts(json, state_dir, root),
        Command::Enroll {
            server,
            token,
            state_dir,
            allow_http,
        } => runtime().and_then(|rt| rt.block_on(enroll(&server, token, state_dir, allow_http))),
        Command::Run { state_dir, once } => {
            runtime().and_then(|rt| rt.block_on(run(state_dir, once)))
        }
        Command::Status { state_dir } => status(state_dir),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("bindery-agent: {message}");
            ExitCode::FAILURE
        }
    }
}

/// One thread is plenty for an agent, and keeps its footprint small.
fn runtime() -> Result<tokio::runtime::Runtime, String> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start: {e}"))
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

fn print_facts(
    json: bool,
    state_dir: Option<PathBuf>,
    root: Option<PathBuf>,
) -> Result<(), String> {
    let agent_id = StateDir::resolve(state_dir).and_then(|s| s.agent_id());
    let facts = facts::collect(&facts::Source { root }, agent_id)?;
    let text = if json {
        let mut text = serde_json::to_string_pretty(&facts).map_err(|e| e.to_string())?;
        text.push('\n');
        text
    } else {
        facts::table(&facts)
    };
    std::io::stdout()
        .lock()
        .write_all(text.as_bytes())
        .map_err(|e| format!("cannot write: {e}"))
}

async fn enroll(
    server: &str,
    token: String,
    state_dir: Option<PathBuf>,
    allow_http: bool,
) -> Result<(), String> {
    let state = StateDir::resolve(state_dir)?;
    let agent_id = state.agent_id()?;
    let client = ServerClient::new(server, allow_http)?;
    let facts = facts::collect(&facts::Source::default(), Ok(agent_id.clone()))?;
    let request = EnrollRequest {
        token,
        agent_id: agent_id.clone(),
        agent_version: VERSION.into(),
        facts,
    };
    let reply = client.enroll(&request).await.map_err(|e| match e {
        ServerError::Unauthorized(m) => format!("enrollment refused: {m}"),
        other => other.to_string(),
    })?;
    if reply.agent_id != agent_id {
        // The server knew this machine (by its serial) under its earlier id: keep that one.
        state.adopt_agent_id(&reply.agent_id)?;
    }
    state.save_enrollment(&Enrolled {
        server: client.url().to_owned(),
        agent_id: reply.agent_id.clone(),
        secret: reply.device_secret,
        allow_http,
    })?;
    println!("enrolled with {} as agent {}", client.url(), reply.agent_id);
    Ok(())
}

async fn run(state_dir: Option<PathBuf>, once: bool) -> Result<(), String> {
    let state = StateDir::resolve(state_dir)?;
    let enrolled = state.enrollment()?.ok_or(
        "this machine is not enrolled: run `bindery-agent enroll --server URL --token TOKEN` first",
    )?;
    let client = ServerClient::new(&enrolled.server, enrolled.allow_http)?;
    let credential = enrolled.credential();
    let mut status = state.status().unwrap_or_default();
    let mut interval = status.next_checkin_secs.max(10);
    loop {
        let facts = facts::collect(&facts::Source::default(), Ok(enrolled.agent_id.clone()))?;
        let report = CheckIn {
            agent_version: VERSION.into(),
            facts,
            monitors: Vec::new(),
            spool_dropped: 0,
        };
        status.last_attempt_ms = now_ms();
        let outcome = client.checkin(&credential, &report).await;
        match &outcome {
            Ok(reply) => {
                interval = reply.next_checkin_secs.max(5);
                status.last_success_ms = Some(status.last_attempt_ms);
                status.last_result = "ok".into();
            }
            Err(e) => {
                eprintln!("bindery-agent: check-in failed: {e}");
                status.last_result = e.to_string();
            }
        }
        status.next_checkin_secs = interval;
        if let Err(e) = state.save_status(&status) {
            eprintln!("bindery-agent: {e}");
        }
        if once {
            return outcome.map(drop).map_err(|e| e.to_string());
        }
        // Up to 10 % jitter so a fleet restarted together does not check in together.
        let jitter = fastrand::f64() * 0.1 * f64::from(interval);
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs_f64(f64::from(interval) + jitter)) => {}
            _ = shutdown_signal() => return Ok(()),
        }
    }
}

/// Ctrl-C, or SIGTERM from the service manager.
async fn shutdown_signal() {
    #[cfg(unix)]
    {
        if let Ok(mut term) =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}

fn status(state_dir: Option<PathBuf>) -> Result<(), String> {
    let state = StateDir::resolve(state_dir)?;
    let Some(enrolled) = state.enrollment()? else {
        println!("not enrolled");
        return Ok(());
    };
    println!("server      {}", enrolled.server);
    println!("agent id    {}", enrolled.agent_id);
    match state.status() {
        Some(s) => {
            println!("last result {}", s.last_result);
            let ago = |ms: u64| format!("{}s ago", now_ms().saturating_sub(ms) / 1000);
            println!("last try    {}", ago(s.last_attempt_ms));
            println!(
                "last ok     {}",
                s.last_success_ms.map(ago).unwrap_or_else(|| "never".into())
            );
            println!("interval    {}s", s.next_checkin_secs);
        }
        None => println!("last result no check-in yet"),
    }
    Ok(())
}
