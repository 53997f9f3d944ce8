//! Benchmark (not a test): ticket routing for ALERTS alerts (default 10,000) against RULES rules
//! (default 200), each of which fails only at its last condition, so each alert is checked in
//! full against all of them before the last (a catch-all with a summary template) decides.
//! Prints the time per alert.
//!
//! cargo run --release -p bindery-server --example routing_bench -- [ALERTS] [RULES]
#![allow(clippy::unwrap_used, clippy::expect_used)] // a benchmark: failing loudly is the point

use std::time::Instant;

use bindery_server::ids::PolicyId;
use bindery_server::integration::{BoardUse, CloseRule};
use bindery_server::monitoring::routing::{Router, Routing, Subject, TicketKind, Values};
use bindery_shared::protocol::AlertSeverity;
use bindery_shared::{DeviceFacts, FactField};
use serde_json::json;

fn main() {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let alerts = args.first().copied().unwrap_or(10_000);
    let rules = args.get(1).copied().unwrap_or(200).max(1);
    // Rules whose every condition holds but the last: each alert is checked in full against
    // all of them (kind, severity, 50 policies, class, an OS pattern, then a name that misses).
    let policies: Vec<i64> = (0..50).collect();
    let mut list: Vec<serde_json::Value> = (0..rules - 1)
        .map(|n| {
            json!({ "name": format!("rule {n}"), "kinds": ["memory", "load", "disk"],
                "severities": ["warning"], "policies": policies, "class": "workstation",
                "os": "*windows*",
                "fact": { "field": "name", "pattern": format!("*-site{n}-*") },
                "typeId": 1, "priorityId": 2 })
        })
        .collect();
    list.push(
        json!({ "name": "everything else", "typeId": 1, "priorityId": 3,
        "summary": "[{device}] {monitor} at {value}%: {summary}" }),
    );
    let routing: Routing = serde_json::from_value(json!({ "rules": list })).unwrap();
    let board = |id| BoardUse {
        board_id: id,
        open_status_id: 1,
        closed_status_id: 2,
        close_rule: CloseRule::Untouched,
    };
    let router = Router::with(routing, board(1), board(2));
    let devices: Vec<DeviceFacts> = (0..100)
        .map(|n| {
            let mut f = DeviceFacts::default();
            f.set(FactField::Name, format!("ws-{n:04}"));
            f.set(FactField::OsInfo, "Windows 11 Pro 23H2");
            f
        })
        .collect();
    let started = Instant::now();
    let mut decided = 0usize;
    for n in 0..alerts {
        let facts = &devices[n % devices.len()];
        let subject = Subject {
            kind: TicketKind::Disk,
            severity: Some(AlertSeverity::Warning),
            policy_id: Some(PolicyId((n % 50) as i64)),
            facts,
        };
        let values = Values {
            device: format!("ws-{:04}", n % 100),
            monitor: "disk-free".into(),
            value: "4.2".into(),
            summary: "Disk C: has 4.2% free".into(),
            ..Values::default()
        };
        let d = router.decide(&subject, &values, "Disk C: has 4.2% free");
        decided += usize::from(d.rule_number == Some(rules));
    }
    let took = started.elapsed();
    assert_eq!(decided, alerts, "every alert reached the catch-all");
    println!(
        "{alerts} alerts against {rules} rules: {:.1} ms in all, {:.2} µs an alert",
        took.as_secs_f64() * 1000.0,
        took.as_secs_f64() * 1e6 / alerts as f64
    );
}
