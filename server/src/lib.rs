//! Bindery's server. Built so far: the store (`store`) on SQLite or PostgreSQL with its
//! migrations, and the secret helpers (`secrets`). The agent and admin APIs, the reconciler and
//! the job runner are built on them (see the server issue).

pub mod secrets;
pub mod store;
