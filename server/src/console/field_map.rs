//! The configuration field map of an instance (`/console/fields?integration=ID`): one row per
//! rule (field, custom field, value from facts, whether Bindery owns it), a few empty rows to
//! add one, and a device's preview (what its configuration would get).

use askama::Template;
use axum::Router;
use axum::extract::{Form, Query, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use serde::Deserialize;

use super::{Frame, Page, Viewer, render, see_other};
use crate::ids::{DeviceId, IntegrationId};
use crate::integration::{FieldMap, FieldRule, MapTarget};
use crate::ops::field_map::{CustomFieldChoice, FieldPreview};
use crate::state::Shared;
use bindery_shared::FactField;

/// Empty rows offered below the rules, to add one.
const BLANK_ROWS: usize = 3;

pub fn router() -> Router<Shared> {
    Router::new()
        .route("/fields", get(page).post(save))
        .route("/fields/preview", post(preview))
}

/// One row of the form: a rule, or an empty one.
struct Row {
    n: usize,
    target: String,
    custom: String,
    value: String,
    owned: bool,
}

#[derive(Template)]
#[template(path = "console/field_map.html")]
struct FieldMapPage {
    frame: Frame,
    integration: IntegrationId,
    rows: Vec<Row>,
    targets: Vec<&'static str>,
    custom_fields: Vec<CustomFieldChoice>,
    /// Why the custom fields could not be read, if they could not.
    custom_error: Option<String>,
    facts: Vec<&'static str>,
    preview: Option<Vec<FieldPreview>>,
    preview_device: String,
}

fn rows(rules: &[FieldRule]) -> Vec<Row> {
    let mut out: Vec<Row> = rules
        .iter()
        .enumerate()
        .map(|(n, r)| Row {
            n,
            target: r.target.as_str().to_owned(),
            custom: r.custom_field_id.map(|i| i.to_string()).unwrap_or_default(),
            value: r.value.clone(),
            owned: r.owned,
        })
        .collect();
    for n in out.len()..out.len() + BLANK_ROWS {
        out.push(Row {
            n,
            target: String::new(),
            custom: String::new(),
            value: String::new(),
            owned: false,
        });
    }
    out
}

async fn show(
    state: &Shared,
    viewer: &Viewer,
    id: IntegrationId,
    rules: Option<Vec<FieldRule>>,
) -> Result<FieldMapPage, super::ConsoleError> {
    let rules = match rules {
        Some(r) => r,
        None => state.ops(&viewer.actor).field_map(id).await?.rules,
    };
    let (custom_fields, custom_error) = match state
        .ops(&viewer.actor)
        .configuration_custom_fields(id)
        .await
    {
        Ok(list) => (list, None),
        Err(e) => (Vec::new(), Some(e.to_string())),
    };
    Ok(FieldMapPage {
        frame: Frame::new(viewer, "fields", "Configuration field map"),
        integration: id,
        rows: rows(&rules),
        targets: MapTarget::ALL.iter().map(|t| t.as_str()).collect(),
        custom_fields,
        custom_error,
        facts: FactField::ALL.iter().map(|f| f.as_str()).collect(),
        preview: None,
        preview_device: String::new(),
    })
}

#[derive(Deserialize)]
struct Which {
    integration: Option<IntegrationId>,
    notice: Option<String>,
}

async fn page(State(state): State<Shared>, viewer: Viewer, Query(q): Query<Which>) -> Page {
    let id = state
        .ops(&viewer.actor)
        .integration_or_default(q.integration)
        .await?;
    let mut page = show(&state, &viewer, id, None).await?;
    page.frame = page.frame.with_notice(q.notice.as_deref());
    render(&page, StatusCode::OK)
}

/// The rules a submitted form holds (`target_N`, `custom_N`, `value_N`, `owned_N`), in row
/// order; a row without a field or a value is dropped (that is how a rule is removed).
fn submitted(pairs: &[(String, String)]) -> Result<Vec<FieldRule>, String> {
    let field = |name: &str, n: usize| {
        pairs
            .iter()
            .find(|(k, _)| *k == format!("{name}_{n}"))
            .map(|(_, v)| v.trim().to_owned())
    };
    let mut rules = Vec::new();
    for n in 0..=crate::integration::MAX_FIELD_RULES + BLANK_ROWS {
        let (Some(target), Some(value)) = (field("target", n), field("value", n)) else {
            continue;
        };
        if target.is_empty() || value.is_empty() {
            continue;
        }
        let target =
            MapTarget::from_name(&target).ok_or(format!("row {}: no field {target:?}", n + 1))?;
        let custom = match field("custom", n).filter(|c| !c.is_empty()) {
            None => None,
            Some(c) => Some(
                c.parse()
                    .map_err(|_| format!("row {}: custom field {c:?} is not an id", n + 1))?,
            ),
        };
        rules.push(FieldRule {
            target,
            custom_field_id: custom,
            value,
            owned: field("owned", n).is_some(),
        });
    }
    Ok(rules)
}

async fn save(
    State(state): State<Shared>,
    viewer: Viewer,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Page {
    let get = |k: &str| pairs.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    viewer.check(get("csrf").unwrap_or(""))?;
    let id = get("integration")
        .and_then(|i| i.parse().ok())
        .map(IntegrationId)
        .ok_or_else(|| super::ConsoleError::new(StatusCode::BAD_REQUEST, "which instance?"))?;
    let rules = match submitted(&pairs) {
        Ok(rules) => rules,
        Err(why) => {
            let mut page = show(&state, &viewer, id, None).await?;
            page.frame.error = Some(format!("Not saved: {why}"));
            return render(&page, StatusCode::BAD_REQUEST);
        }
    };
    let map = FieldMap {
        rules: rules.clone(),
    };
    match state.ops(&viewer.actor).save_field_map(id, &map).await {
        Ok(()) => Ok(see_other(
            &format!("/console/fields?integration={id}"),
            "saved",
        )),
        Err(e) => {
            let mut page = show(&state, &viewer, id, Some(rules)).await?;
            page.frame.error = Some(format!("Not saved: {e}"));
            render(&page, StatusCode::BAD_REQUEST)
        }
    }
}

#[derive(Deserialize)]
struct PreviewForm {
    integration: IntegrationId,
    device_id: DeviceId,
}

/// A question, not a change: no CSRF token needed, nothing is written.
async fn preview(State(state): State<Shared>, viewer: Viewer, Form(f): Form<PreviewForm>) -> Page {
    let mut page = show(&state, &viewer, f.integration, None).await?;
    page.preview_device = f.device_id.to_string();
    match state
        .ops(&viewer.actor)
        .field_map_preview(f.device_id)
        .await
    {
        Ok(p) => page.preview = Some(p),
        Err(e) => page.frame.error = Some(format!("No preview: {e}")),
    }
    render(&page, StatusCode::OK)
}
