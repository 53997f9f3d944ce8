//! Talking to the Bindery server: the agent API of docs/protocol.md over HTTPS (plain HTTP only
//! to a server on this machine, or when explicitly allowed).

use std::time::Duration;

use bindery_shared::protocol::{
    API_PREFIX, AlertAck, AlertBatch, ApiError, CheckIn, CheckInReply, DeviceCredential,
    EnrollRequest, EnrollResponse, HelpClose, HelpReply, HelpRequest, paths,
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

pub struct ServerClient {
    base: String,
    http: reqwest::Client,
}

/// The certificates of a PEM file given as a CA: at least one, or an error saying what is wrong.
pub fn parse_ca(pem: &str) -> Result<Vec<reqwest::Certificate>, String> {
    let certs = reqwest::Certificate::from_pem_bundle(pem.as_bytes())
        .map_err(|e| format!("the CA certificate is not PEM: {e}"))?;
    if certs.is_empty() {
        return Err("the CA file holds no certificate (-----BEGIN CERTIFICATE-----)".into());
    }
    Ok(certs)
}

impl ServerClient {
    /// The client for the server this machine enrolled with.
    pub fn of(enrolled: &crate::state::Enrolled) -> Result<ServerClient, String> {
        ServerClient::new(
            &enrolled.server,
            enrolled.allow_http,
            enrolled.ca_cert.as_deref(),
        )
    }

    /// A client for `url` (`https://bindery.example.com`). `http://` is accepted for a server on
    /// this machine (loopback) or with `allow_http`. `ca_cert` (PEM) is trusted besides the
    /// system's roots, for a server with a certificate of its own CA.
    pub fn new(url: &str, allow_http: bool, ca_cert: Option<&str>) -> Result<ServerClient, String> {
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
        let extra_roots = match ca_cert {
            Some(pem) => parse_ca(pem)?,
            None => Vec::new(),
        };
        let http = reqwest::Client::builder()
            .tls_certs_merge(extra_roots)
            .timeout(Duration::from_secs(30))
            .connect_timeout(Duration::from_secs(10))
            .user_agent(format!("bindery-agent/{}", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| format!("cannot set up HTTP: {e}"))?;
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
        let bytes = resp
            .bytes()
            .await
            .map_err(|e| ServerError::Unavailable(root_cause(&e)))?;
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

fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut cause = e;
    while let Some(next) = cause.source() {
        cause = next;
    }
    cause.to_string()
}
