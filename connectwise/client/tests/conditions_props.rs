//! The conditions builder and the sandbox's parser together: for any value, the condition the
//! builder makes matches exactly the records holding that value, or the builder refuses it.
//! Nothing a device reports can widen a query to another record.
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use connectwise_client::conditions::{Condition, Op, is_safe_text};
use connectwise_sandbox::conditions::parse;
use proptest::prelude::*;
use serde_json::json;

/// Values a hostile or broken machine might report.
fn value() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[a-zA-Z0-9 ._:-]{0,30}",
        "[\"'\\\\*%()\\[\\]=<>! a-z0-9]{0,30}",
        Just(r#"x" or company/id=7 or serialNumber=""#.to_owned()),
        Just("x' or 1=1 or serialNumber='".to_owned()),
        Just("\u{202e}evil".to_owned()),
        "\\PC{0,20}",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases(1500)))]

    #[test]
    fn a_text_condition_matches_exactly_its_value_or_is_refused(target in value(), others in prop::collection::vec(value(), 0..6)) {
        let built = Condition::text("serialNumber", Op::Eq, &target);
        prop_assert_eq!(built.is_ok(), is_safe_text(&target), "refused exactly the unsafe values");
        let Ok(cond) = built else { return Ok(()) };
        let scoped = Condition::int("company/id", Op::Eq, 2).unwrap().and(cond);
        let expr = parse(scoped.as_str()).map_err(|e| TestCaseError::fail(format!("{scoped}: {e}")))?;
        let mut records = vec![json!({"serialNumber": target, "company": {"id": 2}}), json!({"serialNumber": target, "company": {"id": 7}})];
        records.extend(others.iter().map(|o| json!({"serialNumber": o, "company": {"id": 2}})));
        records.extend(others.iter().map(|o| json!({"serialNumber": o, "company": {"id": 7}})));
        for r in &records {
            let expected = r["company"]["id"] == 2
                && r["serialNumber"].as_str().unwrap().to_lowercase() == target.to_lowercase();
            prop_assert_eq!(expr.matches(r), expected, "{} on {}", scoped, r);
        }
    }

    #[test]
    fn in_lists_and_boolean_combinations_mean_what_they_say(ids in prop::collection::vec(-5i64..20, 1..5), a in any::<bool>(), probe in -5i64..20, names in prop::collection::vec(value(), 1..4)) {
        let in_ids = Condition::int_in("id", &ids).unwrap();
        let flag = Condition::boolean("activeFlag", a).unwrap();
        let expr = parse(in_ids.clone().or(flag.clone()).and(Condition::int("company/id", Op::Ne, 9).unwrap()).as_str()).unwrap();
        for active in [true, false] {
            for company in [1, 9] {
                let r = json!({"id": probe, "activeFlag": active, "company": {"id": company}});
                let expected = (ids.contains(&probe) || active == a) && company != 9;
                prop_assert_eq!(expr.matches(&r), expected);
            }
        }
        if let Ok(c) = Condition::text_in("identifier", &names) {
            let expr = parse(c.as_str()).unwrap();
            for n in &names {
                let record = json!({"identifier": n});
                prop_assert!(expr.matches(&record), "{}", n);
            }
            let outsider = format!("{}-not-listed", names[0]);
            let listed = names.iter().any(|n| n.to_lowercase() == outsider.to_lowercase());
            let record = json!({"identifier": outsider});
            prop_assert_eq!(expr.matches(&record), listed);
        } else {
            prop_assert!(names.iter().any(|n| !is_safe_text(n)));
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
