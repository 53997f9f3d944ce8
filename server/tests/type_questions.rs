//! Configuration types with required questions, against the sandbox (which refuses a
//! configuration whose required question has no answer, as ConnectWise does): such a type is
//! refused only while an answer is missing; once answered (a fixed text or a fact), devices
//! bind under it with their answers.
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use bindery_server::ids::{CompanyId, IntegrationId};
use bindery_server::integration::{self, QuestionAnswer};
use bindery_server::ops::{OpError, Ops};
use bindery_server::testkit::world;

const FIRST: IntegrationId = IntegrationId::FIRST;
const FIREWALL: i64 = 3;
const RACK_LOCATION: i64 = 2;

#[tokio::test(flavor = "multi_thread")]
async fn a_type_with_a_required_question_binds_once_the_answer_is_given() {
    let w = world().await;
    let ops = Ops::new(&w.store, Some(&w.key), Some(&w.engine));
    let mut choices = integration::choices(&w.store, FIRST)
        .await
        .unwrap()
        .unwrap();
    choices.default_type_id = FIREWALL;
    let refused = ops.save_choices(FIRST, &choices).await;
    assert!(
        matches!(&refused, Err(OpError::Integration(e)) if e.to_string().contains("Rack location")),
        "{refused:?}"
    );
    choices.answers = vec![QuestionAnswer {
        type_id: FIREWALL,
        question_id: RACK_LOCATION,
        answer: "{serialNumber}".into(),
    }];
    ops.save_choices(FIRST, &choices).await.unwrap();

    let p = w.store.create_policy("Acme racks").await.unwrap();
    w.enroll(p.id, 1..3).await;
    ops.link(p.id, (FIRST, CompanyId(2))).await.unwrap();
    w.settled().await;
    for n in 1..3 {
        let c = &w.configs(n)[0];
        assert_eq!(c["type"]["id"], FIREWALL, "device {n}");
        let answers = c["questions"].as_array().unwrap();
        assert!(
            answers
                .iter()
                .any(|a| a["questionId"] == RACK_LOCATION && a["answer"] == format!("SN{n:05}")),
            "device {n}: {answers:?}"
        );
    }
    w.finish().await;
}

/// A required list question takes one of its active values, as a fixed text: another text or a
/// fact is refused when the choices are saved, not when a configuration fails.
#[tokio::test(flavor = "multi_thread")]
async fn a_required_list_question_takes_one_of_its_values() {
    const WORKSTATION: i64 = 1;
    const DEPARTMENT: i64 = 3;
    let w = world().await;
    w.sb.sandbox
        .data()
        .type_questions
        .update(DEPARTMENT, |q| q["requiredFlag"] = true.into());
    let ops = Ops::new(&w.store, Some(&w.key), Some(&w.engine));
    let mut choices = integration::choices(&w.store, FIRST)
        .await
        .unwrap()
        .unwrap();
    choices.default_type_id = WORKSTATION;
    for (answer, why) in [
        ("Marketing", "not \"Marketing\""),
        ("Legacy", "not \"Legacy\""), // retired
        ("{name}", "not a fact"),
    ] {
        choices.answers = vec![QuestionAnswer {
            type_id: WORKSTATION,
            question_id: DEPARTMENT,
            answer: answer.into(),
        }];
        let refused = ops
            .save_choices(FIRST, &choices)
            .await
            .unwrap_err()
            .to_string();
        assert!(
            refused.contains(why) && refused.contains("(Finance, Engineering, Sales)"),
            "{refused}"
        );
    }
    choices.answers[0].answer = "Finance".into();
    ops.save_choices(FIRST, &choices).await.unwrap();
    let p = w.store.create_policy("Acme finance").await.unwrap();
    w.enroll(p.id, 1..2).await;
    ops.link(p.id, (FIRST, CompanyId(2))).await.unwrap();
    w.settled().await;
    let c = &w.configs(1)[0];
    assert_eq!(c["type"]["id"], WORKSTATION);
    assert!(
        c["questions"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["questionId"] == DEPARTMENT && a["answer"] == "Finance"),
        "{c}"
    );
    w.finish().await;
}
