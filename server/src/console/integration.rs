//! The ConnectWise page: credentials (the private key write-only), "Connect" with a clear
//! success or failure, then the choices ConnectWise offers. A configuration type with required
//! questions is refused next to its field.

use askama::Template;
use axum::Router;
use axum::extract::{Form, Query, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use bindery_shared::FactField;
use serde::Deserialize;

use super::integration_choices::{CLOSE_RULES, ChoicesForm, answers_text, close_rule_value};
use super::{ConsoleError, Frame, Page, Viewer, render, see_other};
use crate::ids::IntegrationId;
use crate::integration::IntegrationError;
use crate::integration::{
    self, BoardUse, Catalog, Choices, CwCredentials, TicketRules, TypeRuleChoice,
};
use crate::ops::OpError;
use crate::reconcile::adoption::AdoptionSettings;
use crate::reconcile::callbacks::CallbackStatus;
use crate::state::Shared;
use crate::store::Integration;

/// Rule rows on the page (more rules: the admin API).
const RULE_ROWS: usize = 3;

pub fn router() -> Router<Shared> {
    Router::new()
        .route("/integration", get(page).post(connect))
        .route("/integration/choices", post(save_choices))
        .merge(super::integrations::router())
}

/// Which instance the page is about (`?integration=ID`; none: the oldest).
#[derive(Deserialize)]
pub(super) struct Which {
    integration: Option<IntegrationId>,
    notice: Option<String>,
}

impl Which {
    async fn id(&self, state: &Shared) -> Result<IntegrationId, ConsoleError> {
        Ok(crate::ops::integration_or_default(&state.store, self.integration).await?)
    }
}

/// The page's address for an instance, with a notice.
fn page_of(id: IntegrationId, notice: &str) -> axum::response::Response {
    see_other(&format!("/console/integration?integration={id}"), notice)
}

struct BoardField {
    legend: &'static str,
    prefix: &'static str,
    board: i64,
    open: i64,
    closed: i64,
    /// `always`, `untouched` or `never`.
    close_rule: &'static str,
}

struct RuleRow {
    n: usize,
    field: &'static str,
    pattern: String,
    /// 0: no rule in this row.
    type_id: i64,
    error: Option<String>,
}

#[derive(Template)]
#[template(path = "console/integration.html")]
struct IntegrationPage {
    frame: Frame,
    integration: IntegrationId,
    integration_name: String,
    /// Its own request budget a minute (0: the server's).
    budget: i64,
    instances: Vec<Integration>,
    site: String,
    company_id: String,
    public_key: String,
    client_id: String,
    allow_http: bool,
    private_key_set: bool,
    catalog: Option<Catalog>,
    board_fields: Vec<BoardField>,
    active: i64,
    inactive: i64,
    default_type: i64,
    default_type_error: Option<String>,
    rules: Vec<RuleRow>,
    facts: Vec<(&'static str, &'static str)>,
    adoption: AdoptionSettings,
    close_rules: &'static [(&'static str, &'static str)],
    tickets: TicketRules,
    callbacks: CallbackStatus,
    /// The answers to required questions, one per line.
    answers: String,
}

impl IntegrationPage {
    /// The page for what is stored, with `choices` in the form (the stored ones, or what the
    /// admin just sent).
    async fn build(
        state: &Shared,
        viewer: &Viewer,
        id: IntegrationId,
        (catalog, choices): (Option<Catalog>, Option<Choices>),
    ) -> Result<IntegrationPage, ConsoleError> {
        let creds = integration::credentials(&state.store, id).await?;
        let choices = match choices {
            Some(c) => Some(c),
            None => integration::choices(&state.store, id).await?,
        };
        let instances = state.store.integrations().await?;
        let this = instances.iter().find(|i| i.id == id);
        let integration_name = this.map(|i| i.name.clone()).unwrap_or_default();
        let budget = this.and_then(|i| i.requests_per_minute).unwrap_or(0);
        let board = |b: Option<&BoardUse>, legend, prefix| BoardField {
            legend,
            prefix,
            board: b.map_or(0, |b| b.board_id),
            open: b.map_or(0, |b| b.open_status_id),
            closed: b.map_or(0, |b| b.closed_status_id),
            close_rule: close_rule_value(b.map(|b| b.close_rule).unwrap_or_default()),
        };
        let c = choices.as_ref();
        let rules = (0..RULE_ROWS)
            .map(|n| {
                let r = c.and_then(|c| c.type_rules.get(n));
                RuleRow {
                    n,
                    field: r.map_or("osInfo", |r| r.field.as_str()),
                    pattern: r.map(|r| r.pattern.clone()).unwrap_or_default(),
                    type_id: r.map_or(0, |r| r.type_id),
                    error: None,
                }
            })
            .collect();
        let (credentials, private_key_set) = match creds {
            Some(v) => (Some(v.credentials), v.private_key_set),
            None => (None, false),
        };
        let cr = credentials.as_ref();
        Ok(IntegrationPage {
            frame: Frame::new(viewer, "integration", "ConnectWise"),
            integration: id,
            integration_name,
            budget,
            instances,
            site: cr.map(|c| c.site.clone()).unwrap_or_default(),
            company_id: cr.map(|c| c.company_id.clone()).unwrap_or_default(),
            public_key: cr.map(|c| c.public_key.clone()).unwrap_or_default(),
            client_id: cr.map(|c| c.client_id.clone()).unwrap_or_default(),
            allow_http: cr.is_some_and(|c| c.allow_http),
            private_key_set,
            catalog,
            board_fields: vec![
                board(
                    c.map(|c| &c.monitoring),
                    "Monitoring board (alerts)",
                    "monitoring",
                ),
                board(
                    c.map(|c| &c.self_service),
                    "Self-service board (help requests)",
                    "self_service",
                ),
            ],
            adoption: c.map(|c| c.adoption).unwrap_or_default(),
            close_rules: &CLOSE_RULES,
            tickets: c.map(|c| c.tickets).unwrap_or_default(),
            answers: c.map(|c| answers_text(&c.answers)).unwrap_or_default(),
            callbacks: crate::reconcile::callbacks::status(&state.store, id).await?,
            active: c.map_or(0, |c| c.active_status_id),
            inactive: c.map_or(0, |c| c.inactive_status_id),
            default_type: c.map_or(0, |c| c.default_type_id),
            default_type_error: None,
            rules,
            facts: FactField::ALL
                .iter()
                .map(|f| (f.as_str(), f.label()))
                .collect(),
        })
    }
}

/// What ConnectWise offers, when credentials are saved; the failure when it cannot be reached.
async fn fetch_catalog(
    state: &Shared,
    viewer: &Viewer,
    id: IntegrationId,
) -> Option<Result<Catalog, String>> {
    state.key.as_ref()?;
    match state.ops(&viewer.actor).test_connection(id).await {
        Ok(c) => Some(Ok(c)),
        Err(OpError::Integration(IntegrationError::NotConfigured)) => None,
        Err(e) => Some(Err(crate::failure::ApiFailure::from(e).body.message)),
    }
}

async fn page(State(state): State<Shared>, viewer: Viewer, Query(q): Query<Which>) -> Page {
    let id = q.id(&state).await?;
    let (catalog, error) = match fetch_catalog(&state, &viewer, id).await {
        Some(Ok(c)) => (Some(c), None),
        Some(Err(e)) => (
            None,
            Some(format!(
                "ConnectWise cannot be reached with these settings: {e}"
            )),
        ),
        None => (None, None),
    };
    let mut page = IntegrationPage::build(&state, &viewer, id, (catalog, None)).await?;
    page.frame = page.frame.with_notice(q.notice.as_deref());
    page.frame.error = error;
    render(&page, StatusCode::OK)
}

#[derive(Deserialize)]
struct CredentialsForm {
    #[serde(default)]
    csrf: String,
    site: String,
    company_id: String,
    public_key: String,
    #[serde(default)]
    private_key: String,
    client_id: String,
    #[serde(default)]
    allow_http: Option<String>,
}

/// "Connect": saves the settings, then tries them; the banner says which part failed.
async fn connect(
    State(state): State<Shared>,
    viewer: Viewer,
    Query(which): Query<Which>,
    Form(f): Form<CredentialsForm>,
) -> Page {
    viewer.check(&f.csrf)?;
    let id = which.id(&state).await?;
    let credentials = CwCredentials {
        site: f.site.trim().to_owned(),
        company_id: f.company_id.trim().to_owned(),
        public_key: f.public_key.trim().to_owned(),
        client_id: f.client_id.trim().to_owned(),
        allow_http: f.allow_http.is_some(),
    };
    let private_key = (!f.private_key.is_empty()).then_some(f.private_key.as_str());
    if let Err(e) = state
        .ops(&viewer.actor)
        .save_credentials(id, &credentials, private_key)
        .await
    {
        let mut page = IntegrationPage::build(&state, &viewer, id, (None, None)).await?;
        page.site = credentials.site;
        page.company_id = credentials.company_id;
        page.public_key = credentials.public_key;
        page.client_id = credentials.client_id;
        page.allow_http = credentials.allow_http;
        page.frame.error = Some(format!("Not saved: {e}"));
        return render(&page, StatusCode::BAD_REQUEST);
    }
    match fetch_catalog(&state, &viewer, id).await {
        Some(Ok(_)) => Ok(page_of(id, "connected")),
        Some(Err(e)) => {
            let mut page = IntegrationPage::build(&state, &viewer, id, (None, None)).await?;
            page.frame.error = Some(format!(
                "Saved, but ConnectWise refused the connection: {e}"
            ));
            render(&page, StatusCode::BAD_GATEWAY)
        }
        None => Ok(page_of(id, "saved")),
    }
}

async fn save_choices(
    State(state): State<Shared>,
    viewer: Viewer,
    Query(which): Query<Which>,
    Form(f): Form<ChoicesForm>,
) -> Page {
    viewer.check(&f.csrf)?;
    let id = which.id(&state).await?;
    let rules = f.rules();
    let answers = f
        .answers()
        .map_err(|why| ConsoleError::new(StatusCode::BAD_REQUEST, format!("Not saved: {why}")))?;
    let choices = f.choices(&rules, answers);
    let catalog = match fetch_catalog(&state, &viewer, id).await {
        Some(Ok(c)) => c,
        Some(Err(e)) => {
            return Err(ConsoleError::new(
                StatusCode::BAD_GATEWAY,
                format!("ConnectWise cannot be reached to check the choices: {e}"),
            ));
        }
        None => {
            return Err(ConsoleError::new(
                StatusCode::CONFLICT,
                "Connect to ConnectWise first: the choices come from it.",
            ));
        }
    };
    match state
        .ops(&viewer.actor)
        .save_choices_against(id, &catalog, &choices)
        .await
    {
        Ok(()) => Ok(page_of(id, "saved")),
        Err(OpError::Integration(IntegrationError::Invalid(why))) => {
            refused(&state, &viewer, (id, catalog), &choices, &rules, &why).await
        }
        Err(other) => Err(other.into()),
    }
}

/// The integration page again with the choices as the admin made them: types with required
/// questions refused beside their field, the rest in the banner.
async fn refused(
    state: &Shared,
    viewer: &Viewer,
    (id, catalog): (IntegrationId, Catalog),
    choices: &Choices,
    rules: &[(usize, TypeRuleChoice)],
    why: &str,
) -> Page {
    let refusal = |id: i64| {
        catalog
            .configuration_types
            .iter()
            .find(|t| t.id == id)
            .and_then(|t| t.refusal(&choices.answers))
    };
    let shown = (Some(catalog.clone()), Some(choices.clone()));
    let mut page = IntegrationPage::build(state, viewer, id, shown).await?;
    page.default_type_error = refusal(choices.default_type_id);
    // The rows as the admin filled them, each with its own refusal.
    for r in &mut page.rules {
        r.pattern.clear();
        r.type_id = 0;
    }
    for (n, rule) in rules {
        if let Some(r) = page.rules.get_mut(*n) {
            r.error = refusal(rule.type_id);
            r.field = rule.field.as_str();
            r.pattern = rule.pattern.clone();
            r.type_id = rule.type_id;
        }
    }
    page.frame.error = Some(format!("Not saved: {why}"));
    render(&page, StatusCode::BAD_REQUEST)
}
