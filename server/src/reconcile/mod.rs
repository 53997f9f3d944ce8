//! Keeping ConnectWise in line with Bindery. `plan` decides, per device, the next write, and
//! `adoption` which configuration made by others a device is; `company` plans a whole company
//! (for a sync, and for a link's preview) and `sync` reads a company for it;
//! `queue` says which jobs an event needs; `runner` carries the jobs out through the ConnectWise
//! client and records each device's binding; `fields` is the field map between the two;
//! `tickets` carries out ticket jobs (open, attach the configuration, close).

pub mod adoption;
pub mod company;
pub mod fields;
pub mod job_error;
pub mod plan;
pub mod queue;
pub mod runner;
pub mod sync;
pub mod tickets;

pub use runner::{Engine, EngineConfig};
