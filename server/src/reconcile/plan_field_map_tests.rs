//! The planner and the field map's fields: a field Bindery does not own is filled while empty
//! and kept only while it holds what Bindery wrote; an owned field is kept over an edit.

use super::*;
use crate::integration::{FieldKey, MapTarget};
use crate::reconcile::observed::MappedValue;

fn key(target: MapTarget) -> FieldKey {
    FieldKey {
        target,
        custom_field_id: None,
    }
}

/// Wanted: the model "Latitude 7420", owned or not, with what Bindery last wrote into
/// configuration 7.
fn wanted(owned: bool, written: Option<&str>) -> Extras {
    Extras {
        mapped: vec![MappedValue {
            key: key(MapTarget::ModelNumber),
            value: "Latitude 7420".into(),
            reference_id: None,
            owned,
            written: written.map(str::to_owned),
        }],
        written_in: Some(ConfigurationId(7)),
        ..Extras::default()
    }
}

/// web-01's configuration holding `model` in modelNumber.
fn holding(model: Option<&str>) -> Observed {
    let mut o = observed(
        7,
        5,
        ACTIVE,
        "web-01",
        "Debian GNU/Linux 12 (bookworm)",
        "16.0 GB",
    );
    o.extras.mapped = model
        .map(|m| MappedValue {
            key: key(MapTarget::ModelNumber),
            value: m.into(),
            reference_id: None,
            owned: false,
            written: None,
        })
        .into_iter()
        .collect();
    o
}

/// The mapped values the plan writes (none when it is in line).
fn writes(extras: &Extras, held: Observed) -> Vec<String> {
    let f = facts("web-01", "Debian GNU/Linux 12 (bookworm)");
    let d = Desired {
        extras,
        ..super::adoption::adopt_test_desired(&f)
    };
    match plan(&d, &[held], &Candidacy::Nothing, &settings()) {
        Action::Update { extras, .. } => extras.mapped.into_iter().map(|m| m.value).collect(),
        Action::InLine => Vec::new(),
        other => panic!("expected an update, got {other:?}"),
    }
}

#[test]
fn a_field_bindery_does_not_own_is_filled_while_empty_and_followed_while_untouched() {
    assert_eq!(
        writes(&wanted(false, None), holding(None)),
        ["Latitude 7420"]
    );
    assert_eq!(
        writes(&wanted(false, None), holding(Some(" "))),
        ["Latitude 7420"]
    );
    // It still holds what Bindery wrote: the new value follows.
    assert_eq!(
        writes(
            &wanted(false, Some("Latitude 7410")),
            holding(Some("Latitude 7410"))
        ),
        ["Latitude 7420"]
    );
    assert!(
        writes(
            &wanted(false, Some("Latitude 7420")),
            holding(Some("Latitude 7420"))
        )
        .is_empty()
    );
}

#[test]
fn a_persons_edit_stands_unless_bindery_owns_the_field() {
    let edited = || holding(Some("Spare for Finance"));
    assert!(writes(&wanted(false, Some("Latitude 7410")), edited()).is_empty());
    // Nothing written there yet (a configuration adopted or made by hand): the person's value.
    assert!(writes(&wanted(false, None), edited()).is_empty());
    assert_eq!(
        writes(&wanted(true, Some("Latitude 7410")), edited()),
        ["Latitude 7420"]
    );
}

#[test]
fn what_was_written_elsewhere_says_nothing_about_this_configuration() {
    let mut w = wanted(false, Some("Spare for Finance"));
    w.written_in = Some(ConfigurationId(99));
    assert!(writes(&w, holding(Some("Spare for Finance"))).is_empty());
}

#[test]
fn a_custom_field_is_sent_back_with_every_other_one() {
    use connectwise_client::model::CustomFieldValue;
    let custom = FieldKey {
        target: MapTarget::CustomField,
        custom_field_id: Some(2),
    };
    let w = Extras {
        mapped: vec![MappedValue {
            key: custom,
            value: "1.18.0".into(),
            reference_id: None,
            owned: true,
            written: None,
        }],
        ..Extras::default()
    };
    let mut held = holding(None);
    held.extras.custom_fields = vec![
        CustomFieldValue {
            id: 1,
            value: serde_json::json!("2027-01-31T00:00:00Z"),
            ..CustomFieldValue::default()
        },
        CustomFieldValue {
            id: 2,
            value: serde_json::Value::Null,
            ..CustomFieldValue::default()
        },
    ];
    let f = facts("web-01", "Debian GNU/Linux 12 (bookworm)");
    let d = Desired {
        extras: &w,
        ..super::adoption::adopt_test_desired(&f)
    };
    let Action::Update { extras, .. } = plan(&d, &[held], &Candidacy::Nothing, &settings()) else {
        panic!("expected an update")
    };
    let ops = serde_json::to_value(crate::reconcile::fields::patch(&[], &extras, None)).unwrap();
    assert_eq!(
        ops,
        serde_json::json!([{"op": "replace", "path": "customFields", "value": [
            {"id": 1, "value": "2027-01-31T00:00:00Z"},
            {"id": 2, "value": "1.18.0"},
        ]}])
    );
}
