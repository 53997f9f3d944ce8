//! ConnectWise calling Bindery back. With a public URL, saving the ConnectWise settings
//! registers one ticket callback (Bindery's own changes suppressed); without one, or when
//! ConnectWise refuses it, Bindery says why and polls instead.
//!
//! A message is taken only when its signature checks out against the key from its
//! `Metadata.key_url`, and that URL is fetched only from the configured site (the client
//! refuses any other host unread). A message seen before (by `MessageId`) is dropped. The
//! message itself is only a hint: the ticket it names is re-read by a job before anything is
//! done (`ticket_watch`).

use std::collections::HashMap;
use std::time::{Duration, Instant};

use base64::Engine as _;
use connectwise_client::model::CallbackEntry;
use connectwise_client::{Client, Error as CwError};
use serde::{Deserialize, Serialize};
use tokio::sync::Mutex;

use super::queue::ticket_check_job;
use crate::ids::TicketId;
use crate::store::{Result, Store};

/// Where ConnectWise posts.
pub const CALLBACK_PATH: &str = "/api/connectwise/v1/callback";
/// The setting holding the registration's state.
const REGISTRATION: &str = "tickets.callback";
/// The largest callback body taken (a ticket as JSON inside JSON; ConnectWise's are a few KiB).
pub const MAX_BODY: usize = 256 * 1024;
/// How long a fetched signing key is used before it is fetched again.
const KEY_TTL: Duration = Duration::from_secs(600);

/// Whether ConnectWise calls Bindery back, and if not, why.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CallbackStatus {
    pub registered: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub callback_id: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Why there is no callback (Bindery polls instead).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

pub async fn status(store: &Store) -> Result<CallbackStatus> {
    Ok(store
        .setting(REGISTRATION)
        .await?
        .and_then(|json| serde_json::from_str(&json).ok())
        .unwrap_or_else(|| CallbackStatus {
            reason: Some("the ConnectWise settings are not saved yet".into()),
            ..CallbackStatus::default()
        }))
}

/// Registers Bindery's ticket callback at `public_url` (replacing the one registered before),
/// or records why there is none. Never fails the save that calls it.
pub async fn register(store: &Store, client: &Client, public_url: Option<&str>) -> CallbackStatus {
    let before = status(store).await.unwrap_or_default();
    if let Some(old) = before.callback_id {
        match client.delete_callback(old).await {
            Ok(()) | Err(CwError::NotFound { .. }) => {}
            Err(e) => tracing::warn!(error = %e, "cannot remove the earlier callback"),
        }
    }
    let now = match public_url.map(|u| u.trim_end_matches('/')) {
        None | Some("") => CallbackStatus {
            reason: Some(
                "no public URL is set (public_url), so ConnectWise cannot reach this server; \
                 Bindery polls ticket statuses instead"
                    .into(),
            ),
            ..CallbackStatus::default()
        },
        Some(base) => {
            let url = format!("{base}{CALLBACK_PATH}?recordId=");
            let entry = CallbackEntry {
                description: Some("Bindery: tickets closed or deleted by people".into()),
                url: url.clone(),
                object_id: 0,
                kind: "ticket".into(),
                level: "owner".into(),
                is_self_suppressed_flag: Some(true),
                ..CallbackEntry::default()
            };
            match client.create_callback(&entry).await {
                Ok(made) => CallbackStatus {
                    registered: true,
                    callback_id: made.id,
                    url: Some(url),
                    reason: None,
                },
                Err(e) => CallbackStatus {
                    reason: Some(match e {
                        CwError::Forbidden { .. } => format!(
                            "{e} (System: Callbacks); Bindery polls ticket statuses instead"
                        ),
                        other => format!(
                            "ConnectWise did not register the callback ({other}); Bindery polls \
                             ticket statuses instead"
                        ),
                    }),
                    ..CallbackStatus::default()
                },
            }
        }
    };
    save(store, &now).await;
    now
}

/// Removes Bindery's callback (if any) and records that it polls.
pub async fn unregister(store: &Store, client: &Client) -> CallbackStatus {
    let before = status(store).await.unwrap_or_default();
    if let Some(id) = before.callback_id {
        match client.delete_callback(id).await {
            Ok(()) | Err(CwError::NotFound { .. }) => {}
            Err(e) => {
                return CallbackStatus {
                    reason: Some(format!("cannot remove the callback: {e}")),
                    ..before
                };
            }
        }
    }
    let now = CallbackStatus {
        reason: Some("callbacks were turned off; Bindery polls ticket statuses".into()),
        ..CallbackStatus::default()
    };
    save(store, &now).await;
    now
}

async fn save(store: &Store, status: &CallbackStatus) {
    let json = serde_json::to_string(status).unwrap_or_default();
    if let Err(e) = store.put_setting(REGISTRATION, &json).await {
        tracing::warn!(error = %e, "cannot record the callback's state");
    }
}

/// What became of one message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Taken {
    /// The ticket it names is re-read.
    Queued(TicketId),
    /// Seen before (its `MessageId`).
    Replay,
    /// Not about a ticket of Bindery's.
    Ignored(&'static str),
}

/// Why a message was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    #[error("{0}")]
    Malformed(String),
    #[error("{0}")]
    Unverified(String),
    /// Bindery cannot take it now (its database, no ConnectWise settings): send it again.
    #[error("{0}")]
    Unavailable(String),
}

/// The parts of a callback body Bindery reads.
#[derive(Deserialize)]
struct Message {
    #[serde(rename = "MessageId")]
    message_id: String,
    #[serde(rename = "Type")]
    kind: String,
    #[serde(rename = "ID")]
    id: i64,
    #[serde(rename = "Metadata")]
    metadata: Metadata,
}

#[derive(Deserialize)]
struct Metadata {
    key_url: String,
}

/// Key fetches allowed a minute for `key_url`s that never gave a key: unsigned messages naming
/// ever new URLs on the site cannot make Bindery spend the shared ConnectWise budget on them.
const KEY_FETCHES_PER_MINUTE: usize = 6;

/// How often a `key_url` that has given a key may be fetched again (the key rotated): it has an
/// allowance of its own, which strangers' messages cannot use up.
const PROVEN_REFETCH: Duration = Duration::from_secs(60);

/// Signing keys by `key_url`, fetched at most every ten minutes each. URLs that gave a key may
/// be fetched again once a minute each; all others share six fetches a minute.
#[derive(Default)]
pub struct KeyCache {
    keys: Mutex<HashMap<String, (String, Instant)>>,
    /// Fetches of URLs that never gave a key, in the last minute.
    unproven_fetches: Mutex<Vec<Instant>>,
    /// URLs that gave a key, and when each was last fetched.
    proven: Mutex<HashMap<String, Instant>>,
}

/// The key URL without its query or fragment: the cache's and the fetch's key, so that
/// `…/keys/1?x=1`, `?x=2`, … are one URL, fetched once.
fn key_address(key_url: &str) -> &str {
    key_url.split(['?', '#']).next().unwrap_or(key_url)
}

impl KeyCache {
    /// Counts a fetch of `url`, or refuses it past its allowance.
    async fn may_fetch(&self, url: &str) -> bool {
        if let Some(last) = self.proven.lock().await.get_mut(url) {
            if last.elapsed() < PROVEN_REFETCH {
                return false;
            }
            *last = Instant::now();
            return true;
        }
        let mut fetches = self.unproven_fetches.lock().await;
        fetches.retain(|t| t.elapsed() < Duration::from_secs(60));
        if fetches.len() >= KEY_FETCHES_PER_MINUTE {
            return false;
        }
        fetches.push(Instant::now());
        true
    }

    /// Remembers that `url` gave a key (a few at most: a site has one key URL in practice).
    async fn proved(&self, url: &str) {
        let mut proven = self.proven.lock().await;
        if proven.len() >= 16 && !proven.contains_key(url) {
            proven.clear();
        }
        proven.insert(url.to_owned(), Instant::now());
    }

    /// Verifies `body` against `signature`: with a key already fetched from the site (any of
    /// them: a valid signature under a key the site gave proves the message), else with the
    /// key from `key_url`, fetched only from the configured site and within the allowance.
    async fn verify(
        &self,
        client: &Client,
        key_url: &str,
        body: &[u8],
        signature: &str,
    ) -> std::result::Result<(), Refused> {
        let key_url = key_address(key_url);
        let mut keys = self.keys.lock().await;
        keys.retain(|_, (_, at)| at.elapsed() < KEY_TTL);
        if keys
            .values()
            .any(|(key, _)| signature_matches(key, body, signature))
        {
            return Ok(());
        }
        if !client.is_on_site(key_url) {
            return Err(Refused::Unverified(
                "the callback's key_url is not on the ConnectWise site; not fetched".into(),
            ));
        }
        if keys.contains_key(key_url) {
            return Err(Refused::Unverified("the signature does not match".into()));
        }
        if !self.may_fetch(key_url).await {
            return Err(Refused::Unverified(
                "too many signing-key fetches this minute; not fetched".into(),
            ));
        }
        // The caller is not verified: it learns nothing of what the fetch found (an error page
        // on the site may say anything); the log keeps it.
        let key = client.callback_signing_key(key_url).await.map_err(|e| {
            tracing::warn!(error = %crate::logged::escaped(&e.to_string(), 300), "cannot fetch a callback's signing key");
            Refused::Unverified("the signing key could not be fetched from the ConnectWise site".into())
        })?;
        self.proved(key_url).await;
        if keys.len() > 16 {
            keys.clear();
        }
        let matches = signature_matches(&key, body, signature);
        keys.insert(key_url.to_owned(), (key, Instant::now()));
        if matches {
            Ok(())
        } else {
            Err(Refused::Unverified("the signature does not match".into()))
        }
    }
}

/// True when `signature` is base64(HMAC-SHA256(key = SHA-256(signing key), body)); compared in
/// constant time.
pub fn signature_matches(signing_key: &str, body: &[u8], signature: &str) -> bool {
    let Ok(sig) = base64::engine::general_purpose::STANDARD.decode(signature.trim()) else {
        return false;
    };
    let hashed = ring::digest::digest(&ring::digest::SHA256, signing_key.as_bytes());
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, hashed.as_ref());
    ring::hmac::verify(&key, body, &sig).is_ok()
}

/// Verifies one message and queues the re-read of the ticket it names.
pub async fn take(
    store: &Store,
    client: &Client,
    keys: &KeyCache,
    body: &[u8],
    signature: Option<&str>,
) -> std::result::Result<Taken, Refused> {
    let msg: Message = serde_json::from_slice(body)
        .map_err(|e| Refused::Malformed(format!("not a ConnectWise callback: {e}")))?;
    let signature =
        signature.ok_or_else(|| Refused::Unverified("no x-content-signature header".into()))?;
    keys.verify(client, &msg.metadata.key_url, body, signature)
        .await?;
    let stored = |e: crate::store::StoreError| {
        tracing::error!(error = %e, "cannot record a ConnectWise callback");
        Refused::Unavailable("Bindery cannot record it now; send it again".into())
    };
    if !store
        .take_callback_message(&msg.message_id)
        .await
        .map_err(stored)?
    {
        return Ok(Taken::Replay);
    }
    if !msg.kind.eq_ignore_ascii_case("ticket") {
        return Ok(Taken::Ignored("not about a ticket"));
    }
    let Some(ticket) = store.ticket_by_cw_id(msg.id).await.map_err(stored)? else {
        return Ok(Taken::Ignored("not a ticket of Bindery's"));
    };
    store
        .enqueue(&ticket_check_job(ticket))
        .await
        .map_err(stored)?;
    Ok(Taken::Queued(ticket))
}

impl super::Engine {
    /// Takes a ConnectWise callback message (see `callbacks::take`) and starts its job.
    pub async fn take_callback(
        &self,
        body: &[u8],
        signature: Option<&str>,
    ) -> std::result::Result<Taken, Refused> {
        let client = self.shared_client().await.map_err(|e| {
            Refused::Unavailable(format!("ConnectWise is not configured: {}", e.message()))
        })?;
        let taken = take(&self.store, &client, &self.callback_keys, body, signature).await?;
        self.wake();
        Ok(taken)
    }
}

#[cfg(test)]
mod tests {
    #[tokio::test]
    async fn strangers_urls_share_six_fetches_a_minute_and_a_proven_one_keeps_its_own() {
        let cache = super::KeyCache::default();
        let site = "https://na.myconnectwise.net/v4_6_release/apis/3.0/callbacks/keys/1";
        // The site's key URL gave a key once, a while ago.
        cache.proved(site).await;
        *cache.proven.lock().await.get_mut(site).unwrap() -= super::PROVEN_REFETCH;
        for n in 0..super::KEY_FETCHES_PER_MINUTE {
            assert!(cache.may_fetch(&format!("{site}/forged-{n}")).await);
        }
        assert!(!cache.may_fetch(&format!("{site}/forged-more")).await);
        // Strangers used the shared allowance up; the proven URL may still be fetched (its key
        // rotated), once a minute.
        assert!(cache.may_fetch(site).await);
        assert!(!cache.may_fetch(site).await);
    }

    #[test]
    fn query_strings_and_fragments_make_no_new_key_url() {
        let url = "https://na.myconnectwise.net/v4_6_release/apis/3.0/callbacks/keys/1";
        for variant in [
            url.to_owned(),
            format!("{url}?x=1"),
            format!("{url}?x=2#y"),
            format!("{url}#z"),
        ] {
            assert_eq!(super::key_address(&variant), url);
        }
    }

    #[test]
    fn signatures_match_connectwise_s_scheme_and_nothing_else() {
        // As the sandbox signs (and python: base64(hmac(sha256(b'key'), b'{}', sha256))).
        let good = "2P5ugu8P+WJqFxImlwA/l6MOomxD1EiS06BC3IwNbbE=";
        assert!(super::signature_matches("key", b"{}", good));
        assert!(!super::signature_matches("key", b"{} ", good));
        assert!(!super::signature_matches("other", b"{}", good));
        assert!(!super::signature_matches("key", b"{}", "not base64!"));
        assert!(!super::signature_matches("key", b"{}", ""));
    }
}
