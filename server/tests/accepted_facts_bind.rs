//! Any fact set the agent API accepts can be stored, read back and bound, on SQLite and on
//! PostgreSQL: every field present or absent, with the hostile values the reliability suite uses
//! (long, unicode, control characters, placeholders, IPv6 with a zone, odd MAC forms). The
//! configuration planned for it passes the sandbox's schema check (ConnectWise's field limits)
//! and has a name, its agent id where the machine gave none.
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use bindery_server::ids::{CompanyId, PolicyId};
use bindery_server::reconcile::adoption::Candidacy;
use bindery_server::reconcile::fields::new_configuration;
use bindery_server::reconcile::plan::{Action, BindingSettings, Desired, Extras, plan};
use bindery_server::store::{NewDevice, PersonChoice, Store, facts_for_storage};
use bindery_shared::{DeviceFacts, FactField};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

mod common;

/// What a hostile or broken machine may send for one fact.
fn fact_text() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[ \t\r\n\u{0}-\u{1f}\u{7f}\u{85}\u{a0}\u{200b}\u{202e}\u{feff}\"'\\\\a-zA-Z0-9:.%/-]{0,40}",
        "\\PC{0,300}",
        "[0-9a-fA-F]{2}([:.-]?[0-9a-fA-F]{2}){5}",
        "[0-9a-fA-F]{4}\\.[0-9a-fA-F]{4}\\.[0-9a-fA-F]{4}",
        "fe80::[0-9a-f]{1,4}%[a-z0-9]{1,12}",
        "[0-9]{1,3}(\\.[0-9]{1,3}){3}(/[0-9]{1,2})?",
        prop::sample::select(bindery_shared::normalize::JUNK_SERIALS).prop_map(str::to_owned),
        "[😀a ]{90,300}",
        Just("x\" or company/id=3 or serialNumber=\"x".to_owned()),
        Just(String::new()),
    ]
}

/// A fact set as the agent sends it: each fact present or absent (with a reason, or without).
fn sent_facts() -> impl Strategy<Value = DeviceFacts> {
    prop::collection::vec(
        prop_oneof![
            3 => fact_text().prop_map(Ok),
            1 => fact_text().prop_map(Err),
            1 => Just(Err(String::new())),
        ],
        FactField::ALL.len(),
    )
    .prop_map(|values| {
        let mut facts = DeviceFacts::default();
        for (field, value) in FactField::ALL.into_iter().zip(values) {
            match value {
                Ok(v) => facts.set(field, v),
                Err(reason) if reason.is_empty() => {}
                Err(reason) => facts.set_absent(field, reason),
            }
        }
        facts
    })
}

fn settings() -> BindingSettings {
    BindingSettings {
        active_status_id: 1,
        inactive_status_id: 2,
        default_type_id: 1,
        type_rules: Vec::new(),
        adoption: Default::default(),
        answers: Vec::new(),
        field_map: Default::default(),
    }
}

/// Runs the property against one store: each case enrolls a new device with its facts.
fn check(store: &Store, policy: PolicyId, cases: u32) {
    let rt = tokio::runtime::Handle::current();
    let mut runner = TestRunner::new(Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    });
    let n = std::sync::atomic::AtomicU32::new(0);
    let result = runner.run(&sent_facts(), |sent| {
        let n = n.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let agent = format!("agent-{n:05}");
        // As the wire carries them: JSON in, decoded by the agent API.
        let wire = serde_json::to_string(&sent).unwrap();
        let received: DeviceFacts = serde_json::from_str(&wire).unwrap();
        let (json, hash) = facts_for_storage(received.clone(), &agent).unwrap();
        let clean = received.normalized();
        let id = tokio::task::block_in_place(|| {
            rt.block_on(store.enroll_device(&NewDevice {
                agent_id: &agent,
                serial: clean.serial_number.as_deref(),
                mac: clean.mac_address.as_deref(),
                name: clean.name.as_deref(),
                policy_id: policy,
                facts_json: &json,
                facts_hash: &hash,
                agent_version: "1.0",
                secret_hash: "x",
                proven: false,
                auto_approve_silent_ms: None,
            }))
        })
        .unwrap()
        .device()
        .id;
        let target = tokio::task::block_in_place(|| rt.block_on(store.device_target(id)))
            .unwrap()
            .unwrap();
        prop_assert!(!target.facts_unreadable, "stored facts read back");
        let mut expected = clean.clone();
        expected.set(FactField::DeviceIdentifier, agent.clone());
        prop_assert_eq!(&target.facts, &expected);

        let extras = Extras::default();
        let desired = Desired {
            agent_id: &agent,
            facts: &target.facts,
            company_id: Some(CompanyId(2)),
            choice: PersonChoice::Auto,
            hold: None,
            extras: &extras,
        };
        let action = plan(&desired, &[], &Candidacy::Nothing, &settings());
        let Action::Create {
            company_id,
            type_id,
            fields,
            extras,
        } = action
        else {
            return Err(TestCaseError::fail(format!("not a create: {action:?}")));
        };
        let body = new_configuration(company_id, type_id, 1, &fields, &extras, &agent);
        let name = body.name.clone().unwrap_or_default();
        prop_assert!(!name.trim().is_empty(), "a configuration always has a name");
        if clean.name.is_none() {
            prop_assert_eq!(&name, &agent, "named after its agent id");
        }
        let value = serde_json::to_value(&body).unwrap();
        let problems =
            connectwise_sandbox::schema::check("Company.Configuration", &value, "configuration");
        prop_assert!(problems.is_empty(), "{problems:?} in {value}");
        Ok(())
    });
    if let Err(e) = result {
        panic!("{e}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn any_accepted_facts_are_stored_read_back_and_planned_on_sqlite() {
    let (store, _guard) = common::sqlite().await;
    let p = store.create_policy("Props").await.unwrap();
    check(&store, p.id, 300);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn any_accepted_facts_are_stored_read_back_and_planned_on_postgres() {
    let (store, _guard) = common::postgres().await;
    let p = store.create_policy("Props").await.unwrap();
    check(&store, p.id, 150);
}
