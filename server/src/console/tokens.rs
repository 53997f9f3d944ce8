//! Enrollment tokens in the console: made from a policy's page (shown once, with its install
//! commands) and revoked.

use askama::Template;
use axum::Router;
use axum::extract::{Form, Path, State};
use axum::http::StatusCode;
use axum::routing::post;
use serde::Deserialize;

use super::{ConsoleError, CsrfForm, Frame, Page, Viewer, render, see_other};
use crate::ids::PolicyId;
use crate::state::Shared;

pub fn router() -> Router<Shared> {
    Router::new()
        .route("/tokens", post(create_token))
        .route("/tokens/{id}/revoke", post(revoke_token))
}

/// A token as the policy page lists it.
pub struct TokenRow {
    pub id: i64,
    pub label: String,
    pub created: String,
    pub uses: i64,
    pub expires: String,
    pub state: &'static str,
    pub usable: bool,
}

pub fn token_row(t: crate::store::EnrollmentToken, now: i64) -> TokenRow {
    TokenRow {
        id: t.id,
        created: super::ago(t.created_ms),
        uses: t.uses,
        expires: t
            .expires_ms
            .map(bindery_shared::time::utc_text)
            .unwrap_or_else(|| "never".into()),
        state: if t.revoked_ms.is_some() {
            "revoked"
        } else if t.is_usable(now) {
            "usable"
        } else {
            "expired"
        },
        usable: t.is_usable(now),
        label: t.label,
    }
}

#[derive(Template)]
#[template(path = "console/token_created.html")]
struct TokenCreated {
    frame: Frame,
    policy: String,
    policy_id: PolicyId,
    /// The install commands; none until the server's public URL is configured.
    linux: Option<String>,
    windows: Option<String>,
    msi: Option<String>,
    token: String,
}

#[derive(Deserialize)]
struct TokenForm {
    #[serde(default)]
    csrf: String,
    policy_id: PolicyId,
    #[serde(default)]
    label: String,
    /// Days until it stops working (blank: never, on purpose).
    #[serde(default)]
    expires_days: String,
    /// Machines that may enroll with it (blank: any number, on purpose).
    #[serde(default)]
    max_uses: String,
}

/// A default for a form field: blank where 0 means none.
pub fn blank_if_zero(n: u32) -> String {
    if n == 0 { String::new() } else { n.to_string() }
}

/// A blank form field as none, a number as itself, anything else as a clear refusal.
fn optional_number(value: &str, what: &str) -> Result<Option<u32>, ConsoleError> {
    match value.trim() {
        "" => Ok(None),
        v => v.parse().map(Some).map_err(|_| {
            ConsoleError::new(
                StatusCode::BAD_REQUEST,
                format!("{what} is a whole number, or blank"),
            )
        }),
    }
}

async fn create_token(
    State(state): State<Shared>,
    viewer: Viewer,
    Form(f): Form<TokenForm>,
) -> Page {
    viewer.check(&f.csrf)?;
    let p = state.store.policy(f.policy_id).await?;
    let expires = optional_number(&f.expires_days, "Expires after (days)")?;
    let uses = optional_number(&f.max_uses, "Machines")?;
    let (_, token) = state
        .ops(&viewer.actor)
        .create_token(p.id, &f.label, expires, uses)
        .await?;
    // Built from the configured public URL only: a request's Host header is the client's to say.
    let commands = state
        .agents
        .public_url
        .as_deref()
        .map(|url| crate::downloads::install_commands(url, &token));
    let page = TokenCreated {
        frame: Frame::new(&viewer, "policies", "New enrollment token"),
        linux: commands.as_ref().map(|c| c.unix.clone()),
        windows: commands.as_ref().map(|c| c.windows.clone()),
        msi: commands.map(|c| c.msi),
        token,
        policy: p.name,
        policy_id: p.id,
    };
    render(&page, StatusCode::CREATED)
}

async fn revoke_token(
    State(state): State<Shared>,
    viewer: Viewer,
    Path(id): Path<i64>,
    Form(f): Form<CsrfForm>,
) -> Page {
    viewer.check(&f.csrf)?;
    state.ops(&viewer.actor).revoke_token(id).await?;
    Ok(see_other("/console/policies", "revoked"))
}
