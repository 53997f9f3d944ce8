//! Several ConnectWise instances on one server, against two sandboxes over real HTTP: each
//! instance binds its own policies' devices (the same company id in both is two companies),
//! tickets open in the device's instance, a 5xx storm or a Retry-After on one never holds the
//! other back, the same agreement id bills two agreements, and a policy moved to a company of
//! the other instance has its configurations set inactive in the old one and bound in the new
//! (its old agreement's quantity left as it was: a move never cuts a bill by itself).
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use std::time::Duration;

use bindery_server::ids::{CompanyId, DeviceId, IntegrationId};
use bindery_server::ops::billing::BillingRequest;
use bindery_server::ops::{OpError, Ops};
use bindery_server::store::BindingState;
use bindery_server::testkit::{World, agent_id, world};
use bindery_shared::protocol::{AlertBatch, AlertEvent, AlertEventKind};
use connectwise_sandbox::{Faults, Running, Seed};
use serde_json::Value;

const FIRST: IntegrationId = IntegrationId::FIRST;
const ACME: CompanyId = CompanyId(2);
const GLOBEX: CompanyId = CompanyId(3);
const ACTIVE: i64 = 1;
const INACTIVE: i64 = 2;

/// A second sandbox, set up as the server's second integration.
async fn second_instance(w: &World) -> (Running, IntegrationId) {
    let sb = connectwise_sandbox::spawn("127.0.0.1:0".parse().unwrap(), Seed::default_seed(), true)
        .await
        .unwrap();
    let id = w.store.create_integration("Acquired").await.unwrap().id;
    bindery_server::demo::connect_integration_to_sandbox(&w.store, &w.key, id, &sb.url())
        .await
        .unwrap();
    (sb, id)
}

/// Device `n`'s configurations in a sandbox.
fn configs_in(sb: &Running, n: usize) -> Vec<Value> {
    let agent = agent_id(n);
    sb.sandbox
        .data()
        .configurations
        .values()
        .filter(|c| c["deviceIdentifier"] == agent.as_str())
        .cloned()
        .collect()
}

fn alert(seq: u64) -> AlertBatch {
    AlertBatch {
        events: vec![AlertEvent {
            seq,
            monitor_id: "disk-free".into(),
            subject: Some("/var".into()),
            kind: AlertEventKind::Raised,
            at_ms: bindery_server::store::now_ms() as u64,
            summary: "Disk /var has 4.2% free".into(),
            detail: None,
            value: Some(4.2),
        }],
    }
}

/// Waits (up to a minute) until every one of `devices` is bound.
async fn bound(w: &World, devices: &[DeviceId]) {
    for _ in 0..1200 {
        let mut all = true;
        for d in devices {
            let b = w.store.binding(*d).await.unwrap();
            all &= b.is_some_and(|b| b.state == BindingState::Bound);
        }
        if all {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("devices {devices:?} were not bound within a minute");
}

#[tokio::test(flavor = "multi_thread")]
async fn each_instance_binds_tickets_and_fails_on_its_own_and_a_policy_moves_between_them() {
    let w = world().await;
    let (b, second) = second_instance(&w).await;
    let ops = Ops::new(&w.store, Some(&w.key), Some(&w.engine));
    // Each instance has its own budget: the second's own, the first the server's.
    ops.set_integration_budget(second, Some(600)).await.unwrap();
    let over = ops.set_integration_budget(second, Some(1_000_000)).await;
    assert!(matches!(over, Err(OpError::Invalid { .. })), "{over:?}");
    let budget = |i| {
        let engine = w.engine.clone();
        async move { engine.instance(i).await.unwrap().requests_per_minute }
    };
    assert_eq!((budget(FIRST).await, budget(second).await), (1000, 600));
    let here = w.store.create_policy("Acme (first)").await.unwrap();
    let there = w.store.create_policy("Acme (acquired)").await.unwrap();
    let here_devices = w.enroll(here.id, 1..4).await;
    let there_devices = w.enroll(there.id, 11..14).await;

    // The same company id in both instances: two companies, one preview each.
    let preview = ops.preview_link(there.id, (second, ACME)).await.unwrap();
    assert_eq!(
        (preview.integration_id, preview.integration_name.as_str()),
        (second, "Acquired")
    );
    assert_eq!(preview.plan.create, 3, "{:?}", preview.plan);
    ops.link(here.id, (FIRST, ACME)).await.unwrap();
    ops.link(there.id, (second, ACME)).await.unwrap();
    w.settled().await;
    for n in 1..4 {
        assert_eq!(w.configs(n).len(), 1, "device {n} in the first");
        assert!(configs_in(&b, n).is_empty(), "device {n} not in the second");
    }
    for n in 11..14 {
        assert!(w.configs(n).is_empty(), "device {n} not in the first");
        let c = configs_in(&b, n);
        assert_eq!(c.len(), 1, "device {n} in the second");
        assert_eq!(c[0]["company"]["id"], ACME.0);
    }
    let rec = w.store.binding(there_devices[0]).await.unwrap().unwrap();
    assert_eq!(
        (rec.integration_id, rec.state),
        (second, BindingState::Bound)
    );

    // A ticket opens in the device's own instance.
    bindery_server::monitoring::take_alert_batch(&w.store, there_devices[0], &alert(1))
        .await
        .unwrap();
    w.engine.wake();
    w.settled().await;
    assert!(w.sb.sandbox.data().tickets.values().next().is_none());
    let tickets: Vec<Value> = b.sandbox.data().tickets.values().cloned().collect();
    assert_eq!(tickets.len(), 1, "{tickets:?}");
    assert_eq!(tickets[0]["company"]["id"], ACME.0);
    let t = w
        .store
        .ticket_by_cw_id(second, tickets[0]["id"].as_i64().unwrap())
        .await
        .unwrap();
    assert!(t.is_some(), "recorded as the second instance's ticket");

    // Every request of the first instance fails: the second binds as if nothing happened.
    w.sb.sandbox.set_faults(Faults {
        error_rate: 1.0,
        ..Faults::default()
    });
    let stuck = w.enroll(here.id, 4..5).await;
    let fresh = w.enroll(there.id, 14..17).await;
    w.engine.wake();
    bound(&w, &fresh).await;
    for n in 14..17 {
        assert_eq!(configs_in(&b, n).len(), 1, "device {n}");
    }
    let waiting = w.store.binding(stuck[0]).await.unwrap().unwrap();
    assert_ne!(waiting.state, BindingState::Bound);
    assert!(waiting.error.is_some(), "{waiting:?}");
    let second_answers = w.engine.instance_stats(second).await.unwrap().answers;
    assert!(
        second_answers.iter().all(|(status, _)| *status < 500),
        "{second_answers:?}"
    );
    w.sb.sandbox.set_faults(Faults::default());
    ops.retry_pending(here.id).await.unwrap();
    w.settled().await;
    bound(&w, &stuck).await;

    // The first instance throttles (429, Retry-After): its client pauses, the second's does not.
    w.sb.sandbox.set_faults(Faults {
        burst_429: 1_000,
        retry_after_secs: 2,
        ..Faults::default()
    });
    let throttled = w.enroll(here.id, 5..6).await;
    let meanwhile = w.enroll(there.id, 17..19).await;
    w.engine.wake();
    bound(&w, &meanwhile).await;
    let paused = |i| {
        let engine = w.engine.clone();
        async move { engine.instance_stats(i).await.unwrap().retry_after_pauses }
    };
    assert!(paused(FIRST).await > 0, "the first instance was paused");
    assert_eq!(paused(second).await, 0, "the second never was");
    w.sb.sandbox.set_faults(Faults::default());
    ops.retry_pending(here.id).await.unwrap();
    w.settled().await;
    bound(&w, &throttled).await;
    let stuck = [stuck, throttled].concat();

    // Both bill to agreement 1 of their Acme: the same id, two agreements, two additions.
    let request = BillingRequest {
        agreement_id: 1,
        workstation_product: Some("MANAGED-WS"),
        server_product: None,
        bill_customer: "Billable",
        cover_configurations: false,
    };
    ops.set_billing(here.id, &request).await.unwrap();
    ops.set_billing(there.id, &request).await.unwrap();
    w.settled().await;
    ops.approve_billing((FIRST, 1), 1).await.unwrap();
    ops.approve_billing((second, 1), 1).await.unwrap();
    w.settled().await;
    let quantity = |sb: &Running| -> Vec<f64> {
        sb.sandbox
            .data()
            .additions
            .values()
            .filter(|a| a["agreementId"] == 1 && a["product"]["id"] == 1)
            .map(|a| a["quantity"].as_f64().unwrap())
            .collect()
    };
    assert_eq!(quantity(&w.sb), [5.0], "the first instance's five devices");
    assert_eq!(quantity(&b), [8.0], "the second instance's eight");

    // The first instance's policy moves to Globex in the second: the first sets its
    // configurations inactive, the second binds them.
    let moving = [here_devices.clone(), stuck.clone()].concat();
    let preview = ops.preview_link(here.id, (second, GLOBEX)).await.unwrap();
    assert_eq!(
        preview.deactivated_elsewhere, 5,
        "the move's preview counts them"
    );
    assert_eq!(preview.plan.create, 5);
    let preview = ops.preview_link(there.id, (second, ACME)).await.unwrap();
    assert_eq!(
        preview.deactivated_elsewhere, 0,
        "a relink within one instance"
    );
    ops.link(here.id, (second, GLOBEX)).await.unwrap();
    w.settled().await;
    for n in 1..6 {
        let old = w.configs(n);
        assert_eq!(old.len(), 1, "device {n}");
        assert_eq!(old[0]["status"]["id"], INACTIVE, "device {n} in the first");
        let new = configs_in(&b, n);
        assert_eq!(new.len(), 1, "device {n} in the second");
        assert_eq!(new[0]["company"]["id"], GLOBEX.0);
        assert_eq!(new[0]["status"]["id"], ACTIVE);
    }
    assert_eq!(
        quantity(&w.sb),
        [5.0],
        "the move never cuts the old agreement's bill"
    );
    let kept = w.store.billed_additions(Some((FIRST, 1))).await.unwrap();
    assert_eq!(
        (kept[0].addition_id, kept[0].quantity),
        (Some(1), Some(5)),
        "Bindery keeps track of the first instance's addition"
    );
    for d in &moving {
        let rec = w.store.binding(*d).await.unwrap().unwrap();
        assert_eq!(
            (rec.integration_id, rec.company_id, rec.state),
            (second, Some(GLOBEX), BindingState::Bound)
        );
    }
    // A re-sync of everything changes nothing more in either instance.
    w.sb.sandbox.clear_requests();
    b.sandbox.clear_requests();
    ops.sync_now().await.unwrap();
    w.settled().await;
    let writes = |sb: &Running| {
        sb.sandbox
            .requests()
            .into_iter()
            .filter(|r| r.method != "GET" && !r.path.starts_with("/_sandbox"))
            .count()
    };
    assert_eq!((writes(&w.sb), writes(&b)), (0, 0));

    // An instance is removed only once nothing links to it and nothing is active there.
    let refused = ops.remove_integration(second).await;
    assert!(refused.is_err(), "{refused:?}");
    ops.unlink(here.id).await.unwrap();
    ops.unlink(there.id).await.unwrap();
    w.settled().await;
    ops.remove_integration(second).await.unwrap();
    assert_eq!(w.store.integrations().await.unwrap().len(), 1);
    let gone = bindery_server::integration::credentials(&w.store, second).await;
    assert!(matches!(gone, Ok(None)), "its settings went with it");
    b.stop().await;
    w.finish().await;
}
