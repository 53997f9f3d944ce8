//! Callbacks as ConnectWise sends them: when a ticket or configuration changes, every active
//! `CallbackEntry` of that type gets a POST of the documented body (PascalCase keys, the record
//! as a JSON string in `Entity`, `Metadata.key_url`), signed in `x-content-signature` with
//! base64(HMAC-SHA256(key = SHA-256(signing key), body)). The signing key is served at the
//! `key_url` to callers sending a clientId.
//!
//! Delivery is at least once, unordered and lossy on request (the callback faults): a message
//! may be lost, sent twice, or held back so that a later one overtakes it.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine;
use serde::Serialize;
use serde_json::{Value, json};

use crate::store::Data;
use crate::{CODEBASE, Sandbox};

/// Where the signing key is served, under the site (no API credentials needed, a clientId is).
pub const KEY_PATH: &str = "callbacks/keys/1";

/// A change to announce.
pub struct Change<'a> {
    /// `ticket` or `configuration`.
    pub kind: &'static str,
    /// `added`, `updated` or `deleted`.
    pub action: &'static str,
    pub record: &'a Value,
    /// The member who made it.
    pub member: &'a str,
    /// `http://host:port` as the caller reached the sandbox (ConnectWise's `FromUrl`).
    pub site: String,
}

/// One delivery attempt, as `/_sandbox/callbacks/sent` shows it.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Sent {
    pub callback_id: i64,
    pub url: String,
    pub message_id: String,
    pub action: String,
    pub record_id: i64,
    /// The receiver's status, or why there was none.
    pub outcome: String,
    /// Dropped by the `callbackLostRate` fault (never sent).
    pub lost: bool,
}

/// The sandbox's signing key and its log of deliveries.
pub struct Outbox {
    pub signing_key: String,
    sent: Mutex<Vec<Sent>>,
    http: Option<reqwest::Client>,
}

impl Default for Outbox {
    fn default() -> Outbox {
        let _ = rustls::crypto::ring::default_provider().install_default();
        Outbox {
            signing_key: format!("sandbox-signing-{:016x}", fastrand::u64(..)),
            sent: Mutex::new(Vec::new()),
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(5))
                .build()
                .ok(),
        }
    }
}

impl Outbox {
    pub fn sent(&self) -> Vec<Sent> {
        self.sent.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    pub fn clear(&self) {
        self.sent.lock().unwrap_or_else(|p| p.into_inner()).clear();
    }

    fn log(&self, entry: Sent) {
        let mut sent = self.sent.lock().unwrap_or_else(|p| p.into_inner());
        if sent.len() >= 100_000 {
            sent.remove(0);
        }
        sent.push(entry);
    }
}

/// `x-content-signature` for `body` under `signing_key`.
pub fn signature(signing_key: &str, body: &[u8]) -> String {
    let hashed = ring::digest::digest(&ring::digest::SHA256, signing_key.as_bytes());
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, hashed.as_ref());
    base64::engine::general_purpose::STANDARD.encode(ring::hmac::sign(&key, body).as_ref())
}

/// The active callbacks that want this change: its type, active, and not suppressed because
/// their own member made it. `level` `owner` (object 0) covers every record; `board` level
/// narrows tickets to the board in `objectId`.
fn matching(data: &Data, change: &Change) -> Vec<(i64, String)> {
    let board = change.record["board"]["id"].as_i64();
    data.callbacks
        .values()
        .filter(|c| {
            c["type"]
                .as_str()
                .is_some_and(|t| t.eq_ignore_ascii_case(change.kind))
        })
        .filter(|c| c["inactiveFlag"] != true)
        .filter(|c| {
            let level = c["level"].as_str().unwrap_or("").to_ascii_lowercase();
            let object = c["objectId"].as_i64().unwrap_or(0);
            match level.as_str() {
                "board" => change.kind == "ticket" && board == Some(object),
                _ => object == 0 || change.record["id"].as_i64() == Some(object),
            }
        })
        .filter(|c| {
            !(c["isSelfSuppressedFlag"] == true
                && c["_info"]["enteredBy"].as_str() == Some(change.member))
        })
        .filter_map(|c| Some((c["id"].as_i64()?, c["url"].as_str()?.to_owned())))
        .collect()
}

/// The body ConnectWise posts (payload version 3 shape).
fn body(sb: &Sandbox, change: &Change, message_id: &str) -> Value {
    let id = change.record["id"].as_i64().unwrap_or_default();
    json!({
        "MessageId": message_id,
        "FromUrl": change.site.trim_start_matches("http://").trim_start_matches("https://"),
        "CompanyId": sb.credentials().company_id,
        "MemberId": change.member,
        "Action": change.action,
        "Type": change.kind,
        "ID": id,
        "ProductInstanceId": "00000000-0000-0000-0000-000000000001",
        "PartnerId": "sandbox",
        "Entity": change.record.to_string(),
        "Metadata": { "key_url": format!("{}/{CODEBASE}{KEY_PATH}", change.site) },
        "CallbackObjectRecId": 0,
    })
}

/// Announces a change to every callback that wants it (deliveries run in the background).
pub fn announce(sb: &Arc<Sandbox>, data: &Data, change: Change) {
    if change.record["skipCallback"] == true {
        return;
    }
    let targets = matching(data, &change);
    if targets.is_empty() {
        return;
    }
    let record_id = change.record["id"].as_i64().unwrap_or_default();
    for (callback_id, url) in targets {
        let message_id = uuid::Uuid::new_v4().to_string();
        let payload = body(sb, &change, &message_id).to_string();
        let fate = sb
            .faults
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .draw_callback();
        // ConnectWise appends the record id to a URL ending in `recordId=`.
        let url = if url.ends_with("recordId=") {
            format!("{url}{record_id}")
        } else {
            url
        };
        let mut sent = Sent {
            callback_id,
            url: url.clone(),
            message_id,
            action: change.action.into(),
            record_id,
            outcome: String::new(),
            lost: false,
        };
        if fate.copies == 0 {
            sent.lost = true;
            sent.outcome = "lost".into();
            sb.outbox.log(sent);
            continue;
        }
        let sb = sb.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(fate.delay_ms)).await;
            for _ in 0..fate.copies {
                sent.outcome = deliver(&sb, &url, &payload).await;
                sb.outbox.log(sent.clone());
            }
        });
    }
}

async fn deliver(sb: &Sandbox, url: &str, payload: &str) -> String {
    let Some(http) = &sb.outbox.http else {
        return "no HTTP client".into();
    };
    let signed = signature(&sb.outbox.signing_key, payload.as_bytes());
    match http
        .post(url)
        .header("content-type", "application/json")
        .header("x-content-signature", signed)
        .body(payload.to_owned())
        .send()
        .await
    {
        Ok(r) => r.status().as_u16().to_string(),
        Err(e) => format!("error: {e}"),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_signature_is_hmac_sha256_keyed_by_the_keys_sha256() {
        // Computed independently: python3 -c "import hmac,hashlib,base64;
        // k=hashlib.sha256(b'key').digest();
        // print(base64.b64encode(hmac.new(k,b'{}',hashlib.sha256).digest()).decode())"
        assert_eq!(
            super::signature("key", b"{}"),
            "2P5ugu8P+WJqFxImlwA/l6MOomxD1EiS06BC3IwNbbE="
        );
    }
}
