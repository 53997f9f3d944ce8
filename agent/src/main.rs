//! `bindery-agent`: the Bindery agent's command line.

mod facts;
mod log;
mod monitors;
mod server;
mod server_trust;
mod service;
mod spool;
mod state;

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bindery_shared::protocol::{
    AlertBatch, CheckIn, EnrollRequest, HelpClose, HelpReply, HelpRequest, HelpState, MonitorKind,
    MonitorSpec, MonitorState,
};
use clap::{Parser, Subcommand};
use monitors::{Evaluator, Sampler};
use server::{ServerClient, ServerError};
use spool::Spool;
use state::{Enrolled, StateDir};

const VERSION: &str = env!("CARGO_PKG_VERSION");

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
        #[arg(long, env = "BINDERY_ENROLL_TOKEN", hide_env_values = true)]
        token: String,
        #[arg(long, value_name = "DIR")]
        state_dir: Option<PathBuf>,
        /// Accept a plain-http server that is not on this machine (tests only).
        #[arg(long)]
        allow_http: bool,
        /// Trust this CA certificate (PEM) for the server too: a server with a certificate of
        /// its own CA. It is kept with the enrollment for every later check-in.
        #[arg(long, value_name = "FILE")]
        ca_cert: Option<PathBuf>,
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

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Facts {
            inventory: true, ..
        } => facts::inventory_json().and_then(|text| {
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
        } => print_facts(json, state_dir, root),
        Command::Enroll {
            server,
            token,
            state_dir,
            allow_http,
            ca_cert,
        } => runtime()
            .and_then(|rt| rt.block_on(enroll(&server, token, state_dir, (allow_http, ca_cert)))),
        Command::Run {
            state_dir,
            once,
            service,
        } => {
            if service {
                log::to_os_log();
                service::run_as_service(state_dir)
            } else {
                runtime().and_then(|rt| rt.block_on(run(state_dir, once)))
            }
        }
        Command::Status { state_dir } => status(state_dir),
        Command::Service { action } => match action {
            ServiceAction::Install => service::install(),
            ServiceAction::Uninstall { purge } => service::uninstall().and_then(|done| {
                if purge {
                    purge_state().map(|gone| format!("{done}\n{gone}"))
                } else {
                    Ok(done)
                }
            }),
        }
        .map(|done| println!("{done}")),
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
                    _ if list => help_list(state_dir).await,
                    Some(n) => help_close(state_dir, n).await,
                    None => help(state_dir, summary.unwrap_or_default(), details, wait).await,
                }
            })
        }),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            log::error(&message);
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
    (allow_http, ca_cert): (bool, Option<PathBuf>),
) -> Result<(), String> {
    let ca_cert = match ca_cert {
        Some(path) => Some(
            std::fs::read_to_string(&path)
                .map_err(|e| format!("cannot read the CA certificate {}: {e}", path.display()))?,
        ),
        None => None,
    };
    let state = StateDir::resolve(state_dir)?;
    let agent_id = state.agent_id()?;
    let client = ServerClient::new(server, allow_http, ca_cert.as_deref())?;
    let facts = facts::collect(&facts::Source::default(), Ok(agent_id.clone()))?;
    let request = EnrollRequest {
        token,
        agent_id: agent_id.clone(),
        agent_version: VERSION.into(),
        facts,
    };
    // Enrolling again with the state kept: the current credential proves this is the same
    // device. It goes only to the server that issued it.
    let proof = state
        .enrollment()
        .ok()
        .flatten()
        .filter(|e| e.agent_id == agent_id && e.server == client.url())
        .map(|e| e.credential());
    let reply = client
        .enroll(&request, proof.as_ref())
        .await
        .map_err(|e| match e {
            ServerError::Unauthorized(m) => format!("enrollment refused: {m}"),
            other if other.to_string().contains("certificate") => format!(
                "{other} (for a server whose certificate comes from its own CA, give that CA's \
             certificate with --ca-cert FILE)"
            ),
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
        ca_cert,
    })?;
    println!("enrolled with {} as agent {}", client.url(), reply.agent_id);
    Ok(())
}

/// How often monitors are read between check-ins (at each check-in when those come sooner).
const SAMPLE_EVERY_SECS: u32 = 15;

/// What the agent watches, and what it has to send about it.
struct Monitoring {
    specs: Vec<MonitorSpec>,
    sampler: Sampler,
    evaluator: Evaluator,
    spool: Spool,
    /// Each monitor's state at the last reading, for the next check-in.
    states: Vec<MonitorState>,
}

impl Monitoring {
    /// Reads the monitors once; new alert events go to the spool.
    fn sample(&mut self) {
        if self.specs.is_empty() && self.evaluator.open().is_empty() {
            return;
        }
        let readings = self.sampler.sample(&self.specs);
        let (events, states) = self.evaluator.observe(&self.specs, &readings, now_ms());
        self.states = states;
        let open = self.evaluator.open();
        if (!events.is_empty() || open.as_slice() != self.spool.open_alerts())
            && let Err(e) = self.spool.push(events, open)
        {
            log::error(&format!("cannot spool alert events: {e}"));
        }
    }

    /// Sends the spooled events, oldest first, until the spool is empty or the server cannot
    /// take them (they wait for the next try).
    async fn deliver(
        &mut self,
        client: &ServerClient,
        cred: &bindery_shared::protocol::DeviceCredential,
    ) {
        while self.spool.len() > 0 {
            let events = self.spool.batch();
            let last = events.last().map_or(0, |e| e.seq);
            match client.alerts(cred, &AlertBatch { events }).await {
                Ok(ack) => {
                    if let Err(e) = self.spool.ack(ack.acked_through) {
                        log::warning(&e.to_string());
                        return;
                    }
                    if ack.acked_through < last {
                        return; // the server kept part of it: try the rest later
                    }
                }
                Err(ServerError::Rejected { status, message }) => {
                    // Sending the same again would be refused again and block the spool.
                    log::error(&format!(
                        "the server refused alert events ({status}: {message}); dropping them"
                    ));
                    if let Err(e) = self.spool.discard_through(last) {
                        log::warning(&e.to_string());
                    }
                    return;
                }
                Err(e) => {
                    log::warning(&format!("alert events wait in the spool: {e}"));
                    return;
                }
            }
        }
    }
}

/// Takes over the agent id the server named, in the id file and the enrollment.
fn adopt_identity(state: &StateDir, enrolled: &mut Enrolled, id: &str) -> Result<(), String> {
    state.adopt_agent_id(id)?;
    enrolled.agent_id = id.to_owned();
    state.save_enrollment(enrolled)
}

async fn run(state_dir: Option<PathBuf>, once: bool) -> Result<(), String> {
    let state = StateDir::resolve(state_dir)?;
    let mut enrolled = state.enrollment()?.ok_or(
        "this machine is not enrolled: run `bindery-agent enroll --server URL --token TOKEN` first",
    )?;
    let client = ServerClient::of(&enrolled)?;
    let mut credential = enrolled.credential();
    if !once {
        log::info(&format!(
            "agent {} {VERSION} reporting to {}",
            enrolled.agent_id, enrolled.server
        ));
    }
    let mut status = state.status().unwrap_or_default();
    let mut interval = status.next_checkin_secs.max(10);
    let spool = Spool::open(state.dir()?, now_ms())?;
    let mut watch = Monitoring {
        specs: Vec::new(),
        sampler: Sampler::new(),
        evaluator: Evaluator::with_open(spool.open_alerts()),
        spool,
        states: Vec::new(),
    };
    loop {
        let facts = facts::collect(&facts::Source::default(), Ok(enrolled.agent_id.clone()))?;
        let dropped = watch.spool.dropped();
        let report = CheckIn {
            agent_version: VERSION.into(),
            facts,
            monitors: watch.states.clone(),
            spool_dropped: dropped,
        };
        status.last_attempt_ms = now_ms();
        let outcome = client.checkin(&credential, &report).await;
        match &outcome {
            Ok(reply) => {
                interval = reply.next_checkin_secs.max(1);
                watch.specs = reply
                    .monitors
                    .iter()
                    .filter(|m| m.kind != MonitorKind::Unsupported)
                    .cloned()
                    .collect();
                if let Err(e) = watch.spool.reported_dropped(dropped) {
                    log::warning(&e.to_string());
                }
                status.last_success_ms = Some(status.last_attempt_ms);
                status.last_result = "ok".into();
                if let Some(id) = reply
                    .agent_id
                    .as_deref()
                    .filter(|id| *id != enrolled.agent_id)
                {
                    // An admin approved this machine as a reinstall of a device the server knew:
                    // it carries on under that device's agent id, with the same secret.
                    match adopt_identity(&state, &mut enrolled, id) {
                        Ok(()) => {
                            credential = enrolled.credential();
                            log::info(&format!("this machine is now agent {id}"));
                        }
                        Err(e) => log::warning(&e),
                    }
                }
            }
            Err(e) => {
                log::warning(&format!("check-in failed: {e}"));
                status.last_result = e.to_string();
            }
        }
        status.next_checkin_secs = interval;
        if let Err(e) = state.save_status(&status) {
            log::warning(&e.to_string());
        }
        watch.sample();
        watch.deliver(&client, &credential).await;
        if once {
            return outcome.map(drop).map_err(|e| e.to_string());
        }
        // Up to 10 % jitter so a fleet restarted together does not check in together.
        let jitter = fastrand::f64() * 0.1 * f64::from(interval);
        let next_checkin =
            tokio::time::Instant::now() + Duration::from_secs_f64(f64::from(interval) + jitter);
        let sample_every = Duration::from_secs(u64::from(SAMPLE_EVERY_SECS.min(interval)));
        loop {
            let next_sample = (tokio::time::Instant::now() + sample_every).min(next_checkin);
            tokio::select! {
                _ = tokio::time::sleep_until(next_sample) => {}
                _ = shutdown_signal() => return Ok(()),
            }
            if tokio::time::Instant::now() >= next_checkin {
                break;
            }
            // Alerts go out when they happen, not at the next check-in.
            watch.sample();
            watch.deliver(&client, &credential).await;
        }
    }
}

/// The person asking for help: the user who ran the command (through sudo, the one who ran
/// sudo).
fn invoking_user() -> Option<String> {
    ["SUDO_USER", "USER", "USERNAME", "LOGNAME"]
        .iter()
        .filter_map(|k| std::env::var(k).ok())
        .map(|v| v.trim().to_owned())
        .find(|v| !v.is_empty() && v != "root")
}

/// The enrolled server's client and this device's credential, for the help commands.
fn enrolled_client(
    state_dir: Option<PathBuf>,
) -> Result<(ServerClient, bindery_shared::protocol::DeviceCredential), String> {
    let state = StateDir::resolve(state_dir)?;
    let enrolled = state.enrollment().map_err(|e| {
        format!("{e} (asking for help needs the agent's credential: run this as an administrator)")
    })?;
    let enrolled = enrolled.ok_or("this machine is not enrolled with a Bindery server")?;
    Ok((ServerClient::of(&enrolled)?, enrolled.credential()))
}

/// A one-line summary (at most 100 characters) and details holding whatever did not fit.
fn split_summary(text: &str, details: Option<String>) -> (String, Option<String>) {
    let text = bindery_shared::normalize::clean_text(text);
    if text.chars().count() <= bindery_shared::protocol::MAX_SUMMARY_CHARS {
        return (text, details);
    }
    let short: String = text.chars().take(97).collect();
    let details = match details {
        Some(d) => format!("{text}\n\n{d}"),
        None => text.clone(),
    };
    (format!("{}...", short.trim_end()), Some(details))
}

async fn help(
    state_dir: Option<PathBuf>,
    summary: String,
    details: Option<String>,
    wait_secs: u64,
) -> Result<(), String> {
    if summary.trim().is_empty() {
        return Err(
            "say what you need help with: bindery-agent help \"The printer is jammed\"".into(),
        );
    }
    let (client, cred) = enrolled_client(state_dir)?;
    let (summary, details) = split_summary(&summary, details);
    let details = details.map(|d| {
        d.chars()
            .take(bindery_shared::protocol::MAX_DETAIL_CHARS)
            .collect()
    });
    let request = HelpRequest {
        request_id: uuid::Uuid::new_v4().to_string(),
        user: invoking_user().map(|u| u.chars().take(100).collect()),
        summary,
        details,
    };
    // The same request id is sent again after a failure: the server never opens two tickets.
    let mut reply = None;
    for attempt in 0..3 {
        match client.help(&cred, &request).await {
            Ok(r) => {
                reply = Some(r);
                break;
            }
            Err(ServerError::Unavailable(why)) if attempt < 2 => {
                eprintln!("bindery-agent: the server is unavailable ({why}); trying again");
                tokio::time::sleep(Duration::from_secs(2)).await;
            }
            Err(e) => return Err(format!("your request was not sent: {e}")),
        }
    }
    let mut reply = reply.ok_or("your request was not sent: the server is unavailable")?;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(wait_secs);
    while reply.state == HelpState::Pending && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(500)).await;
        if let Ok(r) = client.help_status(&cred, &request.request_id).await {
            reply = r;
        }
    }
    print_help_reply(&reply, &request.summary)
}

fn print_help_reply(reply: &HelpReply, summary: &str) -> Result<(), String> {
    match (reply.state, reply.ticket_number) {
        (HelpState::Open, Some(n)) => {
            println!("Ticket #{n} is open: {summary}");
            println!("Your IT team has it. To close it yourself: bindery-agent help --close {n}");
            Ok(())
        }
        (HelpState::Closed, Some(n)) => {
            println!("Ticket #{n} is closed.");
            Ok(())
        }
        (HelpState::Failed, _) => Err(format!(
            "your request was received but no ticket could be opened: {}",
            reply.message.as_deref().unwrap_or("no reason given")
        )),
        _ => {
            println!(
                "Your request was received (id {}); its ticket is not open yet{}.",
                reply.request_id,
                reply
                    .message
                    .as_deref()
                    .map(|m| format!(": {m}"))
                    .unwrap_or_default()
            );
            Ok(())
        }
    }
}

/// `help --list`: one line per request, newest first.
async fn help_list(state_dir: Option<PathBuf>) -> Result<(), String> {
    let (client, cred) = enrolled_client(state_dir)?;
    let list = client
        .help_list(&cred)
        .await
        .map_err(|e| format!("cannot reach the server: {e}"))?;
    if list.requests.is_empty() {
        println!("You have asked for no help from this machine yet.");
    }
    for r in &list.requests {
        println!("{}", help_line(r));
    }
    Ok(())
}

/// `#123  open  The printer is jammed` (the state says who closed it when the helpdesk did).
fn help_line(r: &HelpReply) -> String {
    let number = r
        .ticket_number
        .map(|n| format!("#{n}"))
        .unwrap_or_else(|| "-".into());
    let state = match r.state {
        HelpState::Pending => "pending",
        HelpState::Open => "open",
        HelpState::Closed => "closed",
        HelpState::Failed => "not sent",
        HelpState::Unsupported => "unknown",
    };
    let why = r
        .message
        .as_deref()
        .map(|m| format!(" ({m})"))
        .unwrap_or_default();
    format!(
        "{number}\t{state}{why}\t{}",
        r.summary.as_deref().unwrap_or("")
    )
}

async fn help_close(state_dir: Option<PathBuf>, ticket_number: u64) -> Result<(), String> {
    let (client, cred) = enrolled_client(state_dir)?;
    let reply = client
        .help_close(&cred, &HelpClose { ticket_number })
        .await
        .map_err(|e| format!("ticket #{ticket_number} was not closed: {e}"))?;
    match reply.state {
        HelpState::Closed => println!("Ticket #{ticket_number} is closed."),
        _ => println!("Ticket #{ticket_number} is being closed."),
    }
    Ok(())
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
        let _ = tokio::signal::ctrl_c().await;
    }
    #[cfg(windows)]
    {
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            () = service::stop_requested() => {}
        }
    }
    #[cfg(not(any(unix, windows)))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// Deletes the machine-wide state (`service uninstall --purge`, the MSI's PURGE=1).
fn purge_state() -> Result<String, String> {
    let state = StateDir::resolve(None)?;
    let path = state.path();
    match std::fs::remove_dir_all(path) {
        Ok(()) => Ok(format!("deleted the agent's state in {}", path.display())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            Ok(format!("no agent state in {}", path.display()))
        }
        Err(e) => Err(format!("cannot delete {}: {e}", path.display())),
    }
}

fn status(state_dir: Option<PathBuf>) -> Result<(), String> {
    let state = StateDir::resolve(state_dir)?;
    let Some(enrolled) = state.enrollment()? else {
        println!("not enrolled");
        return Ok(());
    };
    println!("server      {}", enrolled.server);
    println!("agent id    {}", enrolled.agent_id);
    println!("state       {}", state.path().display());
    // Windows: read back from the folder too, so a changed access list shows.
    match state.access() {
        Ok(access) => println!("access      {access}"),
        Err(e) => println!("access      {e}"),
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_help_line_says_number_state_who_and_what() {
        let reply = HelpReply {
            request_id: "r".into(),
            state: HelpState::Closed,
            ticket_number: Some(42),
            message: Some("the helpdesk closed the ticket".into()),
            summary: Some("The printer is jammed".into()),
        };
        assert_eq!(
            help_line(&reply),
            "#42\tclosed (the helpdesk closed the ticket)\tThe printer is jammed"
        );
        let pending = HelpReply {
            state: HelpState::Pending,
            ticket_number: None,
            message: None,
            ..reply
        };
        assert_eq!(help_line(&pending), "-\tpending\tThe printer is jammed");
    }
}
