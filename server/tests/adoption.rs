//! Bindery turned on in a ConnectWise that already holds configurations: each key adopts, what
//! is ambiguous waits for a person (who then decides), nothing is duplicated, other companies
//! are never touched, the preview says exactly what the link then does, and a possible
//! reinstall is bound only once a person approves it.
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use bindery_server::ops::Ops;
use bindery_server::ops::identity::ReinstallAnswer;
use bindery_server::reconcile::plan::PersonChoice;
use bindery_server::reconcile::queue;
use bindery_server::store::{BindingState, NewDevice};
use bindery_shared::FactField;
use serde_json::{Value, json};

mod common;
use bindery_server::ids::{CompanyId, ConfigurationId, DeviceId, PolicyId};
use bindery_server::testkit::{World, agent_id, facts, world};

const ACME: CompanyId = CompanyId(2);
const GLOBEX: CompanyId = CompanyId(3);
const ACTIVE: i64 = 1;
const INACTIVE: i64 = 2;

fn ident(c: &Value) -> Option<&str> {
    c["deviceIdentifier"].as_str()
}

async fn binding(w: &World, device: DeviceId) -> bindery_server::store::Binding {
    w.store.binding(device).await.unwrap().unwrap()
}

/// Six machines, and the configurations an earlier tool left in ConnectWise.
struct Scene {
    devices: Vec<DeviceId>,
    by_serial: ConfigurationId,
    by_mac: ConfigurationId,
    by_name: ConfigurationId,
    dup_a: ConfigurationId,
    dup_b: ConfigurationId,
    twin: ConfigurationId,
    printer: ConfigurationId,
    foreign: ConfigurationId,
    stray: ConfigurationId,
}

async fn scene(w: &World, policy: PolicyId) -> Scene {
    let mut devices = w.enroll(policy, 0..4).await;
    // Two machines that share a name (and nothing else).
    for n in [4usize, 5] {
        let mut f = facts(n, "Debian GNU/Linux 12");
        f.set(FactField::Name, "twin");
        devices.push(w.enroll_with(policy, n, f).await);
    }
    devices.extend(w.enroll(policy, 6..7).await);
    Scene {
        devices,
        // Serial in another case, and a type a person chose (kept on adoption).
        by_serial: w.seed_config(
            ACME,
            "old-name-0",
            json!({"serialNumber": "sn00000", "type": {"id": 2, "name": "Managed Server"}}),
        ),
        // The MAC written another way.
        by_mac: w.seed_config(ACME, "x1", json!({"macAddress": "02-00-00-00-00-01"})),
        // A fully qualified name in capitals, inactive: adopted and made active again.
        by_name: w.seed_config(
            ACME,
            "HOST-002.corp.example",
            json!({"status": {"id": INACTIVE, "name": "Inactive"}, "activeFlag": false}),
        ),
        dup_a: w.seed_config(ACME, "dup-a", json!({"serialNumber": "SN00003"})),
        dup_b: w.seed_config(ACME, "dup-b", json!({"serialNumber": "SN00003"})),
        twin: w.seed_config(ACME, "TWIN", json!({})),
        printer: w.seed_config(ACME, "printer", json!({"serialNumber": "PRN-77"})),
        // The same serial in another company: never looked at.
        foreign: w.seed_config(GLOBEX, "host-000", json!({"serialNumber": "SN00000"})),
        // Device 6's agent id in another company: never touched either.
        stray: w.seed_config(GLOBEX, "stray", json!({"deviceIdentifier": agent_id(6)})),
    }
}

#[tokio::test]
async fn a_full_company_is_adopted_by_each_key_previewed_exactly_and_never_duplicated() {
    let w = world().await;
    let p = w.store.create_policy("Acme office").await.unwrap();
    let s = scene(&w, p.id).await;
    w.settled().await;
    let seeded = w.all_configs().len();

    // The preview: one read of the company, no write, and the plan the link will carry out.
    w.sb.sandbox.clear_requests();
    let ops = Ops::new(&w.store, None, Some(&*w.engine));
    let preview = ops
        .preview_link(p.id, (bindery_server::ids::IntegrationId::FIRST, ACME))
        .await
        .unwrap();
    let requests = w.requests();
    assert!(requests.iter().all(|(m, _)| m == "GET"), "{requests:?}");
    assert_eq!(
        requests
            .iter()
            .filter(|(_, p)| p.contains("configurations"))
            .count(),
        1
    );
    let plan = &preview.plan;
    assert_eq!(
        (
            plan.adopt_by_serial,
            plan.adopt_by_mac,
            plan.adopt_by_name,
            plan.create
        ),
        (1, 1, 1, 1),
        "{plan:?}"
    );
    assert_eq!(plan.reactivate, 1, "the inactive one found by name");
    let waiting: Vec<DeviceId> = plan.needs_person.iter().map(|n| n.device_id).collect();
    assert_eq!(waiting, vec![s.devices[3], s.devices[4], s.devices[5]]);
    assert_eq!(plan.needs_person[0].candidates, vec![s.dup_a, s.dup_b]);
    assert_eq!(plan.needs_person[1].candidates, vec![s.twin]);
    let unclaimed: Vec<ConfigurationId> =
        plan.unclaimed.iter().map(|u| u.configuration_id).collect();
    assert_eq!(unclaimed, vec![s.printer]);
    assert!(
        w.store.policy(p.id).await.unwrap().cw_company_id.is_none(),
        "nothing linked"
    );

    // The link does exactly what the preview said.
    w.link(p.id, Some((ACME, "Acme"))).await;
    w.settled().await;
    for d in &plan.devices {
        let b = binding(&w, d.device_id).await;
        match d.outcome {
            "adopt" => assert_eq!(
                (b.state, b.configuration_id),
                (BindingState::Bound, d.configuration_id),
                "device {}",
                d.device_id
            ),
            "create" => {
                assert_eq!(b.state, BindingState::Bound);
                let made = w.config(b.configuration_id.unwrap());
                assert_eq!(made["name"], "host-006", "a new configuration");
            }
            "needs_person" => assert_eq!(b.state, BindingState::NeedsPerson),
            other => panic!("unexpected {other}"),
        }
    }
    assert_eq!(
        w.all_configs().len(),
        seeded + 1,
        "one created, nothing duplicated"
    );

    let serial = w.config(s.by_serial);
    assert_eq!(ident(&serial), Some(agent_id(0).as_str()));
    assert_eq!(
        (serial["name"].as_str(), serial["serialNumber"].as_str()),
        (Some("host-000"), Some("SN00000"))
    );
    assert_eq!(serial["type"]["id"], 2, "the type a person chose is kept");
    assert_eq!(ident(&w.config(s.by_mac)), Some(agent_id(1).as_str()));
    let name = w.config(s.by_name);
    assert_eq!(
        (ident(&name), name["status"]["id"].as_i64()),
        (Some(agent_id(2).as_str()), Some(ACTIVE))
    );
    for untouched in [s.dup_a, s.dup_b, s.twin, s.printer, s.foreign] {
        assert_eq!(
            ident(&w.config(untouched)),
            None,
            "configuration {untouched}"
        );
    }
    assert_eq!(
        w.config(s.stray)["status"]["id"],
        ACTIVE,
        "another company's record stays"
    );
    let b3 = binding(&w, s.devices[3]).await;
    assert_eq!(b3.candidates, vec![s.dup_a, s.dup_b]);
    assert!(b3.error.unwrap().contains("2 configurations match"));
    assert!(
        binding(&w, s.devices[4])
            .await
            .error
            .unwrap()
            .contains("another device")
    );

    // Each adoption is in the activity log, field by field.
    let (log, _) = w
        .store
        .activity("configuration.adopt", false, 50, 0)
        .await
        .unwrap();
    assert_eq!(log.len(), 3);
    let serial_entry = log.iter().find(|a| a.cw_id == Some(s.by_serial.0)).unwrap();
    let detail = serial_entry.detail.as_deref().unwrap();
    assert!(detail.contains("adopted by serial"), "{detail}");
    assert!(
        detail.contains(r#"name: "old-name-0" -> "host-000""#),
        "{detail}"
    );

    // A re-sync of the settled company reads and writes nothing.
    w.sb.sandbox.clear_requests();
    w.resync(ACME).await;
    assert!(
        w.requests().iter().all(|(m, _)| m == "GET"),
        "{:?}",
        w.requests()
    );

    // A person decides: device 3 is dup-b, device 4 gets a new one, device 5 is the TWIN record;
    // device 6 is re-pointed from its new configuration to the printer's old record.
    let created = binding(&w, s.devices[6]).await.configuration_id.unwrap();
    ops.choose_configuration(s.devices[3], PersonChoice::Adopt(s.dup_b))
        .await
        .unwrap();
    ops.choose_configuration(s.devices[4], PersonChoice::CreateNew)
        .await
        .unwrap();
    ops.choose_configuration(s.devices[5], PersonChoice::Adopt(s.twin))
        .await
        .unwrap();
    ops.choose_configuration(s.devices[6], PersonChoice::Adopt(s.printer))
        .await
        .unwrap();
    w.settled().await;
    assert_eq!(ident(&w.config(s.dup_b)), Some(agent_id(3).as_str()));
    assert_eq!(ident(&w.config(s.dup_a)), None);
    assert_eq!(ident(&w.config(s.twin)), Some(agent_id(5).as_str()));
    assert_eq!(w.configs(4).len(), 1, "device 4 got a new configuration");
    assert_eq!(ident(&w.config(s.printer)), Some(agent_id(6).as_str()));
    assert_eq!(
        w.config(created)["status"]["id"],
        INACTIVE,
        "the old one is let go"
    );
    for n in [3usize, 4, 5, 6] {
        let b = binding(&w, s.devices[n]).await;
        assert_eq!(b.state, BindingState::Bound, "device {n}: {:?}", b.error);
    }
    assert_eq!(
        binding(&w, s.devices[6]).await.configuration_id,
        Some(s.printer)
    );
    // Another device cannot take a configuration that is now owned.
    ops.choose_configuration(s.devices[0], PersonChoice::Adopt(s.printer))
        .await
        .unwrap();
    w.settled().await;
    assert_eq!(
        binding(&w, s.devices[0]).await.state,
        BindingState::NeedsPerson
    );
    assert_eq!(ident(&w.config(s.printer)), Some(agent_id(6).as_str()));
    w.finish().await;
}

#[tokio::test]
async fn adoption_keys_can_be_switched_off_and_type_rules_applied() {
    let w = world().await;
    let mut choices =
        bindery_server::integration::choices(&w.store, bindery_server::ids::IntegrationId::FIRST)
            .await
            .unwrap()
            .unwrap();
    choices.adoption.by_serial = false;
    choices.adoption.apply_type_rules = true;
    w.store
        .put_setting(
            bindery_server::integration::CHOICES,
            &serde_json::to_string(&choices).unwrap(),
        )
        .await
        .unwrap();
    let p = w.store.create_policy("P").await.unwrap();
    w.enroll(p.id, 0..2).await;
    let serial_only = w.seed_config(ACME, "zz", json!({"serialNumber": "SN00000"}));
    let by_name = w.seed_config(
        ACME,
        "HOST-001",
        json!({"type": {"id": 2, "name": "Managed Server"}}),
    );
    w.link(p.id, Some((ACME, "Acme"))).await;
    w.settled().await;
    assert_eq!(
        ident(&w.config(serial_only)),
        None,
        "serial matching is off"
    );
    assert_eq!(w.configs(0).len(), 1, "device 0 got a new one");
    let adopted = w.config(by_name);
    assert_eq!(ident(&adopted), Some(agent_id(1).as_str()));
    assert_eq!(adopted["type"]["id"], 1, "type rules applied on adoption");
    w.finish().await;
}

#[tokio::test]
async fn a_possible_reinstall_binds_nothing_until_approved_then_keeps_the_configuration() {
    let w = world().await;
    let p = w.store.create_policy("P").await.unwrap();
    let lab = w.store.create_policy("Lab").await.unwrap();
    let devices = w.enroll(p.id, 0..1).await;
    w.link(p.id, Some((ACME, "Acme"))).await;
    w.link(lab.id, Some((GLOBEX, "Globex"))).await;
    w.settled().await;
    let original = w.configs(0);
    assert_eq!(original.len(), 1);

    // A machine with device 0's serial and MAC enrolls with the lab's token and no proof.
    let mut f = facts(0, "Debian GNU/Linux 13");
    f.set(FactField::DeviceIdentifier, "agent-new");
    let json = serde_json::to_string(&f).unwrap();
    let enrolled = w
        .store
        .enroll_device(&NewDevice {
            agent_id: "agent-new",
            serial: f.serial_number.as_deref(),
            mac: f.mac_address.as_deref(),
            name: f.name.as_deref(),
            policy_id: lab.id,
            facts_json: &json,
            facts_hash: "new",
            agent_version: "test",
            secret_hash: "new-secret",
            proven: false,
            auto_approve_silent_ms: None,
        })
        .await
        .unwrap();
    let new = enrolled.device().id;
    assert_eq!(enrolled.device().reinstall_of, Some(devices[0]));
    queue::device_changed(&w.store, new).await.unwrap();
    w.engine.wake();
    w.settled().await;
    let b = binding(&w, new).await;
    assert_eq!(b.state, BindingState::NeedsPerson);
    assert!(b.error.unwrap().contains("possible reinstall"));
    assert_eq!(w.all_configs().len(), 1, "nothing made for it anywhere");
    assert_eq!(
        w.store.device(devices[0]).await.unwrap().policy_id,
        Some(p.id),
        "stays put"
    );

    // Approved: the old device carries on with the new facts, in its own policy and its own
    // configuration; still one configuration in all.
    let ops = Ops::new(&w.store, None, Some(&*w.engine));
    let merged = ops
        .answer_reinstall(new, ReinstallAnswer::SameMachine)
        .await
        .unwrap();
    assert_eq!(merged.id, devices[0]);
    w.settled().await;
    let now = w.configs(0);
    assert_eq!(now.len(), 1);
    assert_eq!(now[0]["id"], original[0]["id"]);
    assert_eq!(now[0]["osInfo"], "Debian GNU/Linux 13");
    assert_eq!(w.all_configs().len(), 1);
    assert!(w.store.device(new).await.unwrap().retired_ms.is_some());
    w.finish().await;
}
