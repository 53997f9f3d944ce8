//! The running server: the router, and `launch`, which serves on a given listener until a
//! shutdown signal (so tests bind 127.0.0.1:0 and run a real server in-process). The state it
//! serves with is in `state.rs`.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::routing::get;

use crate::api;
use crate::state::Shared;

pub fn router(state: Shared) -> Router {
    Router::new()
        .nest(bindery_shared::protocol::API_PREFIX, api::agent::router())
        .nest(api::admin::PREFIX, api::admin::router())
        .nest(crate::console::PREFIX, crate::console::router())
        .merge(crate::downloads::router())
        .merge(api::connectwise::router())
        .route(
            "/",
            get(|| async { axum::response::Redirect::to("/console/policies") }),
        )
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(crate::metrics::ready))
        .fallback(|| async {
            crate::failure::ApiFailure::new(
                axum::http::StatusCode::NOT_FOUND,
                "not_found",
                "there is nothing at this address",
            )
        })
        .layer(axum::middleware::map_response_with_state(
            state.clone(),
            security_headers,
        ))
        .with_state(state)
}

/// On every answer, error pages and 404s included: not to be sniffed, framed or given a
/// referrer; a content policy unless the page set its own; and HSTS over https, or whenever the
/// public URL is https (a proxy in front may not say which scheme the client used; browsers
/// take HSTS only over https anyway).
async fn security_headers(
    axum::extract::State(state): axum::extract::State<Shared>,
    request_https: RequestHttps,
    mut response: axum::response::Response,
) -> axum::response::Response {
    use axum::http::{HeaderValue, header};
    let h = response.headers_mut();
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.entry(header::CONTENT_SECURITY_POLICY)
        .or_insert(HeaderValue::from_static(
            "default-src 'none'; frame-ancestors 'none'",
        ));
    let public_https = state
        .agents
        .public_url
        .as_deref()
        .is_some_and(|u| u.starts_with("https://"));
    if request_https.0 || public_https {
        h.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000"),
        );
    }
    response
}

/// Whether the request came over https (the server's own TLS marks it; a proxy says so).
struct RequestHttps(bool);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for RequestHttps {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _: &S,
    ) -> Result<Self, Self::Rejection> {
        Ok(RequestHttps(
            parts
                .headers
                .get("x-forwarded-proto")
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.eq_ignore_ascii_case("https")),
        ))
    }
}

/// Serves plain HTTP (behind a reverse proxy, or for tests) until `shutdown` completes, then
/// finishes in-flight requests and writes pending state.
pub async fn launch(
    state: Shared,
    listener: tokio::net::TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    serve(state, listener, false, shutdown).await
}

/// As `launch`, over HTTPS with the server's own certificate.
pub async fn launch_https(
    state: Shared,
    listener: tokio::net::TcpListener,
    tls: Arc<rustls::ServerConfig>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let listener = crate::tls::TlsListener::new(listener, tls)?;
    serve(state, listener, true, shutdown).await
}

/// Requests that came over the server's own TLS say so as a proxy's would, whatever the client
/// sent: session cookies are then Secure and answers carry HSTS.
async fn mark_https(mut request: axum::extract::Request) -> axum::extract::Request {
    request.headers_mut().insert(
        "x-forwarded-proto",
        axum::http::HeaderValue::from_static("https"),
    );
    request
}

async fn serve<L>(
    state: Shared,
    listener: L,
    https: bool,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()>
where
    L: axum::serve::Listener<Addr = std::net::SocketAddr>,
{
    let flusher = {
        let state = state.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(2));
            loop {
                tick.tick().await;
                state.flush_seen().await;
            }
        })
    };
    // The server's own monitor ("offline") and the end of maintenance windows; only a server
    // that runs jobs sweeps.
    let sweeper = state.engine.is_some().then(|| {
        let state = state.clone();
        let started = crate::store::now_ms();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(15));
            loop {
                tick.tick().await;
                match crate::monitoring::offline::sweep(&state.store, started).await {
                    Ok(s) if s.raised + s.resolved > 0 => {
                        tracing::info!(raised = s.raised, resolved = s.resolved, "offline sweep");
                        state.wake_engine();
                    }
                    Ok(_) => {}
                    Err(e) => tracing::warn!(error = %e, "offline sweep failed"),
                }
                match crate::monitoring::held::release_due(&state.store).await {
                    Ok(0) => {}
                    Ok(n) => {
                        tracing::info!(
                            tickets = n,
                            "maintenance ended: tickets for the alerts still raised"
                        );
                        state.wake_engine();
                    }
                    Err(e) => tracing::warn!(error = %e, "releasing held alerts failed"),
                }
            }
        })
    });
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let engine = state.engine.clone().map(|e| tokio::spawn(e.run(stopped)));
    let mut app = router(state.clone());
    if https {
        app = app.layer(axum::middleware::map_request(mark_https));
    }
    // Plain TCP or TLS alike, with the connection cap and timeouts (connections.rs).
    crate::connections::serve(listener, app, &state.agents.connections, shutdown).await;
    flusher.abort();
    if let Some(s) = sweeper {
        s.abort();
    }
    state.flush_seen().await;
    // Running jobs finish (or return to the queue) before the process ends.
    let _ = stop.send(true);
    if let Some(engine) = engine {
        let _ = engine.await;
    }
    Ok(())
}
