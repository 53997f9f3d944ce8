//! `bindery-server`: serve (agent API and binding engine), the all-in-one demo, and admin
//! commands for scripts. The commands themselves live in `cli/`, one file per noun.

use std::ffi::OsString;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};

mod cli;

#[derive(Parser)]
#[command(name = "bindery-server", version, about = "Bindery's server")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the agent API, the console and the admin API, and keep ConnectWise in line.
    Serve(cli::serve::ServeArgs),
    /// Everything on this machine: the server (SQLite), the ConnectWise sandbox set up and a
    /// policy linked to a sample company, and this machine's agent enrolled. Ctrl-C stops it.
    Demo {
        #[arg(long, default_value = "127.0.0.1:8700")]
        listen: SocketAddr,
        #[arg(long, default_value = "127.0.0.1:8701")]
        sandbox_listen: SocketAddr,
        /// Keep the data here (default: a temporary directory, removed at the end).
        #[arg(long, value_name = "DIR")]
        data_dir: Option<PathBuf>,
        /// The agent binary (default: bindery-agent beside this program).
        #[arg(long, value_name = "FILE")]
        agent: Option<PathBuf>,
    },
    /// Administration from scripts.
    Admin {
        /// The server's config file, for where its data and key are (as `serve --config`).
        #[arg(long, env = "BINDERY_CONFIG", value_name = "FILE")]
        config: Option<PathBuf>,
        #[command(flatten)]
        db: cli::Database,
        /// The server key (needed to save ConnectWise keys and to reach ConnectWise).
        #[arg(long, env = "BINDERY_SERVER_KEY_FILE", value_name = "FILE")]
        server_key_file: Option<PathBuf>,
        #[command(subcommand)]
        action: cli::Admin,
    },
}

fn main() -> ExitCode {
    let args: Vec<OsString> = std::env::args_os().collect();
    let command = match bindery_server::config::with_file_defaults(Cli::command(), &args) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("bindery-server: {e}");
            return ExitCode::FAILURE;
        }
    };
    let cli = match Cli::from_arg_matches(&command.get_matches_from(args)) {
        Ok(cli) => cli,
        Err(e) => e.exit(),
    };
    match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime.block_on(run(cli)),
        Err(e) => {
            eprintln!("bindery-server: cannot start: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> ExitCode {
    let result = match cli.command {
        Command::Serve(args) => args.run().await,
        Command::Demo {
            listen,
            sandbox_listen,
            data_dir,
            agent,
        } => {
            cli::serve::init_logging(false);
            let options = bindery_server::demo::DemoOptions {
                listen,
                sandbox_listen,
                data_dir,
                agent,
            };
            bindery_server::demo::run(options, cli::serve::shutdown_signal()).await
        }
        Command::Admin {
            config: _,
            db,
            server_key_file,
            action,
        } => cli::admin(db, server_key_file, action).await,
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("bindery-server: {message}");
            ExitCode::FAILURE
        }
    }
}
