//! How to reach a ConnectWise site and who we are to it.

use std::time::Duration;

/// A private key that never prints: `Debug` and `Display` show `<redacted>`.
#[derive(Clone, PartialEq, Eq)]
pub struct PrivateKey(String);

impl PrivateKey {
    pub fn new(key: impl Into<String>) -> PrivateKey {
        PrivateKey(key.into())
    }

    /// The key itself, for building the Authorization header and for encrypting at rest.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<redacted>")
    }
}

impl std::fmt::Display for PrivateKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<redacted>")
    }
}

/// An API member's keys: sent as Basic `companyId+publicKey:privateKey`, with `clientId` in its
/// own header on every call.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Credentials {
    pub company_id: String,
    pub public_key: String,
    pub private_key: PrivateKey,
    pub client_id: String,
}

/// Where the API lives.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Site {
    /// `https://host[:port]` or `http://…`, without a trailing slash.
    pub origin: String,
    /// A base ending in `/apis/3.0/` when one was given; otherwise it is discovered.
    pub fixed_base: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SiteError {
    #[error("the site is empty")]
    Empty,
    #[error("the site {0:?} is not a host name or an http(s) URL")]
    Invalid(String),
    #[error(
        "plain http is refused for {0}: ConnectWise needs https (allow http only for a local test server)"
    )]
    HttpNotAllowed(String),
}

/// Cloud hosts answer the API only with the `api-` prefix (the developer guide); people often
/// paste the browser's host, so those are corrected.
const CLOUD_HOSTS: [&str; 5] = [
    "na.myconnectwise.net",
    "eu.myconnectwise.net",
    "au.myconnectwise.net",
    "aus.myconnectwise.net",
    "za.myconnectwise.net",
];

impl Site {
    /// Reads what an admin typed: `api-na.myconnectwise.net`, `na.myconnectwise.net` (becomes
    /// `api-na…`), `https://cw.example.com`, `http://127.0.0.1:8701` (only with `allow_http`),
    /// or a full base `https://cw.example.com/v4_6_release/apis/3.0/`.
    pub fn parse(input: &str, allow_http: bool) -> Result<Site, SiteError> {
        let input = input.trim();
        if input.is_empty() {
            return Err(SiteError::Empty);
        }
        let (scheme, rest) = match input.split_once("://") {
            Some((s, r)) => (s.to_ascii_lowercase(), r),
            None => ("https".to_owned(), input),
        };
        if scheme != "https" && scheme != "http" {
            return Err(SiteError::Invalid(input.to_owned()));
        }
        let (authority, path) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, ""),
        };
        let host_ok = !authority.is_empty()
            && authority.bytes().all(|b| {
                b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':' | b'[' | b']')
            });
        if !host_ok {
            return Err(SiteError::Invalid(input.to_owned()));
        }
        if scheme == "http" && !allow_http {
            return Err(SiteError::HttpNotAllowed(input.to_owned()));
        }
        let mut authority = authority.to_ascii_lowercase();
        if CLOUD_HOSTS.contains(&authority.as_str()) {
            authority = format!("api-{authority}");
        }
        let origin = format!("{scheme}://{authority}");
        let fixed_base = path
            .find("/apis/3.0")
            .map(|i| format!("{origin}{}/apis/3.0/", &path[..i]));
        Ok(Site { origin, fixed_base })
    }
}

/// Everything a [`crate::Client`] needs.
#[derive(Clone, Debug)]
pub struct ClientConfig {
    pub site: Site,
    pub credentials: Credentials,
    /// Requests per minute across the whole client (ConnectWise throttles around 1,000).
    pub requests_per_minute: u32,
    /// Requests in flight at once.
    pub max_concurrency: usize,
    /// Limit for one request, connection to last byte.
    pub timeout: Duration,
    /// Sent as `User-Agent`.
    pub user_agent: String,
}

impl ClientConfig {
    pub fn new(site: Site, credentials: Credentials) -> ClientConfig {
        ClientConfig {
            site,
            credentials,
            requests_per_minute: 1000,
            max_concurrency: 8,
            timeout: Duration::from_secs(30),
            user_agent: format!("Bindery/{} (connectwise-client)", env!("CARGO_PKG_VERSION")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sites_are_read_as_admins_type_them() {
        let s = Site::parse("api-na.myconnectwise.net", false).unwrap();
        assert_eq!(s.origin, "https://api-na.myconnectwise.net");
        assert_eq!(s.fixed_base, None);
        assert_eq!(
            Site::parse("EU.myconnectwise.net", false).unwrap().origin,
            "https://api-eu.myconnectwise.net"
        );
        let s = Site::parse("https://cw.example.com/v4_6_release/apis/3.0/", false).unwrap();
        assert_eq!(
            s.fixed_base.as_deref(),
            Some("https://cw.example.com/v4_6_release/apis/3.0/")
        );
        assert_eq!(
            Site::parse("http://127.0.0.1:8701", false),
            Err(SiteError::HttpNotAllowed("http://127.0.0.1:8701".into()))
        );
        assert_eq!(
            Site::parse("http://127.0.0.1:8701/", true).unwrap().origin,
            "http://127.0.0.1:8701"
        );
        for bad in ["", "ftp://x", "exa mple.com", "https://", "host\"x"] {
            assert!(Site::parse(bad, true).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_private_key_never_prints() {
        let creds = Credentials {
            company_id: "acme".into(),
            public_key: "pub".into(),
            private_key: PrivateKey::new("very-secret"),
            client_id: "cid".into(),
        };
        let shown = format!("{creds:?} {}", creds.private_key);
        assert!(!shown.contains("very-secret"), "{shown}");
    }
}
