//! The ConnectWise instances from the console: add one, rename or remove the one shown (each
//! through `ops`, as the admin API and the CLI do). The instance list itself is on each
//! instance's page (`integration`).

use axum::Router;
use axum::extract::{Form, Path, State};
use axum::routing::post;
use serde::Deserialize;

use super::{Page, Viewer, see_other};
use crate::ids::IntegrationId;
use crate::state::Shared;

pub fn router() -> Router<Shared> {
    Router::new()
        .route("/integrations", post(add))
        .route("/integrations/{id}/rename", post(rename))
        .route("/integrations/{id}/budget", post(budget))
        .route("/integrations/{id}/remove", post(remove))
}

#[derive(Deserialize)]
struct NameForm {
    #[serde(default)]
    csrf: String,
    name: String,
}

#[derive(Deserialize)]
struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

async fn add(State(state): State<Shared>, viewer: Viewer, Form(f): Form<NameForm>) -> Page {
    viewer.check(&f.csrf)?;
    let added = state.ops(&viewer.actor).add_integration(&f.name).await?;
    Ok(see_other(
        &format!("/console/integration?integration={}", added.id),
        "added",
    ))
}

async fn rename(
    State(state): State<Shared>,
    viewer: Viewer,
    Path(id): Path<IntegrationId>,
    Form(f): Form<NameForm>,
) -> Page {
    viewer.check(&f.csrf)?;
    state
        .ops(&viewer.actor)
        .rename_integration(id, &f.name)
        .await?;
    Ok(see_other(
        &format!("/console/integration?integration={id}"),
        "saved",
    ))
}

#[derive(Deserialize)]
struct BudgetForm {
    #[serde(default)]
    csrf: String,
    requests_per_minute: u32,
}

async fn budget(
    State(state): State<Shared>,
    viewer: Viewer,
    Path(id): Path<IntegrationId>,
    Form(f): Form<BudgetForm>,
) -> Page {
    viewer.check(&f.csrf)?;
    state
        .ops(&viewer.actor)
        .set_integration_budget(id, Some(f.requests_per_minute))
        .await?;
    Ok(see_other(
        &format!("/console/integration?integration={id}"),
        "saved",
    ))
}

async fn remove(
    State(state): State<Shared>,
    viewer: Viewer,
    Path(id): Path<IntegrationId>,
    Form(f): Form<CsrfForm>,
) -> Page {
    viewer.check(&f.csrf)?;
    state.ops(&viewer.actor).remove_integration(id).await?;
    Ok(see_other("/console/integration", "removed"))
}
