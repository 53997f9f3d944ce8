//! Ticket routing rules against the sandbox over real HTTP: a rule ConnectWise would refuse is
//! refused when it is saved, with the reason and its rule; saved rules route alerts and help
//! requests with their type, subtype, item, priority, source, severity, impact and summary,
//! which the sandbox checks against each board as ConnectWise does; the dry run names the rule
//! and the summary the ticket then gets; and a rule change leaves open tickets alone.
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use bindery_server::ids::{CompanyId, IntegrationId};
use bindery_server::monitoring::routing::Routing;
use bindery_server::ops::routing::DryRunRequest;
use bindery_server::ops::{OpError, Ops};
use bindery_server::testkit::world;
use bindery_shared::protocol::{AlertBatch, AlertEvent, AlertEventKind, HelpRequest};
use serde_json::{Value, json};

const FIRST: IntegrationId = IntegrationId::FIRST;
const ACME: CompanyId = CompanyId(2);

fn rules(v: Value) -> Routing {
    serde_json::from_value(json!({ "rules": v })).unwrap()
}

fn disk_alert(value: f64) -> AlertBatch {
    AlertBatch {
        events: vec![AlertEvent {
            seq: 1,
            monitor_id: "disk-free".into(),
            subject: Some("/var".into()),
            kind: AlertEventKind::Raised,
            at_ms: bindery_server::store::now_ms() as u64,
            summary: format!("Disk /var has {value}% free"),
            detail: None,
            value: Some(value),
        }],
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn tickets_land_as_the_rules_say_and_rules_connectwise_refuses_are_refused_at_save() {
    let w = world().await;
    let ops = Ops::new(&w.store, Some(&w.key), Some(&w.engine));
    let p = w.store.create_policy("Acme").await.unwrap();
    let workstation = w.enroll(p.id, 1..2).await[0];
    let server = w.enroll(p.id, 10..11).await[0];
    ops.link(p.id, (FIRST, ACME)).await.unwrap();
    w.settled().await;

    // Refused at save, each with its rule and why; nothing is saved.
    for (bad, why) in [
        (
            json!([{ "name": "disks", "kinds": ["disk"], "typeId": 1, "subtypeId": 4 }]),
            "subtype 4 is not an active subtype of board Monitoring",
        ),
        (
            json!([{ "name": "disks", "kinds": ["disk"], "typeId": 2, "subtypeId": 1 }]),
            "does not allow type Some(2), subtype Some(1), item None together",
        ),
        (
            json!([{ "name": "help", "kinds": ["help"], "typeId": 1 }]),
            "type 1 is not an active type of board Self Service",
        ),
        (
            json!([{ "name": "any", "typeId": 1 }]),
            "a type belongs to one board",
        ),
        (
            json!([{ "name": "p", "priorityId": 99 }]),
            "there is no active priority 99",
        ),
        (
            json!([{ "name": "s", "summary": "{device} {nope}" }]),
            "{nope} is no placeholder",
        ),
    ] {
        let refused = ops.save_routing(FIRST, &rules(bad)).await;
        match &refused {
            Err(OpError::Invalid { message, .. }) => {
                assert!(message.contains("rule 1"), "{message}");
                assert!(message.contains(why), "{message} (wanted {why})");
            }
            other => panic!("{other:?}"),
        }
    }
    assert!(ops.routing(FIRST).await.unwrap().rules.is_empty());

    let saved = rules(json!([
        { "name": "critical servers", "class": "server", "kinds": ["disk", "offline"],
          "typeId": 1, "subtypeId": 1, "itemId": 1, "priorityId": 1, "sourceId": 3,
          "severity": "High", "impact": "High", "summary": "[{device}] {monitor} at {value}%" },
        { "name": "help", "kinds": ["help"], "typeId": 3, "subtypeId": 5, "priorityId": 3,
          "summary": "Help: {user} on {device}: {summary}" },
        { "name": "other alerts", "kinds": ["disk", "memory", "load", "service", "custom"],
          "typeId": 1, "priorityId": 3, "severity": "Low" }
    ]));
    ops.save_routing(FIRST, &saved).await.unwrap();
    assert_eq!(ops.routing(FIRST).await.unwrap(), saved);

    // The dry run, then the alert: the same rule, the same summary.
    let dry = ops
        .routing_dry_run(&DryRunRequest {
            device_id: server,
            monitor_id: Some("disk-free".into()),
            value: Some(4.2),
        })
        .await
        .unwrap();
    assert_eq!(dry.decision.rule.as_deref(), Some("critical servers"));
    assert_eq!(dry.decision.summary, "[host-010] disk-free at 4.2%");
    assert_eq!(dry.board.board_id, 1);
    bindery_server::monitoring::take_alert_batch(&w.store, server, &disk_alert(4.2))
        .await
        .unwrap();
    let help = HelpRequest {
        request_id: "5d1f0000-0000-4000-8000-000000000001".into(),
        user: Some("ana".into()),
        summary: "Printer jammed".into(),
        details: None,
    };
    bindery_server::monitoring::take_help_request(&w.store, workstation, &help)
        .await
        .unwrap();
    let dry_help = ops
        .routing_dry_run(&DryRunRequest {
            device_id: workstation,
            monitor_id: None,
            value: None,
        })
        .await
        .unwrap();
    assert_eq!(dry_help.decision.rule.as_deref(), Some("help"));
    assert_eq!(dry_help.decision.rule_number, Some(2));
    w.engine.wake();
    w.settled().await;
    let tickets: Vec<Value> = w.sb.sandbox.data().tickets.values().cloned().collect();
    assert_eq!(tickets.len(), 2, "{tickets:?}");
    let alert = tickets.iter().find(|t| t["board"]["id"] == 1).unwrap();
    assert_eq!(alert["summary"], dry.decision.summary);
    for (field, id) in [
        ("type", 1),
        ("subType", 1),
        ("item", 1),
        ("priority", 1),
        ("source", 3),
    ] {
        assert_eq!(alert[field]["id"], id, "{field}: {alert}");
    }
    assert_eq!(
        (&alert["severity"], &alert["impact"]),
        (&json!("High"), &json!("High"))
    );
    let asked = tickets.iter().find(|t| t["board"]["id"] == 2).unwrap();
    assert_eq!(asked["summary"], "Help: ana on host-001: Printer jammed");
    assert_eq!(
        (&asked["type"]["id"], &asked["subType"]["id"]),
        (&json!(3), &json!(5))
    );
    assert_eq!(
        asked["status"]["id"], 3,
        "the self-service board's open status"
    );

    // New rules apply to new tickets; the open one keeps its route and closes on its board.
    ops.save_routing(FIRST, &Routing::default()).await.unwrap();
    let mut resolved = disk_alert(30.0);
    resolved.events[0].seq = 2;
    resolved.events[0].kind = AlertEventKind::Resolved;
    bindery_server::monitoring::take_alert_batch(&w.store, server, &resolved)
        .await
        .unwrap();
    w.engine.wake();
    w.settled().await;
    let alert =
        w.sb.sandbox
            .data()
            .tickets
            .values()
            .find(|t| t["board"]["id"] == 1)
            .cloned()
            .unwrap();
    assert_eq!(
        alert["status"]["id"], 2,
        "closed with the monitoring board's status"
    );
    assert_eq!(alert["type"]["id"], 1, "its route stays");
    let none = ops
        .routing_dry_run(&DryRunRequest {
            device_id: server,
            monitor_id: Some("disk-free".into()),
            value: None,
        })
        .await
        .unwrap();
    assert_eq!(none.decision.rule, None, "without rules, no rule decides");
    w.finish().await;
}
