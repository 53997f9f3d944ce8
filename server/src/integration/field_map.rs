//! An integration's configuration field map: which ConnectWise configuration field each rule
//! fills beyond the ten configuration facts (which Bindery always owns), from which facts, and
//! whether Bindery owns the field.
//!
//! A rule's value is a template of facts (`{model}`, `BIOS {biosVersion}`); a rule whose facts
//! the device does not report writes nothing (a fact never blanks a field). A field Bindery owns
//! is kept equal to its value. A field it does not own is filled while empty and kept only while
//! it still holds what Bindery last wrote there: once a person edits it in ConnectWise, it is
//! theirs. A field no rule names is never written.

use bindery_shared::normalize::truncate_to_limit;
use bindery_shared::{DeviceFacts, FactField};
use serde::{Deserialize, Serialize};

use super::{IntegrationError, names::FIELD_MAP, setting_name};
use crate::ids::IntegrationId;
use crate::store::Store;

/// How many rules a map may hold, and how long a template may be.
pub const MAX_RULES: usize = 50;
pub const MAX_TEMPLATE: usize = 1000;

/// A configuration field a rule can fill.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "camelCase")]
pub enum MapTarget {
    ModelNumber,
    /// A manufacturer of ConnectWise's list, matched by name (never created).
    Manufacturer,
    DefaultGateway,
    LocalHardDrives,
    TagNumber,
    VendorNotes,
    /// A custom field of configurations, by id (`customFieldId`).
    CustomField,
}

impl MapTarget {
    pub const ALL: [MapTarget; 7] = [
        MapTarget::ModelNumber,
        MapTarget::Manufacturer,
        MapTarget::DefaultGateway,
        MapTarget::LocalHardDrives,
        MapTarget::TagNumber,
        MapTarget::VendorNotes,
        MapTarget::CustomField,
    ];

    /// ConnectWise's name for the field.
    pub const fn as_str(self) -> &'static str {
        match self {
            MapTarget::ModelNumber => "modelNumber",
            MapTarget::Manufacturer => "manufacturer",
            MapTarget::DefaultGateway => "defaultGateway",
            MapTarget::LocalHardDrives => "localHardDrives",
            MapTarget::TagNumber => "tagNumber",
            MapTarget::VendorNotes => "vendorNotes",
            MapTarget::CustomField => "customField",
        }
    }

    pub fn from_name(name: &str) -> Option<MapTarget> {
        MapTarget::ALL.into_iter().find(|t| t.as_str() == name)
    }

    /// The longest value written there, in UTF-16 code units (ConnectWise's limit where the
    /// schema declares one; a bound of Bindery's own where it does not).
    pub const fn max_len(self) -> usize {
        match self {
            MapTarget::ModelNumber | MapTarget::TagNumber | MapTarget::DefaultGateway => 50,
            MapTarget::Manufacturer => 250,
            MapTarget::LocalHardDrives | MapTarget::VendorNotes => 2000,
            MapTarget::CustomField => 1000,
        }
    }
}

/// Where a rule writes: a field, or one custom field.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FieldKey {
    pub target: MapTarget,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custom_field_id: Option<i64>,
}

impl std::fmt::Display for FieldKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.custom_field_id {
            Some(id) => write!(f, "customField:{id}"),
            None => f.write_str(self.target.as_str()),
        }
    }
}

impl std::str::FromStr for FieldKey {
    type Err = ();

    fn from_str(s: &str) -> Result<FieldKey, ()> {
        match s.strip_prefix("customField:") {
            Some(id) => Ok(FieldKey {
                target: MapTarget::CustomField,
                custom_field_id: Some(id.parse().map_err(|_| ())?),
            }),
            None => Ok(FieldKey {
                target: MapTarget::from_name(s).ok_or(())?,
                custom_field_id: None,
            }),
        }
    }
}

/// "Fill `target` with `value`."
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FieldRule {
    pub target: MapTarget,
    /// The custom field, for `customField` only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custom_field_id: Option<i64>,
    /// Text with facts in braces: `{model}`, `{biosVersion} (installed {osInstallDate})`.
    pub value: String,
    /// Bindery keeps the field equal to the value, even over a person's edit. Otherwise it
    /// fills the field while empty and stops once a person changes what it wrote.
    #[serde(default)]
    pub owned: bool,
}

/// Pieces of a template: text, or a fact.
enum Piece<'a> {
    Text(&'a str),
    Fact(FactField),
}

/// The template's pieces, or why it is not one.
fn pieces(template: &str) -> Result<Vec<Piece<'_>>, String> {
    let mut out = Vec::new();
    let mut rest = template;
    while let Some(open) = rest.find(['{', '}']) {
        if rest[open..].starts_with('}') {
            return Err("has a } without its {".into());
        }
        out.push(Piece::Text(&rest[..open]));
        let Some(close) = rest[open..].find('}') else {
            return Err("has a { without its }".into());
        };
        let name = &rest[open + 1..open + close];
        let fact = FactField::from_name(name).ok_or_else(|| format!("names no fact {{{name}}}"))?;
        out.push(Piece::Fact(fact));
        rest = &rest[open + close + 1..];
    }
    out.push(Piece::Text(rest));
    Ok(out)
}

impl FieldRule {
    pub fn key(&self) -> FieldKey {
        FieldKey {
            target: self.target,
            custom_field_id: self
                .custom_field_id
                .filter(|_| self.target == MapTarget::CustomField),
        }
    }

    /// The value for a device with `facts`: none when a fact it names is not reported, or
    /// when nothing but spaces is left. Cut to the field's limit.
    pub fn render(&self, facts: &DeviceFacts) -> Option<String> {
        let mut text = String::new();
        for piece in pieces(&self.value).ok()? {
            match piece {
                Piece::Text(t) => text.push_str(t),
                Piece::Fact(f) => text.push_str(facts.get(f)?),
            }
        }
        let text = truncate_to_limit(text.trim(), self.target.max_len()).trim_end();
        (!text.is_empty()).then(|| text.to_owned())
    }

    fn problems(&self) -> Vec<String> {
        let mut out = Vec::new();
        match (self.target, self.custom_field_id) {
            (MapTarget::CustomField, None) => out.push("needs customFieldId".to_owned()),
            (MapTarget::CustomField, Some(id)) if id <= 0 => {
                out.push("customFieldId must be a positive id".to_owned());
            }
            (MapTarget::CustomField, Some(_)) | (_, None) => {}
            (_, Some(_)) => out.push("customFieldId is for customField only".to_owned()),
        }
        if self.value.trim().is_empty() {
            out.push("value is empty".to_owned());
        } else if self.value.chars().count() > MAX_TEMPLATE {
            out.push(format!("value is longer than {MAX_TEMPLATE} characters"));
        } else if let Err(why) = pieces(&self.value) {
            out.push(format!("value {why}"));
        }
        out
    }
}

/// The rules, one per field.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FieldMap {
    pub rules: Vec<FieldRule>,
}

impl Default for FieldMap {
    /// What a new integration writes: the maker, model, gateway and disks, each filled while
    /// empty and left to people once they edit it. Tag number, vendor notes and custom fields
    /// are the MSP's own until a rule names them.
    fn default() -> FieldMap {
        let rule = |target, fact: FactField| FieldRule {
            target,
            custom_field_id: None,
            value: format!("{{{}}}", fact.as_str()),
            owned: false,
        };
        FieldMap {
            rules: vec![
                rule(MapTarget::Manufacturer, FactField::Manufacturer),
                rule(MapTarget::ModelNumber, FactField::Model),
                rule(MapTarget::DefaultGateway, FactField::DefaultGateway),
                rule(MapTarget::LocalHardDrives, FactField::LocalHardDrives),
            ],
        }
    }
}

impl FieldMap {
    /// What is wrong with the map, each problem named with its rule.
    pub fn problems(&self) -> Vec<String> {
        let mut out = Vec::new();
        if self.rules.len() > MAX_RULES {
            out.push(format!("at most {MAX_RULES} rules"));
        }
        for (n, rule) in self.rules.iter().enumerate() {
            let at = format!("rule {} ({})", n + 1, rule.key());
            out.extend(rule.problems().into_iter().map(|p| format!("{at}: {p}")));
            if self.rules[..n].iter().any(|r| r.key() == rule.key()) {
                out.push(format!("{at}: another rule already fills this field"));
            }
        }
        out
    }

    /// Whether some rule fills a custom field (then configurations are read with theirs).
    pub fn has_custom_fields(&self) -> bool {
        self.rules
            .iter()
            .any(|r| r.target == MapTarget::CustomField)
    }
}

/// An integration's field map (the default until one is saved).
pub async fn field_map(store: &Store, id: IntegrationId) -> Result<FieldMap, IntegrationError> {
    match store.setting(&setting_name(id, FIELD_MAP)).await? {
        Some(json) => serde_json::from_str(&json).map_err(|e| {
            IntegrationError::Invalid(format!("the stored field map is damaged: {e}"))
        }),
        None => Ok(FieldMap::default()),
    }
}

pub async fn save_field_map(
    store: &Store,
    id: IntegrationId,
    map: &FieldMap,
) -> Result<(), IntegrationError> {
    let json = serde_json::to_string(map).map_err(|e| IntegrationError::Invalid(e.to_string()))?;
    store
        .put_setting(&setting_name(id, FIELD_MAP), &json)
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts() -> DeviceFacts {
        let mut f = DeviceFacts::default();
        f.set(FactField::Model, "Latitude 7420");
        f.set(FactField::BiosVersion, "1.18.0");
        f
    }

    fn rule(target: MapTarget, value: &str) -> FieldRule {
        FieldRule {
            target,
            custom_field_id: None,
            value: value.into(),
            owned: false,
        }
    }

    #[test]
    fn templates_fill_facts_and_write_nothing_for_a_missing_one() {
        let f = facts();
        assert_eq!(
            rule(MapTarget::VendorNotes, "BIOS {biosVersion} on {model}").render(&f),
            Some("BIOS 1.18.0 on Latitude 7420".into())
        );
        assert_eq!(
            rule(MapTarget::ModelNumber, "{manufacturer} {model}").render(&f),
            None
        );
        assert_eq!(rule(MapTarget::TagNumber, "  ").render(&f), None);
        let long = rule(
            MapTarget::ModelNumber,
            &format!("{}{{model}}", "x".repeat(60)),
        );
        assert_eq!(long.render(&f).unwrap().chars().count(), 50);
    }

    #[test]
    fn a_map_names_each_problem_with_its_rule() {
        let map = FieldMap {
            rules: vec![
                rule(MapTarget::ModelNumber, "{model"),
                rule(MapTarget::ModelNumber, "{nope}"),
                rule(MapTarget::CustomField, "{model}"),
                FieldRule {
                    custom_field_id: Some(3),
                    ..rule(MapTarget::TagNumber, "}")
                },
            ],
        };
        let problems = map.problems().join("\n");
        for expected in [
            "rule 1 (modelNumber): value has a { without its }",
            "rule 2 (modelNumber): value names no fact {nope}",
            "rule 2 (modelNumber): another rule already fills this field",
            "rule 3 (customField): needs customFieldId",
            "rule 4 (tagNumber): customFieldId is for customField only",
            "rule 4 (tagNumber): value has a } without its {",
        ] {
            assert!(problems.contains(expected), "{expected}\n{problems}");
        }
        assert!(FieldMap::default().problems().is_empty());
    }

    #[test]
    fn keys_read_back_from_their_text() {
        for key in [
            FieldKey {
                target: MapTarget::CustomField,
                custom_field_id: Some(7),
            },
            FieldKey {
                target: MapTarget::VendorNotes,
                custom_field_id: None,
            },
        ] {
            assert_eq!(key.to_string().parse::<FieldKey>(), Ok(key));
        }
        assert!("customField:x".parse::<FieldKey>().is_err());
        assert!("notes".parse::<FieldKey>().is_err());
    }
}
