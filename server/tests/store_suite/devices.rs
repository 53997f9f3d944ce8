//! Devices: enrollment, facts, moves and retirement, and the paged device list.

use super::*;

on_both!(
    a_machine_enrolling_again_keeps_its_record,
    |store: Store| async move {
        let p = store.create_policy("P").await.unwrap();
        let q = store.create_policy("Q").await.unwrap();
        let first = store
            .enroll_device(&new_device(
                "agent-a",
                Some("77NDZ12"),
                p.id,
                r#"{"name":"f1"}"#,
                "h1",
            ))
            .await
            .unwrap();
        let Enrollment::New(dev) = first else {
            panic!("{first:?}")
        };

        // Same agent id with its credential: same record, new secret, and the policy it had:
        // a token never moves a device.
        let again = store
            .enroll_device(&new_device(
                "agent-a",
                Some("77NDZ12"),
                q.id,
                r#"{"name":"f2"}"#,
                "h2",
            ))
            .await
            .unwrap();
        assert!(matches!(again, Enrollment::SameAgent(_)));
        assert_eq!(
            (again.device().id, again.device().policy_id),
            (dev.id, Some(p.id))
        );
        let auth = store.device_auth("agent-a").await.unwrap().unwrap();
        assert_eq!(
            (auth.id, auth.secret_hash.as_str(), auth.policy_id),
            (dev.id, "h2", Some(p.id))
        );

        // Without the credential, or in another case, the id is refused and nothing changes.
        let unproven = NewDevice {
            proven: false,
            ..new_device("agent-a", Some("77NDZ12"), q.id, r#"{"name":"f9"}"#, "h9")
        };
        assert!(matches!(
            store.enroll_device(&unproven).await,
            Err(StoreError::Conflict(_))
        ));
        assert!(matches!(
            store
                .enroll_device(&new_device("AGENT-A", None, q.id, r#"{"name":"f9"}"#, "h9"))
                .await,
            Err(StoreError::Conflict(_))
        ));
        assert_eq!(
            store
                .device_auth("agent-a")
                .await
                .unwrap()
                .unwrap()
                .secret_hash,
            "h2"
        );

        // State wiped: a new agent id with the same real serial is a new device that waits as
        // a possible reinstall; the known device keeps working.
        let wiped = store
            .enroll_device(&new_device(
                "agent-b",
                Some("77NDZ12"),
                q.id,
                r#"{"name":"f3"}"#,
                "h3",
            ))
            .await
            .unwrap();
        let Enrollment::PossibleReinstall { device: b, of } = &wiped else {
            panic!("{wiped:?}")
        };
        assert_eq!(
            (of.id, b.reinstall_of, b.policy_id),
            (dev.id, Some(dev.id), Some(q.id))
        );
        assert_ne!(b.id, dev.id);
        assert_eq!(
            store
                .device_auth("agent-a")
                .await
                .unwrap()
                .unwrap()
                .secret_hash,
            "h2"
        );

        // A person approves: the known device takes the new credential and facts and keeps
        // its agent id and policy; the new record answers for it until its agent switches.
        let merged = store.approve_reinstall(b.id).await.unwrap();
        assert_eq!(
            (
                merged.id,
                merged.agent_id.as_str(),
                merged.policy_id,
                merged.facts.name.as_deref()
            ),
            (dev.id, "agent-a", Some(p.id), Some("f3"))
        );
        let via_new = store.device_auth("agent-b").await.unwrap().unwrap();
        assert_eq!(
            (
                via_new.id,
                via_new.agent_id.as_str(),
                via_new.secret_hash.as_str()
            ),
            (dev.id, "agent-a", "h3")
        );
        assert_eq!(
            store
                .device_auth("agent-a")
                .await
                .unwrap()
                .unwrap()
                .secret_hash,
            "h3"
        );
        assert!(matches!(
            store.approve_reinstall(b.id).await,
            Err(StoreError::Conflict(_))
        ));

        // Another machine, and one without a serial: new records.
        let machine = |agent: &'static str, serial: &'static str, policy: PolicyId| NewDevice {
            mac: Some("02:00:00:00:00:c1"),
            name: Some("f5"),
            ..new_device(agent, Some(serial), policy, r#"{"name":"f5"}"#, "h5")
        };
        let c = store
            .enroll_device(&machine("agent-c", "OTHER1", p.id))
            .await
            .unwrap();
        assert!(matches!(c, Enrollment::New(_)));
        assert!(matches!(
            store
                .enroll_device(&new_device("agent-d", None, p.id, "f", "h"))
                .await
                .unwrap(),
            Enrollment::New(_)
        ));
        assert_eq!(store.devices(Some(p.id)).await.unwrap().len(), 3);

        // Auto-approval (when on) takes a silent device back only for a token of its policy,
        // and only when its serial, MAC and name all agree.
        let auto = |agent: &'static str, serial: &'static str, policy: PolicyId| NewDevice {
            auto_approve_silent_ms: Some(0),
            ..machine(agent, serial, policy)
        };
        let back = store
            .enroll_device(&auto("agent-f", "OTHER1", p.id))
            .await
            .unwrap();
        assert!(matches!(back, Enrollment::Reinstalled(_)), "{back:?}");
        assert_eq!(
            (back.device().id, back.device().agent_id.as_str()),
            (c.device().id, "agent-c")
        );
        let other_policy = store
            .enroll_device(&auto("agent-e", "OTHER1", q.id))
            .await
            .unwrap();
        assert!(matches!(other_policy, Enrollment::PossibleReinstall { .. }));
        let kept = store.keep_separate(other_policy.device().id).await.unwrap();
        assert_eq!(kept.reinstall_of, None);

        // A retired device stays retired: its serial enrolling again waits for a person.
        let h = store
            .enroll_device(&new_device("agent-h", Some("RETIRED1"), p.id, "f", "h"))
            .await
            .unwrap();
        store.retire_device(h.device().id).await.unwrap();
        let after = store
            .enroll_device(&auto("agent-i", "RETIRED1", p.id))
            .await
            .unwrap();
        assert!(
            matches!(after, Enrollment::PossibleReinstall { .. }),
            "{after:?}"
        );
    }
);

on_both!(
    facts_are_written_only_when_they_change,
    |store: Store| async move {
        let p = store.create_policy("P").await.unwrap();
        let d = store
            .enroll_device(&new_device("agent-a", None, p.id, "{}", "h"))
            .await
            .unwrap()
            .device()
            .clone();
        assert!(
            !store.record_facts(d.id, "{}", "{}", "0.1.0").await.unwrap(),
            "unchanged"
        );
        assert!(
            store
                .record_facts(d.id, "{\"ram\":\"8 GB\"}", "h2", "0.1.0")
                .await
                .unwrap()
        );
        assert!(
            !store
                .record_facts(d.id, "{\"ram\":\"8 GB\"}", "h2", "0.1.0")
                .await
                .unwrap()
        );
        assert!(
            store
                .record_facts(d.id, "{\"ram\":\"8 GB\"}", "h2", "0.2.0")
                .await
                .unwrap(),
            "a new agent version is a change"
        );
        assert_eq!(
            store.device(d.id).await.unwrap().facts.ram.as_deref(),
            Some("8 GB")
        );

        let seen = d.last_seen_ms + 5_000;
        store.touch_seen(&[(d.id, seen)]).await.unwrap();
        store.touch_seen(&[(d.id, seen - 1_000)]).await.unwrap();
        assert_eq!(
            store.device(d.id).await.unwrap().last_seen_ms,
            seen,
            "never moves back"
        );
        // A flush longer than one transaction's share: the device at its end is written too.
        let mut many: Vec<(DeviceId, i64)> =
            (0..450).map(|n| (DeviceId(900_000 + n), seen)).collect();
        many.push((d.id, seen + 1_000));
        store.touch_seen(&many).await.unwrap();
        assert_eq!(store.device(d.id).await.unwrap().last_seen_ms, seen + 1_000);
    }
);

on_both!(devices_move_and_retire, |store: Store| async move {
    let p = store.create_policy("P").await.unwrap();
    let q = store.create_policy("Q").await.unwrap();
    let d = store
        .enroll_device(&new_device("agent-a", None, p.id, "{}", "h"))
        .await
        .unwrap()
        .device()
        .clone();
    assert_eq!(
        store.move_device(d.id, Some(q.id)).await.unwrap().policy_id,
        Some(q.id)
    );
    assert!(matches!(
        store.move_device(d.id, Some(PolicyId(999))).await,
        Err(StoreError::NotFound(_))
    ));
    store.delete_policy(q.id).await.unwrap();
    assert_eq!(
        store.device(d.id).await.unwrap().policy_id,
        None,
        "a deleted policy leaves its devices"
    );
    let retired = store.retire_device(d.id).await.unwrap();
    assert!(retired.retired_ms.is_some());
    assert_eq!(
        store.device_auth("agent-a").await.unwrap(),
        None,
        "a retired device cannot report"
    );
    assert!(matches!(
        store.retire_device(d.id).await,
        Err(StoreError::NotFound(_))
    ));
});

on_both!(
    the_device_list_is_filtered_and_paged_by_the_database,
    |store: Store| async move {
        use bindery_server::store::{Binding, BindingState};
        let office = store.create_policy("Office").await.unwrap();
        let lab = store.create_policy("Lab").await.unwrap();
        let facts = [
            r#"{"name":"ACCT-PC-01","serialNumber":"5CG1234XYZ","ipAddress":"10.0.0.11","lastLoginName":"ACME\\jane"}"#,
            r#"{"name":"acct-pc-02","ipAddress":"10.0.0.12","osInfo":"Windows 11 Pro"}"#,
            r#"{"name":"100%_done","ipAddress":"10.0.0.13"}"#,
            r#"{"name":"lab-box","ipAddress":"192.168.1.5"}"#,
        ];
        let mut ids = Vec::new();
        for (n, f) in facts.iter().enumerate() {
            let policy = if n < 3 { office.id } else { lab.id };
            let agent = format!("agent-list-{n}");
            let e = store
                .enroll_device(&new_device(&agent, None, policy, f, "s"))
                .await
                .unwrap();
            ids.push(e.device().id);
        }
        store
            .link_policy(office.id, Some((CompanyId(2), "Acme")))
            .await
            .unwrap();
        store
            .set_binding(&Binding {
                integration_id: bindery_server::ids::IntegrationId::FIRST,
                device_id: ids[0],
                state: BindingState::Bound,
                company_id: Some(CompanyId(2)),
                configuration_id: Some(ConfigurationId(7)),
                error: None,
                updated_ms: 0,
                write_started_ms: None,
                candidates: Vec::new(),
            })
            .await
            .unwrap();
        store.retire_device(ids[2]).await.unwrap();

        let page = |q: &str, policy: Option<PolicyId>, state: Option<&str>, limit, offset| {
            let filter = DeviceFilter {
                q: q.into(),
                policy,
                state: state.map(str::to_owned),
                retired_too: false,
                limit,
                offset,
                after: None,
            };
            let store = store.clone();
            async move {
                let (rows, total) = store.device_page(&filter).await.unwrap();
                let names: Vec<String> = rows
                    .iter()
                    .map(|r| format!("{}:{}", r.device.facts.name.clone().unwrap(), r.state))
                    .collect();
                (names, total)
            }
        };
        // Retired devices are not listed; the states are as lists show them.
        let (all, total) = page("", None, None, 50, 0).await;
        assert_eq!(total, 3);
        assert_eq!(
            all,
            ["ACCT-PC-01:bound", "acct-pc-02:pending", "lab-box:none"]
        );
        // Any case, any of the facts people look devices up by, the agent id too.
        assert_eq!(page("acct", None, None, 50, 0).await.1, 2);
        assert_eq!(
            page("5cg1234", None, None, 50, 0).await.0,
            ["ACCT-PC-01:bound"]
        );
        assert_eq!(page("JANE", None, None, 50, 0).await.1, 1);
        assert_eq!(page("192.168", None, None, 50, 0).await.0, ["lab-box:none"]);
        assert_eq!(page("windows 11", None, None, 50, 0).await.1, 1);
        assert_eq!(page("agent-list-3", None, None, 50, 0).await.1, 1);
        // Searched for literally: a % or _ is that character.
        assert_eq!(page("100%", None, None, 50, 0).await.1, 0, "retired");
        assert_eq!(page("%", None, None, 50, 0).await.1, 0);
        assert_eq!(page("_", None, None, 50, 0).await.1, 0);
        // Policy and state filters, and pages.
        assert_eq!(
            page("", Some(lab.id), None, 50, 0).await.0,
            ["lab-box:none"]
        );
        assert_eq!(
            page("", None, Some("pending"), 50, 0).await.0,
            ["acct-pc-02:pending"]
        );
        let (second, total) = page("", None, None, 2, 2).await;
        assert_eq!((second, total), (vec!["lab-box:none".to_owned()], 3));
        // Keyset pages: after a device, whatever the offset would have been; the count is still
        // of every match.
        let after_first = DeviceFilter {
            limit: 1,
            after: Some(ids[0]),
            ..DeviceFilter::default()
        };
        let (next, total) = store.device_page(&after_first).await.unwrap();
        assert_eq!(total, 3);
        assert_eq!(next.len(), 1);
        assert_eq!(next[0].device.id, ids[1]);
        let past_the_end = DeviceFilter {
            after: Some(ids[3]),
            limit: 50,
            ..DeviceFilter::default()
        };
        assert!(store.device_page(&past_the_end).await.unwrap().0.is_empty());
        let pending_after = DeviceFilter {
            state: Some("pending".into()),
            after: Some(ids[1]),
            limit: 50,
            ..DeviceFilter::default()
        };
        assert_eq!(
            store.device_page(&pending_after).await.unwrap(),
            (vec![], 1)
        );
        // Facts written later are found by what they say now.
        store
            .record_facts(ids[3], r#"{"name":"renamed-box"}"#, "h-new", "0.1.0")
            .await
            .unwrap();
        assert_eq!(page("renamed", None, None, 50, 0).await.1, 1);
        assert_eq!(page("lab-box", None, None, 50, 0).await.1, 0);
        // The admin API lists retired devices too, marked as such.
        let with_retired = DeviceFilter {
            retired_too: true,
            limit: 50,
            ..DeviceFilter::default()
        };
        let (rows, total) = store.device_page(&with_retired).await.unwrap();
        assert_eq!(total, 4);
        assert!(rows.iter().any(|r| r.device.retired_ms.is_some()));
        let targets = store
            .targets_of(&rows.iter().map(|r| r.device.id).collect::<Vec<_>>())
            .await
            .unwrap();
        assert_eq!(targets.len(), 4);
        assert!(store.targets_of(&[]).await.unwrap().is_empty());
    }
);
