//! The binding engine against the ConnectWise sandbox over real HTTP: link, bind, re-sync,
//! change, move, unlink, retire, drift, faults and permanent errors. Every test ends by checking
//! what the sandbox holds, since that is what an MSP sees.
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test
#![allow(clippy::needless_range_loop)] // device n and its config n read better by index

use std::sync::Arc;
use std::time::Duration;

use bindery_server::reconcile::{Engine, EngineConfig, queue};
use bindery_server::sealing::ServerKey;
use bindery_server::store::{BindingState, LinkState, Store};
use bindery_shared::FactField;
use connectwise_sandbox::{Faults, Seed};
use serde_json::Value;

#[path = "../common/mod.rs"]
mod common;
use bindery_server::ids::CompanyId;
use bindery_server::testkit::{World, agent_id, facts, world};

const ACME: i64 = 2;
const GLOBEX: i64 = 3;
const ACTIVE: i64 = 1;
const INACTIVE: i64 = 2;

fn status(c: &Value) -> i64 {
    c["status"]["id"].as_i64().unwrap()
}

mod hostile_devices;
mod linking_and_faults;

fn set_asset_tag_required(w: &World, required: bool) {
    let mut data = w.sb.sandbox.data();
    let id = data
        .type_questions
        .values()
        .find(|q| q["question"] == "Asset tag")
        .and_then(|q| q["id"].as_i64())
        .unwrap();
    data.type_questions
        .update(id, |q| q["requiredFlag"] = required.into());
}
