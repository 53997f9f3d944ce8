//! The admin commands, one file per noun: each has its clap enum and `run`, which parses,
//! calls the shared admin actions (`bindery_server::ops`) and prints the result.

pub mod identity;
pub mod links;

use bindery_server::sealing::ServerKey;
use bindery_server::store::{Policy, Store};

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
