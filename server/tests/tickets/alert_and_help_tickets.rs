//! Tickets for alerts and help requests: opened once, closed once, through faults and throttling.

use super::*;

#[tokio::test]
async fn an_alert_opens_one_ticket_and_resolving_it_closes_the_ticket_with_a_note() {
    let w = world().await;
    let devices = w.linked(1).await;
    let d = devices[0];

    let raised = batch(vec![event(1, "disk-free", AlertEventKind::Raised)]);
    let intake = monitoring::take_alert_batch(&w.store, d, &raised)
        .await
        .unwrap();
    assert_eq!((intake.accepted, intake.acked_through), (1, 1));
    w.engine.wake();
    w.settled().await;

    let tickets = w.tickets();
    assert_eq!(tickets.len(), 1, "one ticket: {tickets:?}");
    let t = &tickets[0];
    let tid = t["id"].as_i64().unwrap();
    assert_eq!(t["board"]["id"], MONITORING_BOARD);
    assert_eq!(status(t), MONITORING_NEW);
    assert_eq!(t["company"]["id"], ACME);
    assert_eq!(t["summary"], "Disk /var has 4.2% free on host-000");
    assert!(t["externalXRef"].as_str().unwrap().starts_with("bindery-"));
    assert_eq!(w.attached(tid), vec![w.config_id(0)]);
    let notes = w.notes(tid);
    assert_eq!(notes.len(), 1, "the initial description: {notes:?}");
    assert!(notes[0].contains("Below 10% for 5 minutes"));
    assert!(notes[0].contains("Serial number: SN00000"));

    // The batch again (its reply was lost), and another raise while open: still one ticket.
    let replay = monitoring::take_alert_batch(&w.store, d, &raised)
        .await
        .unwrap();
    assert_eq!((replay.accepted, replay.duplicates), (0, 1));
    w.send(d, event(2, "disk-free", AlertEventKind::Raised))
        .await;
    w.engine.wake();
    w.settled().await;
    assert_eq!(w.tickets().len(), 1);

    w.send(d, event(3, "disk-free", AlertEventKind::Resolved))
        .await;
    w.engine.wake();
    w.settled().await;
    let t = &w.tickets()[0];
    assert_eq!(status(t), MONITORING_CLOSED);
    assert_eq!(t["closedFlag"], true);
    // The repeat became one "still failing" note; the resolve the closing one.
    let notes = w.notes(tid);
    assert_eq!(notes.len(), 3, "{notes:?}");
    assert!(notes[1].starts_with("Still failing since"), "{notes:?}");
    assert!(notes[2].starts_with("Resolved:"), "{notes:?}");
    let (alerts, _) = w
        .store
        .alerts(&AlertFilter {
            limit: 10,
            ..AlertFilter::default()
        })
        .await
        .unwrap();
    assert_eq!(alerts[0].state, AlertState::Resolved);
    assert_eq!(alerts[0].repeats, 1);
    let brief = alerts[0].ticket.clone().unwrap();
    assert_eq!(
        (brief.state, brief.number),
        (TicketState::Closed, Some(tid))
    );
    w.finish().await;
}

#[tokio::test]
async fn a_person_closing_an_alert_closes_its_ticket_and_says_who() {
    let w = world().await;
    let d = w.linked(1).await[0];
    w.send(d, event(1, "memory-used", AlertEventKind::Raised))
        .await;
    w.engine.wake();
    w.settled().await;
    let (alerts, _) = w
        .store
        .alerts(&AlertFilter {
            limit: 10,
            ..AlertFilter::default()
        })
        .await
        .unwrap();
    monitoring::close_alert(&w.store, alerts[0].id, "ana")
        .await
        .unwrap()
        .unwrap();
    w.engine.wake();
    w.settled().await;
    let t = &w.tickets()[0];
    assert_eq!(status(t), MONITORING_CLOSED);
    let notes = w.notes(t["id"].as_i64().unwrap());
    assert_eq!(notes.last().unwrap(), "Closed in Bindery by ana.");
    // Resolving on the device afterwards changes nothing more.
    w.send(d, event(2, "memory-used", AlertEventKind::Resolved))
        .await;
    w.engine.wake();
    w.settled().await;
    assert_eq!(w.notes(t["id"].as_i64().unwrap()).len(), 2);
    w.finish().await;
}

#[tokio::test]
async fn faults_and_lost_replies_never_make_a_second_ticket_or_note() {
    let w = world().await;
    let devices = w.linked(20).await;
    w.sb.sandbox.set_faults(Faults {
        error_rate: 0.15,
        timeout_rate: 0.05,
        lost_reply_rate: 0.15,
        hang_ms: 300,
        burst_429: 5,
        retry_after_secs: 1,
        seed: Some(6),
        ..Faults::default()
    });
    for d in &devices {
        w.send(*d, event(1, "cpu-load", AlertEventKind::Raised))
            .await;
    }
    w.engine.wake();
    w.settled().await;
    for d in &devices {
        w.send(*d, event(2, "cpu-load", AlertEventKind::Resolved))
            .await;
    }
    w.engine.wake();
    w.settled().await;
    w.sb.sandbox.set_faults(Faults::default());
    let retried = w
        .engine
        .stats
        .jobs_retried
        .load(std::sync::atomic::Ordering::Relaxed);
    assert!(retried > 0, "the faults made some ticket writes retry");

    let tickets = w.tickets();
    assert_eq!(tickets.len(), 20, "one ticket per alert");
    let keys: std::collections::HashSet<&str> = tickets
        .iter()
        .map(|t| t["externalXRef"].as_str().unwrap())
        .collect();
    assert_eq!(keys.len(), 20);
    for (n, t) in tickets.iter().enumerate() {
        let tid = t["id"].as_i64().unwrap();
        assert_eq!(status(t), MONITORING_CLOSED, "ticket {n}");
        assert_eq!(w.attached(tid).len(), 1, "ticket {n}: one configuration");
        let resolved = w
            .notes(tid)
            .iter()
            .filter(|n| n.starts_with("Resolved:"))
            .count();
        assert_eq!(resolved, 1, "ticket {n}: one closing note");
    }
    let counts = w.store.ticket_counts().await.unwrap();
    assert_eq!(counts, vec![("closed".to_owned(), 20)]);
    w.finish().await;
}

#[tokio::test]
async fn alerts_of_an_unlinked_policy_are_kept_and_open_no_ticket() {
    let w = world().await;
    let p = w.store.create_policy("Lab").await.unwrap();
    let d = w.enroll(p.id, 0..1).await[0];
    w.send(d, event(1, "disk-free", AlertEventKind::Raised))
        .await;
    w.engine.wake();
    w.settled().await;
    assert!(w.tickets().is_empty());
    let (alerts, total) = w
        .store
        .alerts(&AlertFilter {
            limit: 1,
            ..AlertFilter::default()
        })
        .await
        .unwrap();
    assert_eq!(total, 1);
    assert_eq!(alerts[0].ticket, None);
    assert_eq!(
        alerts[0].no_ticket_reason.as_deref(),
        Some(monitoring::NOT_LINKED)
    );
    w.finish().await;
}

#[tokio::test]
async fn a_help_request_opens_a_self_service_ticket_once_and_the_user_closes_it() {
    let w = world().await;
    let d = w.linked(1).await[0];
    let req = HelpRequest {
        request_id: "6f1c2b1e-help".into(),
        user: Some("jane.doe".into()),
        summary: "Outlook keeps asking for my password".into(),
        details: Some("Since this morning".into()),
    };
    let first = monitoring::take_help_request(&w.store, d, &req)
        .await
        .unwrap();
    // Sent again (the reply was lost): the same request.
    let again = monitoring::take_help_request(&w.store, d, &req)
        .await
        .unwrap();
    assert_eq!(first.id, again.id);
    w.engine.wake();
    w.settled().await;
    let tickets = w.tickets();
    assert_eq!(tickets.len(), 1);
    let t = &tickets[0];
    let tid = t["id"].as_i64().unwrap();
    assert_eq!(t["board"]["id"], SELF_SERVICE_BOARD);
    assert_eq!(status(t), SELF_SERVICE_NEW);
    assert_eq!(t["contactName"], "jane.doe");
    assert_eq!(t["summary"], "Outlook keeps asking for my password");
    assert_eq!(w.attached(tid), vec![w.config_id(0)]);
    assert!(w.notes(tid)[0].contains("Requested by jane.doe on host-000"));

    let stored = w
        .store
        .help_request(d, &req.request_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.ticket.as_ref().unwrap().number, Some(tid));
    // Another device cannot close it; this one can.
    assert_eq!(
        monitoring::close_help_from_device(&w.store, DeviceId(d.0 + 1000), tid, None)
            .await
            .unwrap(),
        None
    );
    monitoring::close_help_from_device(&w.store, d, tid, None)
        .await
        .unwrap()
        .unwrap();
    w.engine.wake();
    w.settled().await;
    let t = &w.tickets()[0];
    assert_eq!(status(t), SELF_SERVICE_CLOSED);
    assert!(
        w.notes(tid)
            .last()
            .unwrap()
            .starts_with("Closed by jane.doe from the device")
    );
    w.finish().await;
}

#[tokio::test]
async fn a_silent_device_is_raised_offline_and_resolved_when_it_checks_in() {
    let w = world().await;
    let d = w.linked(2).await[0];
    // Nothing is offline right after start: silence counts from when the server began watching.
    assert_eq!(offline::sweep(&w.store, now_ms()).await.unwrap().raised, 0);
    let an_hour_ago = now_ms() - 3_600_000;
    sqlx::query("UPDATE devices SET last_seen_ms = $1 WHERE id = $2")
        .bind(an_hour_ago)
        .bind(d)
        .execute(w.store.pool())
        .await
        .unwrap();
    let s = offline::sweep(&w.store, 0).await.unwrap();
    assert_eq!((s.raised, s.resolved), (1, 0));
    // A second sweep (or a second server) raises nothing more.
    assert_eq!(offline::sweep(&w.store, 0).await.unwrap().raised, 0);
    w.engine.wake();
    w.settled().await;
    let tickets = w.tickets();
    assert_eq!(tickets.len(), 1);
    assert_eq!(tickets[0]["summary"], "Device offline on host-000");

    tokio::time::sleep(Duration::from_millis(5)).await;
    w.store.touch_seen(&[(d, now_ms())]).await.unwrap();
    let s = offline::sweep(&w.store, 0).await.unwrap();
    assert_eq!((s.raised, s.resolved), (0, 1));
    w.engine.wake();
    w.settled().await;
    assert_eq!(status(&w.tickets()[0]), MONITORING_CLOSED);
    w.finish().await;
}

#[tokio::test]
async fn a_lost_attach_reply_is_listed_before_any_second_attach() {
    let w = world().await;
    let devices = w.linked(1).await;
    // Every attach's reply is lost: it lands in ConnectWise, the server never hears.
    w.sb.sandbox.set_faults(Faults {
        lost_reply_rate: 1.0,
        only_method: Some("POST".into()),
        only_path: Some("/configurations".into()),
        ..Faults::default()
    });
    w.sb.sandbox.clear_requests();
    w.send(devices[0], event(1, "disk-free", AlertEventKind::Raised))
        .await;
    w.engine.wake();
    w.settled().await;
    let tickets = w.tickets();
    assert_eq!(tickets.len(), 1);
    let tid = tickets[0]["id"].as_i64().unwrap();
    assert_eq!(w.attached(tid), vec![w.config_id(0)]);
    let log = w.sb.sandbox.requests();
    let attach_path = format!("/service/tickets/{tid}/configurations");
    let posts: Vec<_> = log
        .iter()
        .filter(|r| r.method == "POST" && r.path.ends_with(&attach_path))
        .collect();
    assert_eq!(
        posts.len(),
        1,
        "one attach, never a blind second: {posts:?}"
    );
    assert!(
        log.iter()
            .any(|r| r.method == "GET" && r.path.ends_with(&attach_path)),
        "the retry listed the attachments"
    );
    assert!(log.iter().all(|r| r.status != 400), "no refused duplicate");
    let (alerts, _) = w.store.alerts(&AlertFilter::default()).await.unwrap();
    assert_eq!(
        alerts[0].ticket.as_ref().map(|t| t.state),
        Some(TicketState::Open)
    );
    w.finish().await;
}

#[tokio::test]
async fn after_a_429_no_request_of_any_job_goes_out_before_retry_after() {
    let w = world().await;
    let devices = w.linked(3).await;
    // The next request gets 429 with Retry-After: 2, whichever job sends it.
    w.sb.sandbox.set_faults(Faults {
        burst_429: 1,
        retry_after_secs: 2,
        ..Faults::default()
    });
    w.sb.sandbox.clear_requests();
    w.send(devices[0], event(1, "disk-free", AlertEventKind::Raised))
        .await;
    w.engine.wake();
    // Once the 429 is answered, more work arrives: other devices' alerts and a re-sync.
    for _ in 0..100 {
        if w.sb.sandbox.requests().iter().any(|r| r.status == 429) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let throttled_at = std::time::Instant::now();
    tokio::time::sleep(Duration::from_millis(300)).await;
    w.send(devices[1], event(1, "memory-used", AlertEventKind::Raised))
        .await;
    w.send(devices[2], event(1, "memory-used", AlertEventKind::Raised))
        .await;
    w.resync(CompanyId(ACME)).await;
    let log = w.sb.sandbox.requests();
    assert_eq!(log.iter().filter(|r| r.status == 429).count(), 1);
    let during: Vec<_> = log.iter().filter(|r| r.during_retry_after).collect();
    assert!(
        during.is_empty(),
        "requests sent while throttled: {during:?}"
    );
    assert!(
        throttled_at.elapsed() >= Duration::from_millis(1700),
        "the work after the 429 waited for it"
    );
    assert_eq!(w.tickets().len(), 3, "nothing failed: everything waited");
    let stats = w.engine.client_stats().await.unwrap();
    assert_eq!(stats.retry_after_pauses, 1);
    assert!(stats.paused_requests >= 1, "{stats:?}");
    w.finish().await;
}
