//! Callbacks as the sandbox sends them: registrations are checked like every other record; a
//! change to a ticket reaches each matching URL with the documented body, signed with the key
//! its `key_url` serves; Bindery's own changes are suppressed when asked; faults lose, double
//! and delay messages.
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::http::HeaderMap;
use base64::Engine;
use connectwise_sandbox::{Faults, Running, Seed};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

const BINDERY: (&str, &str) = ("bindery+sandbox-public", "sandbox-private");
const PERSON: (&str, &str) = ("bindery+tech-public", "tech-private");

type Received = Arc<Mutex<Vec<(HeaderMap, String)>>>;

/// A listener on loopback that keeps every POST it gets.
async fn receiver() -> (String, Received) {
    let got: Received = Arc::default();
    let keep = got.clone();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |headers: HeaderMap, body: String| {
            let keep = keep.clone();
            async move {
                keep.lock().unwrap().push((headers, body));
                StatusCode::OK
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://{addr}/hook?recordId="), got)
}

struct Api {
    sb: Running,
    http: reqwest::Client,
}

impl Api {
    async fn new() -> Api {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let sb =
            connectwise_sandbox::spawn("127.0.0.1:0".parse().unwrap(), Seed::default_seed(), true)
                .await
                .unwrap();
        Api {
            sb,
            http: reqwest::Client::new(),
        }
    }

    async fn call(
        &self,
        who: (&str, &str),
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut req = self
            .http
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
        let status = resp.status();
        let text = resp.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    async fn ticket(&self, who: (&str, &str)) -> i64 {
        let (s, t) = self
            .call(
                who,
                Method::POST,
                "service/tickets",
                Some(
                    json!({ "summary": "Disk full", "company": { "id": 2 }, "board": { "id": 1 } }),
                ),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{t}");
        t["id"].as_i64().unwrap()
    }
}

async fn wait_for(got: &Received, n: usize) -> Vec<(HeaderMap, String)> {
    for _ in 0..100 {
        if got.lock().unwrap().len() >= n {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    got.lock().unwrap().clone()
}

#[tokio::test]
async fn registrations_are_validated_like_every_record() {
    let api = Api::new().await;
    let cases = [
        (
            json!({ "objectId": 0, "type": "ticket", "level": "owner" }),
            "url",
        ),
        (
            json!({ "url": "https://x/", "type": "ticket", "level": "owner" }),
            "objectId",
        ),
        (
            json!({ "url": "ftp://x/", "objectId": 0, "type": "ticket", "level": "owner" }),
            "url",
        ),
        (
            json!({ "url": "https://x/", "objectId": 0, "type": "spaceship", "level": "owner" }),
            "type",
        ),
        (
            json!({ "url": "https://x/", "objectId": 0, "type": "ticket", "level": "galaxy" }),
            "level",
        ),
        (
            json!({ "url": "https://x/", "objectId": "0", "type": "ticket", "level": "owner" }),
            "objectId",
        ),
        (
            json!({ "url": "https://x/", "objectId": 0, "type": "ticket", "level": "owner", "description": "d".repeat(101) }),
            "description",
        ),
    ];
    for (body, field) in cases {
        let (s, e) = api
            .call(
                BINDERY,
                Method::POST,
                "system/callbacks",
                Some(body.clone()),
            )
            .await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{body}: {e}");
        assert!(
            e["errors"]
                .as_array()
                .unwrap()
                .iter()
                .any(|p| p["field"] == field),
            "{body}: {e}"
        );
    }
    let (s, made) = api
        .call(
            BINDERY,
            Method::POST,
            "system/callbacks",
            Some(json!({ "url": "https://x/hook", "objectId": 0, "type": "ticket", "level": "owner", "isSelfSuppressedFlag": true })),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED);
    let id = made["id"].as_i64().unwrap();
    let (_, count) = api
        .call(BINDERY, Method::GET, "system/callbacks/count", None)
        .await;
    assert_eq!(count["count"], 1);
    // PUT and PATCH are checked as a new registration is; who registered it is kept.
    let (s, e) = api
        .call(
            BINDERY,
            Method::PUT,
            &format!("system/callbacks/{id}"),
            Some(json!({ "url": "https://x/hook", "objectId": 0, "type": "ticket", "level": "galaxy" })),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{e}");
    let (s, patched) = api
        .call(
            PERSON,
            Method::PATCH,
            &format!("system/callbacks/{id}"),
            Some(json!([{ "op": "replace", "path": "inactiveFlag", "value": true }])),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{patched}");
    assert_eq!(patched["inactiveFlag"], true);
    assert_eq!(patched["_info"]["enteredBy"], "BinderyAPI");
    let (s, _) = api
        .call(
            BINDERY,
            Method::DELETE,
            &format!("system/callbacks/{id}"),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (s, _) = api
        .call(
            BINDERY,
            Method::GET,
            &format!("system/callbacks/{id}"),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    api.sb.stop().await;
}

#[tokio::test]
async fn a_persons_change_is_posted_signed_and_bindery_s_own_are_suppressed() {
    let api = Api::new().await;
    let (url, got) = receiver().await;
    let (s, _) = api
        .call(
            BINDERY,
            Method::POST,
            "system/callbacks",
            Some(json!({ "url": url, "objectId": 0, "type": "ticket", "level": "owner", "isSelfSuppressedFlag": true })),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED);
    // Bindery's own create is suppressed; a person's close is sent.
    let id = api.ticket(BINDERY).await;
    let (s, closed) = api
        .call(
            PERSON,
            Method::PATCH,
            &format!("service/tickets/{id}"),
            Some(json!([{ "op": "replace", "path": "status", "value": { "id": 2 } }])),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(closed["_info"]["updatedBy"], "jtech");
    assert_eq!(closed["_info"]["enteredBy"], "BinderyAPI");
    assert_eq!(closed["closedBy"], "jtech");
    let received = wait_for(&got, 1).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(got.lock().unwrap().len(), 1, "only the person's change");
    let (headers, body) = &received[0];
    let msg: Value = serde_json::from_str(body).unwrap();
    assert_eq!(msg["Action"], "updated");
    assert_eq!(msg["Type"], "ticket");
    assert_eq!(msg["ID"], id);
    assert_eq!(msg["MemberId"], "jtech");
    let entity: Value = serde_json::from_str(msg["Entity"].as_str().unwrap()).unwrap();
    assert_eq!(entity["closedFlag"], true);
    // The signature checks out with the key served at key_url (clientId required).
    let key_url = msg["Metadata"]["key_url"].as_str().unwrap();
    assert!(key_url.starts_with(&api.sb.url()), "{key_url}");
    let refused = api.http.get(key_url).send().await.unwrap();
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    let key: Value = serde_json::from_str(
        &api.http
            .get(key_url)
            .header("clientId", "tests")
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
    )
    .unwrap();
    let key = key["signing_key"].as_str().unwrap();
    let hashed = ring::digest::digest(&ring::digest::SHA256, key.as_bytes());
    let hmac = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, hashed.as_ref());
    let sig = base64::engine::general_purpose::STANDARD
        .decode(headers["x-content-signature"].to_str().unwrap())
        .unwrap();
    ring::hmac::verify(&hmac, body.as_bytes(), &sig).unwrap();
    // The URL got the record id appended.
    let sent = api.sb.sandbox.callbacks_sent();
    assert!(sent[0].url.ends_with(&format!("recordId={id}")), "{sent:?}");
    // A delete is announced too.
    let (s, _) = api
        .call(
            PERSON,
            Method::DELETE,
            &format!("service/tickets/{id}"),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let received = wait_for(&got, 2).await;
    let msg: Value = serde_json::from_str(&received[1].1).unwrap();
    assert_eq!(msg["Action"], "deleted");
    api.sb.stop().await;
}

#[tokio::test]
async fn faults_lose_double_and_delay_messages() {
    let api = Api::new().await;
    let (url, got) = receiver().await;
    api.call(
        BINDERY,
        Method::POST,
        "system/callbacks",
        Some(json!({ "url": url, "objectId": 0, "type": "ticket", "level": "owner" })),
    )
    .await;
    api.sb.sandbox.set_faults(Faults {
        callback_duplicate_rate: 1.0,
        ..Faults::default()
    });
    api.ticket(PERSON).await;
    let received = wait_for(&got, 2).await;
    assert_eq!(received.len(), 2);
    assert_eq!(received[0].1, received[1].1, "the same message twice");
    api.sb.sandbox.set_faults(Faults {
        callback_lost_rate: 1.0,
        ..Faults::default()
    });
    api.ticket(PERSON).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(got.lock().unwrap().len(), 2, "the message was lost");
    assert!(api.sb.sandbox.callbacks_sent().iter().any(|s| s.lost));
    api.sb.sandbox.set_faults(Faults {
        callback_delay_ms: 300,
        seed: Some(7),
        ..Faults::default()
    });
    for _ in 0..6 {
        api.ticket(PERSON).await;
    }
    let received = wait_for(&got, 8).await;
    let ids: Vec<i64> = received[2..]
        .iter()
        .map(|(_, b)| {
            serde_json::from_str::<Value>(b).unwrap()["ID"]
                .as_i64()
                .unwrap()
        })
        .collect();
    let mut sorted = ids.clone();
    sorted.sort();
    assert_eq!(ids.len(), 6);
    assert_ne!(ids, sorted, "held-back messages arrive out of order");
    api.sb.stop().await;
}
