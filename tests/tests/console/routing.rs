//! Ticket routing rules from the console: a rule ConnectWise would refuse is refused with its
//! reason and the admin's text kept; saved rules show as a table, and the dry run names the rule
//! and the summary a device's alert would get.

use super::*;

/// Refuses, saves and dry-runs routing rules.
pub(super) async fn routing(s: &mut Session, _w: &Scene) {
    s.go("/console/routing").await;
    assert!(s.text("#rule-table").await.contains("No rules"));
    let wrong = r#"{"rules": [{"name": "disks", "kinds": ["disk"], "typeId": 1, "subtypeId": 4}]}"#;
    s.fill("#document", wrong).await;
    s.click("#save-rules").await;
    let refused = s.text(".banner.error").await;
    assert!(
        refused.contains("rule 1") && refused.contains("subtype 4"),
        "{refused}"
    );
    assert!(
        s.seen.last().unwrap().contains("&quot;subtypeId&quot;: 4")
            || s.seen.last().unwrap().contains("\"subtypeId\": 4"),
        "the admin's text comes back"
    );
    let rules = r#"{"rules": [{"name": "server disks", "kinds": ["disk"], "class": "server", "typeId": 1, "subtypeId": 1, "itemId": 1, "priorityId": 1, "severity": "High", "summary": "[{device}] {monitor}"}]}"#;
    s.fill("#document", rules).await;
    s.click("#save-rules").await;
    assert_eq!(s.text(".banner.ok").await, "Saved.");
    assert!(s.text("#rule-table").await.contains("server disks"));
    // web-0 is a Windows server of the first instance's Acme.
    s.fill("#device_id", "1").await;
    s.fill("#monitor_id", "disk-free").await;
    s.click("#run-dry").await;
    assert_eq!(s.text("#dry-summary").await, "[host-0] disk-free");
    assert!(s.text("#dry-result").await.contains("server disks"));
    s.shot("routing").await;
}
