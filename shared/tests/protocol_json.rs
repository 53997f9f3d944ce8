//! The protocol's JSON: round trips, tolerance of newer peers, clear errors for missing fields,
//! and the examples in docs/protocol.md checked against the types.

#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use bindery_shared::protocol::*;
use bindery_shared::{DeviceFacts, FactField};
use serde::Serialize;
use serde::de::DeserializeOwned;

fn round_trip<T: Serialize + DeserializeOwned + PartialEq + std::fmt::Debug>(value: &T) {
    let json = serde_json::to_string(value).unwrap();
    let back: T = serde_json::from_str(&json).unwrap();
    assert_eq!(&back, value, "{json}");
}

fn sample_facts() -> DeviceFacts {
    let mut facts = DeviceFacts::default();
    facts.set(FactField::Name, "web-01");
    facts.set(
        FactField::DeviceIdentifier,
        "0f8e3c2a-6b1d-4e5f-8a9b-7c6d5e4f3a2b",
    );
    facts.set_absent(
        FactField::SerialNumber,
        "/sys/class/dmi/id/product_serial: root only",
    );
    facts.set(FactField::MacAddress, "02:FC:00:00:00:01");
    facts.set(FactField::Ram, "23.4 GB");
    facts
}

#[test]
fn every_message_round_trips() {
    round_trip(&EnrollRequest {
        token: "tok".into(),
        agent_id: "a-1".into(),
        agent_version: "0.1.0".into(),
        facts: sample_facts(),
    });
    round_trip(&EnrollResponse {
        agent_id: "a-1".into(),
        device_secret: "s".into(),
        checkin_interval_secs: 60,
    });
    round_trip(&CheckIn {
        agent_version: "0.1.0".into(),
        facts: sample_facts(),
        monitors: vec![MonitorState {
            monitor_id: "disk-free".into(),
            subject: Some("/var".into()),
            status: MonitorStatus::Alerting,
            value: Some(3.5),
            detail: Some("3.5% free".into()),
        }],
        spool_dropped: 2,
    });
    round_trip(&CheckInReply {
        next_checkin_secs: 60,
        monitors: vec![MonitorSpec {
            severity: None,
            id: "svc-nginx".into(),
            kind: MonitorKind::ServiceRunning,
            target: Some("nginx".into()),
            threshold: 0.0,
            min_duration_secs: 120,
            hysteresis: 0.0,
        }],
        agent_id: Some("4b1d-77".into()),
    });
    round_trip(&AlertBatch {
        events: vec![AlertEvent {
            seq: 7,
            monitor_id: "memory".into(),
            subject: None,
            kind: AlertEventKind::Resolved,
            at_ms: 1_790_000_000_000,
            summary: "Memory back to 61% on web-01".into(),
            detail: None,
            value: Some(61.0),
        }],
    });
    round_trip(&AlertAck {
        acked_through: 7,
        accepted: 1,
        duplicates: 0,
    });
    round_trip(&HelpRequest {
        request_id: "r-1".into(),
        user: Some("alice".into()),
        summary: "Printer jams".into(),
        details: Some("Tray 2".into()),
    });
    round_trip(&HelpClose {
        ticket_number: 1042,
    });
    round_trip(&HelpReply {
        request_id: "r-1".into(),
        state: HelpState::Open,
        ticket_number: Some(1042),
        message: None,
        summary: Some("Printer jams".into()),
    });
    round_trip(&HelpList {
        requests: vec![HelpReply {
            request_id: "r-2".into(),
            state: HelpState::Closed,
            ticket_number: None,
            message: Some("the helpdesk closed the ticket".into()),
            summary: None,
        }],
    });
    round_trip(&ApiError {
        code: "invalid_body".into(),
        message: "m".into(),
        field: None,
    });
}

#[test]
fn a_check_in_from_a_newer_agent_is_read_and_its_extras_ignored() {
    let text = include_str!("samples/checkin-from-newer-agent.json");
    let checkin: CheckIn = serde_json::from_str(text).unwrap();
    assert_eq!(checkin.agent_version, "9.4.0");
    assert_eq!(
        checkin.facts.os_info.as_deref(),
        Some("Windows 11 Pro 23H2 (22631)")
    );
    assert_eq!(
        checkin.facts.last_login_name.as_deref(),
        Some("CONTOSO\\alice")
    );
    assert!(
        checkin.facts.absent.is_empty(),
        "unknown fact keys are dropped"
    );
    assert_eq!(checkin.monitors.len(), 2);
    assert_eq!(checkin.monitors[0].status, MonitorStatus::Alerting);
    assert_eq!(checkin.monitors[1].status, MonitorStatus::Unsupported);
    checkin.validate().unwrap();
}

#[test]
fn a_reply_from_a_newer_server_marks_unknown_monitor_kinds_unsupported() {
    let text = include_str!("samples/checkin-reply-from-newer-server.json");
    let reply: CheckInReply = serde_json::from_str(text).unwrap();
    assert_eq!(reply.monitors[0].kind, MonitorKind::DiskFree);
    assert_eq!(reply.monitors[1].kind, MonitorKind::Unsupported);
}

fn error_of<T: DeserializeOwned + std::fmt::Debug>(text: &str) -> String {
    serde_json::from_str::<T>(text).unwrap_err().to_string()
}

#[test]
fn a_missing_required_field_is_named_in_the_error() {
    let errors = [
        (
            error_of::<EnrollRequest>(r#"{"agentId":"a","agentVersion":"1","facts":{}}"#),
            "token",
        ),
        (error_of::<CheckIn>(r#"{"agentVersion":"1"}"#), "facts"),
        (
            error_of::<AlertBatch>(
                r#"{"events":[{"seq":1,"monitorId":"m","kind":"raised","atMs":1}]}"#,
            ),
            "summary",
        ),
        (error_of::<HelpRequest>(r#"{"requestId":"r"}"#), "summary"),
    ];
    for (err, field) in errors {
        assert!(err.contains(&format!("missing field `{field}`")), "{err}");
    }
}

#[test]
fn wrong_types_are_errors_not_coercions() {
    assert!(serde_json::from_str::<CheckIn>(r#"{"agentVersion":"1","facts":{"ram":16}}"#).is_err());
    assert!(serde_json::from_str::<AlertBatch>(r#"{"events":[{"seq":"1"}]}"#).is_err());
}

#[test]
fn validation_names_the_field_at_fault() {
    let batch = AlertBatch {
        events: vec![
            AlertEvent {
                seq: 2,
                monitor_id: "m".into(),
                subject: None,
                kind: AlertEventKind::Raised,
                at_ms: 0,
                summary: "s".into(),
                detail: None,
                value: None,
            },
            AlertEvent {
                seq: 2,
                monitor_id: "m".into(),
                subject: None,
                kind: AlertEventKind::Resolved,
                at_ms: 0,
                summary: "s".into(),
                detail: None,
                value: None,
            },
        ],
    };
    assert_eq!(batch.validate().unwrap_err().field, "events.seq");
    let help = HelpRequest {
        request_id: "r\" or 1=1".into(),
        user: None,
        summary: "x".into(),
        details: None,
    };
    assert_eq!(help.validate().unwrap_err().field, "requestId");
    let help = HelpRequest {
        request_id: "r".into(),
        summary: "x".repeat(101),
        ..help
    };
    assert_eq!(help.validate().unwrap_err().field, "summary");
}

/// Every ```json block in docs/protocol.md that follows an `<!-- example: Type -->` marker must
/// parse as that type, so the document cannot drift from the code.
#[test]
fn the_examples_in_docs_protocol_md_parse() {
    let doc = include_str!("../../docs/protocol.md");
    let mut checked = 0;
    let mut rest = doc;
    while let Some(at) = rest.find("<!-- example: ") {
        rest = &rest[at + "<!-- example: ".len()..];
        let ty = &rest[..rest.find(" -->").unwrap()];
        let start = rest.find("```json\n").unwrap() + "```json\n".len();
        let end = start + rest[start..].find("```").unwrap();
        let json = &rest[start..end];
        let result = match ty {
            "EnrollRequest" => serde_json::from_str::<EnrollRequest>(json).map(drop),
            "EnrollResponse" => serde_json::from_str::<EnrollResponse>(json).map(drop),
            "CheckIn" => serde_json::from_str::<CheckIn>(json).map(drop),
            "CheckInReply" => serde_json::from_str::<CheckInReply>(json).map(drop),
            "AlertBatch" => serde_json::from_str::<AlertBatch>(json).map(drop),
            "AlertAck" => serde_json::from_str::<AlertAck>(json).map(drop),
            "HelpRequest" => serde_json::from_str::<HelpRequest>(json).map(drop),
            "HelpClose" => serde_json::from_str::<HelpClose>(json).map(drop),
            "HelpReply" => serde_json::from_str::<HelpReply>(json).map(drop),
            "HelpList" => serde_json::from_str::<HelpList>(json).map(drop),
            "ApiError" => serde_json::from_str::<ApiError>(json).map(drop),
            "DeviceFacts" => serde_json::from_str::<DeviceFacts>(json).map(drop),
            other => panic!("docs/protocol.md names an unknown type {other}"),
        };
        result.unwrap_or_else(|e| panic!("example {ty} in docs/protocol.md: {e}\n{json}"));
        checked += 1;
    }
    assert!(checked >= 11, "only {checked} examples found");
}
