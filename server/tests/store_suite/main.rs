//! One store test-suite, by theme (a file each), run against SQLite and against PostgreSQL (the throwaway server that
//! `scripts/test` starts and names in BINDERY_TEST_POSTGRES_URL). Each PostgreSQL test gets a
//! database of its own.
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use std::collections::HashSet;

use bindery_server::ids::{CompanyId, ConfigurationId, DeviceId, PolicyId, TicketId};
use bindery_server::secrets::hash_secret;
use bindery_server::store::{
    AlertFilter, AlertInput, AlertState, DeviceFilter, Enrollment, NewDevice, NewHelpRequest,
    NewJob, NewTicket, Store, StoreError, TicketBoard, TicketState, now_ms,
};

#[macro_use]
#[path = "../common/mod.rs"]
mod common;

mod alerts_and_tickets;
mod devices;
mod jobs_and_settings;
mod people_held_and_retention;
mod policies_and_tokens;
mod sites_and_billing;
mod upgrade;
fn new_device<'a>(
    agent_id: &'a str,
    serial: Option<&'a str>,
    policy_id: PolicyId,
    facts: &'a str,
    secret: &'a str,
) -> NewDevice<'a> {
    NewDevice {
        agent_id,
        serial,
        mac: None,
        name: None,
        policy_id,
        facts_json: facts,
        facts_hash: facts,
        agent_version: "0.1.0",
        secret_hash: secret,
        // The store's tests enroll again as the machine itself would: with its credential.
        proven: true,
        auto_approve_silent_ms: None,
    }
}

fn job(key: &str, run_after_ms: i64) -> NewJob {
    NewJob {
        kind: "bind".into(),
        dedupe_key: Some(key.into()),
        payload: format!("{{\"device\":\"{key}\"}}"),
        run_after_ms,
        urgent: false,
    }
}

fn alert_input(seq: Option<i64>, monitor: &str, raised: bool, device_id: DeviceId) -> AlertInput {
    AlertInput {
        seq,
        monitor_id: monitor.into(),
        subject: "/var".into(),
        raised,
        at_ms: now_ms(),
        summary: format!("{monitor} on host"),
        detail: None,
        value: Some(4.5),
        ticket: Ok(NewTicket {
            route: None,
            integration_id: bindery_server::ids::IntegrationId::FIRST,
            device_id,
            board: TicketBoard::Monitoring,
            company_id: CompanyId(2),
            site_id: None,
            summary: "Disk /var has 4.5% free on host".into(),
            description: "details".into(),
            contact_name: None,
        }),
        note: "Resolved on the device".into(),
        reopen_within_ms: 86_400_000,
        reopen_note: "Reopened".into(),
        refused: false,
        held_until_ms: None,
    }
}

fn ticket_job(id: TicketId) -> NewJob {
    NewJob {
        kind: "cw.ticket".into(),
        dedupe_key: Some(format!("ticket:{id}")),
        payload: format!("{{\"ticketId\":{id}}}"),
        run_after_ms: 0,
        urgent: true,
    }
}
