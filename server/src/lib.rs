//! Bindery's server. Built so far: the store (`store`) on SQLite or PostgreSQL with its
//! migrations, the secret helpers (`secrets`, and `sealing` for secrets kept encrypted), the
//! agent API (`api::agent`: enrollment and check-in) served by `app::launch`, the ConnectWise
//! settings (`integration`), and the binding decision (`reconcile::plan`). The admin
//! API and the job runner build on these (see the server issue).

pub mod api;
pub mod app;
pub mod demo;
pub mod integration;
pub mod reconcile;
pub mod sealing;
pub mod secrets;
pub mod store;
