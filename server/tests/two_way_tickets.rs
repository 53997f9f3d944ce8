//! Tickets both ways, against the sandbox over real HTTP: a person closing or deleting a ticket
//! in ConnectWise reaches Bindery through signed callbacks (or polling without them); forged,
//! foreign, replayed and Bindery's own messages do nothing; repeats become one note an hour;
//! an alert back soon reopens its ticket; each board's close rule.
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use bindery_server::ids::{CompanyId, DeviceId, TicketId};
use bindery_server::integration::{self, CloseRule};
use bindery_server::monitoring;
use bindery_server::reconcile::{callbacks, queue};
use bindery_server::state::{AgentSettings, AppState, Shared};
use bindery_server::store::{AlertFilter, AlertState, TicketState, now_ms};
use bindery_shared::protocol::{AlertBatch, AlertEvent, AlertEventKind};
use reqwest::Method;
use serde_json::{Value, json};

mod common;
use common::world::{World, world};

const ACME: i64 = 2;
const PERSON: (&str, &str) = ("bindery+tech-public", "tech-private");
const BINDERY: (&str, &str) = ("bindery+sandbox-public", "sandbox-private");

/// A world whose server also listens (so ConnectWise can call it back), with its state.
struct Served {
    w: World,
    state: Shared,
    base: String,
    http: reqwest::Client,
}

async fn served() -> Served {
    let w = world().await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let state = AppState::with_engine(
        w.store.clone(),
        AgentSettings {
            public_url: Some(base.clone()),
            connectwise_allow_http: true,
            ..AgentSettings::default()
        },
        Some((w.engine.clone(), w.key.clone())),
    );
    tokio::spawn(bindery_server::app::launch(
        state.clone(),
        listener,
        std::future::pending::<()>(),
    ));
    Served {
        w,
        state,
        base,
        http: reqwest::Client::new(),
    }
}

impl World {
    async fn raise(&self, d: DeviceId, seq: u64, raised: bool) {
        let e = AlertEvent {
            seq,
            monitor_id: "disk-free".into(),
            subject: Some("/var".into()),
            kind: if raised {
                AlertEventKind::Raised
            } else {
                AlertEventKind::Resolved
            },
            at_ms: now_ms() as u64,
            summary: "Disk /var has 4.2% free".into(),
            detail: None,
            value: Some(4.2),
        };
        monitoring::take_alert_batch(&self.store, d, &AlertBatch { events: vec![e] })
            .await
            .unwrap();
        self.engine.wake();
    }

    /// One device enrolled in a policy linked to Acme, bound.
    async fn linked_device(&self, n: usize) -> DeviceId {
        let policy = self.store.create_policy(&format!("p{n}")).await.unwrap();
        let d = self.enroll(policy.id, n..n + 1).await[0];
        self.link(policy.id, Some((CompanyId(ACME), "Acme"))).await;
        self.settled().await;
        d
    }

    async fn only_alert(&self, d: DeviceId) -> bindery_server::store::Alert {
        let (alerts, _) = self
            .store
            .alerts(&AlertFilter {
                device_id: Some(d),
                limit: 10,
                ..AlertFilter::default()
            })
            .await
            .unwrap();
        alerts.into_iter().next().unwrap()
    }

    fn cw_ticket(&self, id: i64) -> Option<Value> {
        self.sb.sandbox.data().tickets.get(id).cloned()
    }

    fn notes(&self, ticket: i64) -> Vec<Value> {
        self.sb
            .sandbox
            .data()
            .notes
            .values()
            .filter(|n| n["ticketId"] == ticket)
            .cloned()
            .collect()
    }

    /// A call to the sandbox's API as `who`.
    async fn cw(
        &self,
        who: (&str, &str),
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> Value {
        let mut req = reqwest::Client::new()
            .request(
                method,
                format!("{}/v4_6_release/apis/3.0/{path}", self.sb.url()),
            )
            .basic_auth(who.0, Some(who.1))
            .header("clientId", "tests");
        if let Some(b) = body {
            req = req
                .header("content-type", "application/json")
                .body(b.to_string());
        }
        let resp = req.send().await.unwrap();
        assert!(resp.status().is_success(), "{}", resp.status());
        serde_json::from_str(&resp.text().await.unwrap()).unwrap_or(Value::Null)
    }

    async fn close_as(&self, who: (&str, &str), cw: i64, status: i64) {
        self.cw(
            who,
            Method::PATCH,
            &format!("service/tickets/{cw}"),
            Some(json!([{ "op": "replace", "path": "status", "value": { "id": status } }])),
        )
        .await;
    }

    async fn set_close_rule(&self, rule: CloseRule) {
        let mut c = integration::choices(&self.store).await.unwrap().unwrap();
        c.monitoring.close_rule = rule;
        self.store
            .put_setting("cw.choices", &serde_json::to_string(&c).unwrap())
            .await
            .unwrap();
    }

    async fn ticket_state(&self, id: TicketId) -> bindery_server::store::Ticket {
        self.store.ticket(id).await.unwrap().unwrap()
    }
}

/// Waits up to `secs` for `check` to hold.
async fn eventually(secs: u64, mut check: impl AsyncFnMut() -> bool) -> bool {
    for _ in 0..secs * 20 {
        if check().await {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    false
}

#[tokio::test]
async fn a_person_closing_the_ticket_acknowledges_the_alert_through_the_callback() {
    let s = served().await;
    let w = &s.w;
    let status = s.state.ops().register_callbacks().await;
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
    assert!(!callbacks::status(&w.store).await.unwrap().registered);
    w.sb.sandbox.clear_requests();
    w.store.enqueue(&queue::poll_tickets_job()).await.unwrap();
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

/// A message as ConnectWise would send it about ticket `id`.
fn message(id: i64, key_url: &str) -> String {
    json!({
        "MessageId": uuid_like(),
        "FromUrl": "127.0.0.1",
        "CompanyId": "bindery",
        "MemberId": "jtech",
        "Action": "updated",
        "Type": "ticket",
        "ID": id,
        "Entity": "{}",
        "Metadata": { "key_url": key_url },
    })
    .to_string()
}

/// A fresh message id.
fn uuid_like() -> String {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
    format!("{:x}-{}", now_ms(), NEXT.fetch_add(1, Ordering::SeqCst))
}

fn sign(key: &str, body: &str) -> String {
    use base64::Engine as _;
    let hashed = ring::digest::digest(&ring::digest::SHA256, key.as_bytes());
    let k = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, hashed.as_ref());
    base64::engine::general_purpose::STANDARD.encode(ring::hmac::sign(&k, body.as_bytes()))
}

impl Served {
    async fn post(&self, body: &str, signature: &str) -> (u16, Value) {
        let r = self
            .http
            .post(format!("{}{}", self.base, callbacks::CALLBACK_PATH))
            .header("content-type", "application/json")
            .header("x-content-signature", signature)
            .body(body.to_owned())
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        (
            status,
            serde_json::from_str(&r.text().await.unwrap()).unwrap_or(Value::Null),
        )
    }
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

/// An alert event of `monitor` on `subject`.
fn event(seq: u64, monitor: &str, subject: &str, raised: bool) -> AlertEvent {
    AlertEvent {
        seq,
        monitor_id: monitor.into(),
        subject: Some(subject.into()),
        kind: if raised {
            AlertEventKind::Raised
        } else {
            AlertEventKind::Resolved
        },
        at_ms: now_ms() as u64,
        summary: format!("{monitor} on {subject}"),
        detail: None,
        value: None,
    }
}

#[tokio::test]
async fn a_device_cannot_flood_the_boards() {
    let w = world().await;
    let mut rules = integration::choices(&w.store)
        .await
        .unwrap()
        .unwrap()
        .tickets;
    rules.max_open_alerts = 3;
    rules.max_open_help = 2;
    integration::save_ticket_rules(&w.store, rules, CloseRule::Untouched, CloseRule::Untouched)
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
    w.store.enqueue(&queue::poll_tickets_job()).await.unwrap();
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
