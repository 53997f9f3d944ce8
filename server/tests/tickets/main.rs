//! Alerts and help requests becoming ConnectWise tickets, against the sandbox over real HTTP:
//! one ticket per alert on the right board and status with the configuration attached, closed
//! with a note when the alert resolves or a person closes it; replays, repeats and faults that
//! never make a second ticket; devices in unlinked policies that open none; the server's own
//! "offline" alert; and the self-service round trip.
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use std::time::Duration;

use bindery_server::monitoring::{self, offline};
use bindery_server::store::{AlertFilter, AlertState, TicketState, now_ms};
use bindery_shared::protocol::{AlertBatch, AlertEvent, AlertEventKind, HelpRequest};
use connectwise_sandbox::Faults;
use serde_json::Value;

#[path = "../common/mod.rs"]
mod common;
use bindery_server::ids::{CompanyId, DeviceId};
use bindery_server::testkit::{World, world};

const ACME: i64 = 2;
const MONITORING_BOARD: i64 = 1;
const MONITORING_NEW: i64 = 1;
const MONITORING_CLOSED: i64 = 2;
const SELF_SERVICE_BOARD: i64 = 2;
const SELF_SERVICE_NEW: i64 = 3;
const SELF_SERVICE_CLOSED: i64 = 4;

fn event(seq: u64, monitor: &str, kind: AlertEventKind) -> AlertEvent {
    AlertEvent {
        seq,
        monitor_id: monitor.into(),
        subject: Some("/var".into()),
        kind,
        at_ms: now_ms() as u64,
        summary: "Disk /var has 4.2% free".into(),
        detail: Some("Below 10% for 5 minutes".into()),
        value: Some(4.2),
    }
}

fn batch(events: Vec<AlertEvent>) -> AlertBatch {
    AlertBatch { events }
}

/// What these tests add to the test world.
trait TicketWorld {
    async fn send(&self, d: DeviceId, e: AlertEvent) -> bindery_server::store::AlertIntake;
    fn tickets(&self) -> Vec<Value>;
    fn notes(&self, ticket: i64) -> Vec<String>;
    fn attached(&self, ticket: i64) -> Vec<i64>;
    fn config_id(&self, n: usize) -> i64;
    async fn linked(&self, count: usize) -> Vec<DeviceId>;
}

impl TicketWorld for World {
    /// One alert event from device `d`, stored as the agent API would.
    async fn send(&self, d: DeviceId, e: AlertEvent) -> bindery_server::store::AlertIntake {
        monitoring::take_alert_batch(&self.store, d, &batch(vec![e]))
            .await
            .unwrap()
    }

    fn tickets(&self) -> Vec<Value> {
        self.sb.sandbox.data().tickets.values().cloned().collect()
    }

    fn notes(&self, ticket: i64) -> Vec<String> {
        self.sb
            .sandbox
            .data()
            .notes
            .values()
            .filter(|n| n["ticketId"] == ticket)
            .map(|n| n["text"].as_str().unwrap_or_default().to_owned())
            .collect()
    }

    fn attached(&self, ticket: i64) -> Vec<i64> {
        self.sb
            .sandbox
            .data()
            .ticket_configurations
            .iter()
            .filter(|(t, _)| *t == ticket)
            .map(|(_, c)| *c)
            .collect()
    }

    /// The sandbox id of the device's configuration.
    fn config_id(&self, n: usize) -> i64 {
        let found = self.configs(n);
        assert_eq!(found.len(), 1, "device {n} has one configuration");
        found[0]["id"].as_i64().unwrap()
    }

    /// A linked policy with `count` bound devices; returns their ids.
    async fn linked(&self, count: usize) -> Vec<DeviceId> {
        let p = self.store.create_policy("Monitored").await.unwrap();
        let ids = self.enroll(p.id, 0..count).await;
        self.link(p.id, Some((CompanyId(ACME), "Acme"))).await;
        self.settled().await;
        ids
    }
}

fn status(t: &Value) -> i64 {
    t["status"]["id"].as_i64().unwrap()
}

mod alert_and_help_tickets;
