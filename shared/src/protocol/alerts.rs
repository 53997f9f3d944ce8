//! Alert events: a monitor's alert raised or resolved on the device, delivered in order and at
//! least once. The per-agent sequence number lets the server drop replays.

use serde::{Deserialize, Serialize};

use super::{
    Invalid, MAX_ALERTS_PER_BATCH, MAX_DETAIL_CHARS, MAX_ID_CHARS, MAX_SUMMARY_CHARS, check_id,
    check_len, invalid,
};

/// `POST /alerts`, authenticated with the device credential.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AlertBatch {
    /// In increasing `seq` order.
    pub events: Vec<AlertEvent>,
}

impl AlertBatch {
    pub fn validate(&self) -> Result<(), Invalid> {
        if self.events.len() > MAX_ALERTS_PER_BATCH {
            return Err(invalid(
                "events",
                format!("more than {MAX_ALERTS_PER_BATCH} events"),
            ));
        }
        let mut last = 0;
        for e in &self.events {
            if e.seq == 0 || e.seq <= last {
                return Err(invalid("events.seq", "must start at 1 and increase"));
            }
            last = e.seq;
            check_id("events.monitorId", &e.monitor_id)?;
            if let Some(subject) = &e.subject {
                check_len("events.subject", subject, MAX_ID_CHARS)?;
            }
            check_len("events.summary", &e.summary, MAX_SUMMARY_CHARS)?;
            if let Some(detail) = &e.detail {
                check_len("events.detail", detail, MAX_DETAIL_CHARS)?;
            }
        }
        Ok(())
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AlertEvent {
    /// Per-agent sequence number, from 1, never reused by that agent.
    pub seq: u64,
    pub monitor_id: String,
    /// The thing alerted on when a monitor watches several (a mount point).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    pub kind: AlertEventKind,
    /// When it happened on the device, milliseconds since the Unix epoch.
    pub at_ms: u64,
    /// One line for people: what and where (at most 100 characters).
    pub summary: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<f64>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum AlertEventKind {
    Raised,
    Resolved,
}

/// The server's receipt for a batch.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AlertAck {
    /// Every event up to this sequence number is stored; the agent may forget them.
    pub acked_through: u64,
    /// Events newly stored from this batch.
    pub accepted: u32,
    /// Events already seen (replays), dropped.
    pub duplicates: u32,
}
