//! A typed async client for the ConnectWise Manage (PSA) REST API, for the endpoints Bindery
//! uses: companies, configurations and their types, questions and statuses, service boards and
//! their statuses, tickets with notes and attached configurations, and system info.
//!
//! - [`Site`]: a cloud or on-premise host (codebase discovered through `/login/companyinfo`), or a
//!   base URL with scheme (on-premise, the sandbox); plain HTTP only when allowed.
//! - [`conditions`]: a builder that only ever produces conditions whose meaning no value can
//!   change, refusing values it cannot place safely.
//! - [`Error`]: typed, each marked transient (retry with backoff) or permanent.
//! - One rate limiter and one concurrency bound per [`Client`], and a timeout on every request.

pub mod conditions;
mod config;
mod error;
mod http;
pub mod model;
mod paging;
mod rate_limit;
mod wire;

mod api;

pub use api::{BoardLookup, ListQuery, TICKETS_PER_SEARCH};
pub use conditions::{Condition, ConditionError};
pub use config::{ClientConfig, Credentials, PrivateKey, Site, SiteError};
pub use error::{Error, FieldError};
pub use http::Client;
pub use model::*;
pub use paging::parse_link_header;
pub use wire::install_tls_provider;

/// The API version Bindery is written against, sent in every `Accept` header.
pub const API_VERSION: &str = "2025.8";
