//! The HTTP core every operation goes through: codebase discovery, headers, rate limit,
//! concurrency bound, timeout, error mapping and paging.

use std::sync::{Arc, RwLock};
use std::time::Duration;

use futures_util::Stream;
use reqwest::Method;
use reqwest::header::{ACCEPT, CONTENT_TYPE, HeaderMap, LINK, RETRY_AFTER};
use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio::sync::Semaphore;

use crate::config::ClientConfig;
use crate::error::Error;
use crate::model::CompanyInfo;
use crate::paging::parse_link_header;
use crate::rate_limit::RateLimiter;
use crate::wire::{encode, install_tls_provider, redirect_host, transport_error, with_query};

/// How long a 429 without `Retry-After` holds the client's requests back.
const DEFAULT_THROTTLE_PAUSE: Duration = Duration::from_secs(5);
/// The longest pause a `Retry-After` can ask for (a mistaken header must not stall the server).
const MAX_THROTTLE_PAUSE: Duration = Duration::from_secs(300);

/// A ConnectWise Manage client. Cheap to clone; clones share the rate limiter (with its pause
/// after a 429) and the bound on concurrent requests.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    http: reqwest::Client,
    config: ClientConfig,
    /// `{origin}/{codebase}apis/3.0/`, once known.
    base: RwLock<Option<String>>,
    /// Held while the codebase is looked up: the jobs that start together after a restart
    /// wait for one lookup instead of each making its own.
    discovery: tokio::sync::Mutex<()>,
    limiter: RateLimiter,
    permits: Semaphore,
    /// Answers by HTTP status (0: no answer: a timeout or a network error), for metrics.
    answers: std::sync::Mutex<std::collections::BTreeMap<u16, u64>>,
}

/// What a request carries: the API keys and clientId, the clientId alone (a callback's signing
/// key), or nothing (the company info).
#[derive(Clone, Copy)]
enum Auth {
    Keys,
    ClientId,
    None,
}

/// A successful answer.
pub(crate) struct Reply {
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, Error> {
        serde_json::from_slice(&self.body).map_err(|e| Error::Unexpected {
            message: format!("the answer is not the documented JSON: {e}"),
        })
    }

    fn next_link(&self) -> Option<String> {
        let header = self.headers.get(LINK)?.to_str().ok()?;
        parse_link_header(header)
            .into_iter()
            .find(|(rel, _)| rel == "next")
            .map(|(_, url)| url)
    }
}

/// What to send: a path under `apis/3.0/` (or an absolute URL from a `Link` header) with its
/// query pairs, an optional JSON body and optional extra headers.
pub(crate) struct Call<'a> {
    pub method: Method,
    pub path: &'a str,
    pub query: Vec<(&'static str, String)>,
    pub body: Option<serde_json::Value>,
    pub forward_only: bool,
}

impl<'a> Call<'a> {
    pub fn get(path: &'a str) -> Call<'a> {
        Call {
            method: Method::GET,
            path,
            query: Vec::new(),
            body: None,
            forward_only: false,
        }
    }

    pub fn with_body(
        method: Method,
        path: &'a str,
        body: &impl Serialize,
    ) -> Result<Call<'a>, Error> {
        let body = serde_json::to_value(body).map_err(|e| Error::Unexpected {
            message: format!("cannot encode the request: {e}"),
        })?;
        Ok(Call {
            method,
            path,
            query: Vec::new(),
            body: Some(body),
            forward_only: false,
        })
    }
}

impl Client {
    pub fn new(config: ClientConfig) -> Result<Client, Error> {
        install_tls_provider();
        let http = reqwest::Client::builder()
            .user_agent(config.user_agent.clone())
            .timeout(config.timeout)
            .connect_timeout(config.timeout.min(Duration::from_secs(10)))
            // Never followed: a redirect would take the keys or the clientId (and a callback's
            // key fetch) to any host, over any scheme. A 3xx is an error naming where it led.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| Error::Network {
                message: format!("cannot set up HTTP: {e}"),
            })?;
        Ok(Client {
            inner: Arc::new(Inner {
                base: RwLock::new(config.site.fixed_base.clone()),
                discovery: tokio::sync::Mutex::new(()),
                limiter: RateLimiter::new(config.requests_per_minute),
                permits: Semaphore::new(config.max_concurrency.max(1)),
                answers: std::sync::Mutex::default(),
                http,
                config,
            }),
        })
    }

    pub fn config(&self) -> &ClientConfig {
        &self.inner.config
    }

    /// How many API requests got each HTTP status so far (0: no answer), in status order.
    pub fn answers_by_status(&self) -> Vec<(u16, u64)> {
        let answers = self.inner.answers.lock().unwrap_or_else(|p| p.into_inner());
        answers.iter().map(|(s, n)| (*s, *n)).collect()
    }

    fn count_answer(&self, status: u16) {
        let mut answers = self.inner.answers.lock().unwrap_or_else(|p| p.into_inner());
        *answers.entry(status).or_default() += 1;
    }

    /// How many requests had to wait for the rate limiter so far.
    pub fn rate_limit_waits(&self) -> u64 {
        self.inner.limiter.waits()
    }

    /// How many 429s paused this client for their `Retry-After`, and how many requests waited
    /// for such a pause to end.
    pub fn retry_after_pauses(&self) -> (u64, u64) {
        self.inner.limiter.pauses()
    }

    /// True when `url` is on the configured site's own origin (scheme, host and port).
    pub fn is_on_site(&self, url: &str) -> bool {
        let origin = &self.inner.config.site.origin;
        url.strip_prefix(origin.as_str())
            .is_some_and(|rest| rest.starts_with('/') && !rest.contains(['\\', '@']))
    }

    /// The key a callback was signed with, from its `Metadata.key_url`. That URL arrives in an
    /// unauthenticated body, so it is fetched only from the configured site's own origin (same
    /// scheme, host and port); any other is refused without a request (no forgery of
    /// server-side requests through Bindery).
    pub async fn callback_signing_key(&self, key_url: &str) -> Result<String, Error> {
        if !self.is_on_site(key_url) {
            return Err(Error::Unexpected {
                message: "the callback's key_url is not on the ConnectWise site; not fetched"
                    .into(),
            });
        }
        #[derive(serde::Deserialize)]
        struct SigningKey {
            signing_key: String,
        }
        let reply = self
            .send_url(key_url, &Call::get(""), Auth::ClientId)
            .await?;
        Ok(reply.json::<SigningKey>()?.signing_key)
    }

    /// `GET /login/companyinfo/{companyId}`: the site's codebase and version. Needs no keys.
    pub async fn company_info(&self) -> Result<CompanyInfo, Error> {
        let company = encode(&self.inner.config.credentials.company_id);
        let url = format!(
            "{}/login/companyinfo/{company}",
            self.inner.config.site.origin
        );
        let reply = self
            .send_url(&url, &Call::get(""), Auth::None)
            .await
            .map_err(|e| match e {
                Error::NotFound { .. } => Error::Codebase {
                    message: "the site does not know this company id".into(),
                },
                Error::Unexpected { message } => Error::Codebase { message },
                other => other,
            })?;
        let info: CompanyInfo = serde_json::from_slice(&reply.body).map_err(|_| Error::Codebase {
            message: "the site's companyinfo answer is not ConnectWise's (is this a ConnectWise site?)".into(),
        })?;
        let usable = |c: &str| {
            let c = c.trim_end_matches('/');
            !c.is_empty()
                && c.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
        };
        let Some(codebase) = info.codebase.as_deref().filter(|c| usable(c)) else {
            return Err(Error::Codebase {
                message: "the site sent no usable codebase".into(),
            });
        };
        if self.inner.config.site.fixed_base.is_none() {
            let base = format!(
                "{}/{}/apis/3.0/",
                self.inner.config.site.origin,
                codebase.trim_matches('/')
            );
            *self.inner.base.write().unwrap_or_else(|p| p.into_inner()) = Some(base);
        }
        Ok(info)
    }

    /// The API's base URL, discovered once per client. `stale` is a base that just answered
    /// 404: it is looked up again, unless a concurrent call already did.
    async fn base(&self, stale: Option<&str>) -> Result<String, Error> {
        let known = |base: &Option<String>| match (base, stale) {
            (Some(b), Some(s)) => b != s,
            (Some(_), None) => true,
            (None, _) => false,
        };
        let current = self.read_base();
        if known(&current) {
            return Ok(current.unwrap_or_default());
        }
        if let Some(fixed) = &self.inner.config.site.fixed_base {
            return Ok(fixed.clone());
        }
        let _one_lookup = self.inner.discovery.lock().await;
        let current = self.read_base();
        if known(&current) {
            return Ok(current.unwrap_or_default());
        }
        self.company_info().await?;
        self.read_base().ok_or_else(|| Error::Codebase {
            message: "the site sent no usable codebase".into(),
        })
    }

    fn read_base(&self) -> Option<String> {
        self.inner
            .base
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Sends a call to the API. After a 404 on a discovered codebase the codebase is looked up
    /// again (ConnectWise moves cloud sites between versions) and the call repeated once.
    pub(crate) async fn send(&self, call: &Call<'_>) -> Result<Reply, Error> {
        let base = self.base(None).await?;
        let url = if call.path.starts_with("http://") || call.path.starts_with("https://") {
            if !call.path.starts_with(&base) {
                return Err(Error::Unexpected {
                    message: "a paging link points outside the API".into(),
                });
            }
            call.path.to_owned()
        } else {
            format!("{base}{}", call.path)
        };
        match self.send_url(&url, call, Auth::Keys).await {
            Err(Error::NotFound { message }) if self.inner.config.site.fixed_base.is_none() => {
                let fresh = self.base(Some(&base)).await?;
                if fresh == base {
                    return Err(Error::NotFound { message });
                }
                self.send_url(&url.replacen(&base, &fresh, 1), call, Auth::Keys)
                    .await
            }
            other => other,
        }
    }

    async fn send_url(&self, url: &str, call: &Call<'_>, auth: Auth) -> Result<Reply, Error> {
        let url = with_query(url, &call.query);
        let _permit = self
            .inner
            .permits
            .acquire()
            .await
            .map_err(|_| Error::Network {
                message: "the client is shutting down".into(),
            })?;
        self.inner.limiter.acquire().await;
        let creds = &self.inner.config.credentials;
        let mut req = self.inner.http.request(call.method.clone(), &url).header(
            ACCEPT,
            format!(
                "application/vnd.connectwise.com+json; version={}",
                crate::API_VERSION
            ),
        );
        match auth {
            Auth::Keys => {
                req = req
                    .basic_auth(
                        format!("{}+{}", creds.company_id, creds.public_key),
                        Some(creds.private_key.expose()),
                    )
                    .header("clientId", &creds.client_id);
            }
            Auth::ClientId => req = req.header("clientId", &creds.client_id),
            Auth::None => {}
        }
        if call.forward_only {
            req = req.header("pagination-type", "forward-only");
        }
        if let Some(body) = &call.body {
            let bytes = serde_json::to_vec(body).map_err(|e| Error::Unexpected {
                message: format!("cannot encode the request: {e}"),
            })?;
            req = req.header(CONTENT_TYPE, "application/json").body(bytes);
        }
        let resp = match req.send().await {
            Ok(r) => r,
            Err(e) => {
                self.count_answer(0);
                return Err(transport_error(e));
            }
        };
        let status = resp.status().as_u16();
        self.count_answer(status);
        let headers = resp.headers().clone();
        let body = resp.bytes().await.map_err(transport_error)?.to_vec();
        if (200..300).contains(&status) {
            return Ok(Reply { headers, body });
        }
        if (300..400).contains(&status) {
            return Err(Error::Redirected {
                status,
                to: redirect_host(&url, &headers),
            });
        }
        let retry_after = headers
            .get(RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        if status == 429 {
            // The whole integration is throttled: every request of this client waits, not only
            // the one that was refused. Without a Retry-After, a short pause all the same.
            self.inner.limiter.pause(
                retry_after
                    .unwrap_or(DEFAULT_THROTTLE_PAUSE)
                    .min(MAX_THROTTLE_PAUSE),
            );
        }
        Err(Error::from_response(status, retry_after, &body))
    }

    pub(crate) async fn get<T: DeserializeOwned>(&self, call: Call<'_>) -> Result<T, Error> {
        self.send(&call).await?.json()
    }

    /// Every page of a list, following `Link: rel="next"` until it ends.
    pub(crate) fn pages<T: DeserializeOwned + 'static>(
        &self,
        path: String,
        query: Vec<(&'static str, String)>,
        forward_only: bool,
    ) -> impl Stream<Item = Result<Vec<T>, Error>> + use<T> {
        let client = self.clone();
        let page_size = query
            .iter()
            .find(|(k, _)| *k == "pageSize")
            .and_then(|(_, v)| v.parse::<usize>().ok())
            .unwrap_or(25);
        futures_util::stream::try_unfold(Some((path, query)), move |next| {
            let client = client.clone();
            async move {
                let Some((path, query)) = next else {
                    return Ok(None);
                };
                let call = Call {
                    method: Method::GET,
                    path: &path,
                    query,
                    body: None,
                    forward_only,
                };
                let reply = client.send(&call).await?;
                let items: Vec<T> = reply.json()?;
                // A page shorter than asked for is the last, whatever the links say.
                let next = reply
                    .next_link()
                    .filter(|_| items.len() >= page_size)
                    .map(|url| (url, Vec::new()));
                Ok(Some((items, next)))
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_configured_site_s_own_urls_are_on_site() {
        let site = crate::Site::parse("https://cw.example.com", false).unwrap();
        let creds = crate::Credentials {
            company_id: "acme".into(),
            public_key: "p".into(),
            private_key: crate::PrivateKey::new("k"),
            client_id: "c".into(),
        };
        let client = Client::new(crate::ClientConfig::new(site, creds)).unwrap();
        assert!(client.is_on_site("https://cw.example.com/v4_6_release/callbacks/keys/1"));
        for other in [
            "http://cw.example.com/keys",
            "https://cw.example.com.evil.test/keys",
            "https://cw.example.com:444/keys",
            "https://cw.example.com@evil.test/keys",
            "https://cw.example.com/\\evil.test",
            "https://evil.test/https://cw.example.com/keys",
            "https://cw.example.com",
        ] {
            assert!(!client.is_on_site(other), "{other}");
        }
    }
}
