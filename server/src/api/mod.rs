//! HTTP APIs: the agent API (`/api/agent/v1`, the shared crate's protocol), the admin API
//! (`/api/admin/v1`, documented by its OpenAPI document at `/api/admin/v1/openapi.json`), and
//! ConnectWise's callbacks (`/api/connectwise/v1/callback`).

pub mod admin;
pub mod agent;
pub mod connectwise;
mod json_body;

pub use crate::failure::ApiFailure;
pub use json_body::read_json;
