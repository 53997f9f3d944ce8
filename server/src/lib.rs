//! Bindery's server. Built so far: the store (`store`) on SQLite or PostgreSQL with its
//! migrations, the secret helpers (`secrets`), and the agent API (`api::agent`: enrollment and
//! check-in) served by `app::launch`. The admin API, the reconciler and the job runner build on
//! these (see the server issue).

pub mod api;
pub mod app;
pub mod secrets;
pub mod store;
