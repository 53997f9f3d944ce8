//! Accepting connections so that slow or idle clients cannot hold the server: at most
//! `max_connections` at once and `per_client` from one address (an IPv6 client by its /64;
//! not counted for trusted proxies and 127.0.0.1/::1, a proxy on this machine, whose clients
//! are many); past either, a short 503 and the connection closes. A client that
//! has not sent a request's headers within `header_timeout` is cut (an idle keep-alive
//! connection included), and a request that takes longer than `request_timeout` as a whole
//! (its body included) gets a 503. Plain TCP and TLS alike; the peer address reaches handlers as
//! `ConnectInfo`, as with `axum::serve`.

use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{ConnectInfo, Request};
use axum::response::{IntoResponse, Response};
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::io::AsyncWriteExt;
use tokio::sync::Semaphore;
use tower::ServiceExt;

/// How many connections, and for how long each may take to speak.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConnectionLimits {
    pub max_connections: usize,
    /// Connections one client may hold at once (0: no cap of its own).
    pub per_client: usize,
    /// Proxies whose connections carry many clients: not capped per client.
    pub proxies: Vec<crate::client_addr::Cidr>,
    pub header_timeout: Duration,
    pub request_timeout: Duration,
}

impl Default for ConnectionLimits {
    fn default() -> ConnectionLimits {
        ConnectionLimits {
            max_connections: 1000,
            per_client: 64,
            proxies: Vec::new(),
            header_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(30),
        }
    }
}

/// What a connection past the cap reads before it is closed.
const BUSY: &[u8] = b"HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\n\
retry-after: 5\r\nconnection: close\r\ncontent-length: 87\r\n\r\n\
{\"code\":\"busy\",\"message\":\"the server has too many connections; try again in a moment\"}\n";

/// Serves `app` on `listener` until `shutdown`, then lets open requests finish (30 s at most).
pub async fn serve<L>(
    mut listener: L,
    app: Router,
    limits: &ConnectionLimits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) where
    L: axum::serve::Listener<Addr = SocketAddr>,
{
    let app = app.layer(axum::middleware::from_fn_with_state(
        limits.request_timeout,
        whole_request_timeout,
    ));
    let slots = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let per_client = PerClient::new(limits);
    let graceful = GracefulShutdown::new();
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout)
        .keep_alive(true);
    tokio::pin!(shutdown);
    loop {
        let (io, peer) = tokio::select! {
            accepted = listener.accept() => accepted,
            () = &mut shutdown => break,
        };
        let Some(held) = per_client.take(peer.ip()) else {
            tokio::spawn(refuse(io));
            continue;
        };
        let Ok(slot) = slots.clone().try_acquire_owned() else {
            tokio::spawn(refuse(io));
            continue;
        };
        let service =
            app.clone()
                .map_request(move |mut request: Request<hyper::body::Incoming>| {
                    request.extensions_mut().insert(ConnectInfo(peer));
                    request
                });
        let connection = graceful
            .watch(http.serve_connection(TokioIo::new(io), TowerToHyperService::new(service)));
        tokio::spawn(async move {
            // A client that goes away or times out ends its connection; nothing to report.
            let _ = connection.await;
            drop((slot, held));
        });
    }
    drop(listener);
    if tokio::time::timeout(Duration::from_secs(30), graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("some requests were still open 30 s after shutdown began; they were cut");
    }
}

/// Open connections per client address.
#[derive(Clone)]
struct PerClient {
    cap: usize,
    proxies: Arc<Vec<crate::client_addr::Cidr>>,
    open: Arc<std::sync::Mutex<std::collections::HashMap<IpAddr, usize>>>,
}

/// One connection counted for its client, given back when dropped.
struct Held {
    of: Option<(PerClient, IpAddr)>,
}

impl PerClient {
    fn new(limits: &ConnectionLimits) -> PerClient {
        PerClient {
            cap: limits.per_client,
            proxies: Arc::new(limits.proxies.clone()),
            open: Default::default(),
        }
    }

    /// Counts a connection from `peer`, or `None` when the client holds its cap already.
    fn take(&self, peer: IpAddr) -> Option<Held> {
        let peer = crate::client_addr::canonical(peer);
        let local = matches!(peer, IpAddr::V4(v4) if v4 == std::net::Ipv4Addr::LOCALHOST)
            || peer == IpAddr::V6(std::net::Ipv6Addr::LOCALHOST);
        if self.cap == 0 || local || self.proxies.iter().any(|c| c.contains(peer)) {
            return Some(Held { of: None });
        }
        let key = crate::client_addr::limit_key(peer);
        let mut open = self.open.lock().unwrap_or_else(|p| p.into_inner());
        let count = open.entry(key).or_insert(0);
        if *count >= self.cap {
            return None;
        }
        *count += 1;
        Some(Held {
            of: Some((self.clone(), key)),
        })
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        if let Some((clients, key)) = self.of.take() {
            let mut open = clients.open.lock().unwrap_or_else(|p| p.into_inner());
            if let Some(n) = open.get_mut(&key) {
                *n -= 1;
                if *n == 0 {
                    open.remove(&key);
                }
            }
        }
    }
}

/// A connection past the cap: told so, and closed (a client that will not read is dropped).
async fn refuse<Io: tokio::io::AsyncWrite + Unpin>(mut io: Io) {
    let _ = tokio::time::timeout(Duration::from_secs(2), async {
        let _ = io.write_all(BUSY).await;
        let _ = io.shutdown().await;
    })
    .await;
}

/// 503 for a request not answered in time (a body trickled in, or a stuck handler).
async fn whole_request_timeout(
    axum::extract::State(limit): axum::extract::State<Duration>,
    request: Request,
    next: axum::middleware::Next,
) -> Response {
    match tokio::time::timeout(limit, next.run(request)).await {
        Ok(response) => response,
        Err(_) => crate::failure::ApiFailure::new(
            axum::http::StatusCode::SERVICE_UNAVAILABLE,
            "timeout",
            "the request took too long; send it again",
        )
        .into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_client_holds_at_most_its_cap_and_gets_them_back() {
        let limits = ConnectionLimits {
            per_client: 3,
            proxies: vec!["10.9.0.0/16".parse().unwrap()],
            ..ConnectionLimits::default()
        };
        let clients = PerClient::new(&limits);
        let a: IpAddr = "203.0.113.7".parse().unwrap();
        let held: Vec<Held> = (0..3).map(|_| clients.take(a).unwrap()).collect();
        assert!(clients.take(a).is_none(), "a fourth from the same client");
        assert!(
            clients.take("203.0.113.8".parse().unwrap()).is_some(),
            "another client"
        );
        // An IPv6 client by its /64; its IPv4-mapped form is the same client.
        let v6: Vec<Held> = ["2001:db8:1:2::1", "2001:db8:1:2::2", "2001:db8:1:2:ff::3"]
            .iter()
            .map(|ip| clients.take(ip.parse().unwrap()).unwrap())
            .collect();
        assert!(clients.take("2001:db8:1:2::9".parse().unwrap()).is_none());
        assert!(
            clients
                .take("::ffff:203.0.113.7".parse().unwrap())
                .is_none()
        );
        // A proxy and this machine carry many clients: never capped here.
        for _ in 0..10 {
            std::mem::forget(clients.take("10.9.4.4".parse().unwrap()).unwrap());
            std::mem::forget(clients.take("127.0.0.1".parse().unwrap()).unwrap());
        }
        drop(held);
        drop(v6);
        assert!(
            clients.take(a).is_some(),
            "closed connections are given back"
        );
        assert!(clients.open.lock().unwrap().len() <= 1);
    }

    #[test]
    fn the_busy_answer_is_well_formed() {
        let text = std::str::from_utf8(BUSY).unwrap();
        let (head, body) = text.split_once("\r\n\r\n").unwrap();
        let length: usize = head
            .lines()
            .find_map(|l| l.strip_prefix("content-length: "))
            .unwrap()
            .parse()
            .unwrap();
        assert_eq!(body.len(), length);
        assert!(serde_json::from_str::<serde_json::Value>(body).is_ok());
    }
}
