//! Reconciling ConnectWise with Bindery's desired state. `plan` decides, per device, the next
//! write; the job runner (to come) carries it out through the ConnectWise client and records
//! the result.

pub mod plan;
