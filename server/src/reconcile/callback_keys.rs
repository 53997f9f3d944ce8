//! The signing keys of ConnectWise's callbacks: fetched only from the instance's own site, kept
//! ten minutes, and rationed, so unsigned messages naming ever new key URLs cannot make Bindery
//! spend the instance's request budget. A message is taken only when its signature checks out.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use base64::Engine as _;
use connectwise_client::Client;
use tokio::sync::Mutex;

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

/// How long a fetched signing key is used before it is fetched again.
const KEY_TTL: Duration = Duration::from_secs(600);

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
    pub(super) async fn verify(
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
