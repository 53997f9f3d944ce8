//! Admin sessions, for the admin API and the console alike: checking a password, starting a
//! session, finding the live one behind a token (sliding it forward), and its cookie. A session
//! ends after 12 hours unused, and at its absolute lifetime however busy (12 hours by default).

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};

use crate::access::{Actor, Via};
use crate::failure::ApiFailure;
use crate::secrets::{hash_secret, random_secret, verify_password};
use crate::state::Shared;
use crate::store::now_ms;

pub const SESSION_COOKIE: &str = "bindery_session";
/// A session ends after this long unused.
const SESSION_IDLE_MS: i64 = 12 * 3600 * 1000;

/// A signed-in admin: who acts (with the account's role), and the session's CSRF token (none for
/// an API token, which is not a browser's).
#[derive(Clone, Debug)]
pub struct Session {
    pub actor: Actor,
    pub csrf: String,
}

/// The client's address as the audit trail records it: the TCP peer, or the client a trusted
/// proxy names (`client_addr`).
pub fn client_address(state: &Shared, parts: &axum::http::request::Parts) -> Option<String> {
    let peer = parts
        .extensions
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()?
        .0;
    Some(
        state
            .agents
            .trusted_proxies
            .client(peer.ip(), &parts.headers)
            .to_string(),
    )
}

/// The live API token `token` is, as an actor; none when it is not one (or no longer live).
pub async fn token_actor(
    state: &Shared,
    token: &str,
    address: Option<String>,
) -> Result<Option<Actor>, ApiFailure> {
    if !token.starts_with(crate::ops::api_tokens::PREFIX) {
        return Ok(None);
    }
    let holder = state
        .store
        .use_api_token(&hash_secret(token), now_ms())
        .await?;
    Ok(holder.map(|h| Actor {
        account_id: Some(h.admin_id),
        name: h.username,
        role: h.role,
        via: Via::Token(h.token_id),
        address,
    }))
}

/// The session token a request carries, and whether it came in a cookie.
pub fn session_token(headers: &HeaderMap) -> Option<(String, bool)> {
    if let Some(token) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
    {
        return Some((token.trim().to_owned(), false));
    }
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().split_once('='))
        .find(|(name, _)| *name == SESSION_COOKIE)
        .map(|(_, value)| (value.to_owned(), true))
}

/// The live session behind `token`, slid forward when half used.
pub async fn session_for(
    state: &Shared,
    token: &str,
    address: Option<String>,
) -> Result<Option<Session>, ApiFailure> {
    let id_hash = hash_secret(token);
    let now = now_ms();
    let Some(session) = state.store.session(&id_hash, now).await? else {
        return Ok(None);
    };
    // However busy, a session ends at its absolute lifetime: a stolen one does not live on.
    let ends_ms = session.created_ms + lifetime_ms(state);
    if now >= ends_ms {
        state.store.delete_session(&id_hash).await?;
        return Ok(None);
    }
    if session.expires_ms - now < SESSION_IDLE_MS / 2 {
        state
            .store
            .extend_session(&id_hash, (now + SESSION_IDLE_MS).min(ends_ms))
            .await?;
    }
    Ok(Some(Session {
        actor: Actor {
            account_id: Some(session.admin_id),
            name: session.username,
            role: session.role,
            via: Via::Session,
            address,
        },
        csrf: session.csrf,
    }))
}

/// Password verifications at once (argon2 takes 19 MiB and most of a core each): past it a
/// sign-in is told to wait, and the server never runs out of memory.
static VERIFYING: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(4);

/// One sign-in attempt from `client` for `username`: `Err(wait)` past ten a minute from the
/// client (an IPv6 one by its /64), or while the name's growing delay lasts for a client that
/// has been failing. A client that has not been failing is always heard: guesses at a name
/// from many addresses cannot keep its real user out.
pub fn sign_in_attempt(
    state: &Shared,
    client: std::net::IpAddr,
    username: &str,
) -> Result<(), std::time::Duration> {
    state.login_limiter.check(client)?;
    if !state.login_address_failures.failed_lately(&client) {
        return Ok(());
    }
    match state.login_name_failures.wait(&name_key(username)) {
        Some(wait) => Err(wait),
        None => Ok(()),
    }
}

/// Counts a wrong password for `username` from `client`.
pub fn sign_in_failed(state: &Shared, client: std::net::IpAddr, username: &str) {
    state.login_address_failures.record(client);
    state.login_name_failures.record(name_key(username));
}

/// A user name as the failure log keys it.
fn name_key(username: &str) -> String {
    username.trim().to_lowercase().chars().take(100).collect()
}

/// A user name as logs show it: at most 64 characters, control characters escaped (a name with
/// a line break cannot forge a log line).
pub fn loggable(name: &str) -> String {
    crate::logged::escaped(name, 64)
}

/// Checks a username and password; the same work (one argon2 verification) whether or not the
/// user exists, so timing tells nothing. Too many at once: a 429 to try again.
pub async fn check_password(
    state: &Shared,
    username: &str,
    password: &str,
) -> Result<Option<crate::store::Admin>, ApiFailure> {
    // A hash of a random password, verified when the user does not exist.
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let admin = state.store.admin_by_name(username).await?;
    let stored = match &admin {
        Some(a) => a.password_hash.clone(),
        None => DECOY
            .get_or_init(|| {
                let random = random_secret("").unwrap_or_else(|_| now_ms().to_string());
                crate::secrets::hash_password(&random).unwrap_or_default()
            })
            .clone(),
    };
    let Ok(_verifying) = VERIFYING.try_acquire() else {
        let mut busy = ApiFailure::new(
            StatusCode::TOO_MANY_REQUESTS,
            "busy",
            "the server is checking many sign-ins at once; try again in a moment",
        );
        busy.retry_after = Some(std::time::Duration::from_secs(1));
        return Err(busy);
    };
    let password = password.to_owned();
    let ok = tokio::task::spawn_blocking(move || verify_password(&password, &stored))
        .await
        .unwrap_or(false);
    Ok(admin.filter(|_| ok))
}

/// Ends the session `token` names (signing out); nothing when there is none.
pub async fn end_session(state: &Shared, token: &str) -> Result<(), ApiFailure> {
    state.store.delete_session(&hash_secret(token)).await?;
    Ok(())
}

/// Starts a session for `admin_id`: (token, csrf).
pub async fn start_session(state: &Shared, admin_id: i64) -> Result<(String, String), ApiFailure> {
    let unavailable = |_| {
        ApiFailure::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "the server cannot make a session right now",
        )
    };
    let token = random_secret("bdy_ses_").map_err(unavailable)?;
    let csrf = random_secret("").map_err(unavailable)?;
    state
        .store
        .create_session(
            &hash_secret(&token),
            admin_id,
            &csrf,
            now_ms() + SESSION_IDLE_MS,
        )
        .await?;
    Ok((token, csrf))
}

fn lifetime_ms(state: &Shared) -> i64 {
    i64::try_from(state.agents.session_lifetime.as_millis()).unwrap_or(i64::MAX)
}

/// True when a cookie set now must be `Secure`: the server's public URL is https, it serves TLS
/// itself, or the request says it came over https (a forged claim only makes the cookie stricter).
pub fn secure_cookies(state: &Shared, headers: &HeaderMap) -> bool {
    state.agents.serves_https()
        || headers
            .get("x-forwarded-proto")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.eq_ignore_ascii_case("https"))
}

/// `Set-Cookie` for a session (or its removal with an empty token), `Secure` when asked.
pub fn session_cookie(token: &str, secure: bool) -> HeaderValue {
    let max_age = if token.is_empty() {
        0
    } else {
        SESSION_IDLE_MS / 1000
    };
    let secure = if secure { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{SESSION_COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age}{secure}"
    ))
    .unwrap_or_else(|_| HeaderValue::from_static("bindery_session=; Path=/; Max-Age=0"))
}
