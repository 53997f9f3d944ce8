//! What goes over the wire and comes back: TLS's crypto provider, query strings encoded whole,
//! and reqwest's errors and redirects in the client's own terms.

use reqwest::header::HeaderMap;

use crate::error::Error;

/// Makes ring rustls' process-wide crypto provider (once; later calls, or a provider the program
/// installed itself, are kept).
pub fn install_tls_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

pub(crate) fn transport_error(e: reqwest::Error) -> Error {
    if e.is_timeout() {
        Error::Timeout
    } else if e.is_connect() {
        Error::Network {
            message: format!("cannot connect: {}", root_cause(&e)),
        }
    } else {
        Error::Network {
            message: root_cause(&e),
        }
    }
}

/// The host a redirect's `Location` names (relative: the requested URL's own), for the error.
pub(crate) fn redirect_host(requested: &str, headers: &HeaderMap) -> String {
    let location = headers
        .get(reqwest::header::LOCATION)
        .and_then(|v| v.to_str().ok());
    let target = location.and_then(|l| {
        reqwest::Url::parse(requested)
            .ok()
            .and_then(|base| base.join(l).ok())
    });
    match target.as_ref().and_then(|u| u.host_str()) {
        Some(host) => match target.as_ref().and_then(reqwest::Url::port) {
            Some(port) => format!("{host}:{port}"),
            None => host.to_owned(),
        },
        None => "an address it did not give".into(),
    }
}

/// The innermost cause ("Connection refused", "dns error: …"): what a person can act on.
fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut cause = e;
    while let Some(next) = cause.source() {
        cause = next;
    }
    cause.to_string()
}

pub(crate) fn with_query(url: &str, query: &[(&'static str, String)]) -> String {
    if query.is_empty() {
        return url.to_owned();
    }
    let pairs: Vec<String> = query
        .iter()
        .map(|(k, v)| format!("{k}={}", encode(v)))
        .collect();
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}{}", pairs.join("&"))
}

/// Percent-encodes everything but RFC 3986's unreserved characters, so `"`, `&`, `+`, `*`, `%`,
/// `'`, spaces and brackets all arrive as written.
pub(crate) fn encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len() * 3);
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_values_are_fully_encoded() {
        assert_eq!(
            encode(r#"name = "A&B" + 5*%"#),
            "name%20%3D%20%22A%26B%22%20%2B%205%2A%25"
        );
        assert_eq!(encode("ünï"), "%C3%BCn%C3%AF");
        assert_eq!(
            with_query(
                "https://x/a",
                &[("page", "2".into()), ("conditions", "id = 1".into())]
            ),
            "https://x/a?page=2&conditions=id%20%3D%201"
        );
    }
}
