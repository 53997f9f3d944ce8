//! Talking to the Bindery server: the agent API of docs/protocol.md over HTTPS (plain HTTP only
//! to a server on this machine, or when explicitly allowed).

use std::time::Duration;

use bindery_shared::protocol::{
    API_PREFIX, AlertAck, AlertBatch, ApiError, CheckIn, CheckInReply, DeviceCredential,
    EnrollRequest, EnrollResponse, HelpClose, HelpList, HelpReply, HelpRequest, paths,
};
use serde::Serialize;
use serde::de::DeserializeOwned;

#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// The server no longer accepts this device's credential (or the token): enroll again.
    #[error("the server refused the credential: {0}")]
    Unauthorized(String),
    /// The server refused the request itself (400, 413, …): retrying the same will not help.
    #[error("the server rejected the request ({status}): {message}")]
    Rejected { status: u16, message: String },
    /// Not reached, timed out, or a 5xx/429: try again later.
    #[error("the server is unavailable: {0}")]
    Unavailable(String),
}

/// The most of an answer the agent reads: the protocol's answers are a few KiB, and a server (or
/// whatever answers in its place) cannot make the agent hold more.
const MAX_REPLY: usize = 1024 * 1024;

/// How the agent reaches its server, besides its URL.
#[derive(Clone, Copy, Debug, Default)]
pub struct Reach<'a> {
    /// Plain http to a server that is not on this machine (tests only).
    pub allow_http: bool,
    /// A CA certificate (PEM) trusted besides the system's roots.
    pub ca_cert: Option<&'a str>,
    /// An HTTP proxy (`http://[user:password@]host:port`); none: the environment's
    /// (HTTPS_PROXY, HTTP_PROXY, NO_PROXY), if any.
    pub proxy: Option<&'a str>,
}

/// The proxy URL as the agent keeps it, or why it cannot be used. Errors name the proxy's host
/// only: its user and password never reach a message or a log.
pub fn proxy_setting(raw: &str) -> Result<String, String> {
    let parsed = reqwest::Url::parse(raw.trim())
        .map_err(|_| "the proxy is not a URL: give http://host:port".to_owned())?;
    let host = parsed.host_str().unwrap_or("").to_owned();
    if !matches!(parsed.scheme(), "http" | "https") || host.is_empty() {
        return Err(format!(
            "the proxy {host:?} is not http://host:port (or https://)"
        ));
    }
    if parsed.path() != "/" || parsed.query().is_some() {
        return Err(format!(
            "the proxy {host} has a path: give only http://host:port"
        ));
    }
    Ok(parsed.as_str().trim_end_matches('/').to_owned())
}

/// The proxy as it may be shown (`status`): its address, without a user or password.
pub fn proxy_shown(proxy: &str) -> String {
    match reqwest::Url::parse(proxy) {
        Ok(u) => format!(
            "{}://{}{}",
            u.scheme(),
            u.host_str().unwrap_or(""),
            u.port().map(|p| format!(":{p}")).unwrap_or_default()
        ),
        Err(_) => "(unreadable)".into(),
    }
}

pub struct ServerClient {
    base: String,
    http: reqwest::Client,
}

impl ServerClient {
    /// The client for the server this machine enrolled with.
    pub fn of(enrolled: &crate::state::Enrolled) -> Result<ServerClient, String> {
        ServerClient::new(
            &enrolled.server,
            Reach {
                allow_http: enrolled.allow_http,
                ca_cert: enrolled.ca_cert.as_deref(),
                proxy: enrolled.proxy.as_deref(),
            },
        )
    }

    /// A client for `url` (`https://bindery.example.com`). `http://` is accepted for a server on
    /// this machine (loopback) or with `allow_http`. `ca_cert` (PEM) is trusted besides the
    /// system's roots, for a server with a certificate of its own CA; `proxy` is gone through.
    pub fn new(url: &str, reach: Reach<'_>) -> Result<ServerClient, String> {
        let Reach {
            allow_http,
            ca_cert,
            proxy,
        } = reach;
        let base = url.trim().trim_end_matches('/').to_owned();
        let parsed =
            reqwest::Url::parse(&base).map_err(|e| format!("{url:?} is not a server URL: {e}"))?;
        let host = parsed
            .host_str()
            .unwrap_or("")
            .trim_start_matches('[')
            .trim_end_matches(']');
        let loopback = host == "localhost"
            || host
                .parse::<std::net::IpAddr>()
                .is_ok_and(|ip| ip.is_loopback());
        match parsed.scheme() {
            "https" => {}
            "http" if loopback || allow_http => {}
            "http" => {
                return Err(format!(
                    "{url} is plain http: use https, or --allow-http for a test server"
                ));
            }
            other => return Err(format!("{other}:// is not http or https")),
        }
        // rustls with ring: small, and the same on every OS.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let mut builder = reqwest::Client::builder();
        // Given none (and none in the environment): the machine's own, as services get it.
        let machine = match proxy {
            None => crate::system_proxy::for_server(parsed.scheme(), host),
            Some(_) => None,
        };
        if let Some(proxy) = proxy.or(machine.as_deref()) {
            // reqwest sends the URL's user and password as Proxy-Authorization (basic).
            let shown = proxy_shown(proxy);
            builder = builder.proxy(
                reqwest::Proxy::all(proxy)
                    .map_err(|_| format!("the proxy {shown} cannot be used"))?,
            );
        }
        if let Some(pem) = ca_cert {
            let own_ca = crate::server_trust::parse_ca(pem)?;
            builder =
                builder.tls_backend_preconfigured(crate::server_trust::config_trusting(own_ca)?);
        }
        let http = builder
            .timeout(Duration::from_secs(30))
            .connect_timeout(Duration::from_secs(10))
            .user_agent(format!("bindery-agent/{}", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| {
                // reqwest's own words are only "builder error": the cause is under it.
                let mut why = format!("cannot set up HTTP: {e}");
                let mut source = std::error::Error::source(&e);
                while let Some(inner) = source {
                    why += &format!(": {inner}");
                    source = inner.source();
                }
                why
            })?;
        Ok(ServerClient { base, http })
    }

    pub fn url(&self) -> &str {
        &self.base
    }

    /// Enrolls; `proof` is the current credential of a machine enrolling again.
    pub async fn enroll(
        &self,
        req: &EnrollRequest,
        proof: Option<&DeviceCredential>,
    ) -> Result<EnrollResponse, ServerError> {
        self.post(paths::ENROLL, proof, req).await
    }

    pub async fn checkin(
        &self,
        cred: &DeviceCredential,
        report: &CheckIn,
    ) -> Result<CheckInReply, ServerError> {
        self.post(paths::CHECKIN, Some(cred), report).await
    }

    pub async fn alerts(
        &self,
        cred: &DeviceCredential,
        batch: &AlertBatch,
    ) -> Result<AlertAck, ServerError> {
        self.post(paths::ALERTS, Some(cred), batch).await
    }

    pub async fn help(
        &self,
        cred: &DeviceCredential,
        req: &HelpRequest,
    ) -> Result<HelpReply, ServerError> {
        self.post(paths::HELP, Some(cred), req).await
    }

    /// Where an earlier help request stands. The id is the agent's own (a UUID).
    pub async fn help_status(
        &self,
        cred: &DeviceCredential,
        request_id: &str,
    ) -> Result<HelpReply, ServerError> {
        let path = format!("{}/{request_id}", paths::HELP);
        self.send(self.http.get(self.url_of(&path)), Some(cred))
            .await
    }

    pub async fn help_list(&self, cred: &DeviceCredential) -> Result<HelpList, ServerError> {
        self.send(self.http.get(self.url_of(paths::HELP)), Some(cred))
            .await
    }

    pub async fn help_close(
        &self,
        cred: &DeviceCredential,
        close: &HelpClose,
    ) -> Result<HelpReply, ServerError> {
        self.post("/help/close", Some(cred), close).await
    }

    fn url_of(&self, path: &str) -> String {
        format!("{}{API_PREFIX}{path}", self.base)
    }

    async fn post<B: Serialize, T: DeserializeOwned>(
        &self,
        path: &str,
        cred: Option<&DeviceCredential>,
        body: &B,
    ) -> Result<T, ServerError> {
        let body = serde_json::to_vec(body).map_err(|e| ServerError::Rejected {
            status: 0,
            message: format!("cannot encode: {e}"),
        })?;
        let req = self
            .http
            .post(self.url_of(path))
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body);
        self.send(req, cred).await
    }

    async fn send<T: DeserializeOwned>(
        &self,
        mut req: reqwest::RequestBuilder,
        cred: Option<&DeviceCredential>,
    ) -> Result<T, ServerError> {
        if let Some(c) = cred {
            req = req.header(reqwest::header::AUTHORIZATION, c.bearer());
        }
        let resp = req
            .send()
            .await
            .map_err(|e| ServerError::Unavailable(root_cause(&e)))?;
        let status = resp.status().as_u16();
        let bytes = capped_body(resp).await?;
        if (200..300).contains(&status) {
            return serde_json::from_slice(&bytes).map_err(|e| ServerError::Rejected {
                status,
                message: format!("unexpected answer: {e}"),
            });
        }
        let message = serde_json::from_slice::<ApiError>(&bytes)
            .map(|e| e.message)
            .unwrap_or_else(|_| {
                String::from_utf8_lossy(&bytes[..bytes.len().min(200)]).into_owned()
            });
        Err(match status {
            401 => ServerError::Unauthorized(message),
            429 | 500..=599 => ServerError::Unavailable(format!("{status}: {message}")),
            _ => ServerError::Rejected { status, message },
        })
    }
}

/// The answer's body, refused past `MAX_REPLY` (read in chunks: never more held than that).
async fn capped_body(mut resp: reqwest::Response) -> Result<Vec<u8>, ServerError> {
    let too_big = || {
        ServerError::Unavailable(format!(
            "the server's answer is over {} KiB; not read",
            MAX_REPLY / 1024
        ))
    };
    if resp.content_length().is_some_and(|n| n > MAX_REPLY as u64) {
        return Err(too_big());
    }
    let mut body = Vec::new();
    while let Some(chunk) = resp
        .chunk()
        .await
        .map_err(|e| ServerError::Unavailable(root_cause(&e)))?
    {
        if body.len() + chunk.len() > MAX_REPLY {
            return Err(too_big());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut cause = e;
    while let Some(next) = cause.source() {
        cause = next;
    }
    cause.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_proxy_is_http_host_port_and_is_shown_without_its_password() {
        assert_eq!(
            proxy_setting(" http://u:p4ss@proxy.corp:3128/ ").unwrap(),
            "http://u:p4ss@proxy.corp:3128"
        );
        assert_eq!(
            proxy_shown("http://u:p4ss@proxy.corp:3128"),
            "http://proxy.corp:3128"
        );
        for bad in [
            "proxy.corp:3128",
            "socks5://proxy:1080",
            "http://proxy:3128/path",
            "http://",
        ] {
            let e = proxy_setting(bad).unwrap_err();
            assert!(!e.contains("p4ss"), "{e}");
        }
        let e = proxy_setting("ftp://u:p4ss@proxy:21").unwrap_err();
        assert!(!e.contains("p4ss") && e.contains("proxy"), "{e}");
    }
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// A server on loopback that answers every request with `body` (chunked when asked, so no
    /// length is announced).
    async fn answering(body: Vec<u8>, chunked: bool) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            while let Ok((mut s, _)) = listener.accept().await {
                let body = body.clone();
                tokio::spawn(async move {
                    let mut buf = [0u8; 4096];
                    let _ = s.read(&mut buf).await;
                    let head = if chunked {
                        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n".to_owned()
                    } else {
                        format!(
                            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
                            body.len()
                        )
                    };
                    let _ = s.write_all(head.as_bytes()).await;
                    if chunked {
                        for part in body.chunks(64 * 1024) {
                            let _ = s
                                .write_all(format!("{:x}\r\n", part.len()).as_bytes())
                                .await;
                            let _ = s.write_all(part).await;
                            let _ = s.write_all(b"\r\n").await;
                        }
                        let _ = s.write_all(b"0\r\n\r\n").await;
                    } else {
                        let _ = s.write_all(&body).await;
                    }
                });
            }
        });
        format!("http://{addr}")
    }

    #[tokio::test]
    async fn answers_over_a_mebibyte_are_not_read() {
        let huge = format!("\"{}\"", "x".repeat(2 * MAX_REPLY)).into_bytes();
        for chunked in [false, true] {
            let url = answering(huge.clone(), chunked).await;
            let client = ServerClient::new(&url, Reach::default()).unwrap();
            let got: Result<String, _> = client.send(client.http.get(&url), None).await;
            match got {
                Err(ServerError::Unavailable(m)) => assert!(m.contains("1024 KiB"), "{m}"),
                other => panic!("chunked {chunked}: {other:?}"),
            }
        }
        let url = answering(b"\"fine\"".to_vec(), true).await;
        let client = ServerClient::new(&url, Reach::default()).unwrap();
        let got: String = client.send(client.http.get(&url), None).await.unwrap();
        assert_eq!(got, "fine");
    }
}
