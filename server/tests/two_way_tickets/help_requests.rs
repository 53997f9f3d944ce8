//! Help requests both ways, and the boards' flood limit.

use super::*;

#[tokio::test]
async fn a_device_cannot_flood_the_boards() {
    let w = world().await;
    let mut rules = integration::choices(&w.store, bindery_server::ids::IntegrationId::FIRST)
        .await
        .unwrap()
        .unwrap()
        .tickets;
    rules.max_open_alerts = 3;
    rules.max_open_help = 2;
    integration::save_ticket_rules(
        &w.store,
        bindery_server::ids::IntegrationId::FIRST,
        rules,
        CloseRule::Untouched,
        CloseRule::Untouched,
    )
    .await
    .unwrap();
    let d = w.linked_device(1).await;
    let take = |events: Vec<AlertEvent>| {
        let store = w.store.clone();
        async move { monitoring::take_alert_batch(&store, d, &AlertBatch { events }).await }
    };
    let three: Vec<AlertEvent> = ["/a", "/b", "/c"]
        .iter()
        .enumerate()
        .map(|(i, s)| event(i as u64 + 1, "disk-free", s, true))
        .collect();
    take(three).await.unwrap();
    // A fourth is refused whole, with nothing of its batch taken.
    let refused = take(vec![
        event(4, "disk-free", "/a", false),
        event(5, "disk-free", "/d", true),
        event(6, "disk-free", "/e", true),
    ])
    .await;
    match refused {
        Err(bindery_server::store::StoreError::Limited(why)) => {
            assert!(why.contains("the most allowed (3)"), "{why}")
        }
        other => panic!("not refused: {other:?}"),
    }
    let failure = bindery_server::failure::ApiFailure::from(
        bindery_server::store::StoreError::Limited("x".into()),
    );
    assert_eq!(failure.status.as_u16(), 429);
    // A resolve frees room for a raise in the same batch; repeats of active ones are free.
    let ok = take(vec![
        event(4, "disk-free", "/a", false),
        event(5, "disk-free", "/d", true),
        event(6, "disk-free", "/b", true),
    ])
    .await
    .unwrap();
    assert_eq!(ok.accepted, 3);
    // A monitor the policy does not run: its sequence number is taken, nothing else.
    let ignored = take(vec![event(7, "evil", "/x", true)]).await.unwrap();
    assert_eq!(ignored.acked_through, 7);
    let (alerts, total) = w
        .store
        .alerts(&AlertFilter {
            device_id: Some(d),
            limit: 50,
            ..AlertFilter::default()
        })
        .await
        .unwrap();
    assert_eq!(total, 4, "{alerts:?}");
    assert!(alerts.iter().all(|a| a.monitor_id == "disk-free"));
    // Help requests: two open at most.
    for n in 0..3 {
        let msg = bindery_shared::protocol::HelpRequest {
            request_id: format!("req-{n}"),
            summary: "Printer".into(),
            details: None,
            user: None,
        };
        let r = monitoring::take_help_request(&w.store, d, &msg).await;
        assert_eq!(r.is_ok(), n < 2, "request {n}: {r:?}");
    }
    w.stop.send(true).ok();
}

#[tokio::test]
async fn a_help_request_closed_by_the_helpdesk_reads_as_closed_for_its_user() {
    let w = world().await;
    let d = w.linked_device(1).await;
    let msg = bindery_shared::protocol::HelpRequest {
        request_id: "req-1".into(),
        summary: "The printer is jammed".into(),
        details: None,
        user: Some("jane".into()),
    };
    monitoring::take_help_request(&w.store, d, &msg)
        .await
        .unwrap();
    w.engine.wake();
    w.settled().await;
    let h = w.store.help_request(d, "req-1").await.unwrap().unwrap();
    let cw = h.ticket.as_ref().unwrap().number.unwrap();
    w.close_as(PERSON, cw, 4).await;
    w.store
        .enqueue(&queue::poll_tickets_job(
            bindery_server::ids::IntegrationId::FIRST,
        ))
        .await
        .unwrap();
    w.engine.wake();
    w.settled().await;
    let h = w.store.help_request(d, "req-1").await.unwrap().unwrap();
    let t = h.ticket.unwrap();
    assert_eq!(t.state, TicketState::Closed);
    assert_eq!(t.closed_by.as_deref(), Some("jtech"));
    // It no longer counts as open (nor against the device's limit).
    assert_eq!(w.store.open_help_count(d).await.unwrap(), 0);
    w.stop.send(true).ok();
}

#[tokio::test]
async fn a_help_request_names_the_user_s_contact_when_exactly_one_fits() {
    let w = world().await;
    let d = w.linked_device(1).await;
    let ask = |id: &str, user: &str| bindery_shared::protocol::HelpRequest {
        request_id: id.into(),
        summary: "The printer is jammed".into(),
        details: None,
        user: Some(user.into()),
    };
    let contact_of = async |id: &str| {
        w.engine.wake();
        w.settled().await;
        let h = w.store.help_request(d, id).await.unwrap().unwrap();
        let cw = h.ticket.unwrap().number.unwrap();
        w.cw_ticket(cw).unwrap()["contact"].clone()
    };
    monitoring::take_help_request(&w.store, d, &ask("r1", "ACME\\jane.doe"))
        .await
        .unwrap();
    let c = contact_of("r1").await;
    assert_eq!(
        (c["id"].as_i64(), c["name"].as_str()),
        (Some(1), Some("Jane Doe"))
    );
    // John and Joan Smith both fit j.smith: no contact rather than a guess.
    monitoring::take_help_request(&w.store, d, &ask("r2", "j.smith"))
        .await
        .unwrap();
    assert!(contact_of("r2").await.is_null());
    // The company's contacts were read once for both.
    let reads =
        w.sb.sandbox
            .requests()
            .iter()
            .filter(|r| r.path.ends_with("/company/contacts"))
            .count();
    assert_eq!(reads, 1);
    // An admin's mapping wins.
    w.store
        .put_setting(
            bindery_server::reconcile::contact_lookup::MANUAL,
            r#"[["j.smith", 4]]"#,
        )
        .await
        .unwrap();
    monitoring::take_help_request(&w.store, d, &ask("r3", "CORP\\j.smith"))
        .await
        .unwrap();
    assert_eq!(contact_of("r3").await["id"], 4);
    w.stop.send(true).ok();
}
