//! The client's decoding of whatever comes back (error bodies, Link headers, entities) never
//! panics, whatever the bytes.
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use connectwise_client::{Company, Configuration, Error, Ticket, parse_link_header};
use proptest::prelude::*;

fn json_text() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![
        Just("null".to_owned()),
        any::<bool>().prop_map(|b| b.to_string()),
        any::<i64>().prop_map(|n| n.to_string()),
        any::<f64>().prop_map(|n| format!("{n}")),
        "\\PC{0,12}".prop_map(|s| serde_json::to_string(&s).unwrap()),
    ];
    leaf.prop_recursive(4, 40, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(|v| format!("[{}]", v.join(","))),
            prop::collection::vec(
                (
                    prop_oneof![
                        Just("id".to_owned()),
                        Just("name".to_owned()),
                        Just("status".to_owned()),
                        Just("errors".to_owned()),
                        Just("message".to_owned()),
                        "[a-z]{1,8}"
                    ],
                    inner
                ),
                0..6
            )
            .prop_map(|kv| format!(
                "{{{}}}",
                kv.iter()
                    .map(|(k, v)| format!("\"{k}\":{v}"))
                    .collect::<Vec<_>>()
                    .join(",")
            )),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases(2000)))]

    #[test]
    fn error_bodies_of_any_shape_decode(status in 100u16..600, body in prop_oneof![json_text(), any::<String>()], bytes in prop::collection::vec(any::<u8>(), 0..64)) {
        let _ = Error::from_response_for_tests(status, body.as_bytes()).to_string();
        let _ = Error::from_response_for_tests(status, &bytes).is_transient();
    }

    #[test]
    fn entities_of_any_shape_decode_or_fail_cleanly(body in json_text()) {
        let _ = serde_json::from_str::<Vec<Configuration>>(&body);
        let _ = serde_json::from_str::<Configuration>(&body);
        let _ = serde_json::from_str::<Company>(&body);
        let _ = serde_json::from_str::<Ticket>(&body);
    }

    #[test]
    fn link_headers_of_any_shape_parse(header in prop_oneof![any::<String>(), "[<>;,=\" a-z:/?&]{0,60}"]) {
        for (rel, url) in parse_link_header(&header) {
            prop_assert!(!rel.is_empty() && !rel.contains(char::is_whitespace));
            prop_assert!(!url.contains('>'));
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
