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
use bindery_server::state::Shared;
use bindery_server::store::{AlertFilter, AlertState, TicketState, now_ms};
use bindery_shared::protocol::{AlertBatch, AlertEvent, AlertEventKind};
use reqwest::Method;
use serde_json::{Value, json};

#[path = "../common/mod.rs"]
mod common;
use bindery_server::testkit::{World, world};

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
    let (state, base) = w.serve().await;
    Served {
        w,
        state,
        base,
        http: reqwest::Client::new(),
    }
}

/// What these tests add to the test world.
trait TwoWayWorld {
    async fn raise(&self, d: DeviceId, seq: u64, raised: bool);
    async fn linked_device(&self, n: usize) -> DeviceId;
    async fn only_alert(&self, d: DeviceId) -> bindery_server::store::Alert;
    fn cw_ticket(&self, id: i64) -> Option<Value>;
    fn notes(&self, ticket: i64) -> Vec<Value>;
    async fn cw(&self, who: (&str, &str), method: Method, path: &str, body: Option<Value>)
    -> Value;
    async fn close_as(&self, who: (&str, &str), cw: i64, status: i64);
    async fn set_close_rule(&self, rule: CloseRule);
    async fn ticket_state(&self, id: TicketId) -> bindery_server::store::Ticket;
}

impl TwoWayWorld for World {
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
        let mut c = integration::choices(&self.store, bindery_server::ids::IntegrationId::FIRST)
            .await
            .unwrap()
            .unwrap();
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

mod alerts_and_callbacks;
mod help_requests;

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
        self.post_to(callbacks::CALLBACK_PATH, body, signature)
            .await
    }

    /// As `post`, to `path` (another integration's callback path).
    async fn post_to(&self, path: &str, body: &str, signature: &str) -> (u16, Value) {
        let r = self
            .http
            .post(format!("{}{path}", self.base))
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
