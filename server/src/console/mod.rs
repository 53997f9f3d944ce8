//! The web console: server-rendered pages under `/console` for every admin flow, built on the
//! same store operations as the admin API. No JavaScript is needed; one small script adds "Copy"
//! buttons. Templates live in `server/templates/console/` and escape everything they print.
//!
//! - `auth`: sign-in, sign-out, the session behind each page, CSRF on every form.
//! - `policies`: policies, the company picker, devices binding, tokens.
//! - `links`: a link's preview and confirmation, and company suggestions for many policies.
//! - `identity`: a person's answers for devices that wait for one (which configuration, or
//!   whether a possible reinstall is the same machine).
//! - `integration`: an instance's ConnectWise credentials, "Connect", and the choices;
//!   `integrations`: adding, renaming and removing instances.
//! - `device`: one device's page (ConnectWise's `managementLink` points here).
//! - `maintenance`: a policy's maintenance windows and the alerts they held.
//! - `lists`: devices, alerts, help requests and the activity log, paged and filtered.
//! - `routing`: ticket routing rules; `field_map`: which configuration fields facts fill.
//! - `team`: accounts and roles, API tokens, and the audit trail; `dashboard`: where the
//!   console opens.

mod auth;
mod billing;
mod dashboard;
mod device;
mod devices;
mod field_map;
mod identity;
mod integration;
mod integration_choices;
mod integrations;
mod links;
mod lists;
mod maintenance;
mod policies;
mod routing;
mod team;
mod tokens;

use askama::Template;
use axum::Router;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;

use crate::failure::ApiFailure;
use crate::state::Shared;
use crate::store::StoreError;

pub use auth::Viewer;

pub const PREFIX: &str = "/console";

pub fn router() -> Router<Shared> {
    Router::new()
        .route("/", get(|| async { Redirect::to("/console/dashboard") }))
        .route("/static/console.css", get(css))
        .route("/static/console.js", get(js))
        .merge(auth::router())
        .merge(policies::router())
        .merge(tokens::router())
        .merge(links::router())
        .merge(identity::router())
        .merge(integration::router())
        .merge(devices::router())
        .merge(device::router())
        .merge(lists::router())
        .merge(maintenance::router())
        .merge(billing::router())
        .merge(routing::router())
        .merge(field_map::router())
        .merge(team::router())
        .merge(dashboard::router())
}

async fn css() -> Response {
    static_file(
        "text/css; charset=utf-8",
        include_str!("static/console.css"),
    )
}

async fn js() -> Response {
    static_file(
        "text/javascript; charset=utf-8",
        include_str!("static/console.js"),
    )
}

fn static_file(kind: &'static str, body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(kind)),
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=300"),
            ),
        ],
        body,
    )
        .into_response()
}

/// What every page's frame shows: who is signed in, the form token, the section, and a banner.
pub struct Frame {
    pub title: String,
    pub section: &'static str,
    pub username: String,
    pub csrf: String,
    pub notice: Option<String>,
    pub error: Option<String>,
    /// Reload the page this often (while something is in progress); 0: never.
    pub refresh_secs: u32,
}

impl Frame {
    pub fn new(viewer: &Viewer, section: &'static str, title: impl Into<String>) -> Frame {
        Frame {
            title: title.into(),
            section,
            username: viewer.username.clone(),
            csrf: viewer.csrf.clone(),
            notice: None,
            error: None,
            refresh_secs: 0,
        }
    }

    /// The banner for a `?notice=` code set by the page a form redirected from. Only known codes
    /// show: the address bar cannot put words on the page.
    pub fn with_notice(mut self, code: Option<&str>) -> Frame {
        self.notice = code.and_then(notice_text).map(str::to_owned);
        self
    }
}

fn notice_text(code: &str) -> Option<&'static str> {
    Some(match code {
        "created" => "Created.",
        "linked" => "Linked. Bindery is binding the policy's devices now.",
        "unlinked" => "Unlinked. The devices' configurations are being set inactive.",
        "retry" => "Every unbound device of this policy is being tried again.",
        "connected" => "Connected to ConnectWise. Now choose the boards, statuses and types.",
        "saved" => "Saved.",
        "added" => "Added. Connect it to its ConnectWise below.",
        "removed" => "Removed, with its settings.",
        "closed" => "Closing: the ticket gets its board's closed status in a moment.",
        "moved" => "Moved. The device is bound in its new policy's company.",
        "revoked" => "The token is revoked: it can enroll no more machines.",
        "deleted" => "Deleted.",
        "renamed" => "Renamed.",
        "decided" => "Done. The device is being bound accordingly.",
        "none_chosen" => "Tick at least one policy to link.",
        "billing_saved" => "Saved. The first quantities wait for your approval below.",
        "billing_approved" => "Approved: ConnectWise gets the new quantity in a moment.",
        _ => return None,
    })
}

/// A form whose only field is the CSRF token (buttons: unlink, retry, close, sign out).
#[derive(serde::Deserialize)]
pub struct CsrfForm {
    /// Missing counts as wrong: the check refuses it with a page that says what to do.
    #[serde(default)]
    pub csrf: String,
}

/// A rendered page.
pub fn render(t: &impl Template, status: StatusCode) -> Result<Response, ConsoleError> {
    let html = t.render().map_err(|e| {
        tracing::error!(error = %e, "a console page failed to render");
        ConsoleError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "this page failed to render",
        )
    })?;
    Ok((
        status,
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/html; charset=utf-8"),
            ),
            // Pages hold session-specific data and forms: never cached, never framed.
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
            (
                header::X_FRAME_OPTIONS,
                HeaderValue::from_static("DENY"),
            ),
            (
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static(
                    "default-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
                ),
            ),
        ],
        html,
    )
        .into_response())
}

/// Back to a page after a form, with a notice code.
pub fn see_other(path: &str, notice: &str) -> Response {
    let joint = if path.contains('?') { '&' } else { '?' };
    Redirect::to(&format!("{path}{joint}notice={notice}")).into_response()
}

/// A page that could not be shown, with a message a person can act on.
#[derive(Debug)]
pub struct ConsoleError {
    status: StatusCode,
    message: String,
}

#[derive(Template)]
#[template(path = "console/error.html")]
struct ErrorPage<'a> {
    status: u16,
    message: &'a str,
}

impl ConsoleError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> ConsoleError {
        ConsoleError {
            status,
            message: message.into(),
        }
    }
}

impl IntoResponse for ConsoleError {
    fn into_response(self) -> Response {
        let page = ErrorPage {
            status: self.status.as_u16(),
            message: &self.message,
        };
        match page.render() {
            Ok(html) => (
                self.status,
                [(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("text/html; charset=utf-8"),
                )],
                html,
            )
                .into_response(),
            Err(_) => (self.status, self.message).into_response(),
        }
    }
}

impl From<StoreError> for ConsoleError {
    fn from(e: StoreError) -> ConsoleError {
        ApiFailure::from(e).into()
    }
}

impl From<crate::integration::IntegrationError> for ConsoleError {
    fn from(e: crate::integration::IntegrationError) -> ConsoleError {
        ApiFailure::from(e).into()
    }
}

impl From<crate::ops::OpError> for ConsoleError {
    fn from(e: crate::ops::OpError) -> ConsoleError {
        ApiFailure::from(e).into()
    }
}

impl From<ApiFailure> for ConsoleError {
    fn from(f: ApiFailure) -> ConsoleError {
        ConsoleError::new(f.status, f.body.message)
    }
}

pub type Page = Result<Response, ConsoleError>;

/// "3 min ago" for a time in ms since the epoch.
pub fn ago(ms: i64) -> String {
    let secs = (crate::store::now_ms() - ms).max(0) / 1000;
    match secs {
        0..=59 => format!("{secs} s ago"),
        60..=3599 => format!("{} min ago", secs / 60),
        3600..=86_399 => format!("{} h ago", secs / 3600),
        _ => format!("{} days ago", secs / 86_400),
    }
}

/// Paging links for a list: (page, pages).
pub struct Paging {
    pub page: i64,
    pub pages: i64,
    pub total: i64,
    /// The list's query without `page=` (already URL-encoded), to build the links.
    pub query: String,
    /// More than `total` match: the list was counted only so far.
    pub more: bool,
}

impl Paging {
    pub const PER_PAGE: i64 = 50;

    pub fn new(page: Option<i64>, total: i64, query: String) -> Paging {
        let pages = ((total + Self::PER_PAGE - 1) / Self::PER_PAGE).max(1);
        Paging {
            page: page.unwrap_or(1).clamp(1, pages),
            pages,
            total,
            query,
            more: false,
        }
    }

    /// Paging for a list counted up to `at_most + 1` matches: past `at_most` it says "more
    /// than" and offers that many pages.
    pub fn counted_at_most(page: Option<i64>, counted: i64, at_most: i64, query: String) -> Paging {
        Paging {
            more: counted > at_most,
            ..Paging::new(page, counted.min(at_most), query)
        }
    }

    pub fn offset(page: Option<i64>) -> i64 {
        (page.unwrap_or(1).max(1) - 1) * Self::PER_PAGE
    }

    pub fn link(&self, page: i64) -> String {
        if self.query.is_empty() {
            format!("?page={page}")
        } else {
            format!("?{}&page={page}", self.query)
        }
    }
}

/// Percent-encodes a query value.
pub fn enc(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    for b in v.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::Paging;

    #[test]
    fn a_list_counted_only_so_far_says_more_than() {
        let exact = Paging::counted_at_most(Some(3), 120, 1000, String::new());
        assert_eq!(
            (exact.total, exact.pages, exact.page, exact.more),
            (120, 3, 3, false)
        );
        let capped = Paging::counted_at_most(Some(99), 1001, 1000, "action=".into());
        assert_eq!(
            (capped.total, capped.pages, capped.page, capped.more),
            (1000, 20, 20, true)
        );
        assert_eq!(capped.link(2), "?action=&page=2");
    }
}
