//! The admin commands, one file per noun: each has its clap enum and `run`, which parses,
//! calls the shared admin actions (`bindery_server::ops`) and prints the result.

pub mod accounts;
pub mod billing;
pub mod devices;
pub mod field_map;
pub mod identity;
pub mod integrations;
pub mod keys;
pub mod links;
pub mod maintenance;
pub mod monitoring;
pub mod policies;
pub mod routing;
pub mod sandbox;
pub mod serve;
pub mod tickets;
pub mod tokens;

use std::path::PathBuf;

use bindery_server::sealing::ServerKey;
use bindery_server::store::{Policy, Store};
use clap::{Args, Subcommand};

/// Where the data lives.
#[derive(Args, Clone)]
pub struct Database {
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
    /// A file holding the postgres:// URL (keeps its password out of the process list).
    #[arg(
        long,
        env = "BINDERY_DATABASE_URL_FILE",
        value_name = "FILE",
        conflicts_with = "data_dir"
    )]
    database_url_file: Option<PathBuf>,
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

/// The server key (made when missing).
pub fn load_key(db: &Database, given: Option<PathBuf>) -> Result<ServerKey, String> {
    let path = db.key_path(given)?;
    ServerKey::load_or_create(&path).map_err(|e| format!("server key {}: {e}", path.display()))
}

/// The store the options name: PostgreSQL by URL, else SQLite in the data dir.
pub async fn open(db: &Database) -> Result<Store, String> {
    let url = bindery_server::config::read_secret(
        "database_url_file",
        db.database_url.clone(),
        db.database_url_file.as_deref(),
    )?;
    let opened = match (&url, &db.data_dir) {
        (Some(url), _) => Store::open(url).await,
        (None, Some(dir)) => Store::open_in_dir(dir).await,
        (None, None) => Store::open_in_dir(&default_data_dir()?).await,
    };
    opened.map_err(|e| format!("cannot open the database: {e}"))
}

/// Runs an admin command against the database the options name.
pub async fn admin(db: Database, key_file: Option<PathBuf>, action: Admin) -> Result<(), String> {
    let store = open(&db).await?;
    let key = || load_key(&db, key_file.clone());
    let key_path = || db.key_path(key_file.clone());
    run(
        &Context {
            key_path: &key_path,
            store: &store,
            key: &key,
        },
        action,
    )
    .await
}

/// `bindery-server admin …`: every admin command, by noun.
#[derive(Subcommand)]
pub enum Admin {
    #[command(flatten)]
    Policies(policies::Command),
    #[command(flatten)]
    Links(links::Command),
    #[command(flatten)]
    Tokens(tokens::Command),
    #[command(flatten)]
    Devices(devices::Command),
    #[command(flatten)]
    Identity(identity::Command),
    #[command(flatten)]
    Accounts(accounts::Command),
    #[command(flatten)]
    Monitoring(monitoring::Command),
    #[command(flatten)]
    Sandbox(sandbox::Command),
    #[command(flatten)]
    Tickets(tickets::Command),
    #[command(flatten)]
    Maintenance(maintenance::Command),
    #[command(flatten)]
    Keys(keys::Command),
    #[command(flatten)]
    Billing(billing::Command),
    #[command(flatten)]
    Integrations(integrations::Command),
    #[command(flatten)]
    Routing(routing::Command),
    #[command(flatten)]
    FieldMap(field_map::Command),
}

/// Runs one admin command.
pub async fn run(cx: &Context<'_>, action: Admin) -> Result<(), String> {
    match action {
        Admin::Policies(c) => policies::run(cx, c).await,
        Admin::Links(c) => links::run(cx, c).await,
        Admin::Tokens(c) => tokens::run(cx, c).await,
        Admin::Devices(c) => devices::run(cx, c).await,
        Admin::Identity(c) => identity::run(cx, c).await,
        Admin::Accounts(c) => accounts::run(cx, c).await,
        Admin::Monitoring(c) => monitoring::run(cx, c).await,
        Admin::Sandbox(c) => sandbox::run(cx, c).await,
        Admin::Tickets(c) => tickets::run(cx, c).await,
        Admin::Maintenance(c) => maintenance::run(cx, c).await,
        Admin::Keys(c) => keys::run(cx, c).await,
        Admin::Billing(c) => billing::run(cx, c).await,
        Admin::Integrations(c) => integrations::run(cx, c).await,
        Admin::Routing(c) => routing::run(cx, c).await,
        Admin::FieldMap(c) => field_map::run(cx, c).await,
    }
}

/// What an admin command works with: the store, and the server key on demand (only the
/// commands that reach ConnectWise need it).
pub struct Context<'a> {
    pub store: &'a Store,
    pub key: &'a dyn Fn() -> Result<ServerKey, String>,
    /// Where the server key is (for `rekey`).
    pub key_path: &'a dyn Fn() -> Result<PathBuf, String>,
}

/// The policy called `name`.
pub async fn policy_named(store: &Store, name: &str) -> Result<Policy, String> {
    let policies = store.policies().await.map_err(|e| e.to_string())?;
    policies
        .into_iter()
        .find(|p| p.name == name)
        .ok_or_else(|| format!("no policy named {name:?}"))
}
