//! The admin commands, one file per noun: each has its clap enum and `run`, which parses,
//! calls the shared admin actions (`bindery_server::ops`) and prints the result.

pub mod accounts;
pub mod devices;
pub mod identity;
pub mod links;
pub mod monitoring;
pub mod policies;
pub mod sandbox;
pub mod tokens;

use bindery_server::sealing::ServerKey;
use bindery_server::store::{Policy, Store};
use clap::Subcommand;

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
    }
}

/// What an admin command works with: the store, and the server key on demand (only the
/// commands that reach ConnectWise need it).
pub struct Context<'a> {
    pub store: &'a Store,
    pub key: &'a dyn Fn() -> Result<ServerKey, String>,
}

/// The policy called `name`.
pub async fn policy_named(store: &Store, name: &str) -> Result<Policy, String> {
    let policies = store.policies().await.map_err(|e| e.to_string())?;
    policies
        .into_iter()
        .find(|p| p.name == name)
        .ok_or_else(|| format!("no policy named {name:?}"))
}
