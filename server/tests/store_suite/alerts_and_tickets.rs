//! The activity log, alerts and their tickets, help requests, and urgent ticket jobs.

use super::*;

on_both!(
    the_activity_log_is_filtered_by_kind_and_outcome,
    |store: Store| async move {
        use bindery_server::store::ACTIVITY_COUNTED_AT_MOST;
        for (action, ok) in [
            ("configuration.create", true),
            ("configuration.update", false),
            ("ticket.create", true),
            ("ticket.close", false),
            ("ticket.note", true),
            ("tickets.other", true),
        ] {
            let outcome = if ok { Ok(()) } else { Err("refused") };
            store.record_activity(action, "host", None, outcome).await;
        }
        let count = |prefix: &'static str, failed| {
            let store = store.clone();
            async move {
                let (rows, total) = store.activity(prefix, failed, 50, 0).await.unwrap();
                assert_eq!(rows.len() as i64, total);
                assert!(rows.iter().all(|r| r.action.starts_with(prefix)));
                assert!(rows.windows(2).all(|w| w[0].id > w[1].id), "newest first");
                total
            }
        };
        assert_eq!(count("", false).await, 6);
        assert_eq!(
            count("ticket.", false).await,
            3,
            "a prefix, not a substring"
        );
        assert_eq!(count("configuration.", false).await, 2);
        assert_eq!(count("", true).await, 2);
        assert_eq!(count("ticket.", true).await, 1);
        assert_eq!(count("nothing.", false).await, 0);
        let (second, _) = store.activity("", false, 2, 2).await.unwrap();
        assert_eq!(
            second[0].action, "ticket.close",
            "newest first, from the offset"
        );
        // A long log is counted only up to a limit, past which lists say "more than".
        sqlx::query(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $1) \
             INSERT INTO activity (at_ms, action, subject, ok) SELECT i, 'ticket.note', 'x', 1 FROM n",
        )
        .bind(ACTIVITY_COUNTED_AT_MOST)
        .execute(store.pool())
        .await
        .unwrap();
        let (_, total) = store.activity("", false, 50, 0).await.unwrap();
        assert_eq!(total, ACTIVITY_COUNTED_AT_MOST + 1);
        assert_eq!(count("", true).await, 2, "a narrower filter is still exact");
    }
);

on_both!(
    alerts_drop_replays_keep_one_open_per_monitor_and_queue_their_tickets,
    |store: Store| async move {
        let p = store.create_policy("Monitored").await.unwrap();
        let d = store
            .enroll_device(&new_device("a-1", None, p.id, "{}", "s"))
            .await
            .unwrap()
            .device()
            .id;
        let raise = alert_input(Some(1), "disk-free", true, d);
        let first = store
            .record_alert_events(d, std::slice::from_ref(&raise), &ticket_job)
            .await
            .unwrap();
        assert_eq!(
            (first.accepted, first.duplicates, first.acked_through),
            (1, 0, 1)
        );
        // The same batch again (a lost reply): dropped whole.
        let replay = store
            .record_alert_events(d, std::slice::from_ref(&raise), &ticket_job)
            .await
            .unwrap();
        assert_eq!(
            (replay.accepted, replay.duplicates, replay.acked_through),
            (0, 1, 1)
        );
        // A second raise while open is counted on the open alert, with no second ticket.
        let again = alert_input(Some(2), "disk-free", true, d);
        store
            .record_alert_events(d, &[again], &ticket_job)
            .await
            .unwrap();
        let (alerts, total) = store
            .alerts(&AlertFilter {
                limit: 50,
                ..AlertFilter::default()
            })
            .await
            .unwrap();
        assert_eq!(total, 1);
        assert_eq!(alerts[0].repeats, 1);
        assert_eq!(alerts[0].state, AlertState::Open);
        let ticket = alerts[0].ticket.clone().unwrap();
        assert_eq!(ticket.state, TicketState::Pending);
        assert!(!ticket.want_closed);
        assert_eq!(store.job_counts().await.unwrap().queued, 1);
        assert!(
            store
                .keyed_job(&format!("ticket:{}", ticket.id))
                .await
                .unwrap()
                .is_some()
        );

        // Resolving asks for the ticket closed with the note; a raise after opens a new alert.
        let resolve = alert_input(Some(3), "disk-free", false, d);
        let raise_again = alert_input(Some(4), "disk-free", true, d);
        store
            .record_alert_events(d, &[resolve, raise_again], &ticket_job)
            .await
            .unwrap();
        let t = store.ticket(ticket.id).await.unwrap().unwrap();
        assert!(t.want_closed);
        assert_eq!(t.close_note.as_deref(), Some("Resolved on the device"));
        let (open, n_open) = store
            .alerts(&AlertFilter {
                state: Some(AlertState::Open),
                limit: 50,
                ..AlertFilter::default()
            })
            .await
            .unwrap();
        assert_eq!(n_open, 1);
        assert_ne!(open[0].id, alerts[0].id);

        // A person closes the new one; closing it again is refused.
        let closed = store
            .close_alert(open[0].id, "Closed by admin", &ticket_job)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(closed.state, AlertState::Closed);
        assert!(matches!(
            store.close_alert(open[0].id, "again", &ticket_job).await,
            Err(StoreError::Conflict(_))
        ));

        // A device that enrolls again starts its sequence numbers afresh.
        store
            .enroll_device(&new_device("a-1", None, p.id, "{}", "s2"))
            .await
            .unwrap();
        let fresh = store
            .record_alert_events(
                d,
                &[alert_input(Some(1), "memory-used", true, d)],
                &ticket_job,
            )
            .await
            .unwrap();
        assert_eq!(fresh.accepted, 1);

        // An alert with no ticket keeps the reason.
        let mut unlinked = alert_input(Some(2), "cpu-load", true, d);
        unlinked.ticket = Err("not linked".into());
        store
            .record_alert_events(d, &[unlinked], &ticket_job)
            .await
            .unwrap();
        let (all, _) = store
            .alerts(&AlertFilter {
                device_id: Some(d),
                limit: 1,
                ..AlertFilter::default()
            })
            .await
            .unwrap();
        assert_eq!(all[0].monitor_id, "cpu-load");
        assert_eq!(all[0].ticket, None);
        assert_eq!(all[0].no_ticket_reason.as_deref(), Some("not linked"));
    }
);

on_both!(
    help_requests_are_idempotent_and_tickets_record_progress,
    |store: Store| async move {
        let p = store.create_policy("Helpdesk").await.unwrap();
        let d = store
            .enroll_device(&new_device("h-1", None, p.id, "{}", "s"))
            .await
            .unwrap()
            .device()
            .id;
        let req = NewHelpRequest {
            device_id: d,
            request_id: "req-1".into(),
            user_name: Some("jane".into()),
            summary: "Printer jammed".into(),
            details: None,
            ticket: Ok(NewTicket {
                route: None,
                integration_id: bindery_server::ids::IntegrationId::FIRST,
                device_id: d,
                board: TicketBoard::SelfService,
                company_id: CompanyId(2),
                site_id: None,
                summary: "Printer jammed".into(),
                description: "Requested by jane".into(),
                contact_name: Some("jane".into()),
            }),
        };
        let a = store.record_help(&req, &ticket_job).await.unwrap();
        let b = store.record_help(&req, &ticket_job).await.unwrap();
        assert_eq!(a, b);
        assert_eq!(store.help_requests(None, false, 50, 0).await.unwrap().1, 1);
        let tid = a.ticket.unwrap().id;
        let mut t = store.ticket(tid).await.unwrap().unwrap();
        assert_eq!(t.board, TicketBoard::SelfService);
        t.progress.cw_ticket_id = Some(77);
        t.progress.state = TicketState::Open;
        store.record_ticket(tid, &t.progress).await.unwrap();
        let by_number = store.help_request_by_ticket(d, 77).await.unwrap().unwrap();
        assert_eq!(by_number.ticket.as_ref().unwrap().number, Some(77));
        assert_eq!(store.help_request_by_ticket(d, 78).await.unwrap(), None);
        let closing = store
            .close_help(by_number.id, "Closed by jane", &ticket_job)
            .await
            .unwrap()
            .unwrap();
        assert!(closing.ticket.unwrap().want_closed);
        assert!(matches!(
            store.close_help(by_number.id, "again", &ticket_job).await,
            Err(StoreError::Conflict(_))
        ));
        assert_eq!(store.help_requests(None, true, 50, 0).await.unwrap().1, 0);
        // Tickets without their configuration are found for attaching once the device binds.
        assert_eq!(store.tickets_to_attach(d).await.unwrap(), vec![tid]);
    }
);
