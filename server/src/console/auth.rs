//! Signing in and out of the console, the session behind every page, and the CSRF check on
//! every form. Sessions are the admin API's: an HttpOnly, SameSite=Strict cookie (Secure when the
//! request came over HTTPS), 12 hours unused; each form carries the session's CSRF token.

use askama::Template;
use axum::Router;
use axum::extract::{ConnectInfo, Form, FromRequestParts, Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;

use super::{ConsoleError, CsrfForm, Page, render};
use crate::secrets::hash_secret;
use crate::sessions::{
    check_password, end_session, loggable, secure_cookies, session_cookie, session_for,
    session_token, sign_in_attempt, sign_in_failed, start_session,
};
use crate::state::Shared;

pub fn router() -> Router<Shared> {
    Router::new()
        .route("/login", get(login_page).post(login))
        .route("/logout", post(logout))
}

/// The admin signed in to the console (from the session cookie only).
#[derive(Clone, Debug)]
pub struct Viewer {
    pub username: String,
    pub csrf: String,
    /// Who acts, with the account's role: every change goes through the operations as them.
    pub actor: crate::access::Actor,
}

impl Viewer {
    /// Refuses a form that does not carry this session's CSRF token (a cross-site post, or a
    /// page from an earlier session).
    pub fn check(&self, sent: &str) -> Result<(), ConsoleError> {
        if crate::secrets::verify_secret(sent, &hash_secret(&self.csrf)) {
            Ok(())
        } else {
            Err(ConsoleError::new(
                StatusCode::FORBIDDEN,
                "This form is out of date or did not come from this console: reload the page and try again.",
            ))
        }
    }
}

impl FromRequestParts<Shared> for Viewer {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &Shared) -> Result<Self, Response> {
        // A link into the console (ConnectWise's managementLink, a bookmark) comes back to
        // the same page after signing in.
        // The console is nested under /console: the path as the browser asked for it.
        let uri = parts
            .extensions
            .get::<axum::extract::OriginalUri>()
            .map_or(&parts.uri, |o| &o.0);
        let back = match parts.method {
            axum::http::Method::GET => uri
                .path_and_query()
                .map(|p| format!("next={}", super::enc(p.as_str())))
                .unwrap_or_default(),
            _ => String::new(),
        };
        let Some((token, true)) = session_token(&parts.headers) else {
            return Err(Redirect::to(&format!("/console/login?{back}")).into_response());
        };
        let address = crate::sessions::client_address(state, parts);
        match session_for(state, &token, address).await {
            Ok(Some(auth)) => Ok(Viewer {
                username: auth.actor.name.clone(),
                csrf: auth.csrf,
                actor: auth.actor,
            }),
            Ok(None) => {
                Err(Redirect::to(&format!("/console/login?expired=1&{back}")).into_response())
            }
            Err(f) => Err(ConsoleError::from(f).into_response()),
        }
    }
}

#[derive(Template)]
#[template(path = "console/login.html")]
struct LoginPage {
    message: Option<&'static str>,
    error: Option<String>,
    username: String,
    /// Where to go once signed in (a console page).
    next: String,
}

/// `next` when it is a page of this console, else the policies page: never another site.
fn landing(next: &str) -> &str {
    let local = next.starts_with("/console/")
        && !next.contains('\\')
        && !next.chars().any(char::is_control)
        && !next.starts_with("/console/login");
    if local { next } else { "/console/dashboard" }
}

#[derive(Deserialize)]
struct LoginQuery {
    expired: Option<String>,
    signed_out: Option<String>,
    #[serde(default)]
    next: String,
}

async fn login_page(Query(q): Query<LoginQuery>) -> Page {
    let message = if q.expired.is_some() {
        Some("Your session has expired. Sign in again to carry on.")
    } else if q.signed_out.is_some() {
        Some("You are signed out.")
    } else {
        None
    };
    render(
        &LoginPage {
            message,
            error: None,
            username: String::new(),
            next: landing(&q.next).to_owned(),
        },
        StatusCode::OK,
    )
}

#[derive(Deserialize)]
struct LoginForm {
    username: String,
    password: String,
    #[serde(default)]
    next: String,
}

async fn login(
    State(state): State<Shared>,
    ConnectInfo(peer): ConnectInfo<std::net::SocketAddr>,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> Page {
    let again = |error: &str, status| {
        render(
            &LoginPage {
                message: None,
                error: Some(error.to_owned()),
                username: form.username.chars().take(100).collect(),
                next: landing(&form.next).to_owned(),
            },
            status,
        )
    };
    let client = state.client_key(peer, &headers);
    if sign_in_attempt(&state, client, &form.username).is_err() {
        return again(
            "Too many sign-in attempts from this address or for this user. Wait a minute and try again.",
            StatusCode::TOO_MANY_REQUESTS,
        );
    }
    let Some(admin) = check_password(&state, form.username.trim(), &form.password).await? else {
        sign_in_failed(&state, client, &form.username);
        tracing::info!(username = %loggable(&form.username), "console sign-in refused");
        return again("Wrong username or password.", StatusCode::UNAUTHORIZED);
    };
    let (token, _) = start_session(&state, admin.id).await?;
    tracing::info!(username = %loggable(form.username.trim()), "admin signed in to the console");
    let cookie = session_cookie(&token, secure_cookies(&state, &headers));
    Ok((
        [(header::SET_COOKIE, cookie)],
        Redirect::to(landing(&form.next)),
    )
        .into_response())
}

async fn logout(
    State(state): State<Shared>,
    viewer: Viewer,
    headers: HeaderMap,
    Form(form): Form<CsrfForm>,
) -> Page {
    viewer.check(&form.csrf)?;
    if let Some((token, _)) = session_token(&headers) {
        end_session(&state, &token).await?;
    }
    Ok((
        [(
            header::SET_COOKIE,
            session_cookie("", secure_cookies(&state, &headers)),
        )],
        Redirect::to("/console/login?signed_out=1"),
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::landing;

    #[test]
    fn signing_in_returns_only_to_a_page_of_this_console() {
        assert_eq!(landing("/console/devices/12"), "/console/devices/12");
        assert_eq!(
            landing("/console/alerts?state=open"),
            "/console/alerts?state=open"
        );
        for elsewhere in [
            "",
            "https://evil.example/console/",
            "//evil.example/console/x",
            "/console\\..\\x",
            "/console/login?next=/console/x",
            "/api/admin/v1/devices",
            "/console/x\r\nSet-Cookie: a=b",
        ] {
            assert_eq!(landing(elsewhere), "/console/dashboard", "{elsewhere:?}");
        }
    }
}
