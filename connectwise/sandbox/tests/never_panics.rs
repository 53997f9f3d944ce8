//! The sandbox's parsers never panic: arbitrary conditions, JSON bodies, patches and query
//! strings get a clean 4xx (or success), never a crash or a 500.
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use connectwise_sandbox::{Seed, conditions, schema};
use proptest::prelude::*;
use serde_json::{Value, json};

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(|f| serde_json::Number::from_f64(f)
            .map(Value::Number)
            .unwrap_or(Value::Null)),
        "\\PC{0,120}".prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        let key = prop_oneof![
            Just("name".to_owned()),
            Just("type".to_owned()),
            Just("company".to_owned()),
            Just("id".to_owned()),
            Just("op".to_owned()),
            Just("path".to_owned()),
            Just("value".to_owned()),
            Just("questions".to_owned()),
            Just("status".to_owned()),
            Just("summary".to_owned()),
            Just("identifier".to_owned()),
            "[a-zA-Z/]{1,10}",
        ];
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::btree_map(key, inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn condition_text() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[a-z/]{1,8} ?(=|!=|<=|>=|<|>|contains|like|in|not) ?(\"[^\"]{0,5}\"|'[^']{0,5}'|[0-9.-]{1,4}|True|null|\\[[0-9T:Z-]{0,20}\\]|\\([0-9, ]{0,8}\\))( (and|or) )?[()]{0,3}",
        "[()\"'\\[\\] a-z=!<>,0-9]{0,40}",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases(3000)))]

    #[test]
    fn conditions_parse_or_fail_cleanly(text in condition_text(), record in json_value()) {
        if let Ok(expr) = conditions::parse(&text) {
            let _ = expr.matches(&record);
        }
    }

    #[test]
    fn schema_checks_take_any_json(value in json_value()) {
        for name in ["Company.Configuration", "Ticket", "ServiceNote", "ConfigurationReference", "PatchOperation"] {
            let _ = schema::check(name, &value, "x");
        }
    }
}

#[test]
fn any_request_gets_an_answer_never_a_crash() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let sb = rt
        .block_on(connectwise_sandbox::spawn(
            "127.0.0.1:0".parse().unwrap(),
            Seed::default_seed(),
            true,
        ))
        .unwrap();
    let http = http_client();
    let base = format!("{}/v4_6_release/apis/3.0", sb.url());
    rt.block_on(async {
        let created = http
            .post(format!("{base}/company/configurations"))
            .basic_auth("bindery+sandbox-public", Some("sandbox-private"))
            .header("clientId", "x")
            .header("content-type", "application/json")
            .body(json!({"name": "a", "type": {"id": 1}, "company": {"id": 2}}).to_string())
            .send()
            .await
            .unwrap();
        assert_eq!(created.status(), 201);
    });
    let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig::with_cases(cases(400)));
    let strategy = (json_value(), "[a-zA-Z=&%+ \"'()0-9,/_-]{0,60}", 0usize..4);
    runner
        .run(&strategy, |(body, query, which)| {
            let status = rt.block_on(async {
                let (method, path) = [
                    ("POST", "company/configurations"),
                    ("PATCH", "company/configurations/1"),
                    ("POST", "service/tickets"),
                    ("GET", "company/configurations"),
                ][which];
                let url = if method == "GET" {
                    format!("{base}/{path}?{query}")
                } else {
                    format!("{base}/{path}")
                };
                http.request(method.parse().unwrap(), url)
                    .basic_auth("bindery+sandbox-public", Some("sandbox-private"))
                    .header("clientId", "x")
                    .header("content-type", "application/json")
                    .body(body.to_string())
                    .send()
                    .await
                    .map(|r| r.status().as_u16())
            });
            let status = status.map_err(|e| TestCaseError::fail(format!("no answer: {e}")))?;
            prop_assert!(
                matches!(status, 200 | 201 | 400 | 404 | 415),
                "status {} for {} {}",
                status,
                query,
                body
            );
            Ok(())
        })
        .unwrap();
    rt.block_on(sb.stop());
}

/// A plain HTTP client (rustls needs its ring provider installed before any client is built).
fn http_client() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::new()
}

/// `default` cases a property, or PROPTEST_CASES when that asks for more (scripts/reliability).
fn cases(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .map_or(default, |n: u32| n.max(default))
}
