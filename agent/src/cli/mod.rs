//! The agent's command line, one file per command: `facts`, `enroll`, `run`, `status`,
//! `service`, `help`.

mod enroll;
mod facts;
mod help;
pub mod run;
mod service;
mod status;

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{SystemTime, UNIX_EPOCH};

use clap::{Parser, Subcommand};

pub const VERSION: &str = env!("CARGO_PKG_VERSION");

#[derive(Parser)]
#[command(
    name = "bindery-agent",
    version,
    about = "Bindery's agent for managed machines",
    // `help` is the machine user's "ask for help" command; --help still prints this help.
    disable_help_subcommand = true
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
        /// Windows: print the raw readings the facts come from (JSON), for bug reports.
        #[arg(long, conflicts_with_all = ["json", "root"])]
        inventory: bool,
    },
    /// Enroll this machine with a Bindery server, using a policy's enrollment token.
    Enroll {
        /// The server, e.g. https://bindery.example.com
        #[arg(long)]
        server: String,
        /// The enrollment token (or BINDERY_ENROLL_TOKEN, which keeps it out of process lists).
        #[arg(
            long,
            env = "BINDERY_ENROLL_TOKEN",
            hide_env_values = true,
            required_unless_present = "token_file"
        )]
        token: Option<String>,
        /// A file holding the enrollment token (the MSI's ENROLL_TOKEN_FILE, install.sh's
        /// --token-file): read, and deleted once the machine is enrolled, so the token is on no
        /// command line and stays nowhere.
        #[arg(long, value_name = "FILE", conflicts_with = "token")]
        token_file: Option<PathBuf>,
        #[arg(long, value_name = "DIR")]
        state_dir: Option<PathBuf>,
        /// Accept a plain-http server that is not on this machine (tests only).
        #[arg(long)]
        allow_http: bool,
        /// Trust this CA certificate (PEM) for the server too: a server with a certificate of
        /// its own CA. It is kept with the enrollment for every later check-in.
        #[arg(long, value_name = "FILE")]
        ca_cert: Option<PathBuf>,
        /// Reach the server through this HTTP proxy (http://host:port), kept for every later
        /// check-in. A proxy that wants a user and password (http://user:password@host:port)
        /// is given in BINDERY_PROXY or --proxy-file instead, never on the command line, which
        /// other users can read. Without any, HTTPS_PROXY, HTTP_PROXY and NO_PROXY apply. An
        /// empty value is none (the MSI's PROXY property left unset).
        #[arg(long, value_name = "URL")]
        proxy: Option<String>,
        /// A file holding the proxy's URL, user and password included (the MSI's PROXY_FILE,
        /// install.sh's --proxy-file): read, and deleted once the machine is enrolled.
        #[arg(long, value_name = "FILE")]
        proxy_file: Option<PathBuf>,
    },
    /// Check in with the server on its schedule until stopped.
    Run {
        #[arg(long, value_name = "DIR")]
        state_dir: Option<PathBuf>,
        /// Check in once and exit (0 when the server took it).
        #[arg(long)]
        once: bool,
        /// Run as the system service (as `service install` registers it): log to the OS's log,
        /// and on Windows answer the Service Control Manager.
        #[arg(long, hide = true, conflicts_with = "once")]
        service: bool,
    },
    /// Show the enrollment and the last check-in.
    Status {
        #[arg(long, value_name = "DIR")]
        state_dir: Option<PathBuf>,
    },
    /// Install or remove the agent as a system service (systemd on Linux, launchd on macOS, the
    /// Service Control Manager on Windows).
    Service {
        #[command(subcommand)]
        action: ServiceAction,
    },
    /// Ask your IT provider for help: opens a ticket and prints its number.
    Help {
        /// What you need help with, in one line.
        #[arg(required_unless_present_any = ["close", "list"])]
        summary: Option<String>,
        /// More about it.
        #[arg(long)]
        details: Option<String>,
        /// Close your request with this ticket number instead.
        #[arg(long, value_name = "TICKET", conflicts_with_all = ["summary", "details"])]
        close: Option<u64>,
        /// List your latest requests and where each stands (closed by the helpdesk, too).
        #[arg(long, conflicts_with_all = ["summary", "details", "close"])]
        list: bool,
        #[arg(long, value_name = "DIR")]
        state_dir: Option<PathBuf>,
        /// Seconds to wait for the ticket number.
        #[arg(long, default_value_t = 30, value_name = "SECS")]
        wait: u64,
    },
}

#[derive(Subcommand)]
enum ServiceAction {
    /// Register this program as a service that starts at boot, and start it (needs root).
    Install,
    /// Stop and remove the service; the agent's state (its identity) stays unless --purge.
    Uninstall {
        /// Also delete the agent's state: its identity and enrollment (the machine must be
        /// enrolled again, and comes back as the same device only by its serial).
        #[arg(long)]
        purge: bool,
    },
}

/// Runs the command line's command; its errors go to the log (and stderr).
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Facts {
            inventory: true, ..
        } => crate::facts::inventory_json().and_then(|text| {
            std::io::stdout()
                .lock()
                .write_all(text.as_bytes())
                .map_err(|e| format!("cannot write: {e}"))
        }),
        Command::Facts {
            json,
            state_dir,
            root,
            ..
        } => facts::print(json, state_dir, root),
        Command::Enroll {
            server,
            token,
            token_file,
            state_dir,
            allow_http,
            ca_cert,
            proxy,
            proxy_file,
        } => {
            let given = enroll::Given {
                token,
                token_file,
                allow_http,
                ca_cert,
                proxy: enroll::ProxyGiven {
                    argument: proxy,
                    file: proxy_file,
                    environment: std::env::var("BINDERY_PROXY").ok(),
                },
            };
            runtime().and_then(|rt| rt.block_on(enroll::enroll(&server, given, state_dir)))
        }
        Command::Run {
            state_dir,
            once,
            service,
        } => {
            if service {
                crate::log::to_os_log();
                crate::service::run_as_service(state_dir)
            } else {
                runtime().and_then(|rt| rt.block_on(run::run(state_dir, once)))
            }
        }
        Command::Status { state_dir } => status::print(state_dir),
        Command::Service { action } => service::act(action).map(|done| println!("{done}")),
        Command::Help {
            summary,
            details,
            close,
            list,
            state_dir,
            wait,
        } => runtime().and_then(|rt| {
            rt.block_on(async {
                match close {
                    _ if list => help::list(state_dir).await,
                    Some(n) => help::close(state_dir, n).await,
                    None => help::ask(state_dir, summary.unwrap_or_default(), details, wait).await,
                }
            })
        }),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            crate::log::error(&message);
            ExitCode::FAILURE
        }
    }
}

/// One thread is plenty for an agent, and keeps its footprint small.
pub fn runtime() -> Result<tokio::runtime::Runtime, String> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start: {e}"))
}

pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}
