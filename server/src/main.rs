//! `bindery-server`: serve (agent API and binding engine), the all-in-one demo, and admin
//! commands for scripts. The commands themselves live in `cli/`, one file per noun.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

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
        /// The server's config file, for where its data is (as `serve --config`).
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
    if let Err(e) = load_config() {
        eprintln!("bindery-server: {e}");
        return ExitCode::FAILURE;
    }
    match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime.block_on(run()),
        Err(e) => {
            eprintln!("bindery-server: cannot start: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Applies `--config FILE` (or BINDERY_CONFIG) and the BINDERY_*_FILE secrets to the
/// environment, where the flags' `env` settings read them. Runs before any thread exists.
fn load_config() -> Result<(), String> {
    let args: Vec<String> = std::env::args().collect();
    let file = args
        .windows(2)
        .find(|w| w[0] == "--config")
        .map(|w| w[1].clone())
        .or_else(|| {
            args.iter()
                .find_map(|a| a.strip_prefix("--config=").map(str::to_owned))
        })
        .or_else(|| std::env::var("BINDERY_CONFIG").ok());
    let is_set = |v: &str| std::env::var_os(v).is_some();
    if let Some(file) = file {
        let text = std::fs::read_to_string(&file)
            .map_err(|e| format!("cannot read the config file {file}: {e}"))?;
        let vars = bindery_server::config::from_toml(&text, is_set)
            .map_err(|e| format!("the config file {file}: {e}"))?;
        set_vars(&vars);
    }
    let files: Vec<(String, String)> = std::env::vars()
        .filter(|(k, _)| k.starts_with("BINDERY_") && k.ends_with("_FILE"))
        .collect();
    let secrets =
        bindery_server::config::from_files(&files, is_set, |p| std::fs::read_to_string(p))?;
    set_vars(&secrets);
    Ok(())
}

fn set_vars(vars: &[(String, String)]) {
    for (k, v) in vars {
        // SAFETY: called from `main` before the runtime starts, while this is the only thread.
        unsafe { std::env::set_var(k, v) };
    }
}

async fn run() -> ExitCode {
    let cli = Cli::parse();
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
