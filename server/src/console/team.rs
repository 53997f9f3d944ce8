//! The team (`/console/team`): accounts and their roles (an owner adds accounts and changes
//! roles), and one's own API tokens (made here, the secret shown once; revoked here). The audit
//! trail (`/console/audit`): who changed what, filtered, paged, and exported as CSV.

use askama::Template;
use axum::Router;
use axum::extract::{Form, Path, Query, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use serde::Deserialize;

use super::{CsrfForm, Frame, Page, Viewer, ago, render, see_other};
use crate::access::Role;
use crate::state::Shared;
use crate::store::{ApiToken, AuditEntry, AuditFilter};

/// Entries on one page of the audit trail.
const AUDIT_PAGE: i64 = 50;

pub fn router() -> Router<Shared> {
    Router::new()
        .route("/team", get(page))
        .route("/team/accounts", post(create_account))
        .route("/team/role", post(change_role))
        .route("/team/tokens", post(create_token))
        .route("/team/tokens/{id}/revoke", post(revoke_token))
        .route("/audit", get(audit))
}

struct TokenRow {
    id: i64,
    account: String,
    name: String,
    role: Role,
    expires: String,
    last_used: String,
    revoked: bool,
}

fn token_row(t: ApiToken) -> TokenRow {
    TokenRow {
        id: t.id,
        account: t.account,
        name: t.name,
        role: t.role,
        expires: bindery_shared::time::utc_text(t.expires_ms),
        last_used: t.last_used_ms.map_or("never".into(), ago),
        revoked: t.revoked_ms.is_some(),
    }
}

#[derive(Template)]
#[template(path = "console/team.html")]
struct TeamPage {
    frame: Frame,
    accounts: Vec<(String, Role)>,
    roles: Vec<Role>,
    /// The roles the viewer may give a token (up to their own).
    token_roles: Vec<Role>,
    is_owner: bool,
    tokens: Vec<TokenRow>,
    /// A token just made: its secret, shown this once.
    new_secret: Option<String>,
}

async fn show(state: &Shared, viewer: &Viewer) -> Result<TeamPage, super::ConsoleError> {
    let ops = state.ops(&viewer.actor);
    let role = viewer.actor.role;
    Ok(TeamPage {
        frame: Frame::new(viewer, "team", "Team"),
        accounts: ops.accounts().await?,
        roles: Role::ALL.to_vec(),
        token_roles: Role::ALL.into_iter().filter(|r| *r <= role).collect(),
        is_owner: role == Role::Owner,
        tokens: ops.api_tokens().await?.into_iter().map(token_row).collect(),
        new_secret: None,
    })
}

#[derive(Deserialize)]
struct Notice {
    notice: Option<String>,
}

async fn page(State(state): State<Shared>, viewer: Viewer, Query(q): Query<Notice>) -> Page {
    let mut page = show(&state, &viewer).await?;
    page.frame = page.frame.with_notice(q.notice.as_deref());
    render(&page, StatusCode::OK)
}

/// Renders the page again with what went wrong.
async fn refused(state: &Shared, viewer: &Viewer, why: String) -> Page {
    let mut page = show(state, viewer).await?;
    page.frame.error = Some(why);
    render(&page, StatusCode::BAD_REQUEST)
}

fn role_named(s: &str) -> Result<Role, String> {
    Role::parse(s).ok_or_else(|| format!("{s:?} is not a role"))
}

#[derive(Deserialize)]
struct NewAccountForm {
    #[serde(default)]
    csrf: String,
    username: String,
    password: String,
    role: String,
}

async fn create_account(
    State(state): State<Shared>,
    viewer: Viewer,
    Form(f): Form<NewAccountForm>,
) -> Page {
    viewer.check(&f.csrf)?;
    let made = match role_named(&f.role) {
        Ok(role) => state
            .ops(&viewer.actor)
            .create_admin(&f.username, &f.password, role)
            .await
            .map_err(|e| e.to_string()),
        Err(e) => Err(e),
    };
    match made {
        Ok(_) => Ok(see_other("/console/team", "created")),
        Err(why) => refused(&state, &viewer, format!("Not added: {why}")).await,
    }
}

#[derive(Deserialize)]
struct RoleForm {
    #[serde(default)]
    csrf: String,
    username: String,
    role: String,
}

async fn change_role(State(state): State<Shared>, viewer: Viewer, Form(f): Form<RoleForm>) -> Page {
    viewer.check(&f.csrf)?;
    let changed = match role_named(&f.role) {
        Ok(role) => state
            .ops(&viewer.actor)
            .set_admin_role(&f.username, role)
            .await
            .map_err(|e| e.to_string()),
        Err(e) => Err(e),
    };
    match changed {
        Ok(()) => Ok(see_other("/console/team", "saved")),
        Err(why) => refused(&state, &viewer, format!("Not changed: {why}")).await,
    }
}

#[derive(Deserialize)]
struct TokenForm {
    #[serde(default)]
    csrf: String,
    name: String,
    role: String,
    days: String,
}

async fn create_token(
    State(state): State<Shared>,
    viewer: Viewer,
    Form(f): Form<TokenForm>,
) -> Page {
    viewer.check(&f.csrf)?;
    let days = f
        .days
        .trim()
        .parse::<i64>()
        .map_err(|_| "the days are a number".to_owned());
    let made = match (role_named(&f.role), days) {
        (Ok(role), Ok(days)) => state
            .ops(&viewer.actor)
            .create_api_token(&f.name, role, days)
            .await
            .map_err(|e| e.to_string()),
        (Err(e), _) | (_, Err(e)) => Err(e),
    };
    match made {
        Ok(token) => {
            let mut page = show(&state, &viewer).await?;
            page.frame.notice =
                Some("Made. Copy the token now: it is shown only this once.".into());
            page.new_secret = Some(token.secret);
            render(&page, StatusCode::OK)
        }
        Err(why) => refused(&state, &viewer, format!("Not made: {why}")).await,
    }
}

async fn revoke_token(
    State(state): State<Shared>,
    viewer: Viewer,
    Path(id): Path<i64>,
    Form(f): Form<CsrfForm>,
) -> Page {
    viewer.check(&f.csrf)?;
    match state.ops(&viewer.actor).revoke_api_token(id).await {
        Ok(_) => Ok(see_other("/console/team", "revoked")),
        Err(e) => refused(&state, &viewer, format!("Not revoked: {e}")).await,
    }
}

#[derive(Template)]
#[template(path = "console/audit.html")]
struct AuditPage {
    frame: Frame,
    entries: Vec<(AuditEntry, String)>,
    actor: String,
    action: String,
    /// The next page's link, when there may be one.
    older: Option<String>,
    /// The CSV export of what the filters select.
    csv: String,
}

#[derive(Deserialize)]
struct AuditQuery {
    #[serde(default)]
    actor: String,
    #[serde(default)]
    action: String,
    before: Option<i64>,
}

async fn audit(State(state): State<Shared>, viewer: Viewer, Query(q): Query<AuditQuery>) -> Page {
    let text = |s: &str| Some(s.trim().to_owned()).filter(|s| !s.is_empty());
    let filter = AuditFilter {
        actor: text(&q.actor),
        action: text(&q.action),
        since_ms: None,
        before_id: q.before,
        limit: AUDIT_PAGE,
    };
    let entries = state.ops(&viewer.actor).audit(&filter).await?;
    let query = format!(
        "actor={}&action={}",
        super::enc(q.actor.trim()),
        super::enc(q.action.trim())
    );
    let older = (entries.len() as i64 == AUDIT_PAGE)
        .then(|| {
            entries
                .last()
                .map(|e| format!("/console/audit?{query}&before={}", e.id))
        })
        .flatten();
    render(
        &AuditPage {
            frame: Frame::new(&viewer, "audit", "Audit trail"),
            csv: format!("/api/admin/v1/audit?format=csv&limit=10000&{query}"),
            entries: entries
                .into_iter()
                .map(|e| {
                    let when = bindery_shared::time::utc_text(e.at_ms);
                    (e, when)
                })
                .collect(),
            actor: q.actor,
            action: q.action,
            older,
        },
        StatusCode::OK,
    )
}
