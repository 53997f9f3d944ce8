//! Enrollment, check-ins, limits, bad input, alert events and help requests.

use super::*;

#[tokio::test]
async fn an_agent_enrolls_and_checks_in_and_unchanged_facts_write_nothing() {
    let s = server().await;
    let auth = s.enroll("agent-1").await;
    let (status, reply) = s.post("/checkin", Some(&auth), checkin("pc-1")).await;
    assert_eq!(status, StatusCode::OK, "{reply}");
    assert_eq!(reply["nextCheckinSecs"], 30);
    assert_eq!(
        s.state.facts_writes(),
        1,
        "the facts differ from the enrollment's"
    );
    for _ in 0..5 {
        assert_eq!(
            s.post("/checkin", Some(&auth), checkin("pc-1")).await.0,
            StatusCode::OK
        );
    }
    assert_eq!(
        s.state.facts_writes(),
        1,
        "unchanged check-ins cost no write"
    );
    s.post("/checkin", Some(&auth), checkin("pc-renamed")).await;
    assert_eq!(s.state.facts_writes(), 2);

    let device = &s.state.store.devices(None).await.unwrap()[0];
    let facts = serde_json::to_value(&device.facts).unwrap();
    assert_eq!(facts["name"], "pc-renamed");
    assert_eq!(
        facts["macAddress"], "AA:BB:CC:DD:EE:FF",
        "normalised on the server too"
    );
    assert_eq!(
        facts["deviceIdentifier"], "agent-1",
        "the credential's agent id, not the body's"
    );
    s.state.flush_seen().await;
    assert!(s.state.store.device(device.id).await.unwrap().last_seen_ms >= device.enrolled_ms);
    let _ = s.stop.send(());
}

#[tokio::test]
async fn enrolling_again_needs_proof_and_a_known_serial_takes_nothing_over() {
    let s = server().await;
    let checkin = json!({"agentVersion": "0.1.0", "facts": {"name": "pc-1"}}).to_string();
    let first = s.enroll("agent-1").await;
    let office = s.state.store.devices(None).await.unwrap()[0].clone();

    // The same agent id without its credential is refused, and the device keeps working.
    let body =
        json!({"token": s.token, "agentId": "agent-1", "agentVersion": "0.1.0", "facts": {}});
    let (status, reply) = s.post("/enroll", None, body.to_string()).await;
    assert_eq!(status, StatusCode::CONFLICT, "{reply}");
    assert_eq!(
        s.post("/checkin", Some(&first), checkin.clone()).await.0,
        StatusCode::OK
    );
    // So is an upper-cased copy of it (ConnectWise would see one identifier for two devices).
    let body =
        json!({"token": s.token, "agentId": "AGENT-1", "agentVersion": "0.1.0", "facts": {}});
    let (status, reply) = s.post("/enroll", None, body.to_string()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{reply}");
    assert_eq!(reply["field"], "agentId");

    // With its credential, the machine enrolls again: same record, a new secret.
    let body = json!({"token": s.token, "agentId": "agent-1", "agentVersion": "0.1.0", "facts": {"name": "pc-1", "serialNumber": "77NDZ12"}});
    let (status, reply) = s.post("/enroll", Some(&first), body.to_string()).await;
    assert_eq!(status, StatusCode::OK, "{reply}");
    let second = format!("Bearer agent-1.{}", reply["deviceSecret"].as_str().unwrap());
    assert_eq!(
        s.post("/checkin", Some(&first), checkin.clone()).await.0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        s.post("/checkin", Some(&second), checkin.clone()).await.0,
        StatusCode::OK
    );

    // Someone with another policy's token and the label's serial gets a device of their own,
    // waiting as a possible reinstall; the real one keeps working, in its own policy.
    let lab = s.state.store.create_policy("Lab").await.unwrap();
    let (_, lab_token) = s
        .state
        .store
        .create_token(lab.id, "t", None, None)
        .await
        .unwrap();
    let body = json!({"token": lab_token, "agentId": "agent-2", "agentVersion": "0.1.0", "facts": {"serialNumber": "77NDZ12"}});
    let (status, reply) = s.post("/enroll", None, body.to_string()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(reply["agentId"], "agent-2");
    let impostor = format!("Bearer agent-2.{}", reply["deviceSecret"].as_str().unwrap());
    assert_eq!(
        s.post("/checkin", Some(&second), checkin.clone()).await.0,
        StatusCode::OK
    );
    let devices = s.state.store.devices(None).await.unwrap();
    assert_eq!(devices.len(), 2);
    assert_eq!(
        devices[0].policy_id, office.policy_id,
        "the real device stays put"
    );
    assert_eq!(devices[1].reinstall_of, Some(office.id));

    // An admin approves it as the same machine: its check-in is told the old agent id, and the
    // old credential stops working.
    bindery_server::ops::identity::resolve_reinstall(
        &s.state.store,
        devices[1].id,
        bindery_server::ops::identity::ReinstallAnswer::SameMachine,
    )
    .await
    .unwrap();
    let (status, reply) = s.post("/checkin", Some(&impostor), checkin.clone()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(reply["agentId"], "agent-1");
    let as_old = impostor.replace("agent-2", "agent-1");
    assert_eq!(
        s.post("/checkin", Some(&as_old), checkin.clone()).await.0,
        StatusCode::OK
    );
    assert_eq!(
        s.post("/checkin", Some(&second), checkin.clone()).await.0,
        StatusCode::UNAUTHORIZED
    );

    // Placeholder serials never match another machine: two white-box boards stay two devices.
    for id in ["agent-3", "agent-4"] {
        let body = json!({"token": s.token, "agentId": id, "agentVersion": "0.1.0", "facts": {"serialNumber": "0123456789"}});
        let (status, reply) = s.post("/enroll", None, body.to_string()).await;
        assert_eq!(
            (status, reply["agentId"].as_str()),
            (StatusCode::OK, Some(id))
        );
    }
    let devices = s.state.store.devices(None).await.unwrap();
    assert_eq!(devices.len(), 4);
    assert!(devices.iter().all(|d| d.reinstall_of.is_none()));
    let _ = s.stop.send(());
}

#[tokio::test]
async fn enrollment_attempts_are_rate_limited_per_address() {
    let s = server_with(AgentSettings {
        checkin_interval_secs: 30,
        enroll_per_minute: 3,
        ..AgentSettings::default()
    })
    .await;
    let body = json!({"token": "bdy_enr_guess", "agentId": "a", "agentVersion": "1", "facts": {}})
        .to_string();
    for _ in 0..3 {
        assert_eq!(
            s.post("/enroll", None, body.clone()).await.0,
            StatusCode::UNAUTHORIZED
        );
    }
    let resp = s
        .http
        .post(format!("{}/enroll", s.url))
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
    let wait: u64 = resp.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=20).contains(&wait), "{wait}");
    let reply: Value = serde_json::from_str(&resp.text().await.unwrap()).unwrap();
    assert_eq!(reply["code"], "rate_limited");
    let _ = s.stop.send(());
}

#[tokio::test]
async fn bad_tokens_and_credentials_get_401_and_change_nothing() {
    let s = server().await;
    let auth = s.enroll("agent-1").await;
    let body = json!({"token": "bdy_enr_wrong", "agentId": "agent-9", "agentVersion": "0.1.0", "facts": {}});
    let (status, reply) = s.post("/enroll", None, body.to_string()).await;
    assert_eq!(
        (status, reply["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("invalid_token"))
    );

    let forged = format!("{}x", &auth[..auth.len() - 1]);
    let other_device = "Bearer agent-2.".to_owned() + auth.rsplit('.').next().unwrap();
    for bad in [
        None,
        Some("Bearer nonsense"),
        Some(forged.as_str()),
        Some(other_device.as_str()),
        Some("Basic YTpi"),
    ] {
        let (status, reply) = s.post("/checkin", bad, checkin("hacked")).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{bad:?}");
        assert_eq!(reply["code"], "unauthorized");
    }
    assert_eq!(s.state.facts_writes(), 0);
    let facts = serde_json::to_value(&s.state.store.devices(None).await.unwrap()[0].facts).unwrap();
    assert_eq!(facts["name"], "pc-1");
    let _ = s.stop.send(());
}

#[tokio::test]
async fn malformed_and_oversized_bodies_get_clear_4xx() {
    let s = server().await;
    let auth = s.enroll("agent-1").await;
    let cases: [(&str, StatusCode, Option<&str>); 6] = [
        ("{\"agentVersion\": \"1\"", StatusCode::BAD_REQUEST, None),
        (
            "{\"agentVersion\": \"1\"}",
            StatusCode::BAD_REQUEST,
            Some("facts"),
        ),
        (
            "{\"agentVersion\": \"1\", \"facts\": {\"ram\": 16}}",
            StatusCode::BAD_REQUEST,
            Some("facts.ram"),
        ),
        ("[]", StatusCode::BAD_REQUEST, None),
        (
            "{\"agentVersion\": \"1\", \"facts\": {}, \"monitors\": [{\"monitorId\": \"a b\", \"status\": \"ok\"}]}",
            StatusCode::BAD_REQUEST,
            Some("monitors.monitorId"),
        ),
        (
            "{\"agentVersion\": \"1\", \"facts\": {}, \"futureField\": {\"x\": 1}}",
            StatusCode::OK,
            None,
        ),
    ];
    for (body, expected, field) in cases {
        let (status, reply) = s.post("/checkin", Some(&auth), body).await;
        assert_eq!(status, expected, "{body} → {reply}");
        if let Some(f) = field {
            assert_eq!(reply["field"], f, "{reply}");
            assert_eq!(reply["code"], "invalid_body");
        }
    }
    let huge = format!(
        "{{\"agentVersion\": \"1\", \"facts\": {{\"name\": \"{}\"}}}}",
        "x".repeat(300 * 1024)
    );
    let (status, reply) = s.post("/checkin", Some(&auth), huge).await;
    assert_eq!(
        (status, reply["code"].as_str()),
        (StatusCode::PAYLOAD_TOO_LARGE, Some("too_large"))
    );
    let (status, _) = s.post("/enroll", None, vec![0xffu8, 0xfe, 0x00]).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let _ = s.stop.send(());
}

#[tokio::test]
async fn alert_events_are_taken_in_order_replays_dropped_and_bad_batches_refused_whole() {
    let s = server().await;
    let cred = s.enroll("agent-alerts").await;
    let event = |seq: u64, kind: &str| {
        json!({"seq": seq, "monitorId": "disk-free", "subject": "/var", "kind": kind,
            "atMs": 1_795_310_405_000u64, "summary": "Disk /var has 4.2% free", "value": 4.2})
    };
    let batch = json!({"events": [event(1, "raised"), event(2, "resolved")]}).to_string();
    let (st, ack) = s.post("/alerts", Some(&cred), batch.clone()).await;
    assert_eq!(st, StatusCode::OK, "{ack}");
    assert_eq!(
        ack,
        json!({"ackedThrough": 2, "accepted": 2, "duplicates": 0})
    );
    let (_, ack) = s.post("/alerts", Some(&cred), batch).await;
    assert_eq!(
        ack,
        json!({"ackedThrough": 2, "accepted": 0, "duplicates": 2})
    );

    // Out of order, too long, or not a device: refused whole, nothing stored.
    let before = s.state.store.alerts(&Default::default()).await.unwrap().1;
    for (body, auth, want) in [
        (
            json!({"events": [event(5, "raised"), event(4, "raised")]}),
            Some(cred.as_str()),
            StatusCode::BAD_REQUEST,
        ),
        (
            json!({"events": [{"seq": 9, "monitorId": "disk-free", "kind": "raised", "atMs": 1, "summary": "x".repeat(101)}]}),
            Some(cred.as_str()),
            StatusCode::BAD_REQUEST,
        ),
        (
            json!({"events": [{"seq": 9, "monitorId": "a\"b", "kind": "raised", "atMs": 1, "summary": "x"}]}),
            Some(cred.as_str()),
            StatusCode::BAD_REQUEST,
        ),
        (
            json!({"events": [event(9, "raised")]}),
            None,
            StatusCode::UNAUTHORIZED,
        ),
    ] {
        let (st, b) = s.post("/alerts", auth, body.to_string()).await;
        assert_eq!(st, want, "{b}");
    }
    assert_eq!(
        s.state.store.alerts(&Default::default()).await.unwrap().1,
        before
    );

    // The spool's overflow count is kept with the device.
    let mut report: Value = serde_json::from_str(&checkin("pc-1")).unwrap();
    report["spoolDropped"] = json!(7);
    let (st, reply) = s.post("/checkin", Some(&cred), report.to_string()).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(
        reply["monitors"].as_array().unwrap().len(),
        3,
        "the default monitors"
    );
    let device = s.state.store.devices(None).await.unwrap().remove(0);
    assert_eq!(device.alert_events_dropped, 7);
    let _ = s.stop.send(());
}

#[tokio::test]
async fn a_help_request_is_kept_once_and_only_its_device_sees_it() {
    let s = server().await;
    let cred = s.enroll("agent-help").await;
    // Another machine (its own serial, so it is not taken for this one).
    let body = json!({"token": s.token, "agentId": "agent-other", "agentVersion": "0.1.0",
        "facts": {"name": "pc-2", "serialNumber": "OTHER42X"}});
    let (_, b) = s.post("/enroll", None, body.to_string()).await;
    let other = format!("Bearer agent-other.{}", b["deviceSecret"].as_str().unwrap());
    let req = json!({"requestId": "r-1", "user": "jane", "summary": "Printer jammed"}).to_string();
    let (st, first) = s.post("/help", Some(&cred), req.clone()).await;
    assert_eq!(st, StatusCode::OK, "{first}");
    // The policy is not linked: kept, with the reason no ticket was opened.
    assert_eq!(first["state"], "failed");
    assert!(first["message"].as_str().unwrap().contains("not linked"));
    let (_, again) = s.post("/help", Some(&cred), req).await;
    assert_eq!(again, first);
    assert_eq!(
        s.state
            .store
            .help_requests(None, false, 10, 0)
            .await
            .unwrap()
            .1,
        1
    );

    let get = |auth: String| {
        let http = s.http.clone();
        let url = format!("{}/help/r-1", s.url);
        async move {
            http.get(url)
                .header("authorization", auth)
                .send()
                .await
                .unwrap()
                .status()
        }
    };
    assert_eq!(get(cred.clone()).await, StatusCode::OK);
    assert_eq!(get(other.clone()).await, StatusCode::NOT_FOUND);
    let (st, _) = s
        .post(
            "/help/close",
            Some(&other),
            json!({"ticketNumber": 1}).to_string(),
        )
        .await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let (st, _) = s
        .post(
            "/help",
            Some(&cred),
            json!({"requestId": "r-2", "summary": "  "}).to_string(),
        )
        .await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    let _ = s.stop.send(());
}
