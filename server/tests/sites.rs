//! A policy's link naming one of its company's sites, against the sandbox over HTTP: its
//! devices' configurations and tickets carry the site; a person moving a configuration to
//! another site is put back at the next re-sync; without a site, a site a person set stays; a
//! site of another company is refused before anything is written.
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use bindery_server::ids::CompanyId;
use bindery_server::monitoring;
use bindery_server::ops::{OpError, Ops};
use bindery_server::testkit::world;
use bindery_shared::protocol::{AlertBatch, AlertEvent, AlertEventKind};
use serde_json::Value;

const ACME: CompanyId = CompanyId(2);
const BERLIN: i64 = 2;
const WAREHOUSE: i64 = 3;
/// Globex's main site.
const GLOBEX_MAIN: i64 = 4;

const FIRST: bindery_server::ids::IntegrationId = bindery_server::ids::IntegrationId::FIRST;

fn site(config: &Value) -> Option<i64> {
    config["site"]["id"].as_i64()
}

#[tokio::test]
async fn a_linked_site_is_on_every_configuration_and_ticket_and_is_kept_there() {
    let w = world().await;
    let p = w.store.create_policy("Acme Berlin").await.unwrap();
    let devices = w.enroll(p.id, 1..4).await;
    let ops = Ops::new(&w.store, None, Some(&*w.engine));

    // A site of another company, or none at all, is refused and links nothing.
    for wrong in [GLOBEX_MAIN, 99] {
        let refused = ops.link_at_site(p.id, (FIRST, ACME), Some(wrong)).await;
        assert!(
            matches!(
                &refused,
                Err(OpError::Invalid {
                    field: Some("siteId"),
                    ..
                })
            ),
            "{refused:?}"
        );
    }
    assert_eq!(w.store.policy(p.id).await.unwrap().cw_company_id, None);

    let linked = ops
        .link_at_site(p.id, (FIRST, ACME), Some(BERLIN))
        .await
        .unwrap();
    let shown = linked.cw_site.unwrap();
    assert_eq!((shown.id, shown.name.as_str()), (BERLIN, "Berlin Office"));
    w.settled().await;
    for n in 1..4 {
        assert_eq!(site(&w.configs(n)[0]), Some(BERLIN), "device {n}");
    }

    // A person moves one to the warehouse: the policy's site is written back, and a re-sync of
    // an unchanged company writes nothing.
    let id = w.configs(1)[0]["id"].as_i64().unwrap();
    assert!(w.sb.sandbox.data().configurations.update(id, |c| {
        c["site"] = serde_json::json!({"id": WAREHOUSE, "name": "Warehouse"});
    }));
    w.resync(ACME).await;
    assert_eq!(site(&w.configs(1)[0]), Some(BERLIN));
    w.sb.sandbox.clear_requests();
    w.resync(ACME).await;
    let writes: Vec<(String, String)> = w
        .requests()
        .into_iter()
        .filter(|(m, _)| m != "GET")
        .collect();
    assert!(writes.is_empty(), "{writes:?}");

    // An alert's ticket carries the site too.
    let raised = AlertEvent {
        seq: 1,
        monitor_id: "disk-free".into(),
        subject: Some("/".into()),
        kind: AlertEventKind::Raised,
        at_ms: bindery_server::store::now_ms() as u64,
        summary: "Disk / has 4% free".into(),
        detail: None,
        value: Some(4.0),
    };
    let batch = AlertBatch {
        events: vec![raised],
    };
    monitoring::take_alert_batch(&w.store, devices[0], &batch)
        .await
        .unwrap();
    w.engine.wake();
    w.settled().await;
    let tickets: Vec<Value> = w.sb.sandbox.data().tickets.values().cloned().collect();
    assert_eq!(tickets.len(), 1, "{tickets:?}");
    assert_eq!(site(&tickets[0]), Some(BERLIN));

    // Linked again without a site: Bindery has no opinion, so a person's site stays.
    ops.link(p.id, (FIRST, ACME)).await.unwrap();
    w.settled().await;
    assert!(w.store.policy(p.id).await.unwrap().cw_site.is_none());
    assert!(w.sb.sandbox.data().configurations.update(id, |c| {
        c["site"] = serde_json::json!({"id": WAREHOUSE, "name": "Warehouse"});
    }));
    w.resync(ACME).await;
    assert_eq!(site(&w.configs(1)[0]), Some(WAREHOUSE));
    assert_eq!(site(&w.configs(2)[0]), Some(BERLIN));
    w.finish().await;
}
