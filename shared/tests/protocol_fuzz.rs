//! Fuzzing the agent protocol's decoding (property tests): arbitrary bytes and arbitrary JSON
//! shaped like each message decode to a message or an error, never a panic; a decoded message's
//! validation answers without panicking, and what it accepts stays within the protocol's bounds;
//! credentials of any shape parse or are refused. PROPTEST_CASES sets the cases per property
//! (scripts/reliability runs many more than CI).
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use bindery_shared::DeviceFacts;
use bindery_shared::protocol::{
    AlertBatch, CheckIn, DeviceCredential, EnrollRequest, HelpClose, HelpRequest,
    MAX_ALERTS_PER_BATCH, MAX_MONITORS, MAX_SUMMARY_CHARS,
};
use proptest::prelude::*;
use serde_json::Value;

/// JSON whose keys are the protocol's own, so decoding gets deep, not just refused at once.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_map(|f| serde_json::Number::from_f64(f)
            .map(Value::Number)
            .unwrap_or(Value::Null)),
        "\\PC{0,140}".prop_map(Value::from),
        "[\\x00-\\x1f\"\\\\\u{202e}\u{200b}a-z0-9 ]{0,40}".prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 64, 8, |inner| {
        let key = prop_oneof![
            Just("agentVersion".to_owned()),
            Just("facts".to_owned()),
            Just("monitors".to_owned()),
            Just("monitorId".to_owned()),
            Just("status".to_owned()),
            Just("events".to_owned()),
            Just("seq".to_owned()),
            Just("kind".to_owned()),
            Just("atMs".to_owned()),
            Just("summary".to_owned()),
            Just("subject".to_owned()),
            Just("detail".to_owned()),
            Just("requestId".to_owned()),
            Just("token".to_owned()),
            Just("agentId".to_owned()),
            Just("name".to_owned()),
            Just("serialNumber".to_owned()),
            Just("absent".to_owned()),
            Just("ticketNumber".to_owned()),
            "[a-zA-Z]{1,12}",
        ];
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(key, inner, 0..8)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    #[test]
    fn any_bytes_decode_or_fail_cleanly(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        let _ = serde_json::from_slice::<CheckIn>(&bytes);
        let _ = serde_json::from_slice::<AlertBatch>(&bytes);
        let _ = serde_json::from_slice::<EnrollRequest>(&bytes);
        let _ = serde_json::from_slice::<HelpRequest>(&bytes);
        let _ = serde_json::from_slice::<HelpClose>(&bytes);
    }

    #[test]
    fn any_json_decodes_and_validates_without_panicking(v in json_value()) {
        if let Ok(c) = serde_json::from_value::<CheckIn>(v.clone())
            && c.validate().is_ok()
        {
            prop_assert!(c.monitors.len() <= MAX_MONITORS);
            let _ = c.facts.clone().normalized();
        }
        if let Ok(b) = serde_json::from_value::<AlertBatch>(v.clone())
            && b.validate().is_ok()
        {
            prop_assert!(b.events.len() <= MAX_ALERTS_PER_BATCH);
            prop_assert!(b.events.windows(2).all(|w| w[0].seq < w[1].seq));
            prop_assert!(b.events.iter().all(|e| e.summary.chars().count() <= MAX_SUMMARY_CHARS));
        }
        if let Ok(e) = serde_json::from_value::<EnrollRequest>(v.clone()) {
            let _ = e.validate();
        }
        if let Ok(h) = serde_json::from_value::<HelpRequest>(v.clone()) {
            let _ = h.validate();
        }
        if let Ok(f) = serde_json::from_value::<DeviceFacts>(v) {
            // Normalised facts are normalised: a second pass changes nothing.
            let once = f.normalized();
            prop_assert_eq!(once.clone().normalized(), once);
        }
    }

    #[test]
    fn any_authorization_header_parses_or_is_refused(header in "\\PC{0,200}") {
        if let Some(c) = DeviceCredential::from_authorization(&header) {
            // What parses is a credential that prints the same way back.
            prop_assert_eq!(DeviceCredential::from_authorization(&c.bearer()), Some(c));
        }
    }
}
