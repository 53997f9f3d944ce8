//! What a read saw of a configuration: the fields binding reads, and the owned fields that are
//! not facts. Planning (`plan`) and adoption (`adoption`) both work on it.

use bindery_shared::FactField;

use crate::ids::{CompanyId, ConfigurationId};

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

/// The configuration fields Bindery owns that are not device facts: the link to the device's
/// page in the console, the contact of the person who uses it, and the site its policy names.
/// `None` is "no opinion": Bindery sets them, never blanks them (a person may have set the
/// contact or the site by hand).
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Extras {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub management_link: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact_id: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub site_id: Option<i64>,
}
