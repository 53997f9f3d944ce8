//! `bindery-agent`: the Bindery agent's command line.

mod facts;
mod state;

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

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
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Facts {
            json,
            state_dir,
            root,
        } => print_facts(json, state_dir, root),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("bindery-agent: {message}");
            ExitCode::FAILURE
        }
    }
}

fn print_facts(
    json: bool,
    state_dir: Option<PathBuf>,
    root: Option<PathBuf>,
) -> Result<(), String> {
    let agent_id = state::StateDir::resolve(state_dir).and_then(|s| s.agent_id());
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
