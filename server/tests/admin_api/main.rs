//! The admin API over real HTTP, with the binding engine and the ConnectWise sandbox: sign-in,
//! sessions and CSRF, every documented route protected, and an admin's whole setup from
//! credentials to a policy turning blue.
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

#[path = "../common/mod.rs"]
mod common;

use std::time::Duration;

use common::admin::{PASSWORD, PRIVATE_KEY, connect, seed, server};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

mod identity_and_limits;
mod sessions_and_setup;
