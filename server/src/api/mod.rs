//! HTTP APIs: the agent API (`/api/agent/v1`, the shared crate's protocol).

pub mod agent;
mod error;
pub mod rate_limit;

pub use error::ApiFailure;
