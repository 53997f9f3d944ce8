//! HTTP APIs: the agent API (`/api/agent/v1`, the shared crate's protocol).

pub mod agent;
mod error;

pub use error::ApiFailure;
