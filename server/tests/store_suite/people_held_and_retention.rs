//! What people do in ConnectWise, alerts held by maintenance windows, and retention.

use super::*;

on_both!(
    what_people_do_in_connectwise_is_recorded_once,
    |store: Store| async move {
        use bindery_server::store::{AlertFilter, AlertState, TicketProgress, TicketState};
        let p = store.create_policy("P").await.unwrap();
        let d = store
            .enroll_device(&new_device("agent-a", None, p.id, "{}", "h"))
            .await
            .unwrap()
            .device()
            .id;
        store
            .record_alert_events(
                d,
                &[alert_input(Some(1), "disk-free", true, d)],
                &ticket_job,
            )
            .await
            .unwrap();
        let (alerts, _) = store
            .alerts(&AlertFilter {
                limit: 10,
                ..AlertFilter::default()
            })
            .await
            .unwrap();
        let ticket = alerts[0].ticket.as_ref().unwrap().id;
        let mut progress: TicketProgress = store.ticket(ticket).await.unwrap().unwrap().progress;
        progress.state = TicketState::Open;
        progress.cw_ticket_id = Some(501);
        store.record_ticket(ticket, &progress).await.unwrap();
        assert_eq!(
            store
                .open_cw_tickets(bindery_server::ids::IntegrationId::FIRST, 0, 1000)
                .await
                .unwrap(),
            vec![(ticket, 501)]
        );
        assert_eq!(
            store
                .ticket_by_cw_id(bindery_server::ids::IntegrationId::FIRST, 501)
                .await
                .unwrap(),
            Some(ticket)
        );
        // A callback message is taken once.
        assert!(store.take_callback_message("m-1").await.unwrap());
        assert!(!store.take_callback_message("m-1").await.unwrap());
        // A person's close: once, and the alert is acknowledged (still the active one).
        assert!(
            store
                .ticket_closed_by_person(ticket, "jtech")
                .await
                .unwrap()
        );
        assert!(
            !store
                .ticket_closed_by_person(ticket, "jtech")
                .await
                .unwrap()
        );
        let alert = store.alert(alerts[0].id).await.unwrap().unwrap();
        assert_eq!(alert.state, AlertState::Acknowledged);
        assert!(
            store
                .open_cw_tickets(bindery_server::ids::IntegrationId::FIRST, 0, 1000)
                .await
                .unwrap()
                .is_empty()
        );
        // A repeat counts on it, and opens nothing.
        store
            .record_alert_events(
                d,
                &[alert_input(Some(2), "disk-free", true, d)],
                &ticket_job,
            )
            .await
            .unwrap();
        let alert = store.alert(alerts[0].id).await.unwrap().unwrap();
        assert_eq!((alert.state, alert.repeats), (AlertState::Acknowledged, 1));
        assert_eq!(store.ticket_counts().await.unwrap().len(), 1);
        // Deleted: recorded once.
        assert!(store.ticket_deleted_in_connectwise(ticket).await.unwrap());
        assert!(!store.ticket_deleted_in_connectwise(ticket).await.unwrap());
        assert!(
            store
                .ticket(ticket)
                .await
                .unwrap()
                .unwrap()
                .deleted_ms
                .is_some()
        );
    }
);

on_both!(
    a_held_alert_opens_no_ticket_until_released_and_only_if_still_raised,
    |store: Store| async move {
        use bindery_server::store::{AlertFilter, Release};
        let p = store.create_policy("P").await.unwrap();
        let d = store
            .enroll_device(&new_device("agent-a", None, p.id, "{}", "h"))
            .await
            .unwrap()
            .device()
            .id;
        let until = now_ms() + 60_000;
        let held = |seq: i64, monitor: &str, raised: bool| AlertInput {
            held_until_ms: raised.then_some(until),
            ..alert_input(Some(seq), monitor, raised, d)
        };
        store
            .record_alert_events(
                d,
                &[
                    held(1, "disk-free", true),
                    held(2, "cpu", true),
                    held(3, "cpu", false),
                ],
                &ticket_job,
            )
            .await
            .unwrap();
        let all = |store: Store| async move {
            let (a, _) = store
                .alerts(&AlertFilter {
                    limit: 10,
                    held_only: true,
                    ..AlertFilter::default()
                })
                .await
                .unwrap();
            a
        };
        let alerts = all(store.clone()).await;
        assert_eq!(alerts.len(), 2);
        assert!(
            alerts
                .iter()
                .all(|a| a.ticket.is_none() && a.held_until_ms == Some(until))
        );
        assert_eq!(store.job_counts().await.unwrap().queued, 0, "no ticket job");
        assert_eq!(store.held_alert_count(p.id).await.unwrap(), 2);
        // Not due before the window ends.
        assert!(
            store
                .held_alerts_due(until - 1, 100)
                .await
                .unwrap()
                .is_empty()
        );
        let due = store.held_alerts_due(until, 100).await.unwrap();
        assert_eq!(due.len(), 2);
        let ticket = Release::Ticket(alert_input(Some(9), "x", true, d).ticket.map(Box::new));
        for a in &due {
            let asked = store
                .release_held(a.id, &ticket, &ticket_job)
                .await
                .unwrap();
            // The disk alert is still raised: its ticket now. The CPU one resolved meanwhile.
            assert_eq!(asked, a.monitor_id == "disk-free", "{}", a.monitor_id);
            // Released once: a second server doing the same does nothing.
            assert!(
                !store
                    .release_held(a.id, &ticket, &ticket_job)
                    .await
                    .unwrap()
            );
        }
        let alerts = all(store.clone()).await;
        let disk = alerts.iter().find(|a| a.monitor_id == "disk-free").unwrap();
        let cpu = alerts.iter().find(|a| a.monitor_id == "cpu").unwrap();
        assert!(disk.ticket.is_some() && disk.held_until_ms.is_none() && disk.held_ms.is_some());
        assert!(cpu.ticket.is_none());
        assert_eq!(
            cpu.no_ticket_reason.as_deref(),
            Some("resolved inside a maintenance window")
        );
        assert_eq!(store.job_counts().await.unwrap().queued, 1);
        assert_eq!(store.held_alert_count(p.id).await.unwrap(), 0);
        // A window that goes on holds on.
        store
            .record_alert_events(d, &[held(4, "mem", true)], &ticket_job)
            .await
            .unwrap();
        let mem = store.held_alerts_due(until, 10).await.unwrap()[0].id;
        assert!(
            !store
                .release_held(mem, &Release::HoldUntil(until + 5), &ticket_job)
                .await
                .unwrap()
        );
        assert!(store.held_alerts_due(until, 10).await.unwrap().is_empty());
        assert_eq!(store.held_alerts_due(until + 5, 10).await.unwrap().len(), 1);
        // Windows are stored per policy.
        store
            .set_policy_maintenance(p.id, Some(r#"{"weekly":[]}"#))
            .await
            .unwrap();
        assert_eq!(
            store.policy_maintenance(p.id).await.unwrap().as_deref(),
            Some(r#"{"weekly":[]}"#)
        );
    }
);

on_both!(
    history_past_its_retention_goes_in_batches_and_nothing_active_does,
    |store: Store| async move {
        const DAY: i64 = 86_400_000;
        let p = store.create_policy("Kept a while").await.unwrap();
        let d = store
            .enroll_device(&new_device("r-1", None, p.id, "{}", "s"))
            .await
            .unwrap()
            .device()
            .id;
        let old = now_ms() - 100 * DAY;
        let at = |mut a: AlertInput, linked: bool| {
            a.at_ms = old;
            if !linked {
                a.ticket = Err("not linked".into());
            }
            a
        };
        store
            .record_alert_events(
                d,
                &[
                    // Raised and resolved long ago, no ticket: history.
                    at(alert_input(Some(1), "disk-free", true, d), false),
                    at(alert_input(Some(2), "disk-free", false, d), false),
                    // Raised long ago and still open: kept, however old.
                    at(alert_input(Some(3), "cpu", true, d), false),
                    // Resolved long ago, its ticket not closed in ConnectWise yet: kept.
                    at(alert_input(Some(4), "memory", true, d), true),
                    at(alert_input(Some(5), "memory", false, d), true),
                ],
                &ticket_job,
            )
            .await
            .unwrap();
        for _ in 0..5 {
            sqlx::query(
                "INSERT INTO activity (at_ms, action, subject, ok) VALUES ($1, 'ticket.note', 'old', 1)",
            )
            .bind(old)
            .execute(store.pool())
            .await
            .unwrap();
        }
        store
            .record_activity("ticket.create", "recent", None, Ok(()))
            .await;
        // The audit trail is kept as long: an old change goes, a recent one stays.
        for _ in 0..3 {
            store
                .record_audit("ana", "session", None, "policy.rename", "policy 1", None)
                .await
                .unwrap();
        }
        sqlx::query("UPDATE audit SET at_ms = $1 WHERE id < 3")
            .bind(old)
            .execute(store.pool())
            .await
            .unwrap();
        let cutoff = now_ms() - 90 * DAY;

        // One batch takes at most its size of each kind, and says more may be waiting.
        let first = store.prune_batch(cutoff, cutoff, 2).await.unwrap();
        assert_eq!((first.activity, first.alerts), (2, 1), "{first:?}");
        assert!(first.full(2));
        let rest = store
            .prune(cutoff, cutoff, 2, std::time::Duration::ZERO)
            .await
            .unwrap();
        assert_eq!(
            (rest.activity, rest.alerts, rest.tickets),
            (3, 0, 0),
            "{rest:?}"
        );
        let (_, left) = store.activity("", false, 50, 0).await.unwrap();
        assert_eq!(left, 1, "the recent entry stays");
        assert_eq!(first.audit + rest.audit, 2, "{first:?} {rest:?}");
        let trail = store
            .audit(&bindery_server::store::AuditFilter {
                limit: 10,
                ..Default::default()
            })
            .await
            .unwrap();
        assert_eq!(trail.len(), 1, "the recent change stays");
        let alerts = |state| {
            let store = store.clone();
            async move {
                store
                    .alerts(&AlertFilter {
                        state,
                        limit: 50,
                        ..AlertFilter::default()
                    })
                    .await
                    .unwrap()
                    .1
            }
        };
        assert_eq!(alerts(Some(AlertState::Open)).await, 1);
        assert_eq!(alerts(Some(AlertState::Resolved)).await, 1);

        // Once ConnectWise has closed its ticket (long ago), the alert and the ticket go too.
        sqlx::query("UPDATE tickets SET closed_ms = $1")
            .bind(old)
            .execute(store.pool())
            .await
            .unwrap();
        let last = store
            .prune(cutoff, cutoff, 2, std::time::Duration::ZERO)
            .await
            .unwrap();
        assert_eq!((last.alerts, last.tickets), (1, 1), "{last:?}");
        assert_eq!(alerts(None).await, 1, "only the open alert is left");
        // Zero days (i64::MIN): nothing is old enough.
        assert_eq!(
            store
                .prune_batch(i64::MIN, i64::MIN, 100)
                .await
                .unwrap()
                .total(),
            0
        );
    }
);

on_both!(
    the_dashboard_counts_the_fleet_its_binding_and_its_tickets,
    |store: Store| async move {
        use bindery_server::store::{Binding, BindingState};
        let p = store.create_policy("P").await.unwrap();
        store
            .link_policy(p.id, Some((CompanyId(2), "Acme")))
            .await
            .unwrap();
        let mut ids = Vec::new();
        for n in 0..3 {
            let agent = format!("agent-d{n}");
            let d = store
                .enroll_device(&new_device(&agent, None, p.id, "{}", "h"))
                .await
                .unwrap()
                .device()
                .id;
            ids.push(d);
        }
        let bound = Binding {
            device_id: ids[0],
            state: BindingState::Bound,
            integration_id: bindery_server::ids::IntegrationId::FIRST,
            company_id: Some(CompanyId(2)),
            configuration_id: Some(ConfigurationId(1)),
            error: None,
            updated_ms: now_ms(),
            write_started_ms: None,
            candidates: Vec::new(),
        };
        store.set_binding(&bound).await.unwrap();
        // One device has not been seen for a day: offline.
        sqlx::query("UPDATE devices SET last_seen_ms = $1 WHERE id = $2")
            .bind(now_ms() - 86_400_000)
            .bind(ids[2])
            .execute(store.pool())
            .await
            .unwrap();
        let d = store
            .dashboard(now_ms() - 3_600_000, now_ms() - 30 * 86_400_000)
            .await
            .unwrap();
        assert_eq!((d.devices, d.online), (3, 2), "{d:?}");
        let first = bindery_server::ids::IntegrationId::FIRST;
        assert_eq!(
            d.bindings,
            vec![(first, "bound".into(), 1), (first, "pending".into(), 2)]
        );
        assert_eq!((d.open_alerts, d.help_requests), (0, 0));
        assert!(d.tickets_per_day.is_empty());
    }
);
