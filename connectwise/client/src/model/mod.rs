//! The ConnectWise objects Bindery reads and writes, with the fields it uses. Unknown fields are
//! ignored; absent optional fields are not sent.

use serde::{Deserialize, Serialize};

mod configuration;
pub use configuration::*;

/// A reference to another record: `{"id": 12}`, with its `name` or `identifier` when ConnectWise
/// includes them.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Reference {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identifier: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

impl Reference {
    pub fn id(id: i64) -> Reference {
        Reference {
            id: Some(id),
            ..Reference::default()
        }
    }
}

/// `GET /login/companyinfo/{companyId}` (PascalCase, as the site sends it).
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct CompanyInfo {
    pub company_name: Option<String>,
    pub codebase: Option<String>,
    pub version_code: Option<String>,
    pub version_number: Option<String>,
    #[serde(rename = "CompanyID")]
    pub company_id: Option<String>,
    /// "True" or "False", a string.
    pub is_cloud: Option<String>,
}

/// `GET /system/info`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct SystemInfo {
    pub version: Option<String>,
    pub is_cloud: Option<bool>,
    pub server_time_zone: Option<String>,
    pub cloud_region: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Company {
    pub id: i64,
    pub identifier: String,
    pub name: String,
    pub status: Option<Reference>,
    pub types: Vec<Reference>,
    pub deleted_flag: Option<bool>,
}

/// `Company.Site`: one of a company's locations. Configurations and tickets name one (`site`);
/// it must be a site of their own company.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CompanySite {
    pub id: i64,
    pub name: String,
    #[serde(default)]
    pub city: Option<String>,
    #[serde(default)]
    pub primary_address_flag: Option<bool>,
    #[serde(default)]
    pub inactive_flag: Option<bool>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Board {
    pub id: i64,
    pub name: String,
    pub inactive_flag: Option<bool>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct BoardStatus {
    pub id: i64,
    pub name: String,
    pub board: Option<Reference>,
    pub closed_status: Option<bool>,
    pub default_flag: Option<bool>,
    pub inactive: Option<bool>,
    pub sort_order: Option<i64>,
}

/// A service ticket as read back.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Ticket {
    pub id: i64,
    pub summary: String,
    pub board: Option<Reference>,
    pub status: Option<Reference>,
    pub company: Option<Reference>,
    pub closed_flag: Option<bool>,
    #[serde(rename = "externalXRef")]
    pub external_x_ref: Option<String>,
    /// Who created and last changed it.
    #[serde(rename = "_info")]
    pub info: Option<RecordInfo>,
}

/// `_info` on a record: who entered it and who last updated it (member identifiers).
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct RecordInfo {
    pub entered_by: Option<String>,
    pub updated_by: Option<String>,
    pub last_updated: Option<String>,
}

/// A ticket to create. `initialDescription` becomes the ticket's first note; ConnectWise accepts
/// it on creation only and never returns it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NewTicket {
    pub summary: String,
    pub company: Reference,
    pub board: Reference,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<Reference>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub initial_description: Option<String>,
    /// Bindery's own key for the ticket (max 100): lets a retry find a ticket whose creation
    /// reply was lost.
    #[serde(rename = "externalXRef", skip_serializing_if = "Option::is_none")]
    pub external_x_ref: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub contact_name: Option<String>,
    /// The user's own contact: ConnectWise then keeps them informed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub contact: Option<Reference>,
    /// The device's site: a site of the ticket's company.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub site: Option<Reference>,
    /// Routing: a type, subtype and item of the ticket's board, in a combination it allows.
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<Reference>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sub_type: Option<Reference>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub item: Option<Reference>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub priority: Option<Reference>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<Reference>,
    /// `Low`, `Medium` or `High`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub severity: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub impact: Option<String>,
}

/// A routing lookup: a board's type, subtype or item, a priority, a source.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Lookup {
    pub id: i64,
    pub name: String,
    #[serde(default)]
    pub inactive_flag: Option<bool>,
}

/// A type/subtype/item combination a board allows (`typeSubTypeItemAssociations`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Association {
    #[serde(default, rename = "type")]
    pub kind: Option<Reference>,
    #[serde(default)]
    pub sub_type: Option<Reference>,
    #[serde(default)]
    pub item: Option<Reference>,
}

/// `ServiceNote`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServiceNote {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<i64>,
    #[serde(default)]
    pub text: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail_description_flag: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub internal_analysis_flag: Option<bool>,
    /// False: ConnectWise sends no e-mail about this note.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub process_notifications: Option<bool>,
    /// The member who wrote it (read only).
    #[serde(default, skip_serializing)]
    pub created_by: Option<String>,
}

/// `Company.Contact`, as far as matching a user to it needs.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Contact {
    pub id: i64,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub inactive_flag: Option<bool>,
    pub security_identifier: Option<String>,
    pub communication_items: Vec<CommunicationItem>,
}

/// `ContactCommunicationItem`: an e-mail has `communicationType` "Email".
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct CommunicationItem {
    pub value: Option<String>,
    pub communication_type: Option<String>,
}

/// `CallbackEntry`: a URL ConnectWise calls when records of a type change.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CallbackEntry {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default)]
    pub url: String,
    #[serde(default)]
    pub object_id: i64,
    #[serde(default, rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub level: String,
    /// True: no message for the changes this member (Bindery's) makes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_self_suppressed_flag: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inactive_flag: Option<bool>,
}

/// A time entry, as far as telling who worked a ticket needs.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct TimeEntry {
    pub id: i64,
    pub member: Option<Reference>,
}

/// `Agreement`: what a company is billed under (a child agreement names its parent).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Agreement {
    pub id: i64,
    pub name: String,
    #[serde(default, rename = "type")]
    pub kind: Option<Reference>,
    #[serde(default)]
    pub company: Option<Reference>,
    #[serde(default)]
    pub parent_agreement: Option<Reference>,
    #[serde(default)]
    pub start_date: Option<String>,
    #[serde(default)]
    pub end_date: Option<String>,
    #[serde(default)]
    pub agreement_status: Option<String>,
    #[serde(default)]
    pub cancelled_flag: Option<bool>,
}

/// `Addition`: a product billed on an agreement, `quantity` times. `billedQuantity` is
/// ConnectWise's (what has been invoiced) and never written.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Addition {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<i64>,
    pub product: Reference,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quantity: Option<f64>,
    /// `Billable`, `DoNotBill` or `NoCharge`.
    pub bill_customer: String,
    #[serde(default, skip_serializing)]
    pub billed_quantity: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing)]
    pub agreement_id: Option<i64>,
    #[serde(default, skip_serializing)]
    pub cancelled_date: Option<String>,
}

/// `CatalogItem`: a product, as an addition names it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CatalogItem {
    pub id: i64,
    pub identifier: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub inactive_flag: Option<bool>,
}

/// A configuration attached to a ticket.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConfigurationReference {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_identifier: Option<String>,
}

/// One JSON-Patch operation. A reference is replaced whole (`path: "status"`, `value: {"id":
/// 2}`), never through a sub-path such as `status/id`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PatchOp {
    pub op: String,
    pub path: String,
    pub value: serde_json::Value,
}

impl PatchOp {
    pub fn replace(path: &str, value: impl Into<serde_json::Value>) -> PatchOp {
        PatchOp {
            op: "replace".into(),
            path: path.into(),
            value: value.into(),
        }
    }

    /// Replaces a reference field whole with `{"id": id}`.
    pub fn replace_reference(path: &str, id: i64) -> PatchOp {
        PatchOp::replace(path, serde_json::json!({ "id": id }))
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
pub struct Count {
    pub count: u64,
}
