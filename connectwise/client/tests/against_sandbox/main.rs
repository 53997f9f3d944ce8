//! The client against the sandbox, over real HTTP on loopback: every operation Bindery uses and
//! every error class.
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use std::time::Duration;

use connectwise_client::conditions::{Condition, Op};
use connectwise_client::*;
use connectwise_sandbox::faults::FixedFailure;
use connectwise_sandbox::{Faults, Running, Seed};
use serde_json::json;

async fn sandbox() -> Running {
    connectwise_sandbox::spawn("127.0.0.1:0".parse().unwrap(), Seed::default_seed(), true)
        .await
        .unwrap()
}

fn config_for(site: &str, private_key: &str) -> ClientConfig {
    let creds = Credentials {
        company_id: "bindery".into(),
        public_key: "sandbox-public".into(),
        private_key: PrivateKey::new(private_key),
        client_id: "3f1b2c4d-bindery-tests".into(),
    };
    let mut config = ClientConfig::new(Site::parse(site, true).unwrap(), creds);
    config.requests_per_minute = 1_000_000; // the limiter has its own tests
    config.timeout = Duration::from_secs(5);
    config
}

/// How many codebase lookups (`/login/companyinfo`) the sandbox has answered.
fn codebase_lookups(sb: &Running) -> usize {
    sb.sandbox
        .requests()
        .iter()
        .filter(|r| r.path.starts_with("/login/companyinfo"))
        .count()
}

fn client(sb: &Running) -> Client {
    Client::new(config_for(&sb.url(), "sandbox-private")).unwrap()
}

fn device(name: &str, company: i64, id: &str) -> Configuration {
    Configuration {
        name: Some(name.into()),
        kind: Some(Reference::id(1)),
        company: Some(Reference::id(company)),
        device_identifier: Some(id.into()),
        serial_number: Some(format!("SN-{id}")),
        ram: Some("16.0 GB".into()),
        ..Configuration::default()
    }
}

mod faults_and_discovery;
mod finance;
mod reads_writes_and_errors;

// ---- error classes ----
