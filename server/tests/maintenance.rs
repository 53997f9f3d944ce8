//! Maintenance windows, against the sandbox over HTTP: alerts raised inside a window open no
//! ticket; when it ends, the ones still raised open theirs and the ones resolved meanwhile are
//! only recorded. Outside a window nothing changes.
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use std::time::Duration;

use bindery_server::ids::{CompanyId, DeviceId, PolicyId};
use bindery_server::monitoring::{self, held, maintenance::Maintenance};
use bindery_server::store::{AlertFilter, now_ms};
use bindery_shared::protocol::{AlertBatch, AlertEvent, AlertEventKind};

mod common;
use bindery_server::testkit::{World, world};

const ACME: i64 = 2;

/// `ms` as a local date and time in UTC, to the second (`2026-12-02T19:20:05`).
fn civil(ms: i64) -> String {
    bindery_shared::time::utc_text(ms)
        .trim_end_matches(" UTC")
        .replace(' ', "T")
}

/// What these tests add to the test world.
trait MaintenanceWorld {
    async fn linked(&self) -> (PolicyId, DeviceId);
    async fn event(&self, d: DeviceId, seq: u64, monitor: &str, raised: bool);
    fn tickets(&self) -> usize;
}

impl MaintenanceWorld for World {
    async fn linked(&self) -> (PolicyId, DeviceId) {
        let policy = self.store.create_policy("Office").await.unwrap();
        let d = self.enroll(policy.id, 1..2).await[0];
        self.link(policy.id, Some((CompanyId(ACME), "Acme"))).await;
        self.settled().await;
        (policy.id, d)
    }

    async fn event(&self, d: DeviceId, seq: u64, monitor: &str, raised: bool) {
        let e = AlertEvent {
            seq,
            monitor_id: monitor.into(),
            subject: None,
            kind: if raised {
                AlertEventKind::Raised
            } else {
                AlertEventKind::Resolved
            },
            at_ms: now_ms() as u64,
            summary: format!("{monitor} is failing"),
            detail: None,
            value: None,
        };
        monitoring::take_alert_batch(&self.store, d, &AlertBatch { events: vec![e] })
            .await
            .unwrap();
        self.engine.wake();
        self.settled().await;
    }

    fn tickets(&self) -> usize {
        self.sb.sandbox.data().tickets.values().count()
    }
}

#[tokio::test]
async fn a_window_holds_tickets_and_releases_the_alerts_still_raised_at_its_end() {
    let w = world().await;
    let (policy, d) = w.linked().await;
    let now = now_ms();
    let ends = now + 3_000;
    let windows = Maintenance {
        once: vec![monitoring::maintenance::OneOff {
            start: civil(now - 60_000),
            end: civil(ends),
            note: Some("patching".into()),
        }],
        ..Maintenance::default()
    };
    windows.check().unwrap();
    held::save(&w.store, policy, &windows).await.unwrap();

    // Inside the window: three raises, one resolved meanwhile, and a repeat. No ticket at all.
    w.event(d, 1, "disk-free", true).await;
    w.event(d, 2, "cpu-load", true).await;
    w.event(d, 3, "cpu-load", false).await;
    w.event(d, 4, "disk-free", true).await;
    w.event(d, 5, "memory-used", true).await;
    assert_eq!(w.tickets(), 0);
    assert_eq!(w.store.held_alert_count(policy).await.unwrap(), 3);
    // Releasing before the end releases nothing.
    assert_eq!(held::release_due(&w.store).await.unwrap(), 0);
    assert_eq!(w.tickets(), 0);

    // The window ends: the two still raised open their tickets; the CPU alert is recorded.
    let wait = (ends - now_ms()).max(0) as u64 + 50;
    tokio::time::sleep(Duration::from_millis(wait)).await;
    assert_eq!(held::release_due(&w.store).await.unwrap(), 2);
    w.engine.wake();
    w.settled().await;
    assert_eq!(w.tickets(), 2);
    let (alerts, _) = w
        .store
        .alerts(&AlertFilter {
            held_only: true,
            limit: 10,
            ..AlertFilter::default()
        })
        .await
        .unwrap();
    assert_eq!(alerts.len(), 3);
    for a in &alerts {
        assert_eq!(a.held_until_ms, None, "released: {}", a.monitor_id);
        match a.monitor_id.as_str() {
            "cpu-load" => {
                assert!(a.ticket.is_none());
                assert_eq!(
                    a.no_ticket_reason.as_deref(),
                    Some("resolved inside a maintenance window")
                );
            }
            _ => assert!(a.ticket.as_ref().unwrap().number.is_some()),
        }
    }
    // Released once: the next sweep does nothing more.
    assert_eq!(held::release_due(&w.store).await.unwrap(), 0);

    // Outside any window, an alert opens its ticket at once.
    w.event(d, 6, "cpu-load", true).await;
    assert_eq!(w.tickets(), 3);
    w.finish().await;
}

#[tokio::test]
async fn a_weekly_window_in_a_time_zone_holds_only_inside_its_hours() {
    let w = world().await;
    let (policy, d) = w.linked().await;
    // Every day, all day, in Tokyo: held. Then no window: a ticket.
    let always = Maintenance::parse_lines("Asia/Tokyo", "daily 00:00-00:00").unwrap();
    held::save(&w.store, policy, &always).await.unwrap();
    w.event(d, 1, "disk-free", true).await;
    assert_eq!(w.tickets(), 0);
    held::save(&w.store, policy, &Maintenance::default())
        .await
        .unwrap();
    assert_eq!(w.store.policy_maintenance(policy).await.unwrap(), None);
    // The window is gone, but the held alert waits for the end it was given (a day at most).
    assert_eq!(held::release_due(&w.store).await.unwrap(), 0);
    w.event(d, 2, "cpu-load", true).await;
    assert_eq!(w.tickets(), 1);
    w.finish().await;
}
