//! `bindery-server`: serve the agent API, and admin commands for scripts.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use bindery_server::app::{self, AgentSettings, AppState};
use bindery_server::store::Store;
use clap::{Args, Parser, Subcommand};

#[derive(Parser)]
#[command(name = "bindery-server", version, about = "Bindery's server")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// Where the data lives.
#[derive(Args, Clone)]
struct Database {
    /// SQLite data directory (default: the platform's data dir for bindery-server).
    #[arg(long, env = "BINDERY_DATA_DIR", value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// A postgres:// URL instead of SQLite (several servers may share one database).
    #[arg(
        long,
        env = "BINDERY_DATABASE_URL",
        value_name = "URL",
        conflicts_with = "data_dir"
    )]
    database_url: Option<String>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the agent API.
    Serve {
        #[command(flatten)]
        db: Database,
        #[arg(long, env = "BINDERY_LISTEN", default_value = "127.0.0.1:8700")]
        listen: SocketAddr,
        /// Seconds between agent check-ins.
        #[arg(long, env = "BINDERY_CHECKIN_INTERVAL", default_value_t = 60, value_parser = clap::value_parser!(u32).range(5..=86_400))]
        checkin_interval: u32,
        /// Enrollment attempts a minute from one address (429 past it).
        #[arg(long, env = "BINDERY_ENROLL_PER_MINUTE", default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..))]
        enroll_per_minute: u32,
        /// Log as JSON lines instead of text.
        #[arg(long, env = "BINDERY_LOG_JSON")]
        log_json: bool,
    },
    /// Administration from scripts.
    Admin {
        #[command(flatten)]
        db: Database,
        #[command(subcommand)]
        action: Admin,
    },
}

#[derive(Subcommand)]
enum Admin {
    /// Create a policy.
    PolicyCreate { name: String },
    /// List policies.
    PolicyList,
    /// Rename a policy.
    PolicyRename { name: String, new_name: String },
    /// Delete a policy (its devices stay, without a policy; its tokens go).
    PolicyDelete { name: String },
    /// List a policy's enrollment tokens (the tokens themselves are never stored).
    TokenList {
        #[arg(long)]
        policy: String,
    },
    /// Revoke an enrollment token by its id (from token-list).
    TokenRevoke { id: i64 },
    /// List devices, of one policy or all.
    DeviceList {
        #[arg(long)]
        policy: Option<String>,
    },
    /// Create an enrollment token for a policy and print it (it is shown only once).
    TokenCreate {
        #[arg(long)]
        policy: String,
        #[arg(long, default_value = "")]
        label: String,
        /// Days until the token stops working (default: never).
        #[arg(long)]
        expires_in_days: Option<u32>,
    },
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Serve {
            db,
            listen,
            checkin_interval,
            enroll_per_minute,
            log_json,
        } => {
            init_logging(log_json);
            serve(db, listen, checkin_interval, enroll_per_minute).await
        }
        Command::Admin { db, action } => admin(db, action).await,
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("bindery-server: {message}");
            ExitCode::FAILURE
        }
    }
}

fn init_logging(json: bool) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let colour = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(colour)
        .with_writer(std::io::stderr);
    if json {
        builder.json().init();
    } else {
        builder.init();
    }
}

async fn open(db: &Database) -> Result<Store, String> {
    let opened = match (&db.database_url, &db.data_dir) {
        (Some(url), _) => Store::open(url).await,
        (None, Some(dir)) => Store::open_in_dir(dir).await,
        (None, None) => {
            let dirs = directories::ProjectDirs::from("", "", "bindery-server")
                .ok_or("no data directory for this user: give --data-dir")?;
            Store::open_in_dir(dirs.data_dir()).await
        }
    };
    opened.map_err(|e| format!("cannot open the database: {e}"))
}

async fn serve(
    db: Database,
    listen: SocketAddr,
    checkin_interval: u32,
    enroll_per_minute: u32,
) -> Result<(), String> {
    let store = open(&db).await?;
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .map_err(|e| format!("cannot listen on {listen}: {e}"))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    tracing::info!(%addr, backend = ?store.backend(), "bindery-server listening");
    println!("bindery-server listening on http://{addr}");
    let state = AppState::new(
        store,
        AgentSettings {
            checkin_interval_secs: checkin_interval,
            enroll_per_minute,
        },
    );
    app::launch(state, listener, shutdown_signal())
        .await
        .map_err(|e| e.to_string())
}

/// Ctrl-C, or SIGTERM from a service manager.
async fn shutdown_signal() {
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(_) => {
                    let _ = tokio::signal::ctrl_c().await;
                    return;
                }
            };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

async fn policy_named(store: &Store, name: &str) -> Result<bindery_server::store::Policy, String> {
    let policies = store.policies().await.map_err(|e| e.to_string())?;
    policies
        .into_iter()
        .find(|p| p.name == name)
        .ok_or_else(|| format!("no policy named {name:?}"))
}

async fn admin(db: Database, action: Admin) -> Result<(), String> {
    let store = open(&db).await?;
    match action {
        Admin::PolicyCreate { name } => {
            let p = store
                .create_policy(&name)
                .await
                .map_err(|e| e.to_string())?;
            println!("{}\t{}", p.id, p.name);
        }
        Admin::PolicyList => {
            for p in store.policies().await.map_err(|e| e.to_string())? {
                let link = p.cw_company_name.as_deref().unwrap_or("not linked");
                println!("{}\t{}\t{link}", p.id, p.name);
            }
        }
        Admin::PolicyRename { name, new_name } => {
            let p = policy_named(&store, &name).await?;
            let p = store
                .rename_policy(p.id, &new_name)
                .await
                .map_err(|e| e.to_string())?;
            println!("{}\t{}", p.id, p.name);
        }
        Admin::PolicyDelete { name } => {
            let p = policy_named(&store, &name).await?;
            store.delete_policy(p.id).await.map_err(|e| e.to_string())?;
        }
        Admin::TokenCreate {
            policy,
            label,
            expires_in_days,
        } => {
            let p = policy_named(&store, &policy).await?;
            let expires = expires_in_days
                .map(|d| bindery_server::store::now_ms() + i64::from(d) * 86_400_000);
            let (_, token) = store
                .create_token(p.id, &label, expires)
                .await
                .map_err(|e| e.to_string())?;
            println!("{token}");
        }
        Admin::TokenList { policy } => {
            let p = policy_named(&store, &policy).await?;
            let now = bindery_server::store::now_ms();
            for t in store.tokens(p.id).await.map_err(|e| e.to_string())? {
                let state = match (t.revoked_ms, t.is_usable(now)) {
                    (Some(_), _) => "revoked",
                    (None, false) => "expired",
                    (None, true) => "usable",
                };
                println!("{}\t{state}\t{} uses\t{}", t.id, t.uses, t.label);
            }
        }
        Admin::TokenRevoke { id } => store.revoke_token(id).await.map_err(|e| e.to_string())?,
        Admin::DeviceList { policy } => {
            let policy_id = match policy {
                Some(name) => Some(policy_named(&store, &name).await?.id),
                None => None,
            };
            for d in store.devices(policy_id).await.map_err(|e| e.to_string())? {
                let name = serde_json::from_str::<serde_json::Value>(&d.facts_json)
                    .ok()
                    .and_then(|f| f["name"].as_str().map(str::to_owned))
                    .unwrap_or_default();
                let policy = d
                    .policy_id
                    .map(|p| p.to_string())
                    .unwrap_or_else(|| "-".into());
                let retired = if d.retired_ms.is_some() {
                    "\tretired"
                } else {
                    ""
                };
                println!("{}\t{}\t{name}\tpolicy {policy}{retired}", d.id, d.agent_id);
            }
        }
    }
    Ok(())
}
