//! Keeping ConnectWise in line with Bindery. `plan` decides, per device, the next write;
//! `queue` says which jobs an event needs; `runner` carries the jobs out through the ConnectWise
//! client and records each device's binding; `fields` is the field map between the two;
//! `tickets` carries out ticket jobs (open, attach the configuration, close).

pub mod fields;
pub mod plan;
pub mod queue;
pub mod runner;
pub mod tickets;

pub use runner::{Engine, EngineConfig};
