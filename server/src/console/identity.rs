//! A person's answers where Bindery does not decide a device's identity alone: which
//! configuration a waiting device is (adopt one, or create a new one), re-pointing a bound
//! device, and whether a possible reinstall is the same machine.

use axum::Router;
use axum::extract::{Form, Path, State};
use axum::routing::post;
use serde::Deserialize;

use super::{Page, Viewer, see_other};
use crate::ids::{ConfigurationId, DeviceId, PolicyId};
use crate::ops::identity::ReinstallAnswer;
use crate::reconcile::plan::PersonChoice;
use crate::state::Shared;

pub fn router() -> Router<Shared> {
    Router::new()
        .route("/devices/{id}/configuration", post(configuration))
        .route("/devices/{id}/reinstall", post(reinstall))
}

#[derive(Deserialize)]
struct ConfigurationForm {
    #[serde(default)]
    csrf: String,
    /// The policy page to go back to.
    back: PolicyId,
    adopt: Option<ConfigurationId>,
    create_new: Option<String>,
}

async fn configuration(
    State(state): State<Shared>,
    viewer: Viewer,
    Path(id): Path<DeviceId>,
    Form(f): Form<ConfigurationForm>,
) -> Page {
    viewer.check(&f.csrf)?;
    let choice = match (f.adopt, f.create_new) {
        (Some(c), _) => PersonChoice::Adopt(c),
        (None, Some(_)) => PersonChoice::CreateNew,
        (None, None) => PersonChoice::Auto,
    };
    state
        .ops(&viewer.actor)
        .choose_configuration(id, choice)
        .await?;
    Ok(see_other(
        &format!("/console/policies/{}", f.back),
        "decided",
    ))
}

#[derive(Deserialize)]
struct ReinstallForm {
    #[serde(default)]
    csrf: String,
    back: PolicyId,
    answer: ReinstallAnswer,
}

async fn reinstall(
    State(state): State<Shared>,
    viewer: Viewer,
    Path(id): Path<DeviceId>,
    Form(f): Form<ReinstallForm>,
) -> Page {
    viewer.check(&f.csrf)?;
    state
        .ops(&viewer.actor)
        .answer_reinstall(id, f.answer)
        .await?;
    Ok(see_other(
        &format!("/console/policies/{}", f.back),
        "decided",
    ))
}
