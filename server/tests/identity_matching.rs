//! Which enrolling machine is a known one, on SQLite and PostgreSQL: a MAC is a match key only
//! where the serials cannot tell two machines apart, a MAC several live devices share matches
//! nothing, and auto-approval needs the serial, the MAC and the name to agree. Also what a
//! policy's summary counts once its devices are bound nowhere on purpose.
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use bindery_server::ids::{CompanyId, ConfigurationId, PolicyId};
use bindery_server::store::{Binding, BindingState, Enrollment, NewDevice, Store, now_ms};

#[macro_use]
mod common;

fn machine<'a>(
    agent_id: &'a str,
    serial: Option<&'a str>,
    mac: Option<&'a str>,
    name: &'a str,
    policy_id: PolicyId,
) -> NewDevice<'a> {
    NewDevice {
        agent_id,
        serial,
        mac,
        name: Some(name),
        policy_id,
        facts_json: Box::leak(
            serde_json::json!({ "name": name })
                .to_string()
                .into_boxed_str(),
        ),
        facts_hash: "h",
        agent_version: "1.0",
        secret_hash: agent_id,
        proven: false,
        auto_approve_silent_ms: None,
    }
}

async fn enroll(store: &Store, d: NewDevice<'_>) -> Enrollment {
    store.enroll_device(&d).await.unwrap()
}

const DOCK: &str = "02:00:00:00:d0:c1";

on_both!(
    machines_behind_one_dock_are_two_devices_and_a_reinstall_still_waits,
    |store: Store| async move {
        let p = store.create_policy("Office").await.unwrap();
        let q = store.create_policy("Lab").await.unwrap();
        let first = enroll(
            &store,
            machine("a-1", Some("SERIAL-A"), Some(DOCK), "laptop-a", p.id),
        )
        .await;
        assert!(matches!(first, Enrollment::New(_)));
        // Another laptop on the same dock model, in another policy: its own real serial.
        let second = enroll(
            &store,
            machine("b-1", Some("SERIAL-B"), Some(DOCK), "laptop-b", q.id),
        )
        .await;
        assert!(matches!(second, Enrollment::New(_)), "{second:?}");
        for d in [first.device(), second.device()] {
            let t = store.device_target(d.id).await.unwrap().unwrap();
            assert!(t.mac_shared, "the dock's MAC is marked shared");
        }

        // The same serial under a new agent id is still a possible reinstall.
        let again = enroll(
            &store,
            machine("a-2", Some("SERIAL-A"), Some(DOCK), "laptop-a", p.id),
        )
        .await;
        let Enrollment::PossibleReinstall { of, .. } = &again else {
            panic!("{again:?}")
        };
        assert_eq!(of.id, first.device().id);

        // A VM without a serial and a MAC one device knows waits for a person.
        let vm = enroll(
            &store,
            machine("vm-1", None, Some("02:00:00:00:0f:01"), "vm", p.id),
        )
        .await;
        assert!(matches!(vm, Enrollment::New(_)));
        let clone = enroll(
            &store,
            machine("vm-2", None, Some("02:00:00:00:0f:01"), "vm", p.id),
        )
        .await;
        assert!(
            matches!(clone, Enrollment::PossibleReinstall { .. }),
            "{clone:?}"
        );
        // A MAC several live devices share matches nothing, even without a serial.
        let third = enroll(&store, machine("c-1", None, Some(DOCK), "kiosk", p.id)).await;
        assert!(matches!(third, Enrollment::New(_)), "{third:?}");
    }
);

on_both!(
    a_mac_alone_never_takes_over_a_silent_device,
    |store: Store| async move {
        let p = store.create_policy("Office").await.unwrap();
        let victim = enroll(&store, machine("victim", None, Some(DOCK), "desk-1", p.id)).await;
        let victim = victim.device().clone();
        // Silent for long, and auto-approval on: a new agent id with the victim's MAC.
        let impostor = NewDevice {
            auto_approve_silent_ms: Some(0),
            secret_hash: "impostor",
            ..machine("impostor", None, Some(DOCK), "desk-1", p.id)
        };
        let got = store.enroll_device(&impostor).await.unwrap();
        assert!(
            matches!(got, Enrollment::PossibleReinstall { .. }),
            "{got:?}"
        );
        assert_ne!(got.device().id, victim.id);
        let auth = store.device_auth("victim").await.unwrap().unwrap();
        assert_eq!(
            (auth.id, auth.secret_hash.as_str()),
            (victim.id, "victim"),
            "the victim's credential still works"
        );

        // Serial, MAC and name all agreeing is a reinstall the setting may approve.
        let known = enroll(
            &store,
            machine(
                "k-1",
                Some("SER-K"),
                Some("02:00:00:00:0e:01"),
                "desk-2",
                p.id,
            ),
        )
        .await;
        let same = NewDevice {
            auto_approve_silent_ms: Some(0),
            ..machine(
                "k-2",
                Some("SER-K"),
                Some("02:00:00:00:0e:01"),
                "DESK-2",
                p.id,
            )
        };
        let back = store.enroll_device(&same).await.unwrap();
        assert!(matches!(back, Enrollment::Reinstalled(_)), "{back:?}");
        assert_eq!(back.device().id, known.device().id);
        // The serial alone (another name) is not.
        let other_name = NewDevice {
            auto_approve_silent_ms: Some(0),
            ..machine(
                "k-3",
                Some("SER-K"),
                Some("02:00:00:00:0e:01"),
                "desk-9",
                p.id,
            )
        };
        assert!(matches!(
            store.enroll_device(&other_name).await.unwrap(),
            Enrollment::PossibleReinstall { .. }
        ));
    }
);

on_both!(
    devices_bound_nowhere_on_purpose_count_as_inactive_not_pending,
    |store: Store| async move {
        let p = store.create_policy("Office").await.unwrap();
        let q = store.create_policy("Lab").await.unwrap();
        let mut ids = Vec::new();
        for n in 0..4 {
            let agent = format!("d-{n}");
            let serial = format!("S-{n}");
            let d = enroll(&store, machine(&agent, Some(&serial), None, "x", p.id)).await;
            ids.push(d.device().id);
        }
        // Never linked: nothing is pending.
        let s = store.policy_bindings(p.id).await.unwrap();
        assert_eq!((s.devices, s.pending, s.inactive), (4, 0, 4));

        store
            .link_policy(p.id, Some((CompanyId(2), "Acme")))
            .await
            .unwrap();
        let s = store.policy_bindings(p.id).await.unwrap();
        assert_eq!((s.pending, s.inactive), (4, 0), "linked: waiting to bind");
        for (n, id) in ids.iter().enumerate() {
            store
                .set_binding(&bound(*id, BindingState::Bound, n as i64))
                .await
                .unwrap();
        }
        // Unlinked: each configuration set inactive.
        store.link_policy(p.id, None).await.unwrap();
        for (n, id) in ids.iter().enumerate() {
            store
                .set_binding(&bound(*id, BindingState::Inactive, n as i64))
                .await
                .unwrap();
        }
        let s = store.policy_bindings(p.id).await.unwrap();
        assert_eq!(
            (s.devices, s.bound, s.pending, s.inactive),
            (4, 0, 0, 4),
            "after unlink"
        );
        // Moved to another policy, and retired: counted where they are, or not at all.
        store.move_device(ids[0], Some(q.id)).await.unwrap();
        store.retire_device(ids[1]).await.unwrap();
        let s = store.policy_bindings(p.id).await.unwrap();
        assert_eq!((s.devices, s.pending, s.inactive), (2, 0, 2));
        let all = store.policies_with_bindings().await.unwrap();
        let lab = all.iter().find(|(p, _)| p.id == q.id).unwrap().1;
        assert_eq!((lab.devices, lab.pending, lab.inactive), (1, 0, 1));
        let office = all.iter().find(|(x, _)| x.id == p.id).unwrap().1;
        assert_eq!(office, s, "the policies page counts as the policy does");
    }
);

fn bound(device_id: bindery_server::ids::DeviceId, state: BindingState, n: i64) -> Binding {
    Binding {
        device_id,
        state,
        integration_id: bindery_server::ids::IntegrationId::FIRST,
        company_id: Some(CompanyId(2)),
        configuration_id: Some(ConfigurationId(100 + n)),
        error: None,
        updated_ms: now_ms(),
        write_started_ms: None,
        candidates: Vec::new(),
    }
}
