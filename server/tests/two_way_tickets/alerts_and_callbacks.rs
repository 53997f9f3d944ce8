//! Alerts' tickets both ways: callbacks, polling, forged messages, repeats, reopening and close rules.

use super::*;

#[tokio::test]
async fn a_person_closing_the_ticket_acknowledges_the_alert_through_the_callback() {
    let s = served().await;
    let w = &s.w;
    let owner = bindery_server::access::Actor::command_line();
    let status = s
        .state
        .ops(&owner)
        .register_callbacks(bindery_server::ids::IntegrationId::FIRST)
        .await;
    assert!(status.registered, "{status:?}");
    assert_eq!(w.sb.sandbox.data().callbacks.len(), 1);
    let d = w.linked_device(1).await;
    w.raise(d, 1, true).await;
    w.settled().await;
    let alert = w.only_alert(d).await;
    let cw = alert.ticket.as_ref().unwrap().number.unwrap();
    w.close_as(PERSON, cw, 2).await;
    assert!(
        eventually(10, async || w.only_alert(d).await.state
            == AlertState::Acknowledged)
        .await,
        "the callback acknowledged the alert"
    );
    let acked = w.only_alert(d).await;
    let t = w.ticket_state(acked.ticket.as_ref().unwrap().id).await;
    assert_eq!(t.closed_by.as_deref(), Some("jtech"));
    // Repeats while acknowledged open nothing and write nothing.
    let tickets_before = w.sb.sandbox.data().tickets.len();
    let notes_before = w.notes(cw).len();
    w.raise(d, 2, true).await;
    w.raise(d, 3, true).await;
    w.settled().await;
    assert_eq!(w.sb.sandbox.data().tickets.len(), tickets_before);
    assert_eq!(w.notes(cw).len(), notes_before);
    assert_eq!(w.only_alert(d).await.repeats, 2);
    // The device resolves it: resolved, and the person's ticket is left as it is.
    w.raise(d, 4, false).await;
    w.settled().await;
    assert_eq!(w.only_alert(d).await.state, AlertState::Resolved);
    assert_eq!(w.notes(cw).len(), notes_before);
    assert_eq!(w.cw_ticket(cw).unwrap()["closedBy"], "jtech");
    // Bindery's own create was suppressed by ConnectWise: one message in all (the close).
    let sent = w.sb.sandbox.callbacks_sent();
    assert_eq!(sent.len(), 1, "{sent:?}");
    w.stop.send(true).ok();
}

#[tokio::test]
async fn with_callbacks_off_polling_finds_closes_and_deletes_in_one_request() {
    let w = world().await;
    let a = w.linked_device(1).await;
    let b = w.linked_device(2).await;
    w.raise(a, 1, true).await;
    w.raise(b, 1, true).await;
    w.settled().await;
    let cw_a = w.only_alert(a).await.ticket.unwrap().number.unwrap();
    let alert_b = w.only_alert(b).await;
    let cw_b = alert_b.ticket.as_ref().unwrap().number.unwrap();
    w.close_as(PERSON, cw_a, 2).await;
    w.cw(
        PERSON,
        Method::DELETE,
        &format!("service/tickets/{cw_b}"),
        None,
    )
    .await;
    assert!(
        !callbacks::status(&w.store, bindery_server::ids::IntegrationId::FIRST)
            .await
            .unwrap()
            .registered
    );
    w.sb.sandbox.clear_requests();
    w.store
        .enqueue(&queue::poll_tickets_job(
            bindery_server::ids::IntegrationId::FIRST,
        ))
        .await
        .unwrap();
    w.engine.wake();
    w.settled().await;
    assert_eq!(w.only_alert(a).await.state, AlertState::Acknowledged);
    let tb = w.ticket_state(alert_b.ticket.unwrap().id).await;
    assert!(tb.deleted_ms.is_some());
    assert_eq!(tb.progress.state, TicketState::Closed);
    let searches =
        w.sb.sandbox
            .requests()
            .iter()
            .filter(|r| r.path.ends_with("/service/tickets/search"))
            .count();
    assert_eq!(searches, 1, "{:?}", w.sb.sandbox.requests());
    // The deleted ticket is never recreated: its alert resolving and raising again writes
    // nothing for it.
    w.raise(b, 2, false).await;
    w.settled().await;
    assert!(w.cw_ticket(cw_b).is_none());
    w.stop.send(true).ok();
}

/// The site answering the key fetch with a redirect, or with an error page: the redirect is not
/// followed (the other port sees nothing), and the unsigned caller's 401 says nothing of what
/// the site answered.
#[tokio::test]
async fn a_key_fetch_answered_by_a_redirect_or_an_error_page_tells_the_caller_nothing() {
    let s = served().await;
    let w = &s.w;
    let key_url = format!("{}/v4_6_release/callbacks/keys/1", w.sb.url());
    let elsewhere = Arc::new(AtomicUsize::new(0));
    let count = elsewhere.clone();
    let other = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let other_url = format!("http://{}/key", other.local_addr().unwrap());
    let app = axum::Router::new().fallback(move || {
        count.fetch_add(1, Ordering::SeqCst);
        async { axum::Json(json!({ "signing_key": "attacker" })) }
    });
    tokio::spawn(async move { axum::serve(other, app).await });
    for (status, location) in [(302, Some(other_url.clone())), (500, None)] {
        w.sb.sandbox.set_faults(connectwise_sandbox::Faults {
            fail_with: Some(connectwise_sandbox::faults::FixedFailure {
                status,
                code: "Page".into(),
                message: "SITE PAGE TEXT 7f3a".into(),
                location,
            }),
            only_path: Some("callbacks/keys".into()),
            ..connectwise_sandbox::Faults::default()
        });
        let msg = message(1, &key_url);
        let (answer, body) = s.post(&msg, &sign("attacker", &msg)).await;
        assert_eq!(answer, 401, "{status}: {body}");
        assert!(!body.to_string().contains("7f3a"), "{status}: {body}");
        assert!(!body.to_string().contains(&other_url), "{status}: {body}");
    }
    assert_eq!(
        elsewhere.load(Ordering::SeqCst),
        0,
        "the redirect was followed"
    );
    let fetched = w.sb.sandbox.take_requests();
    assert_eq!(
        fetched
            .iter()
            .filter(|r| r.path.contains("callbacks/keys"))
            .count(),
        2,
        "one fetch each: {fetched:?}"
    );
}

#[tokio::test]
async fn forged_foreign_replayed_and_bindery_s_own_messages_cause_no_action() {
    let s = served().await;
    let w = &s.w;
    let d = w.linked_device(1).await;
    w.raise(d, 1, true).await;
    w.settled().await;
    let cw = w.only_alert(d).await.ticket.unwrap().number.unwrap();
    let key = w.sb.sandbox.signing_key().to_owned();
    let key_url = format!("{}/v4_6_release/callbacks/keys/1", w.sb.url());
    // A person closed it, but the message about it is forged: refused, nothing acts.
    w.close_as(PERSON, cw, 2).await;
    let forged = message(cw, &key_url);
    let (status, _) = s.post(&forged, &sign("not the key", &forged)).await;
    assert_eq!(status, 401);
    // A key_url on another host is never fetched.
    let fetched = Arc::new(AtomicUsize::new(0));
    let count = fetched.clone();
    let other = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let other_url = format!("http://{}/key", other.local_addr().unwrap());
    let app = axum::Router::new().route(
        "/key",
        axum::routing::get(move || {
            count.fetch_add(1, Ordering::SeqCst);
            async { axum::Json(json!({ "signing_key": "attacker" })) }
        }),
    );
    tokio::spawn(async move { axum::serve(other, app).await });
    let foreign = message(cw, &other_url);
    let (status, body) = s.post(&foreign, &sign("attacker", &foreign)).await;
    assert_eq!(status, 401, "{body}");
    assert_eq!(
        fetched.load(Ordering::SeqCst),
        0,
        "the foreign key_url was fetched"
    );
    w.settled().await;
    assert_eq!(w.only_alert(d).await.state, AlertState::Open);
    // A genuine message acts once; the same message again is a replay.
    let genuine = message(cw, &key_url);
    let sig = sign(&key, &genuine);
    let (status, body) = s.post(&genuine, &sig).await;
    assert_eq!((status, body["outcome"].as_str()), (200, Some("queued")));
    let (status, body) = s.post(&genuine, &sig).await;
    assert_eq!((status, body["outcome"].as_str()), (200, Some("repeated")));
    // The first integration's numbered path is the same; an integration not there has none.
    let first = format!("{}/1", callbacks::CALLBACK_PATH);
    let (status, body) = s.post_to(&first, &genuine, &sig).await;
    assert_eq!((status, body["outcome"].as_str()), (200, Some("repeated")));
    let gone = callbacks::callback_path(bindery_server::ids::IntegrationId(9));
    let (status, body) = s.post_to(&gone, &genuine, &sig).await;
    assert_eq!(status, 404, "{body}");
    w.settled().await;
    assert_eq!(w.only_alert(d).await.state, AlertState::Acknowledged);

    // Bindery's own API member closing a ticket is never a person's close.
    let d2 = w.linked_device(2).await;
    w.raise(d2, 1, true).await;
    w.settled().await;
    let cw2 = w.only_alert(d2).await.ticket.unwrap().number.unwrap();
    w.close_as(BINDERY, cw2, 2).await;
    let own = message(cw2, &key_url);
    let (status, _) = s.post(&own, &sign(&key, &own)).await;
    assert_eq!(status, 200);
    w.settled().await;
    assert_eq!(w.only_alert(d2).await.state, AlertState::Open);
    // Malformed bodies are refused with a clear error.
    let (status, body) = s.post("{not json", "x").await;
    assert_eq!(status, 400, "{body}");
    w.stop.send(true).ok();
}

#[tokio::test]
async fn repeats_become_at_most_one_internal_note_an_hour() {
    let w = world().await;
    let d = w.linked_device(1).await;
    w.raise(d, 1, true).await;
    w.settled().await;
    let alert = w.only_alert(d).await;
    let cw = alert.ticket.as_ref().unwrap().number.unwrap();
    for seq in 2..6 {
        w.raise(d, seq, true).await;
    }
    w.settled().await;
    let still: Vec<Value> = w
        .notes(cw)
        .into_iter()
        .filter(|n| n["text"].as_str().unwrap().starts_with("Still failing"))
        .collect();
    assert_eq!(still.len(), 1, "{still:?}");
    assert_eq!(still[0]["internalAnalysisFlag"], true);
    assert_eq!(still[0]["processNotifications"], false);
    assert!(
        still[0]["text"]
            .as_str()
            .unwrap()
            .contains("raised 2 times"),
        "{still:?}"
    );
    // An hour later the next repeat adds the next note.
    sqlx::query("UPDATE tickets SET repeat_noted_ms = repeat_noted_ms - 3600001")
        .execute(w.store.pool())
        .await
        .unwrap();
    w.raise(d, 6, true).await;
    w.settled().await;
    let still: Vec<String> = w
        .notes(cw)
        .into_iter()
        .filter_map(|n| n["text"].as_str().map(str::to_owned))
        .filter(|t| t.starts_with("Still failing"))
        .collect();
    assert_eq!(still.len(), 2, "{still:?}");
    assert!(still[1].contains("raised 6 times"), "{still:?}");
    assert_eq!(w.sb.sandbox.data().tickets.len(), 1);
    w.stop.send(true).ok();
}

#[tokio::test]
async fn an_alert_back_within_the_window_reopens_its_ticket_and_after_it_opens_a_new_one() {
    let w = world().await;
    w.set_close_rule(CloseRule::Always).await;
    let d = w.linked_device(1).await;
    w.raise(d, 1, true).await;
    w.raise(d, 2, false).await;
    w.settled().await;
    let first = w.only_alert(d).await.ticket.unwrap();
    let cw = first.number.unwrap();
    assert_eq!(w.cw_ticket(cw).unwrap()["closedFlag"], true);
    w.raise(d, 3, true).await;
    w.settled().await;
    let again = w.only_alert(d).await;
    assert_eq!(
        again.ticket.as_ref().unwrap().id,
        first.id,
        "the same ticket"
    );
    let t = w.cw_ticket(cw).unwrap();
    assert_eq!(t["closedFlag"], false);
    assert_eq!(t["status"]["id"], 1);
    assert!(
        w.notes(cw)
            .iter()
            .any(|n| n["text"].as_str().unwrap().starts_with("Reopened"))
    );
    assert_eq!(w.sb.sandbox.data().tickets.len(), 1);
    // Resolved again, then back after the window: a new ticket.
    w.raise(d, 4, false).await;
    w.settled().await;
    assert_eq!(w.cw_ticket(cw).unwrap()["closedFlag"], true);
    sqlx::query("UPDATE tickets SET closed_ms = closed_ms - 86400001")
        .execute(w.store.pool())
        .await
        .unwrap();
    w.raise(d, 5, true).await;
    w.settled().await;
    let newer = w.only_alert(d).await.ticket.unwrap();
    assert_ne!(newer.id, first.id);
    assert_eq!(w.sb.sandbox.data().tickets.len(), 2);
    w.stop.send(true).ok();
}

#[tokio::test]
async fn each_close_rule_closes_or_notes_as_it_says() {
    let w = world().await;
    // (rule, what a person did, closed afterwards)
    let cases: [(CloseRule, &str, bool); 6] = [
        (CloseRule::Untouched, "nothing", true),
        (CloseRule::Untouched, "note", false),
        (CloseRule::Untouched, "time", false),
        (CloseRule::Untouched, "status", false),
        (CloseRule::Never, "nothing", false),
        (CloseRule::Always, "note", true),
    ];
    for (n, (rule, touch, closes)) in cases.into_iter().enumerate() {
        w.set_close_rule(rule).await;
        let d = w.linked_device(n + 1).await;
        w.raise(d, 1, true).await;
        w.settled().await;
        let cw = w.only_alert(d).await.ticket.unwrap().number.unwrap();
        match touch {
            "note" => {
                w.cw(
                    PERSON,
                    Method::POST,
                    &format!("service/tickets/{cw}/notes"),
                    Some(json!({ "text": "Looking into it", "detailDescriptionFlag": true })),
                )
                .await;
            }
            "time" => {
                w.cw(
                    PERSON,
                    Method::POST,
                    "time/entries",
                    Some(json!({ "chargeToId": cw, "chargeToType": "ServiceTicket", "timeStart": "2026-12-02T10:00:00Z", "actualHours": 0.5 })),
                )
                .await;
            }
            // A person moved it to another open status (New again, by them).
            "status" => w.close_as(PERSON, cw, 1).await,
            _ => {}
        }
        w.raise(d, 2, false).await;
        w.settled().await;
        let t = w.cw_ticket(cw).unwrap();
        assert_eq!(t["closedFlag"], closes, "{rule:?} after {touch}: {t}");
        let notes = w.notes(cw);
        let resolved = notes
            .iter()
            .filter(|n| n["text"].as_str().unwrap().starts_with("Resolved"))
            .count();
        assert_eq!(resolved, 1, "{rule:?} after {touch}: one resolved note");
        if !closes {
            let bt = w
                .ticket_state(w.only_alert(d).await.ticket.unwrap().id)
                .await;
            assert!(bt.progress.left_open && bt.progress.closed_ms.is_some());
        }
    }
    w.stop.send(true).ok();
}
