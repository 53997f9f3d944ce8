//! The field map between device facts and ConnectWise configurations (docs/facts.md):
//! reading what a configuration holds into the planner's terms, and writing a plan's action back
//! as a configuration or a patch.

use std::borrow::Cow;

use bindery_shared::FactField;
use connectwise_client::model::{Configuration, CustomFieldValue, PatchOp, Reference};

use super::observed::MappedValue;
use super::plan::{Extras, Observed};
use crate::ids::{CompanyId, ConfigurationId};
use crate::integration::{FieldKey, FieldMap, MapTarget};

/// The configuration's fact fields, and what binding reads of a configuration, from the one
/// list of fact fields (`bindery_shared::with_fact_fields!`).
macro_rules! configuration_fields {
    ($(($variant:ident, $field:ident, $json:literal, $max:literal, $label:literal)),* $(,)?) => {
        /// What binding reads of a configuration (`fields=` keeps list answers small). The
        /// company's name lets a link's preview name the company without a request of its own.
        pub const READ_FIELDS: &str = concat!(
            "id,company/id,company/name,status/id",
            $(",", $json,)*
            ",managementLink,contact/id,site/id",
            ",modelNumber,tagNumber,defaultGateway,localHardDrives,vendorNotes",
            ",manufacturer/id,manufacturer/name"
        );

        /// The configuration field that carries `field` (none for an inventory fact: the
        /// field map says where those go).
        fn value(c: &Configuration, field: FactField) -> Option<&String> {
            match field {
                $(FactField::$variant => c.$field.as_ref(),)*
                _ => None,
            }
        }

        fn slot(c: &mut Configuration, field: FactField) -> Option<&mut Option<String>> {
            match field {
                $(FactField::$variant => Some(&mut c.$field),)*
                _ => None,
            }
        }
    };
}

bindery_shared::with_fact_fields!(configuration_fields);

/// What binding reads of a configuration under `map`: its custom fields too when a rule fills
/// one (they are sent back whole).
pub fn read_fields(map: &FieldMap) -> Cow<'static, str> {
    if map.has_custom_fields() {
        Cow::Owned(format!("{READ_FIELDS},customFields"))
    } else {
        Cow::Borrowed(READ_FIELDS)
    }
}

/// The text field of the configuration a map target names (none for the manufacturer and
/// custom fields, which are not text fields).
fn text_slot(c: &mut Configuration, target: MapTarget) -> Option<&mut Option<String>> {
    match target {
        MapTarget::ModelNumber => Some(&mut c.model_number),
        MapTarget::TagNumber => Some(&mut c.tag_number),
        MapTarget::DefaultGateway => Some(&mut c.default_gateway),
        MapTarget::LocalHardDrives => Some(&mut c.local_hard_drives),
        MapTarget::VendorNotes => Some(&mut c.vendor_notes),
        MapTarget::Manufacturer | MapTarget::CustomField => None,
    }
}

/// What a configuration holds in the fields a map can fill.
fn held_mapped(c: &Configuration) -> Vec<MappedValue> {
    let held = |target, custom_field_id, value: String, reference_id| MappedValue {
        key: FieldKey {
            target,
            custom_field_id,
        },
        value,
        reference_id,
        owned: false,
        written: None,
    };
    let mut out = Vec::new();
    let mut copy = c.clone();
    for target in MapTarget::ALL {
        if let Some(Some(v)) = text_slot(&mut copy, target).map(Option::take) {
            out.push(held(target, None, v, None));
        }
    }
    if let Some(m) = &c.manufacturer
        && let Some(name) = &m.name
    {
        out.push(held(MapTarget::Manufacturer, None, name.clone(), m.id));
    }
    for f in &c.custom_fields {
        let text = match &f.value {
            serde_json::Value::Null => continue,
            serde_json::Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        out.push(held(MapTarget::CustomField, Some(f.id), text, None));
    }
    out
}

/// The custom fields `held` with the mapped values set (a field not held yet is added).
fn custom_fields_with(held: &[CustomFieldValue], mapped: &[MappedValue]) -> Vec<CustomFieldValue> {
    let mut all = held.to_vec();
    for m in mapped {
        let Some(id) = m.key.custom_field_id else {
            continue;
        };
        let value = serde_json::Value::String(m.value.clone());
        match all.iter_mut().find(|f| f.id == id) {
            Some(f) => f.value = value,
            None => all.push(CustomFieldValue {
                id,
                value,
                ..CustomFieldValue::default()
            }),
        }
    }
    all
}

/// A configuration in the planner's terms; `None` for one without an id or company (which a
/// list answer asked for `READ_FIELDS` always has).
pub fn observed(c: &Configuration) -> Option<Observed> {
    Some(Observed {
        id: ConfigurationId(c.id?),
        company_id: CompanyId(c.company.as_ref()?.id?),
        status_id: c.status.as_ref().and_then(|s| s.id),
        fields: FactField::CONFIGURATION
            .into_iter()
            .map(|f| (f, value(c, f).cloned()))
            .collect(),
        extras: Extras {
            management_link: c.management_link.clone(),
            contact_id: c.contact.as_ref().and_then(|r| r.id),
            site_id: c.site.as_ref().and_then(|r| r.id),
            mapped: held_mapped(c),
            custom_fields: c.custom_fields.clone(),
            written_in: None,
        },
    })
}

/// The body of a create. ConnectWise requires a name: a device that could not read its own
/// uses its agent id.
pub fn new_configuration(
    company_id: CompanyId,
    type_id: i64,
    status_id: i64,
    fields: &[(FactField, String)],
    extras: &Extras,
    agent_id: &str,
) -> Configuration {
    let mut c = Configuration {
        company: Some(Reference::id(company_id.0)),
        kind: Some(Reference::id(type_id)),
        status: Some(Reference::id(status_id)),
        management_link: extras.management_link.clone(),
        contact: extras.contact_id.map(Reference::id),
        site: extras.site_id.map(Reference::id),
        ..Configuration::default()
    };
    for (f, v) in fields {
        if let Some(slot) = slot(&mut c, *f) {
            *slot = Some(v.clone());
        }
    }
    for m in &extras.mapped {
        match m.key.target {
            MapTarget::Manufacturer => c.manufacturer = m.reference_id.map(Reference::id),
            MapTarget::CustomField => {}
            target => {
                if let Some(slot) = text_slot(&mut c, target) {
                    *slot = Some(m.value.clone());
                }
            }
        }
    }
    c.custom_fields = custom_fields_with(&[], &extras.mapped);
    if c.name.is_none() {
        c.name = Some(agent_id.to_owned());
    }
    c
}

/// The patch that sets `fields` and `extras`, and the status when given.
pub fn patch(
    fields: &[(FactField, String)],
    extras: &Extras,
    status_id: Option<i64>,
) -> Vec<PatchOp> {
    let mut ops: Vec<PatchOp> = fields
        .iter()
        .map(|(f, v)| PatchOp::replace(f.as_str(), v.clone()))
        .collect();
    if let Some(link) = &extras.management_link {
        ops.push(PatchOp::replace("managementLink", link.clone()));
    }
    if let Some(id) = extras.contact_id {
        ops.push(PatchOp::replace_reference("contact", id));
    }
    if let Some(id) = extras.site_id {
        ops.push(PatchOp::replace_reference("site", id));
    }
    for m in &extras.mapped {
        match (m.key.target, m.reference_id) {
            (MapTarget::Manufacturer, Some(id)) => {
                ops.push(PatchOp::replace_reference("manufacturer", id));
            }
            (MapTarget::Manufacturer | MapTarget::CustomField, _) => {}
            (target, _) => ops.push(PatchOp::replace(target.as_str(), m.value.clone())),
        }
    }
    if extras
        .mapped
        .iter()
        .any(|m| m.key.target == MapTarget::CustomField)
    {
        let all = custom_fields_with(&extras.custom_fields, &extras.mapped);
        ops.push(PatchOp::replace(
            "customFields",
            serde_json::to_value(&all).unwrap_or_default(),
        ));
    }
    if let Some(id) = status_id {
        ops.push(PatchOp::replace_reference("status", id));
    }
    ops
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_created_configuration_reads_back_as_what_was_planned() {
        let fields = vec![
            (FactField::DeviceIdentifier, "agent-1".to_owned()),
            (FactField::SerialNumber, "SN1".to_owned()),
            (FactField::Ram, "16 GB".to_owned()),
        ];
        let extras = Extras {
            management_link: Some("https://bindery.example/console/devices/4".into()),
            contact_id: Some(2),
            site_id: Some(3),
            ..Extras::default()
        };
        let mut c = new_configuration(CompanyId(7), 1, 3, &fields, &extras, "agent-1");
        assert_eq!(c.name.as_deref(), Some("agent-1"), "a name is required");
        c.id = Some(99);
        let o = observed(&c).unwrap();
        assert_eq!(
            (o.id, o.company_id, o.status_id),
            (ConfigurationId(99), CompanyId(7), Some(3))
        );
        for (f, v) in &fields {
            assert_eq!(
                o.fields.iter().find(|(g, _)| g == f).unwrap().1.as_deref(),
                Some(v.as_str())
            );
        }
        assert_eq!(o.extras, extras);
        c.company = None;
        assert_eq!(observed(&c), None);
    }

    #[test]
    fn a_patch_names_each_field_by_its_connectwise_name() {
        let extras = Extras {
            management_link: Some("https://b.example/console/devices/1".into()),
            contact_id: Some(4),
            site_id: Some(6),
            ..Extras::default()
        };
        let ops = patch(
            &[(FactField::LastLoginName, "ana".into())],
            &extras,
            Some(2),
        );
        let json = serde_json::to_value(&ops).unwrap();
        assert_eq!(
            json,
            serde_json::json!([
                {"op": "replace", "path": "lastLoginName", "value": "ana"},
                {"op": "replace", "path": "managementLink", "value": "https://b.example/console/devices/1"},
                {"op": "replace", "path": "contact", "value": {"id": 4}},
                {"op": "replace", "path": "site", "value": {"id": 6}},
                {"op": "replace", "path": "status", "value": {"id": 2}},
            ])
        );
        // Every configuration field the patch can name is one READ_FIELDS reads back.
        for f in FactField::CONFIGURATION {
            assert!(READ_FIELDS.split(',').any(|r| r == f.as_str()), "{f:?}");
        }
        assert_eq!(
            READ_FIELDS,
            "id,company/id,company/name,status/id,name,deviceIdentifier,serialNumber,macAddress,\
             ipAddress,osType,osInfo,cpuSpeed,ram,lastLoginName,managementLink,contact/id,site/id,\
             modelNumber,tagNumber,defaultGateway,localHardDrives,vendorNotes,manufacturer/id,\
             manufacturer/name"
        );
    }

    /// The client's configuration model names each fact's field as ConnectWise does: the one
    /// place outside the list of fact fields that spells them, checked against it.
    #[test]
    fn each_fact_fills_the_configuration_field_of_its_name() {
        for f in FactField::CONFIGURATION {
            let mut c = Configuration::default();
            *slot(&mut c, f).unwrap() = Some("x".into());
            let json = serde_json::to_value(&c).unwrap();
            assert_eq!(json[f.as_str()], "x", "{f:?}");
            assert_eq!(value(&c, f).map(String::as_str), Some("x"));
        }
        for f in FactField::INVENTORY {
            assert!(slot(&mut Configuration::default(), f).is_none(), "{f:?}");
        }
    }
}
