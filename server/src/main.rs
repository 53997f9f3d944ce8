//! `bindery-server`: serve (agent API and binding engine), the all-in-one demo, and admin
//! commands for scripts.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use std::sync::Arc;
use std::time::Duration;

use bindery_server::app::{self, AgentSettings, AppState};
use bindery_server::reconcile::{Engine, EngineConfig};
use bindery_server::sealing::ServerKey;
use bindery_server::store::Store;
use clap::{Args, Parser, Subcommand};

mod cli;

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

impl Database {
    /// The server key: the given file, else `server.key` in the data dir (created when missing).
    fn key_path(&self, given: Option<PathBuf>) -> Result<PathBuf, String> {
        if let Some(p) = given {
            return Ok(p);
        }
        let dir = match &self.data_dir {
            Some(d) => d.clone(),
            None => default_data_dir()?,
        };
        Ok(dir.join("server.key"))
    }
}

fn default_data_dir() -> Result<PathBuf, String> {
    directories::ProjectDirs::from("", "", "bindery-server")
        .map(|d| d.data_dir().to_path_buf())
        .ok_or_else(|| "no data directory for this user: give --data-dir".to_owned())
}

fn load_key(db: &Database, given: Option<PathBuf>) -> Result<ServerKey, String> {
    let path = db.key_path(given)?;
    ServerKey::load_or_create(&path).map_err(|e| format!("server key {}: {e}", path.display()))
}

/// HTTPS on the server's own listener (otherwise plain HTTP, for a reverse proxy in front).
#[derive(clap::Args)]
struct TlsFiles {
    /// The PEM certificate chain to serve HTTPS with (leaf first).
    #[arg(
        long,
        env = "BINDERY_TLS_CERT",
        value_name = "FILE",
        requires = "tls_key"
    )]
    tls_cert: Option<PathBuf>,
    /// The certificate's PEM private key.
    #[arg(
        long,
        env = "BINDERY_TLS_KEY",
        value_name = "FILE",
        requires = "tls_cert"
    )]
    tls_key: Option<PathBuf>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the agent API, the console and the admin API, and keep ConnectWise in line.
    Serve {
        /// A TOML file of settings (packaging/bindery-server.toml documents them); flags and
        /// BINDERY_* variables take precedence over it.
        #[arg(long, env = "BINDERY_CONFIG", value_name = "FILE")]
        config: Option<PathBuf>,
        #[command(flatten)]
        db: Database,
        /// The key that seals secrets at rest (default: server.key in the data dir; with
        /// PostgreSQL give every server the same file).
        #[arg(long, env = "BINDERY_SERVER_KEY_FILE", value_name = "FILE")]
        server_key_file: Option<PathBuf>,
        /// Hours between full re-syncs of every linked company (drift repair).
        #[arg(long, env = "BINDERY_RESYNC_HOURS", default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..=720))]
        resync_hours: u32,
        /// First retry delay of a failed ConnectWise write, in milliseconds (doubles per attempt).
        #[arg(
            long,
            env = "BINDERY_RETRY_BASE_MS",
            default_value_t = 5000,
            hide = true
        )]
        retry_base_ms: u64,
        /// Seconds a job stays leased without a renewal (a dead server's jobs are taken over
        /// after this).
        #[arg(long, env = "BINDERY_LEASE_SECS", default_value_t = 60, value_parser = clap::value_parser!(u64).range(2..=3600), hide = true)]
        lease_secs: u64,
        /// ConnectWise jobs carried out at once.
        #[arg(long, env = "BINDERY_WORKERS", default_value_t = 16, value_parser = clap::value_parser!(u32).range(1..=256))]
        workers: u32,
        /// ConnectWise requests a minute from this server (ConnectWise throttles around 1,000 per
        /// integration: raise it only where your instance allows more).
        #[arg(long, env = "BINDERY_CW_REQUESTS_PER_MINUTE", default_value_t = 1000, value_parser = clap::value_parser!(u32).range(1..))]
        cw_requests_per_minute: u32,
        /// ConnectWise requests in flight at once.
        #[arg(long, env = "BINDERY_CW_CONCURRENCY", default_value_t = 16, value_parser = clap::value_parser!(u32).range(1..=256))]
        cw_concurrency: u32,
        #[arg(long, env = "BINDERY_LISTEN", default_value = "127.0.0.1:8700")]
        listen: SocketAddr,
        /// Serve Prometheus metrics (/metrics), /healthz and /readyz on this address too, apart
        /// from the agents' and admins' listener.
        #[arg(long, env = "BINDERY_METRICS_LISTEN", value_name = "ADDR")]
        metrics_listen: Option<SocketAddr>,
        /// Seconds between agent check-ins (agents read their monitors every 15 s, or at each
        /// check-in when that is sooner).
        #[arg(long, env = "BINDERY_CHECKIN_INTERVAL", default_value_t = 60, value_parser = clap::value_parser!(u32).range(2..=86_400))]
        checkin_interval: u32,
        /// Enrollment attempts a minute from one address (429 past it).
        #[arg(long, env = "BINDERY_ENROLL_PER_MINUTE", default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..))]
        enroll_per_minute: u32,
        /// Log as JSON lines instead of text.
        #[arg(long, env = "BINDERY_LOG_JSON")]
        log_json: bool,
        #[command(flatten)]
        tls: TlsFiles,
        /// A folder of agent builds served at /downloads/ for the install scripts
        /// (bindery-agent-linux-x86_64, bindery-agent-macos-aarch64,
        /// bindery-agent-windows-x86_64.exe, …).
        #[arg(long, env = "BINDERY_DOWNLOADS_DIR", value_name = "DIR")]
        downloads_dir: Option<PathBuf>,
    },
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
        db: Database,
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
        Command::Serve {
            config: _,
            db,
            server_key_file,
            resync_hours,
            retry_base_ms,
            lease_secs,
            workers,
            cw_requests_per_minute,
            cw_concurrency,
            listen,
            metrics_listen,
            checkin_interval,
            enroll_per_minute,
            log_json,
            tls,
            downloads_dir,
        } => {
            init_logging(log_json);
            let engine = EngineConfig {
                resync_every: Duration::from_secs(u64::from(resync_hours) * 3600),
                retry_base: Duration::from_millis(retry_base_ms.max(1)),
                lease: Duration::from_secs(lease_secs),
                workers: workers as usize,
                cw_requests_per_minute,
                cw_concurrency: cw_concurrency as usize,
                ..EngineConfig::default()
            };
            let agents = AgentSettings {
                checkin_interval_secs: checkin_interval,
                enroll_per_minute,
                downloads_dir,
            };
            serve(
                db,
                server_key_file,
                engine,
                (listen, metrics_listen, tls),
                agents,
            )
            .await
        }
        Command::Demo {
            listen,
            sandbox_listen,
            data_dir,
            agent,
        } => {
            init_logging(false);
            let options = bindery_server::demo::DemoOptions {
                listen,
                sandbox_listen,
                data_dir,
                agent,
            };
            bindery_server::demo::run(options, shutdown_signal()).await
        }
        Command::Admin {
            config: _,
            db,
            server_key_file,
            action,
        } => admin(db, server_key_file, action).await,
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
        (None, None) => Store::open_in_dir(&default_data_dir()?).await,
    };
    opened.map_err(|e| format!("cannot open the database: {e}"))
}

async fn serve(
    db: Database,
    server_key_file: Option<PathBuf>,
    engine: EngineConfig,
    (listen, metrics_listen, tls): (SocketAddr, Option<SocketAddr>, TlsFiles),
    agents: AgentSettings,
) -> Result<(), String> {
    // Certificate problems stop the server before it takes anything on.
    let tls = match (&tls.tls_cert, &tls.tls_key) {
        (Some(cert), Some(key)) => Some(bindery_server::tls::server_config(cert, key)?),
        _ => None,
    };
    let store = open(&db).await?;
    let key = Arc::new(load_key(&db, server_key_file)?);
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .map_err(|e| format!("cannot listen on {listen}: {e}"))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    let scheme = if tls.is_some() { "https" } else { "http" };
    tracing::info!(%addr, scheme, backend = ?store.backend(), "bindery-server listening");
    println!("bindery-server listening on {scheme}://{addr}");
    let engine = Engine::new(store.clone(), key.clone(), engine);
    let state = AppState::with_engine(store, agents, Some((engine, key)));
    if let Some(addr) = metrics_listen {
        let metrics = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|e| format!("cannot listen on {addr} for metrics: {e}"))?;
        let router = bindery_server::metrics::router(state.clone());
        tracing::info!(%addr, "metrics, health and readiness listening");
        tokio::spawn(async move {
            if let Err(e) = axum::serve(metrics, router).await {
                tracing::warn!(error = %e, "the metrics listener stopped");
            }
        });
    }
    match tls {
        Some(config) => app::launch_https(state, listener, config, shutdown_signal()).await,
        None => app::launch(state, listener, shutdown_signal()).await,
    }
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

async fn admin(db: Database, key_file: Option<PathBuf>, action: cli::Admin) -> Result<(), String> {
    let store = open(&db).await?;
    let key = || load_key(&db, key_file.clone());
    cli::run(
        &cli::Context {
            store: &store,
            key: &key,
        },
        action,
    )
    .await
}
