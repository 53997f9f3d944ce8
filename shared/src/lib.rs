//! What the Bindery agent and server agree on, with no I/O:
//!
//! - [`facts`]: the ten device facts that fill a ConnectWise configuration,
//! - [`normalize`]: how raw fact text is made safe and bounded before anyone stores or sends it,
//! - [`protocol`]: the versioned agent↔server messages (`/api/agent/v1`),
//! - [`smbios`]: the firmware's SMBIOS table, read for serial numbers (Windows and Linux), and
//! - [`time`]: calendar times for people, without a calendar crate.
//!
//! The JSON of every message is described in `docs/protocol.md`.

pub mod facts;
pub mod normalize;
pub mod protocol;
pub mod smbios;
pub mod time;

pub use facts::{DeviceFacts, FactField};
