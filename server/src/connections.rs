//! Accepting connections so that slow or idle clients cannot hold the server: at most
//! `max_connections` at once (past that, a short 503 and the connection closes), a client that
//! has not sent a request's headers within `header_timeout` is cut (an idle keep-alive
//! connection included), and a request that takes longer than `request_timeout` as a whole
//! (its body included) gets a 503. Plain TCP and TLS alike; the peer address reaches handlers as
//! `ConnectInfo`, as with `axum::serve`.

use std::future::Future;
use std::net::SocketAddr;
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
    pub header_timeout: Duration,
    pub request_timeout: Duration,
}

impl Default for ConnectionLimits {
    fn default() -> ConnectionLimits {
        ConnectionLimits {
            max_connections: 1000,
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
            drop(slot);
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
