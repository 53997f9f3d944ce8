//! What a read saw of a configuration: the fields binding reads, and the owned fields that are
//! not facts. Planning (`plan`) and adoption (`adoption`) both work on it.

use bindery_shared::FactField;
use connectwise_client::model::CustomFieldValue;

use crate::ids::{CompanyId, ConfigurationId};
use crate::integration::{FieldKey, MapTarget};

/// A configuration as ConnectWise holds it (the fields binding reads). Serialisable, so a sync's
/// read can travel inside the write job it plans.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Observed {
    pub id: ConfigurationId,
    pub company_id: CompanyId,
    pub status_id: Option<i64>,
    /// The owned fields' current values, by field.
    pub fields: Vec<(FactField, Option<String>)>,
    /// The owned fields that are not facts. Absent from jobs stored before they existed.
    #[serde(default)]
    pub extras: Extras,
}

/// The configuration fields Bindery writes that are not the ten configuration facts: the link to
/// the device's page in the console, the contact of the person who uses it, the site its policy
/// names, and the fields of the integration's field map. `None` (or no entry) is "no opinion":
/// Bindery sets them, never blanks them (a person may have set the contact or the site by hand).
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Extras {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub management_link: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact_id: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub site_id: Option<i64>,
    /// The field map's fields: as held (a configuration's), or as wanted (a device's).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mapped: Vec<MappedValue>,
    /// Held: the configuration's custom fields, whole (a write of one sends them all back, or
    /// ConnectWise clears the others). Wanted: the same, when a custom field is written.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub custom_fields: Vec<CustomFieldValue>,
    /// Wanted: the configuration the `written` values were written to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub written_in: Option<ConfigurationId>,
}

/// One field of the field map and its value.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MappedValue {
    pub key: FieldKey,
    pub value: String,
    /// The manufacturer's id in ConnectWise (the value is its name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference_id: Option<i64>,
    /// Wanted: Bindery owns the field (writes over a person's edit).
    #[serde(default)]
    pub owned: bool,
    /// Wanted: what Bindery last wrote there (in `written_in`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub written: Option<String>,
}

impl Extras {
    pub fn is_empty(&self) -> bool {
        self.management_link.is_none()
            && self.contact_id.is_none()
            && self.site_id.is_none()
            && self.mapped.is_empty()
    }

    /// What of these wanted values configuration `held_id`, holding `held`, does not already
    /// say, and may be given: a mapped field Bindery does not own only while it is empty or
    /// still holds what Bindery last wrote there.
    pub fn missing_from(&self, held: &Extras, held_id: ConfigurationId) -> Extras {
        let mapped: Vec<MappedValue> = self
            .mapped
            .iter()
            .filter(|m| {
                let now = held
                    .mapped
                    .iter()
                    .find(|h| h.key == m.key)
                    .map(|h| h.value.as_str())
                    .filter(|v| !v.trim().is_empty());
                let same = now.is_some_and(|v| {
                    v == m.value
                        || (m.key.target == MapTarget::Manufacturer
                            && v.eq_ignore_ascii_case(&m.value))
                });
                let ours = (self.written_in == Some(held_id))
                    .then_some(m.written.as_deref())
                    .flatten();
                !same && (m.owned || now.is_none() || now == ours)
            })
            .cloned()
            .collect();
        let custom = mapped
            .iter()
            .any(|m| m.key.target == MapTarget::CustomField);
        Extras {
            management_link: self
                .management_link
                .clone()
                .filter(|l| held.management_link.as_ref() != Some(l)),
            contact_id: self.contact_id.filter(|c| held.contact_id != Some(*c)),
            site_id: self.site_id.filter(|s| held.site_id != Some(*s)),
            mapped,
            custom_fields: if custom {
                held.custom_fields.clone()
            } else {
                Vec::new()
            },
            written_in: None,
        }
    }
}
