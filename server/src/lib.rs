//! Bindery's server: the store (`store`) on SQLite or PostgreSQL, the agent and admin APIs
//! (`api`) and the web console (`console`) served by `app::launch`, the ConnectWise settings (`integration`), the binding engine
//! and ticket engine (`reconcile`), the admin actions shared by the API, console and CLI (`ops`), monitors, alerts and help requests (`monitoring`), secrets
//! at rest (`secrets`, `sealing`), and the all-in-one `demo`.

pub mod access;
pub mod api;
pub mod app;
pub mod client_addr;
pub mod config;
pub mod connections;
pub mod console;
pub mod demo;
pub mod downloads;
pub mod failure;
pub mod ids;
pub mod integration;
pub mod logged;
pub mod metrics;
pub mod monitoring;
pub mod ops;
pub mod rate_limit;
pub mod reconcile;
pub mod sealing;
pub mod secrets;
pub mod sessions;
pub mod settings;
pub mod state;
pub mod store;
#[cfg(feature = "testkit")]
pub mod testkit;
pub mod tls;
