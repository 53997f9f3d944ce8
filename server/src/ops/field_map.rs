//! The configuration field map of an instance: shown, saved only when it is sound and each
//! custom field it names is a text field ConnectWise lists, and previewed for a device (what its
//! configuration would get, by the code that writes it).

use serde::Serialize;

use super::{OpError, Ops};
use crate::access::Act;
use crate::ids::{DeviceId, IntegrationId};
use crate::integration::{self, FieldMap, MapTarget};
use crate::reconcile::manufacturers::ManufacturerCache;

/// Custom field types that take text (what a template makes).
const TEXT_TYPES: [&str; 4] = ["Text", "TextArea", "Hyperlink", "IPAddress"];

/// A custom field of configurations, as ConnectWise lists it.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CustomFieldChoice {
    pub id: i64,
    pub caption: String,
    /// `Text`, `Number`, `Date`, …: only text types can be filled from facts.
    #[serde(rename = "type")]
    pub kind: String,
    pub fillable: bool,
}

/// What one rule gives a device.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct FieldPreview {
    /// `modelNumber`, `customField:4`.
    pub field: String,
    /// The value written; none: nothing (see `note`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    pub owned: bool,
    /// Why nothing is written, or how the value was matched.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

impl Ops<'_> {
    /// An instance's field map (the default until one is saved).
    pub async fn field_map(&self, id: IntegrationId) -> Result<FieldMap, OpError> {
        self.store.integration(id).await?;
        Ok(integration::field_map(self.store, id).await?)
    }

    /// The custom fields configurations carry in the instance (read from one configuration:
    /// ConnectWise lists every defined field on each; none before the first configuration).
    pub async fn configuration_custom_fields(
        &self,
        id: IntegrationId,
    ) -> Result<Vec<CustomFieldChoice>, OpError> {
        self.store.integration(id).await?;
        let client = self.client(id).await?;
        Ok(client
            .configuration_custom_fields()
            .await?
            .into_iter()
            .map(|f| {
                let kind = f.kind.unwrap_or_default();
                CustomFieldChoice {
                    id: f.id,
                    caption: f.caption.unwrap_or_default(),
                    fillable: TEXT_TYPES.contains(&kind.as_str()),
                    kind,
                }
            })
            .collect())
    }

    /// Saves the map when it is sound and every custom field it names is a text field of the
    /// instance; otherwise changes nothing and names each problem with its rule. Each company
    /// the instance binds in is then synced, so configurations follow now (the client's budget
    /// paces the reads).
    pub async fn save_field_map(&self, id: IntegrationId, map: &FieldMap) -> Result<(), OpError> {
        self.allow(Act::SetFieldMap)?;
        self.store.integration(id).await?;
        let mut problems = map.problems();
        if problems.is_empty() && map.has_custom_fields() {
            let fields = self.configuration_custom_fields(id).await?;
            for (n, rule) in map.rules.iter().enumerate() {
                let Some(wanted) = rule.custom_field_id else {
                    continue;
                };
                let at = format!("rule {} ({})", n + 1, rule.key());
                match fields.iter().find(|f| f.id == wanted) {
                    None if fields.is_empty() => problems.push(format!(
                        "{at}: ConnectWise lists no custom fields yet (they show on a \
                         configuration: bind one device first)"
                    )),
                    None => problems.push(format!(
                        "{at}: ConnectWise has no custom field {wanted} on configurations"
                    )),
                    Some(f) if !f.fillable => problems.push(format!(
                        "{at}: custom field {:?} is of type {}; only text fields can be \
                         filled from facts",
                        f.caption, f.kind
                    )),
                    Some(_) => {}
                }
            }
        }
        if !problems.is_empty() {
            return Err(OpError::invalid("rules", problems.join("; ")));
        }
        integration::save_field_map(self.store, id, map).await?;
        let detail = serde_json::to_string(map).ok();
        self.audited(
            Act::SetFieldMap,
            format!("integration {id}"),
            detail.as_deref(),
        )
        .await;
        for (integration, company) in self.store.companies_to_sync().await? {
            if integration == id {
                crate::reconcile::queue::sync_company(self.store, id, company).await?;
            }
        }
        self.wake();
        Ok(())
    }

    /// What the device's configuration would get from each rule of its instance's map.
    pub async fn field_map_preview(
        &self,
        device_id: DeviceId,
    ) -> Result<Vec<FieldPreview>, OpError> {
        let t = self
            .store
            .device_target(device_id)
            .await?
            .ok_or(crate::store::StoreError::NotFound("device"))?;
        let Some(integration) = t.integration_id else {
            return Err(OpError::invalid("deviceId", crate::monitoring::NOT_LINKED));
        };
        let map = integration::field_map(self.store, integration).await?;
        let manufacturers = ManufacturerCache::default();
        let mut out = Vec::new();
        for rule in &map.rules {
            let mut preview = FieldPreview {
                field: rule.key().to_string(),
                value: rule.render(&t.facts),
                owned: rule.owned,
                note: None,
            };
            match (&preview.value, rule.target) {
                (None, _) => {
                    preview.note = Some("the device does not report a fact this rule names".into());
                }
                (Some(name), MapTarget::Manufacturer) => {
                    let client = self.client(integration).await?;
                    match manufacturers.find(&client, name).await {
                        Some((id, listed)) => {
                            preview.note = Some(format!("ConnectWise's manufacturer {id}"));
                            preview.value = Some(listed);
                        }
                        None => {
                            preview.note = Some(format!(
                                "ConnectWise lists no manufacturer {name:?}: left alone \
                                 (Bindery never creates one)"
                            ));
                            preview.value = None;
                        }
                    }
                }
                (Some(_), _) => {}
            }
            out.push(preview);
        }
        Ok(out)
    }
}
