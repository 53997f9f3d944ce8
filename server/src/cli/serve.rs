//! `serve`: the agent API, the console and the admin API, and the engine that keeps ConnectWise in
//! line, with every option of theirs in one struct.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use bindery_server::app;
use bindery_server::client_addr::{ProxyHeader, TrustedProxies};
use bindery_server::connections::ConnectionLimits;
use bindery_server::reconcile::EngineConfig;
use bindery_server::settings::{Settings, assemble};
use bindery_server::state::AgentSettings;

use super::{Database, load_key, open};

/// HTTPS on the server's own listener (otherwise plain HTTP, for a reverse proxy in front).
#[derive(clap::Args)]
pub struct TlsFiles {
    /// The PEM certificate chain to serve HTTPS with (leaf first).
    #[arg(long, env = "BINDERY_TLS_CERT", value_name = "FILE")]
    tls_cert: Option<PathBuf>,
    /// The certificate's PEM private key.
    #[arg(long, env = "BINDERY_TLS_KEY", value_name = "FILE")]
    tls_key: Option<PathBuf>,
}

#[derive(clap::Args)]
pub struct ServeArgs {
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
    /// Connections served at once; past it a client gets a short 503 (raise the process's
    /// open-file limit to match).
    #[arg(long, env = "BINDERY_MAX_CONNECTIONS", default_value_t = 1000, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    max_connections: u32,
    /// Connections one client address may hold at once (an IPv6 client by its /64; 0: no cap).
    /// Trusted proxies and 127.0.0.1/::1 (a proxy on this machine) are not capped by it.
    #[arg(long, env = "BINDERY_MAX_CONNECTIONS_PER_CLIENT", default_value_t = 64, value_parser = clap::value_parser!(u32).range(0..=1_000_000))]
    max_connections_per_client: u32,
    /// Seconds a client has to send a request's headers (an idle keep-alive connection is
    /// closed after as long).
    #[arg(long, env = "BINDERY_HEADER_TIMEOUT", default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=300))]
    header_timeout: u64,
    /// Seconds a whole request may take, its body included.
    #[arg(long, env = "BINDERY_REQUEST_TIMEOUT", default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..=3600))]
    request_timeout: u64,
    /// Reverse proxies in front of this server, as addresses or blocks (`10.0.0.0/8,::1`): only
    /// from these is `X-Forwarded-For` / `Forwarded` read, for per-client limits.
    #[arg(
        long,
        env = "BINDERY_TRUSTED_PROXIES",
        value_name = "CIDRS",
        default_value = ""
    )]
    trusted_proxies: TrustedProxies,
    /// The one forwarding header the trusted proxies write: `x-forwarded-for` (nginx, HAProxy,
    /// Traefik) or `forwarded`. The other is ignored: a proxy passes it through untouched, so a
    /// client could claim any address in it.
    #[arg(
        long,
        env = "BINDERY_PROXY_HEADER",
        value_enum,
        default_value = "x-forwarded-for"
    )]
    proxy_header: ProxyHeader,
    /// How agents and admins reach this server (`https://bindery.example.com`): install commands
    /// are built from it, and with https the session cookie is always `Secure`.
    #[arg(long, env = "BINDERY_PUBLIC_URL", value_name = "URL", value_parser = public_url)]
    public_url: Option<String>,
    /// Hours an admin session lasts after sign-in, however busy (it also ends after 12 hours
    /// unused).
    #[arg(long, env = "BINDERY_SESSION_HOURS", default_value_t = 12, value_parser = clap::value_parser!(u64).range(1..=720))]
    session_hours: u64,
    /// Days until a token made in the console expires, as its form starts (0: never).
    #[arg(long, env = "BINDERY_TOKEN_EXPIRY_DAYS", default_value_t = 7, value_parser = clap::value_parser!(u32).range(0..=3650))]
    token_expiry_days: u32,
    /// Machines that may enroll with a token made in the console, as its form starts (0: any
    /// number).
    #[arg(long, env = "BINDERY_TOKEN_MAX_USES", default_value_t = 100)]
    token_max_uses: u32,
    /// Let the ConnectWise settings use plain http, to a sandbox on this machine only (for trying
    /// Bindery out; the console and the admin API cannot turn this on).
    #[arg(long, env = "BINDERY_CONNECTWISE_ALLOW_HTTP")]
    connectwise_allow_http: bool,
    /// Days the history is kept: the activity log, ended alerts, help requests and closed
    /// tickets (0: forever). Older rows are removed hourly, in small batches.
    #[arg(long, env = "BINDERY_RETENTION_DAYS", default_value_t = 90, value_parser = clap::value_parser!(u32).range(0..=36500))]
    retention_days: u32,
    /// Days finished jobs are kept (0: forever).
    #[arg(long, env = "BINDERY_JOB_RETENTION_DAYS", default_value_t = 7, value_parser = clap::value_parser!(u32).range(0..=36500))]
    job_retention_days: u32,
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
}

/// `https://host[:port]` (or `http://`), without a path: what install commands start with.
fn public_url(s: &str) -> Result<String, String> {
    let s = s.trim().trim_end_matches('/');
    let host = s
        .strip_prefix("https://")
        .or_else(|| s.strip_prefix("http://"))
        .ok_or("the public URL starts with https:// (or http://)")?;
    let fine = !host.is_empty()
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-.:[]".contains(c));
    if fine {
        Ok(s.to_owned())
    } else {
        Err(format!("{s:?} is not scheme://host[:port]"))
    }
}

impl ServeArgs {
    /// The server's settings from these options (the file's, the environment's and the flags').
    pub fn settings(&self) -> Settings {
        Settings {
            engine: self.engine_config(),
            web: self.agent_settings(),
        }
    }

    /// The binding engine's tunables from these options.
    fn engine_config(&self) -> EngineConfig {
        EngineConfig {
            resync_every: Duration::from_secs(u64::from(self.resync_hours) * 3600),
            retry_base: Duration::from_millis(self.retry_base_ms.max(1)),
            lease: Duration::from_secs(self.lease_secs),
            workers: self.workers as usize,
            cw_requests_per_minute: self.cw_requests_per_minute,
            cw_concurrency: self.cw_concurrency as usize,
            public_url: self.public_url.clone(),
            retention_days: self.retention_days,
            job_retention_days: self.job_retention_days,
            ..EngineConfig::default()
        }
    }

    /// What the agent API needs from these options.
    fn agent_settings(&self) -> AgentSettings {
        AgentSettings {
            checkin_interval_secs: self.checkin_interval,
            enroll_per_minute: self.enroll_per_minute,
            downloads_dir: self.downloads_dir.clone(),
            connections: ConnectionLimits {
                max_connections: self.max_connections as usize,
                per_client: self.max_connections_per_client as usize,
                proxies: self.trusted_proxies.0.clone(),
                header_timeout: Duration::from_secs(self.header_timeout),
                request_timeout: Duration::from_secs(self.request_timeout),
            },
            trusted_proxies: self.trusted_proxies.clone().with_header(self.proxy_header),
            public_url: self.public_url.clone(),
            tls: self.tls.tls_cert.is_some(),
            session_lifetime: Duration::from_secs(self.session_hours * 3600),
            token_expiry_days: self.token_expiry_days,
            token_max_uses: self.token_max_uses,
            connectwise_allow_http: self.connectwise_allow_http,
        }
    }

    /// Serves until Ctrl-C or SIGTERM.
    pub async fn run(self) -> Result<(), String> {
        init_logging(self.log_json);
        // Certificate problems stop the server before it takes anything on.
        let tls = match (&self.tls.tls_cert, &self.tls.tls_key) {
            (Some(cert), Some(key)) => Some(bindery_server::tls::server_config(cert, key)?),
            (None, None) => None,
            // Checked here rather than by clap, which would not count one given in the file.
            _ => return Err("tls_cert and tls_key go together: give both, or neither".into()),
        };
        let store = open(&self.db).await?;
        let key = Arc::new(load_key(&self.db, self.server_key_file.clone())?);
        let listen = self.listen;
        let listener = tokio::net::TcpListener::bind(listen)
            .await
            .map_err(|e| format!("cannot listen on {listen}: {e}"))?;
        let addr = listener.local_addr().map_err(|e| e.to_string())?;
        let scheme = if tls.is_some() { "https" } else { "http" };
        tracing::info!(%addr, scheme, backend = ?store.backend(), "bindery-server listening");
        println!("bindery-server listening on {scheme}://{addr}");
        let (_, state) = assemble(store, key, &self.settings());
        if let Some(addr) = self.metrics_listen {
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
}

/// Text logs to stderr (JSON lines when asked); `RUST_LOG` sets the level.
pub fn init_logging(json: bool) {
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

/// Ctrl-C, or SIGTERM from a service manager.
pub async fn shutdown_signal() {
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
