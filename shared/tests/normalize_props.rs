//! Property tests: normalisation never panics, always stays within ConnectWise's limits, and is
//! idempotent, whatever a (possibly hostile) machine sends.

#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use bindery_shared::normalize::{REASON_MAX, normalize_value, utf16_len};
use bindery_shared::{DeviceFacts, FactField};
use proptest::prelude::*;

/// Text that exercises the rules: arbitrary unicode, control characters and quotes, junk serials,
/// MAC- and IP-like strings, and over-long values.
fn fact_text() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[ \t\r\n\u{0}-\u{1f}\u{7f}\u{85}\u{a0}\u{200b}\u{202e}\u{feff}\"'\\\\a-zA-Z0-9:.%/-]{0,40}",
        "\\PC{0,400}",
        "[0-9a-fA-F]{2}([:.-]?[0-9a-fA-F]{2}){5}",
        "[0-9]{1,3}(\\.[0-9]{1,3}){3}(/[0-9]{1,2})?",
        prop::sample::select(bindery_shared::normalize::JUNK_SERIALS).prop_map(str::to_owned),
        "[😀a ]{90,300}",
    ]
}

fn field() -> impl Strategy<Value = FactField> {
    prop::sample::select(FactField::ALL.to_vec())
}

fn facts() -> impl Strategy<Value = DeviceFacts> {
    (
        prop::collection::vec(prop::option::of(fact_text()), 10),
        prop::collection::vec((field(), fact_text()), 0..4),
    )
        .prop_map(|(values, reasons)| {
            let mut facts = DeviceFacts::default();
            for (field, value) in FactField::ALL.into_iter().zip(values) {
                if let Some(v) = value {
                    facts.set(field, v);
                }
            }
            for (field, reason) in reasons {
                facts.absent.insert(field, reason);
            }
            facts
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases(2000)))]

    #[test]
    fn a_value_is_bounded_and_normalising_it_again_changes_nothing(f in field(), raw in fact_text()) {
        if let Ok(value) = normalize_value(f, &raw) {
            prop_assert!(!value.is_empty());
            prop_assert!(utf16_len(&value) <= f.max_len());
            prop_assert!(!value.chars().any(char::is_control));
            prop_assert_eq!(value.trim(), value.as_str());
            prop_assert_eq!(normalize_value(f, &value), Ok(value.clone()));
        }
    }

    #[test]
    fn facts_are_bounded_explained_and_idempotent(input in facts()) {
        let once = input.normalized();
        for f in FactField::ALL {
            match (once.get(f), once.absent_reason(f)) {
                (Some(v), None) => prop_assert!(utf16_len(v) <= f.max_len()),
                (None, Some(r)) => {
                    prop_assert!(!r.is_empty());
                    prop_assert!(utf16_len(r) <= REASON_MAX);
                }
                other => prop_assert!(false, "{f}: {:?}", other),
            }
        }
        let twice = once.clone().normalized();
        prop_assert_eq!(twice, once);
    }

    #[test]
    fn any_json_for_facts_either_fails_cleanly_or_normalises(text in "\\PC{0,200}") {
        if let Ok(facts) = serde_json::from_str::<DeviceFacts>(&text) {
            let _ = facts.normalized();
        }
    }
}

/// `default` cases a property, or PROPTEST_CASES when that asks for more (scripts/reliability).
fn cases(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .map_or(default, |n: u32| n.max(default))
}
