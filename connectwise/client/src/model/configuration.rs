//! `Company.Configuration` and what hangs off it: types and their questions, statuses, custom
//! fields, manufacturers.

use serde::{Deserialize, Serialize};

use super::Reference;

/// `Company.Configuration`: a managed device's record.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Configuration {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<Reference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<Reference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub company: Option<Reference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub active_flag: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_identifier: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub serial_number: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mac_address: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip_address: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub os_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub os_info: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu_speed: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ram: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_login_name: Option<String>,
    /// A link back to the device's page in the tool that manages it (max 1,000).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub management_link: Option<String>,
    /// The person who uses the machine: a contact of the configuration's company.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact: Option<Reference>,
    /// Where the machine is: a site of the configuration's company.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub site: Option<Reference>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub questions: Vec<ConfigurationQuestion>,
    /// The fields an integration's field map may fill (max 50 where ConnectWise declares one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model_number: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tag_number: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_gateway: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub local_hard_drives: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vendor_notes: Option<String>,
    /// A manufacturer of ConnectWise's own list (`/procurement/manufacturers`), by reference.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manufacturer: Option<Reference>,
    /// Every custom field defined for configurations, with its value (`null`: unset). A PATCH
    /// replaces the whole array: a field left out is cleared.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub custom_fields: Vec<CustomFieldValue>,
}

/// `CustomFieldValue`: one custom field of a record and its value.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CustomFieldValue {
    pub id: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub caption: Option<String>,
    /// `Text`, `TextArea`, `Number`, `Checkbox`, `Date`, `Hyperlink`, `IPAddress`, …
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entry_method: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub number_of_decimals: Option<i64>,
    #[serde(default)]
    pub value: serde_json::Value,
}

/// `ConfigurationTypeQuestionValue`: one value a list or option question allows.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ConfigurationTypeQuestionValue {
    pub id: i64,
    pub value: String,
    pub default_flag: Option<bool>,
    pub inactive_flag: Option<bool>,
}

/// `Manufacturer` (`/procurement/manufacturers`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Manufacturer {
    pub id: i64,
    pub name: String,
    pub inactive_flag: Option<bool>,
}

/// An answer to a configuration type's question, inside a configuration.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConfigurationQuestion {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub question_id: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub question: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub answer: Option<serde_json::Value>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ConfigurationType {
    pub id: i64,
    pub name: String,
    pub inactive_flag: Option<bool>,
    pub system_flag: Option<bool>,
}

#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ConfigurationTypeQuestion {
    pub id: i64,
    pub question: String,
    pub field_type: Option<String>,
    pub entry_type: Option<String>,
    pub sequence_number: Option<f64>,
    pub required_flag: Option<bool>,
    pub inactive_flag: Option<bool>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ConfigurationStatus {
    pub id: i64,
    pub description: String,
    pub closed_flag: Option<bool>,
    pub default_flag: Option<bool>,
}
