//! Keeping ConnectWise in line with Bindery. Data flows one way: facts and links in, a plan,
//! jobs, ConnectWise writes, the recorded result.
//!
//! - Deciding, purely: `plan` (a device's next write), `adoption` (which configuration made by
//!   others a device is), both from `observed` (what a read saw), `company` (a whole
//!   company's plan, and a link's preview of it).
//! - Reading for a plan: `sync` (one paged read of a company).
//! - Queueing: `jobs` declares each kind of job (one file each, with its `process`); `queue`
//!   says which jobs an event needs.
//! - Carrying out: `runner` leases jobs and owns the ConnectWise client; `binding` carries out
//!   syncs and device writes, `tickets` ticket jobs (`ticket_close` their closing, reopening
//!   and notes; `ticket_steps` what both share); `fields` maps facts to configuration fields
//!   (`extras` the link and contact beside them); `job_error` is the error all report.
//! - Hearing back from ConnectWise: `callbacks` (registration, verified messages) and
//!   `ticket_watch` (re-reading a ticket, polling the open ones).

pub mod adoption;
pub mod billing;
mod binding;
mod binding_records;
mod callback_keys;
pub mod callbacks;
pub mod company;
pub mod contact_lookup;
pub mod contacts;
pub mod extras;
pub mod fields;
mod instances;
pub mod job_error;
pub mod jobs;
pub mod manufacturers;
pub mod observed;
pub mod plan;
pub mod queue;
mod resync;
mod retention;
pub mod runner;
pub mod sync;
mod ticket_close;
mod ticket_steps;
pub mod ticket_watch;
pub mod tickets;
mod writes;

pub use runner::{Engine, EngineConfig};
