//! Fault injection, set at run time through `PUT /_sandbox/faults`: latency, a rate limit that
//! answers 429 with `Retry-After`, a share of 500s, a share of timeouts (the request hangs, then
//! the connection drops), and a share of requests that succeed but whose reply is lost.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::json;

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Faults {
    /// Added to every API request.
    pub latency_ms: u64,
    /// Answer 429 once more than this many requests arrived in the last 60 seconds.
    pub rate_limit_per_minute: Option<u32>,
    /// Answer the next N requests with 429 (a burst), whatever the rate.
    pub burst_429: u32,
    /// Seconds sent in `Retry-After` with every 429.
    pub retry_after_secs: u64,
    /// Shares (0.0–1.0) of requests that get a 500, that hang and drop, and that succeed with
    /// their reply lost.
    pub error_rate: f64,
    pub timeout_rate: f64,
    pub lost_reply_rate: f64,
    /// How long a "timeout" hangs before the connection drops.
    pub hang_ms: u64,
    /// Makes the random draws repeatable.
    pub seed: Option<u64>,
    /// Answer every API request with this error (403 for a missing permission, 409, …).
    pub fail_with: Option<FixedFailure>,
    /// The fixed error and the shares of 500s, timeouts and lost replies apply only to
    /// requests with this method (`POST`) …
    pub only_method: Option<String>,
    /// … and whose path contains this (`/service/tickets/`); the rate limit applies to all.
    pub only_path: Option<String>,
    /// Callbacks: shares (0.0–1.0) of messages never sent and sent twice, and the most a
    /// message is held back (each draws 0 to this many ms, so later ones can overtake it).
    pub callback_lost_rate: f64,
    pub callback_duplicate_rate: f64,
    pub callback_delay_ms: u64,
}

/// How one callback message goes out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CallbackFate {
    /// 0 (lost), 1, or 2 (doubled).
    pub copies: u32,
    pub delay_ms: u64,
}

/// A request arriving later than this after a 429 was answered, and before its `Retry-After`
/// ran out, was sent while the integration was throttled: a client that honours the 429 sends
/// none. (Requests already on their way when the 429 left are not held against it.)
pub const RETRY_AFTER_GRACE: Duration = Duration::from_millis(100);

/// An error answer to give every API request, in ConnectWise's error shape.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct FixedFailure {
    pub status: u16,
    pub code: String,
    pub message: String,
    /// Sent as `Location` (a 3xx: a site's load balancer or sign-in page sending the client
    /// elsewhere).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
}

/// What happens to one request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fate {
    Normal,
    RateLimited,
    ServerError,
    Timeout,
    LostReply,
    Fixed,
}

impl Fate {
    pub fn label(self) -> Option<&'static str> {
        match self {
            Fate::Normal => None,
            Fate::RateLimited => Some("rate-limited"),
            Fate::ServerError => Some("server-error"),
            Fate::Timeout => Some("timeout"),
            Fate::LostReply => Some("lost-reply"),
            Fate::Fixed => Some("fixed-error"),
        }
    }
}

pub struct FaultState {
    pub faults: Faults,
    rng: fastrand::Rng,
    recent: VecDeque<Instant>,
    /// When the last 429 was answered, and when its `Retry-After` runs out.
    throttled: Option<(Instant, Instant)>,
}

impl Default for FaultState {
    fn default() -> FaultState {
        FaultState {
            faults: Faults::default(),
            rng: fastrand::Rng::new(),
            recent: VecDeque::new(),
            throttled: None,
        }
    }
}

impl FaultState {
    pub fn set(&mut self, faults: Faults) {
        self.rng = faults
            .seed
            .map(fastrand::Rng::with_seed)
            .unwrap_or_default();
        self.recent.clear();
        // A Retry-After already given still holds: new faults do not shorten it.
        self.faults = faults;
    }

    /// Notes that a 429 was just answered.
    pub fn throttle_answered(&mut self) {
        let now = Instant::now();
        let until = now + Duration::from_secs(self.faults.retry_after_secs);
        let until = match self.throttled {
            Some((_, earlier)) if earlier > until => earlier,
            _ => until,
        };
        self.throttled = Some((now, until));
    }

    /// True when a request arriving now was sent during a `Retry-After` window.
    pub fn in_retry_after_window(&self) -> bool {
        let now = Instant::now();
        self.throttled
            .is_some_and(|(from, until)| now > from + RETRY_AFTER_GRACE && now < until)
    }

    /// Decides a request's fate (and counts it against the rate limit).
    pub fn draw(&mut self, method: &str, path: &str) -> Fate {
        let now = Instant::now();
        while self
            .recent
            .front()
            .is_some_and(|t| now.duration_since(*t) > Duration::from_secs(60))
        {
            self.recent.pop_front();
        }
        let f = &self.faults;
        let chosen = f
            .only_method
            .as_deref()
            .is_none_or(|m| m.eq_ignore_ascii_case(method))
            && f.only_path.as_deref().is_none_or(|p| path.contains(p));
        if f.fail_with.is_some() && chosen {
            return Fate::Fixed;
        }
        if self.faults.burst_429 > 0 {
            self.faults.burst_429 -= 1;
            return Fate::RateLimited;
        }
        if let Some(limit) = self.faults.rate_limit_per_minute
            && self.recent.len() >= limit as usize
        {
            return Fate::RateLimited;
        }
        self.recent.push_back(now);
        let f = &self.faults;
        if !chosen {
            return Fate::Normal;
        }
        let x = self.rng.f64();
        if x < f.error_rate {
            Fate::ServerError
        } else if x < f.error_rate + f.timeout_rate {
            Fate::Timeout
        } else if x < f.error_rate + f.timeout_rate + f.lost_reply_rate {
            Fate::LostReply
        } else {
            Fate::Normal
        }
    }
}

impl FaultState {
    pub fn draw_callback(&mut self) -> CallbackFate {
        let f = &self.faults;
        let x = self.rng.f64();
        let copies = if x < f.callback_lost_rate {
            0
        } else if x < f.callback_lost_rate + f.callback_duplicate_rate {
            2
        } else {
            1
        };
        let delay_ms = if f.callback_delay_ms == 0 {
            0
        } else {
            self.rng.u64(0..=f.callback_delay_ms)
        };
        CallbackFate { copies, delay_ms }
    }
}

/// ConnectWise's 429: a different body shape from its other errors, and `Retry-After`.
pub fn too_many_requests(retry_after_secs: u64) -> Response {
    let body = json!({ "error": "ConnectWiseAPI", "message": format!("Too many requests. Please try again in {retry_after_secs} seconds.") });
    let mut r = (StatusCode::TOO_MANY_REQUESTS, axum::Json(body)).into_response();
    if let Ok(v) = HeaderValue::from_str(&retry_after_secs.to_string()) {
        r.headers_mut().insert("retry-after", v);
    }
    r
}

pub fn fixed_failure(f: &FixedFailure) -> Response {
    let status = StatusCode::from_u16(f.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = (
        status,
        axum::Json(json!({ "code": f.code, "message": f.message, "errors": null })),
    )
        .into_response();
    if let Some(to) = f
        .location
        .as_deref()
        .and_then(|l| HeaderValue::from_str(l).ok())
    {
        response
            .headers_mut()
            .insert(axum::http::header::LOCATION, to);
    }
    response
}

pub fn server_error() -> Response {
    let body = json!({ "code": "UnexpectedServerError", "message": "An unexpected error has occurred.", "errors": null });
    (StatusCode::INTERNAL_SERVER_ERROR, axum::Json(body)).into_response()
}

/// A response whose body fails mid-way: the client sees the connection drop, never a reply.
pub fn dropped_connection() -> Response {
    let failing = futures_util::stream::once(async {
        Err::<axum::body::Bytes, std::io::Error>(std::io::Error::other(
            "connection dropped by fault injection",
        ))
    });
    Response::new(Body::from_stream(failing))
}
