//! Billing by device count, against the sandbox over HTTP: an agreement's additions follow the
//! number of bound devices of each class; the first quantity and a steep drop wait for a
//! person; Bindery adopts the addition a person made instead of making a second, and a lost
//! reply to its own create never makes a second either.
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use bindery_server::ids::{CompanyId, DeviceId, PolicyId};
use bindery_server::ops::billing::{BillingLine, BillingRequest};
use bindery_server::ops::{OpError, Ops};
use bindery_server::reconcile::billing::{BillingRules, Counting};
use bindery_server::reconcile::jobs::{BillAgreement, JobKind};
use bindery_server::testkit::{World, facts, world};
use connectwise_sandbox::Faults;
use serde_json::Value;

const ACME: CompanyId = CompanyId(2);
const MANAGED_SERVICES: i64 = 1;
const WORKSTATION: i64 = 1;
const SERVER: i64 = 2;

/// A policy linked to Acme with `workstations` and `servers`, all bound.
async fn acme_office(w: &World, workstations: usize, servers: usize) -> (PolicyId, Vec<DeviceId>) {
    let p = w.store.create_policy("Acme office").await.unwrap();
    let mut devices = Vec::new();
    for n in 1..=workstations + servers {
        let os = if n > workstations {
            "Windows Server 2022 Standard"
        } else {
            "Windows 11 Pro"
        };
        devices.push(w.enroll_with(p.id, n, facts(n, os)).await);
    }
    w.link(p.id, Some((ACME, "Acme Corporation"))).await;
    w.settled().await;
    (p.id, devices)
}

fn request() -> BillingRequest<'static> {
    BillingRequest {
        agreement_id: MANAGED_SERVICES,
        workstation_product: Some("MANAGED-WS"),
        server_product: Some("MANAGED-SRV"),
        bill_customer: "Billable",
        cover_configurations: false,
    }
}

/// The sandbox's live additions of the agreement for `product`.
fn additions(w: &World, product: i64) -> Vec<Value> {
    w.sb.sandbox
        .data()
        .additions
        .values()
        .filter(|a| a["agreementId"] == MANAGED_SERVICES && a["product"]["id"] == product)
        .cloned()
        .collect()
}

/// The quantity of the agreement's one live addition for `product`.
fn quantity(w: &World, product: i64) -> f64 {
    let found = additions(w, product);
    assert_eq!(found.len(), 1, "{found:?}");
    found[0]["quantity"].as_f64().unwrap()
}

fn line(lines: &[BillingLine], product: i64) -> BillingLine {
    lines
        .iter()
        .find(|l| l.addition.product_id == product)
        .cloned()
        .unwrap()
}

/// The request was refused, naming `field`.
fn assert_refused<T: std::fmt::Debug>(result: &Result<T, OpError>, field: &str) {
    assert!(
        matches!(result, Err(OpError::Invalid { field: Some(f), .. }) if *f == field),
        "{result:?}"
    );
}

/// Only the workstations, as MANAGED-WS.
fn workstations_only() -> BillingRequest<'static> {
    BillingRequest {
        server_product: None,
        ..request()
    }
}

/// A billing run as it would go an hour after the workstations' last write.
async fn bill_an_hour_later(w: &World, ops: &Ops<'_>) {
    let mut rec = line(&ops.billing_lines().await.unwrap(), WORKSTATION).addition;
    rec.written_ms = rec.written_ms.map(|t| t - 2 * 3_600_000);
    w.store.record_billed_addition(&rec).await.unwrap();
    bill(w).await;
}

/// Queues a billing run now and waits for it.
async fn bill(w: &World) {
    let job = BillAgreement {
        integration: bindery_server::ids::IntegrationId::FIRST,
        agreement_id: MANAGED_SERVICES,
    }
    .job();
    w.store.enqueue_many(&[job]).await.unwrap();
    w.engine.wake();
    w.settled().await;
}

#[tokio::test]
async fn additions_follow_the_device_count_and_never_drop_steeply_on_their_own() {
    let w = world().await;
    let (p, devices) = acme_office(&w, 3, 1).await;
    let ops = Ops::new(&w.store, None, Some(&*w.engine));

    // Wrong choices are refused before anything is kept.
    let globex_agreement = BillingRequest {
        agreement_id: 4,
        ..request()
    };
    let refused = ops.set_billing(p, &globex_agreement).await;
    assert_refused(&refused, "agreementId");
    let missing = BillingRequest {
        agreement_id: 99,
        ..request()
    };
    assert_refused(&ops.set_billing(p, &missing).await, "agreementId");
    let inactive = BillingRequest {
        workstation_product: Some("MANAGED-LEGACY"),
        ..request()
    };
    assert_refused(&ops.set_billing(p, &inactive).await, "workstationProduct");
    assert!(w.store.policy_billing(p).await.unwrap().is_none());

    // Billed: the first quantities wait for a person, and nothing is written yet. The
    // workstations' addition a person made (10) is adopted, not duplicated.
    w.sb.sandbox.clear_requests();
    ops.set_billing(p, &request()).await.unwrap();
    w.settled().await;
    let writes: Vec<_> = w
        .requests()
        .into_iter()
        .filter(|(m, _)| m != "GET")
        .collect();
    assert!(writes.is_empty(), "{writes:?}");
    let lines = ops.billing_lines().await.unwrap();
    let ws = line(&lines, WORKSTATION);
    assert_eq!(
        (
            ws.devices,
            ws.addition.addition_id,
            ws.addition.held_quantity
        ),
        (3, Some(1), Some(3))
    );
    assert!(ws.addition.held_reason.unwrap().contains("10 → 3"));
    assert_eq!(line(&lines, SERVER).addition.held_quantity, Some(1));

    // Approved, with every reply to a create lost: one addition each, at the count.
    w.sb.sandbox.set_faults(Faults {
        lost_reply_rate: 1.0,
        only_method: Some("POST".into()),
        only_path: Some("/additions".into()),
        ..Faults::default()
    });
    ops.approve_billing(
        (bindery_server::ids::IntegrationId::FIRST, MANAGED_SERVICES),
        WORKSTATION,
    )
    .await
    .unwrap();
    ops.approve_billing(
        (bindery_server::ids::IntegrationId::FIRST, MANAGED_SERVICES),
        SERVER,
    )
    .await
    .unwrap();
    w.settled().await;
    w.sb.sandbox.set_faults(Faults::default());
    let creates =
        w.sb.sandbox
            .requests()
            .into_iter()
            .filter(|r| r.method == "POST" && r.path.ends_with("/additions"))
            .collect::<Vec<_>>();
    assert_eq!(creates.len(), 1, "one create, its reply lost: {creates:?}");
    assert!(creates[0].fault.is_some());
    let ws = additions(&w, WORKSTATION);
    let srv = additions(&w, SERVER);
    assert_eq!((ws.len(), srv.len()), (1, 1), "{ws:?} {srv:?}");
    assert_eq!(
        (quantity(&w, WORKSTATION), quantity(&w, SERVER)),
        (3.0, 1.0)
    );
    assert_eq!(srv[0]["billCustomer"], "Billable");

    // A device joins: the quantity follows (once the last write is an hour old).
    w.enroll_with(p, 9, facts(9, "Windows 11 Pro")).await;
    w.engine.wake();
    w.settled().await;
    bill(&w).await;
    assert_eq!(quantity(&w, WORKSTATION), 3.0, "written minutes ago: later");
    bill_an_hour_later(&w, &ops).await;
    assert_eq!(quantity(&w, WORKSTATION), 4.0);

    // Three of the four leave at once (an outage looks the same): the drop waits.
    for d in &devices[..3] {
        ops.retire_device(*d).await.unwrap();
    }
    w.settled().await;
    bill_an_hour_later(&w, &ops).await;
    assert_eq!(quantity(&w, WORKSTATION), 4.0, "not cut on its own");
    let held = line(&ops.billing_lines().await.unwrap(), WORKSTATION);
    assert_eq!(held.addition.held_quantity, Some(1));
    assert!(
        held.addition
            .held_reason
            .unwrap()
            .contains("drop from 4 to 1")
    );
    ops.approve_billing(
        (bindery_server::ids::IntegrationId::FIRST, MANAGED_SERVICES),
        WORKSTATION,
    )
    .await
    .unwrap();
    w.settled().await;
    assert_eq!(quantity(&w, WORKSTATION), 1.0);
    let logged = w
        .store
        .activity("billing.quantity", false, 10, 0)
        .await
        .unwrap()
        .0;
    assert!(
        logged.iter().any(|a| a.detail.as_deref() == Some("4 → 1")),
        "{logged:?}"
    );
    w.finish().await;
}

#[tokio::test]
async fn several_additions_of_a_product_wait_for_a_person_to_choose() {
    let w = world().await;
    let (p, _) = acme_office(&w, 2, 0).await;
    // Someone already made a second workstation addition on the agreement.
    w.sb.sandbox.data().additions.insert(serde_json::json!({
        "agreementId": MANAGED_SERVICES, "product": {"id": WORKSTATION, "identifier": "MANAGED-WS"},
        "quantity": 5.0, "billedQuantity": 5.0, "billCustomer": "Billable",
    }));
    let ops = Ops::new(&w.store, None, Some(&*w.engine));
    ops.set_billing(p, &workstations_only()).await.unwrap();
    w.settled().await;
    let held = line(&ops.billing_lines().await.unwrap(), WORKSTATION).addition;
    assert_eq!((held.addition_id, held.held_quantity), (None, None));
    assert!(
        held.held_reason.as_deref().unwrap().contains("choose"),
        "{held:?}"
    );
    assert!(
        ops.approve_billing(
            (bindery_server::ids::IntegrationId::FIRST, MANAGED_SERVICES),
            WORKSTATION
        )
        .await
        .is_err(),
        "choose first"
    );
    let refused = ops
        .choose_addition(
            (bindery_server::ids::IntegrationId::FIRST, MANAGED_SERVICES),
            WORKSTATION,
            99,
        )
        .await;
    assert!(matches!(refused, Err(OpError::Invalid { .. })));
    ops.choose_addition(
        (bindery_server::ids::IntegrationId::FIRST, MANAGED_SERVICES),
        WORKSTATION,
        1,
    )
    .await
    .unwrap();
    w.settled().await;
    let rec = line(&ops.billing_lines().await.unwrap(), WORKSTATION).addition;
    assert_eq!((rec.addition_id, rec.held_quantity), (Some(1), Some(2)));
    assert_eq!(additions(&w, WORKSTATION).len(), 2, "nothing created");
    w.finish().await;
}

#[tokio::test]
async fn under_the_month_s_high_a_device_that_leaves_is_billed_to_the_month_s_end() {
    let w = world().await;
    let (p, devices) = acme_office(&w, 3, 0).await;
    let ops = Ops::new(&w.store, None, Some(&*w.engine));
    let rules = BillingRules {
        counting: Counting::MonthHigh,
        max_drop_percent: 20,
    };
    ops.set_billing_rules(&rules).await.unwrap();
    ops.set_billing(p, &workstations_only()).await.unwrap();
    w.settled().await;
    ops.approve_billing(
        (bindery_server::ids::IntegrationId::FIRST, MANAGED_SERVICES),
        WORKSTATION,
    )
    .await
    .unwrap();
    w.settled().await;
    assert_eq!(quantity(&w, WORKSTATION), 3.0);
    // Two leave: the month's high stays billed, and nothing waits for a person.
    for d in &devices[..2] {
        ops.retire_device(*d).await.unwrap();
    }
    w.settled().await;
    bill_an_hour_later(&w, &ops).await;
    let now = line(&ops.billing_lines().await.unwrap(), WORKSTATION);
    assert_eq!((now.devices, now.addition.held_quantity), (1, None));
    assert_eq!(now.addition.month_high, Some(3));
    assert_eq!(quantity(&w, WORKSTATION), 3.0);
    // Live again: the count is what is billed, and the steep drop waits.
    ops.set_billing_rules(&BillingRules::default())
        .await
        .unwrap();
    w.settled().await;
    let held = line(&ops.billing_lines().await.unwrap(), WORKSTATION).addition;
    assert_eq!(held.held_quantity, Some(1));
    w.finish().await;
}

#[tokio::test]
async fn the_agreement_covers_bound_configurations_and_lets_go_only_of_bindery_s() {
    let w = world().await;
    let (p, devices) = acme_office(&w, 2, 0).await;
    // A configuration a person covered by hand, which Bindery does not bind.
    let printer = w.seed_config(ACME, "printer", serde_json::json!({}));
    w.sb.sandbox
        .data()
        .agreement_configurations
        .push((MANAGED_SERVICES, printer.0));
    let ops = Ops::new(&w.store, None, Some(&*w.engine));
    let covering = BillingRequest {
        cover_configurations: true,
        ..workstations_only()
    };
    ops.set_billing(p, &covering).await.unwrap();
    w.settled().await;
    let covered = || -> Vec<i64> {
        let mut ids: Vec<i64> =
            w.sb.sandbox
                .data()
                .agreement_configurations
                .iter()
                .filter(|(a, _)| *a == MANAGED_SERVICES)
                .map(|(_, c)| *c)
                .collect();
        ids.sort();
        ids
    };
    let config = |n: usize| w.configs(n)[0]["id"].as_i64().unwrap();
    let mut expected = vec![printer.0, config(1), config(2)];
    expected.sort();
    assert_eq!(covered(), expected, "covering waits for no approval");
    // An unchanged agreement covers nothing twice.
    w.sb.sandbox.clear_requests();
    bill(&w).await;
    let writes: Vec<_> = w
        .requests()
        .into_iter()
        .filter(|(m, _)| m != "GET")
        .collect();
    assert!(writes.is_empty(), "{writes:?}");
    // A device leaves: its configuration is uncovered; the printer stays.
    ops.retire_device(devices[0]).await.unwrap();
    w.settled().await;
    bill(&w).await;
    let mut expected = vec![printer.0, config(2)];
    expected.sort();
    assert_eq!(covered(), expected);
    let logged = w
        .store
        .activity("agreement.uncover", false, 10, 0)
        .await
        .unwrap()
        .0;
    assert_eq!(logged.len(), 1, "{logged:?}");
    w.finish().await;
}

#[tokio::test]
async fn billing_stops_when_its_policy_is_linked_to_another_company_even_after_an_unlink() {
    let w = world().await;
    let (p, _) = acme_office(&w, 1, 0).await;
    let ops = Ops::new(&w.store, None, Some(&*w.engine));
    ops.set_billing(p, &workstations_only()).await.unwrap();
    ops.unlink(p).await.unwrap();
    ops.link(p, (bindery_server::ids::IntegrationId::FIRST, ACME))
        .await
        .unwrap();
    assert!(
        w.store.policy_billing(p).await.unwrap().is_some(),
        "the same company"
    );
    ops.unlink(p).await.unwrap();
    ops.link(p, (bindery_server::ids::IntegrationId::FIRST, CompanyId(3)))
        .await
        .unwrap();
    assert!(w.store.policy_billing(p).await.unwrap().is_none(), "Globex");
    w.finish().await;
}
