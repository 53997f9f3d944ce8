//! One store test-suite, run against SQLite and against PostgreSQL (the throwaway server that
//! `scripts/test` starts and names in BINDERY_TEST_POSTGRES_URL). Each PostgreSQL test gets a
//! database of its own.
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use std::collections::HashSet;

use bindery_server::ids::{CompanyId, ConfigurationId, DeviceId, PolicyId, TicketId};
use bindery_server::secrets::hash_secret;
use bindery_server::store::{
    AlertFilter, AlertInput, AlertState, DeviceFilter, Enrollment, NewDevice, NewHelpRequest,
    NewJob, NewTicket, Store, StoreError, TicketBoard, TicketState, now_ms,
};

#[macro_use]
mod common;

on_both!(
    policies_are_created_renamed_linked_and_deleted,
    |store: Store| async move {
        let a = store.create_policy("  Workstations ").await.unwrap();
        assert_eq!(a.name, "Workstations");
        assert_eq!(a.cw_company_id, None);
        assert!(matches!(
            store.create_policy("Workstations").await,
            Err(StoreError::Conflict(_))
        ));
        for bad in ["", "   ", "a\nb"] {
            assert!(
                matches!(store.create_policy(bad).await, Err(StoreError::Conflict(_))),
                "{bad:?}"
            );
        }
        let b = store.create_policy("Servers").await.unwrap();
        assert!(matches!(
            store.rename_policy(b.id, "Workstations").await,
            Err(StoreError::Conflict(_))
        ));
        let b = store.rename_policy(b.id, "Data centre").await.unwrap();
        let linked = store
            .link_policy(b.id, Some((CompanyId(2), "Acme Corporation")))
            .await
            .unwrap();
        assert_eq!(
            (linked.cw_company_id, linked.cw_company_name.as_deref()),
            (Some(CompanyId(2)), Some("Acme Corporation"))
        );
        assert_eq!(
            store.link_policy(b.id, None).await.unwrap().cw_company_id,
            None
        );
        let names: Vec<String> = store
            .policies()
            .await
            .unwrap()
            .into_iter()
            .map(|p| p.name)
            .collect();
        assert_eq!(names, ["Data centre", "Workstations"]);
        store.delete_policy(a.id).await.unwrap();
        assert!(matches!(
            store.policy(a.id).await,
            Err(StoreError::NotFound(_))
        ));
        assert!(matches!(
            store.delete_policy(a.id).await,
            Err(StoreError::NotFound(_))
        ));
    }
);

on_both!(
    enrollment_tokens_work_until_revoked_or_expired,
    |store: Store| async move {
        let p = store.create_policy("P").await.unwrap();
        let (rec, token) = store
            .create_token(p.id, "office rollout", None, None)
            .await
            .unwrap();
        assert!(token.starts_with("bdy_enr_"));
        assert_eq!(
            store
                .redeem_token(&token, now_ms())
                .await
                .unwrap()
                .unwrap()
                .policy_id,
            p.id
        );
        assert_eq!(
            store
                .redeem_token(&token, now_ms())
                .await
                .unwrap()
                .unwrap()
                .uses,
            2
        );
        assert!(
            store
                .redeem_token("bdy_enr_guess", now_ms())
                .await
                .unwrap()
                .is_none()
        );
        // Only the hash is stored.
        let stored: Vec<(String,)> = sqlx::query_as("SELECT token_hash FROM enrollment_tokens")
            .fetch_all(store.pool())
            .await
            .unwrap();
        assert_eq!(stored, vec![(hash_secret(&token),)]);

        store.revoke_token(rec.id).await.unwrap();
        assert!(
            store
                .redeem_token(&token, now_ms())
                .await
                .unwrap()
                .is_none(),
            "revoked"
        );
        assert!(matches!(
            store.revoke_token(rec.id).await,
            Err(StoreError::NotFound(_))
        ));

        let (_, expiring) = store
            .create_token(p.id, "temp", Some(now_ms() + 60_000), None)
            .await
            .unwrap();
        assert!(
            store
                .redeem_token(&expiring, now_ms())
                .await
                .unwrap()
                .is_some()
        );
        assert!(
            store
                .redeem_token(&expiring, now_ms() + 61_000)
                .await
                .unwrap()
                .is_none(),
            "expired"
        );
        let listed = store.tokens(p.id).await.unwrap();
        assert_eq!(listed.len(), 2);
        assert!(!listed[0].is_usable(now_ms()) && listed[1].is_usable(now_ms()));
        assert!(matches!(
            store.create_token(PolicyId(999), "x", None, None).await,
            Err(StoreError::NotFound(_))
        ));

        // A token for two machines takes two, and then no more.
        let (_, pair) = store
            .create_token(p.id, "two", None, Some(2))
            .await
            .unwrap();
        for _ in 0..2 {
            assert!(store.redeem_token(&pair, now_ms()).await.unwrap().is_some());
        }
        assert!(
            store.redeem_token(&pair, now_ms()).await.unwrap().is_none(),
            "used up"
        );
        let listed = store.tokens(p.id).await.unwrap();
        let used_up = listed.iter().find(|t| t.label == "two").unwrap();
        assert_eq!((used_up.uses, used_up.max_uses), (2, Some(2)));
        assert!(!used_up.is_usable(now_ms()));
    }
);

fn new_device<'a>(
    agent_id: &'a str,
    serial: Option<&'a str>,
    policy_id: PolicyId,
    facts: &'a str,
    secret: &'a str,
) -> NewDevice<'a> {
    NewDevice {
        agent_id,
        serial,
        mac: None,
        name: None,
        policy_id,
        facts_json: facts,
        facts_hash: facts,
        agent_version: "0.1.0",
        secret_hash: secret,
        // The store's tests enroll again as the machine itself would: with its credential.
        proven: true,
        auto_approve_silent_ms: None,
    }
}

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

on_both!(settings_are_kept_and_replaced, |store: Store| async move {
    assert_eq!(store.setting("cw.site").await.unwrap(), None);
    store
        .put_setting("cw.site", "api-na.myconnectwise.net")
        .await
        .unwrap();
    store
        .put_setting("cw.site", "api-eu.myconnectwise.net")
        .await
        .unwrap();
    assert_eq!(
        store.setting("cw.site").await.unwrap().as_deref(),
        Some("api-eu.myconnectwise.net")
    );
});

fn job(key: &str, run_after_ms: i64) -> NewJob {
    NewJob {
        kind: "bind".into(),
        dedupe_key: Some(key.into()),
        payload: format!("{{\"device\":\"{key}\"}}"),
        run_after_ms,
        urgent: false,
    }
}

on_both!(
    jobs_are_leased_retried_and_finished_once,
    |store: Store| async move {
        let now = now_ms();
        let a = store.enqueue(&job("dev-1", now)).await.unwrap();
        assert_eq!(
            store.enqueue(&job("dev-1", now)).await.unwrap(),
            a,
            "one live job per key"
        );
        assert_eq!(store.job_counts().await.unwrap().queued, 1);
        store.enqueue(&job("dev-2", now + 60_000)).await.unwrap();

        let leased = store.lease_jobs("w1", now, 30_000, 10).await.unwrap();
        assert_eq!(
            leased.iter().map(|j| j.id).collect::<Vec<_>>(),
            [a],
            "only due jobs"
        );
        assert_eq!(
            (leased[0].attempts, leased[0].state.as_str()),
            (1, "running")
        );
        assert!(
            store
                .lease_jobs("w2", now + 1_000, 30_000, 10)
                .await
                .unwrap()
                .is_empty(),
            "leased jobs are not handed out twice"
        );

        // A transient failure: queued again later, with the error kept.
        assert!(
            store
                .fail_job(a, "w1", "ConnectWise server error (500)", Some(now + 5_000))
                .await
                .unwrap()
        );
        assert!(
            store
                .lease_jobs("w1", now + 1_000, 30_000, 10)
                .await
                .unwrap()
                .is_empty()
        );
        let again = store
            .lease_jobs("w1", now + 5_000, 30_000, 10)
            .await
            .unwrap();
        assert_eq!(
            (again[0].attempts, again[0].last_error.as_deref()),
            (2, Some("ConnectWise server error (500)"))
        );

        // The worker dies: the lease runs out and another takes the job; the first can no longer
        // finish it.
        let taken = store
            .lease_jobs("w2", now + 40_000, 30_000, 10)
            .await
            .unwrap();
        assert_eq!(taken[0].id, a);
        assert!(!store.complete_job(a, "w1").await.unwrap());

        // Asked for again while it runs: it finishes, then runs once more from a fresh attempt.
        assert_eq!(store.enqueue(&job("dev-1", now)).await.unwrap(), a);
        assert_eq!(store.job(a).await.unwrap().unwrap().state, "running");
        assert!(store.complete_job(a, "w2").await.unwrap());
        let rerun = store.job(a).await.unwrap().unwrap();
        assert_eq!((rerun.state.as_str(), rerun.attempts), ("queued", 0));
        let taken = store
            .lease_jobs("w2", now + 41_000, 30_000, 10)
            .await
            .unwrap();
        assert_eq!(taken[0].id, a);
        assert!(store.complete_job(a, "w2").await.unwrap());
        assert_eq!(store.job(a).await.unwrap().unwrap().state, "done");
        assert_ne!(
            store.enqueue(&job("dev-1", now)).await.unwrap(),
            a,
            "a finished job frees its key"
        );

        // A permanent failure waits; enqueueing its key again queues it again.
        let b = store
            .lease_jobs("w1", now + 60_000, 30_000, 10)
            .await
            .unwrap();
        assert_eq!(b.len(), 2);
        let failed = b
            .iter()
            .find(|j| j.dedupe_key.as_deref() == Some("dev-2"))
            .unwrap()
            .id;
        assert!(
            store
                .fail_job(failed, "w1", "name: too long", None)
                .await
                .unwrap()
        );
        let counts = store.job_counts().await.unwrap();
        assert_eq!((counts.running, counts.failed, counts.done), (1, 1, 1));
        assert_eq!(store.enqueue(&job("dev-2", now)).await.unwrap(), failed);
        let revived = store.job(failed).await.unwrap().unwrap();
        assert_eq!((revived.state.as_str(), revived.attempts), ("queued", 0));

        // A server that owns its database hands its running jobs back at start, attempts kept.
        assert_eq!(store.requeue_running().await.unwrap(), 1);
        let c = store.job_counts().await.unwrap();
        assert_eq!((c.running, c.queued), (0, 2));
        let pruned = store.prune_batch(0, now_ms() + 1, 100).await.unwrap();
        assert!(pruned.jobs >= 1, "{pruned:?}");
        assert_eq!(store.job_counts().await.unwrap().done, 0);
    }
);

// Two servers on one database lease concurrently: every job is handed to exactly one of them.
on_both!(
    concurrent_workers_never_share_a_job,
    |store: Store| async move {
        let now = now_ms();
        for i in 0..200 {
            store.enqueue(&job(&format!("dev-{i}"), now)).await.unwrap();
        }
        let mut tasks = Vec::new();
        for w in 0..6 {
            let store = store.clone();
            tasks.push(tokio::spawn(async move {
                let owner = format!("worker-{w}");
                let mut mine = Vec::new();
                loop {
                    let batch = store.lease_jobs(&owner, now_ms(), 60_000, 7).await.unwrap();
                    if batch.is_empty() {
                        break;
                    }
                    for j in batch {
                        assert!(store.complete_job(j.id, &owner).await.unwrap());
                        mine.push(j.id);
                    }
                }
                mine
            }));
        }
        let mut seen = HashSet::new();
        for t in tasks {
            for id in t.await.unwrap() {
                assert!(seen.insert(id), "job {id} was run twice");
            }
        }
        assert_eq!(seen.len(), 200);
        assert_eq!(store.job_counts().await.unwrap().done, 200);
    }
);

// Two servers seeing the periodic re-sync due at once: one of them queues it (the fleet smoke
// once saw a company synced twice, the second server asking a running job to run again).
on_both!(
    periodic_work_due_on_several_servers_is_queued_by_one,
    |store: Store| async move {
        let now = now_ms();
        for seen in [None, Some("0")] {
            if seen.is_some() {
                store.put_setting("test.last", "0").await.unwrap();
            }
            let mut tasks = Vec::new();
            for w in 0..6 {
                let store = store.clone();
                tasks.push(tokio::spawn(async move {
                    let jobs = [job(&format!("claimed-{seen:?}"), now)];
                    store
                        .enqueue_many_claiming(&jobs, "test.last", seen, &format!("claimed by {w}"))
                        .await
                        .unwrap()
                }));
            }
            let mut winners = 0;
            for t in tasks {
                winners += usize::from(t.await.unwrap());
            }
            assert_eq!(winners, 1, "claimed once when the setting was {seen:?}");
            let value = store.setting("test.last").await.unwrap().unwrap();
            assert_ne!(Some(value.as_str()), seen, "the winner's value is kept");
            // A claim on a value already replaced queues nothing.
            let late = [job("late", now)];
            assert!(
                !store
                    .enqueue_many_claiming(&late, "test.last", seen, "9")
                    .await
                    .unwrap()
            );
        }
        let leased = store.lease_jobs("w", now_ms(), 60_000, 100).await.unwrap();
        assert_eq!(leased.len(), 2, "one job per claim, none for the late one");
    }
);

#[tokio::test]
async fn reopening_a_store_keeps_its_data_and_migrates_once() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open_in_dir(dir.path()).await.unwrap();
    let kept = store.create_policy("Kept").await.unwrap();
    store
        .enroll_device(&new_device(
            "agent-old",
            None,
            kept.id,
            r#"{"name":"from-before"}"#,
            "s",
        ))
        .await
        .unwrap();
    // A device as a server from before the device search stored it.
    sqlx::query("UPDATE devices SET search_text = NULL")
        .execute(store.pool())
        .await
        .unwrap();
    drop(store);
    let store = Store::open_in_dir(dir.path()).await.unwrap();
    assert_eq!(store.policies().await.unwrap()[0].name, "Kept");
    let found = store
        .device_page(&DeviceFilter {
            q: "before".into(),
            limit: 50,
            ..DeviceFilter::default()
        })
        .await
        .unwrap();
    assert_eq!(found.1, 1, "its search text is filled in at start");
    let applied: Vec<(i64,)> = sqlx::query_as("SELECT version FROM bindery_migrations")
        .fetch_all(store.pool())
        .await
        .unwrap();
    assert_eq!(
        applied,
        vec![
            (1,),
            (2,),
            (3,),
            (4,),
            (5,),
            (6,),
            (7,),
            (8,),
            (9,),
            (10,),
            (11,),
            (12,),
            (13,),
            (14,),
            (15,),
            (16,)
        ]
    );
    assert!(matches!(
        Store::open("what?ever").await,
        Err(StoreError::Config(_))
    ));
}

on_both!(
    bindings_make_the_policy_icon_grey_blue_or_red,
    |store: Store| async move {
        use bindery_server::store::{Binding, BindingState, LinkState};
        let p = store.create_policy("P").await.unwrap();
        let a = store
            .enroll_device(&new_device("agent-a", None, p.id, "{}", "h"))
            .await
            .unwrap()
            .device()
            .clone();
        let b = store
            .enroll_device(&new_device("agent-b", None, p.id, "{}", "h"))
            .await
            .unwrap()
            .device()
            .clone();
        assert_eq!(
            store.policy_bindings(p.id).await.unwrap().link,
            LinkState::Grey,
            "not linked"
        );
        store
            .link_policy(p.id, Some((CompanyId(2), "Acme")))
            .await
            .unwrap();
        let s = store.policy_bindings(p.id).await.unwrap();
        assert_eq!(
            (s.devices, s.pending, s.link),
            (2, 2, LinkState::Red),
            "no binding yet is pending"
        );

        let bound = |device_id: DeviceId, configuration_id: ConfigurationId| Binding {
            device_id,
            state: BindingState::Bound,
            company_id: Some(CompanyId(2)),
            configuration_id: Some(configuration_id),
            error: None,
            updated_ms: 0,
            write_started_ms: None,
            candidates: Vec::new(),
        };
        store
            .set_binding(&bound(a.id, ConfigurationId(11)))
            .await
            .unwrap();
        let failed = Binding {
        state: BindingState::Failed,
        configuration_id: None,
        error: Some("ConnectWise rejected the request (400): name: may not be longer than 100 characters".into()),
        ..bound(b.id, ConfigurationId(0))
    };
        store.set_binding(&failed).await.unwrap();
        let s = store.policy_bindings(p.id).await.unwrap();
        assert_eq!((s.bound, s.failed, s.link), (1, 1, LinkState::Red));
        let stored = store.binding(b.id).await.unwrap().unwrap();
        assert_eq!(
            stored.error, failed.error,
            "ConnectWise's error, as it gave it"
        );

        store
            .set_binding(&bound(b.id, ConfigurationId(12)))
            .await
            .unwrap();
        assert_eq!(
            store.policy_bindings(p.id).await.unwrap().link,
            LinkState::Blue
        );
        store.retire_device(a.id).await.unwrap();
        let s = store.policy_bindings(p.id).await.unwrap();
        assert_eq!(
            (s.devices, s.link),
            (1, LinkState::Blue),
            "retired devices do not count"
        );
        assert!(matches!(
            store.policy_bindings(PolicyId(999)).await,
            Err(StoreError::NotFound(_))
        ));

        // Every policy at once (the policies page) tallies as each one alone does: a red one
        // (a failed device), this blue one, and an empty grey one.
        let red = store.create_policy("Red").await.unwrap();
        store
            .link_policy(red.id, Some((CompanyId(3), "Other")))
            .await
            .unwrap();
        let c = store
            .enroll_device(&new_device("agent-c", None, red.id, "{}", "h"))
            .await
            .unwrap()
            .device()
            .clone();
        store
            .set_binding(&Binding {
                state: BindingState::Failed,
                configuration_id: None,
                ..bound(c.id, ConfigurationId(0))
            })
            .await
            .unwrap();
        store.create_policy("Empty").await.unwrap();
        // The tally reads each device's copy of its binding's state (kept by triggers); the
        // policy's own tally joins the bindings: they agree.
        let all = store.policies_with_bindings().await.unwrap();
        assert_eq!(all.len(), 3);
        for (policy, tally) in &all {
            assert_eq!(*tally, store.policy_bindings(policy.id).await.unwrap());
        }
        let links: Vec<_> = all.iter().map(|(_, b)| b.link).collect();
        assert!(links.contains(&LinkState::Red) && links.contains(&LinkState::Blue));
        assert!(links.contains(&LinkState::Grey));
        // A state written again, and a binding removed, reach the copy too.
        store
            .set_binding(&bound(c.id, ConfigurationId(13)))
            .await
            .unwrap();
        let tally_of = |id| {
            let store = store.clone();
            async move {
                let all = store.policies_with_bindings().await.unwrap();
                all.into_iter().find(|(p, _)| p.id == id).unwrap().1
            }
        };
        assert_eq!(tally_of(red.id).await.link, LinkState::Blue);
        sqlx::query("DELETE FROM bindings WHERE device_id = $1")
            .bind(c.id)
            .execute(store.pool())
            .await
            .unwrap();
        let red_now = tally_of(red.id).await;
        assert_eq!((red_now.pending, red_now.link), (1, LinkState::Red));
        assert_eq!(red_now, store.policy_bindings(red.id).await.unwrap());
    }
);

on_both!(
    the_activity_log_is_filtered_by_kind_and_outcome,
    |store: Store| async move {
        use bindery_server::store::ACTIVITY_COUNTED_AT_MOST;
        for (action, ok) in [
            ("configuration.create", true),
            ("configuration.update", false),
            ("ticket.create", true),
            ("ticket.close", false),
            ("ticket.note", true),
            ("tickets.other", true),
        ] {
            let outcome = if ok { Ok(()) } else { Err("refused") };
            store.record_activity(action, "host", None, outcome).await;
        }
        let count = |prefix: &'static str, failed| {
            let store = store.clone();
            async move {
                let (rows, total) = store.activity(prefix, failed, 50, 0).await.unwrap();
                assert_eq!(rows.len() as i64, total);
                assert!(rows.iter().all(|r| r.action.starts_with(prefix)));
                assert!(rows.windows(2).all(|w| w[0].id > w[1].id), "newest first");
                total
            }
        };
        assert_eq!(count("", false).await, 6);
        assert_eq!(
            count("ticket.", false).await,
            3,
            "a prefix, not a substring"
        );
        assert_eq!(count("configuration.", false).await, 2);
        assert_eq!(count("", true).await, 2);
        assert_eq!(count("ticket.", true).await, 1);
        assert_eq!(count("nothing.", false).await, 0);
        let (second, _) = store.activity("", false, 2, 2).await.unwrap();
        assert_eq!(
            second[0].action, "ticket.close",
            "newest first, from the offset"
        );
        // A long log is counted only up to a limit, past which lists say "more than".
        sqlx::query(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $1) \
             INSERT INTO activity (at_ms, action, subject, ok) SELECT i, 'ticket.note', 'x', 1 FROM n",
        )
        .bind(ACTIVITY_COUNTED_AT_MOST)
        .execute(store.pool())
        .await
        .unwrap();
        let (_, total) = store.activity("", false, 50, 0).await.unwrap();
        assert_eq!(total, ACTIVITY_COUNTED_AT_MOST + 1);
        assert_eq!(count("", true).await, 2, "a narrower filter is still exact");
    }
);

fn alert_input(seq: Option<i64>, monitor: &str, raised: bool, device_id: DeviceId) -> AlertInput {
    AlertInput {
        seq,
        monitor_id: monitor.into(),
        subject: "/var".into(),
        raised,
        at_ms: now_ms(),
        summary: format!("{monitor} on host"),
        detail: None,
        value: Some(4.5),
        ticket: Ok(NewTicket {
            device_id,
            board: TicketBoard::Monitoring,
            company_id: CompanyId(2),
            summary: "Disk /var has 4.5% free on host".into(),
            description: "details".into(),
            contact_name: None,
        }),
        note: "Resolved on the device".into(),
        reopen_within_ms: 86_400_000,
        reopen_note: "Reopened".into(),
        refused: false,
        held_until_ms: None,
    }
}

fn ticket_job(id: TicketId) -> NewJob {
    NewJob {
        kind: "cw.ticket".into(),
        dedupe_key: Some(format!("ticket:{id}")),
        payload: format!("{{\"ticketId\":{id}}}"),
        run_after_ms: 0,
        urgent: true,
    }
}

on_both!(
    alerts_drop_replays_keep_one_open_per_monitor_and_queue_their_tickets,
    |store: Store| async move {
        let p = store.create_policy("Monitored").await.unwrap();
        let d = store
            .enroll_device(&new_device("a-1", None, p.id, "{}", "s"))
            .await
            .unwrap()
            .device()
            .id;
        let raise = alert_input(Some(1), "disk-free", true, d);
        let first = store
            .record_alert_events(d, std::slice::from_ref(&raise), &ticket_job)
            .await
            .unwrap();
        assert_eq!(
            (first.accepted, first.duplicates, first.acked_through),
            (1, 0, 1)
        );
        // The same batch again (a lost reply): dropped whole.
        let replay = store
            .record_alert_events(d, std::slice::from_ref(&raise), &ticket_job)
            .await
            .unwrap();
        assert_eq!(
            (replay.accepted, replay.duplicates, replay.acked_through),
            (0, 1, 1)
        );
        // A second raise while open is counted on the open alert, with no second ticket.
        let again = alert_input(Some(2), "disk-free", true, d);
        store
            .record_alert_events(d, &[again], &ticket_job)
            .await
            .unwrap();
        let (alerts, total) = store
            .alerts(&AlertFilter {
                limit: 50,
                ..AlertFilter::default()
            })
            .await
            .unwrap();
        assert_eq!(total, 1);
        assert_eq!(alerts[0].repeats, 1);
        assert_eq!(alerts[0].state, AlertState::Open);
        let ticket = alerts[0].ticket.clone().unwrap();
        assert_eq!(ticket.state, TicketState::Pending);
        assert!(!ticket.want_closed);
        assert_eq!(store.job_counts().await.unwrap().queued, 1);
        assert!(
            store
                .keyed_job(&format!("ticket:{}", ticket.id))
                .await
                .unwrap()
                .is_some()
        );

        // Resolving asks for the ticket closed with the note; a raise after opens a new alert.
        let resolve = alert_input(Some(3), "disk-free", false, d);
        let raise_again = alert_input(Some(4), "disk-free", true, d);
        store
            .record_alert_events(d, &[resolve, raise_again], &ticket_job)
            .await
            .unwrap();
        let t = store.ticket(ticket.id).await.unwrap().unwrap();
        assert!(t.want_closed);
        assert_eq!(t.close_note.as_deref(), Some("Resolved on the device"));
        let (open, n_open) = store
            .alerts(&AlertFilter {
                state: Some(AlertState::Open),
                limit: 50,
                ..AlertFilter::default()
            })
            .await
            .unwrap();
        assert_eq!(n_open, 1);
        assert_ne!(open[0].id, alerts[0].id);

        // A person closes the new one; closing it again is refused.
        let closed = store
            .close_alert(open[0].id, "Closed by admin", &ticket_job)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(closed.state, AlertState::Closed);
        assert!(matches!(
            store.close_alert(open[0].id, "again", &ticket_job).await,
            Err(StoreError::Conflict(_))
        ));

        // A device that enrolls again starts its sequence numbers afresh.
        store
            .enroll_device(&new_device("a-1", None, p.id, "{}", "s2"))
            .await
            .unwrap();
        let fresh = store
            .record_alert_events(
                d,
                &[alert_input(Some(1), "memory-used", true, d)],
                &ticket_job,
            )
            .await
            .unwrap();
        assert_eq!(fresh.accepted, 1);

        // An alert with no ticket keeps the reason.
        let mut unlinked = alert_input(Some(2), "cpu-load", true, d);
        unlinked.ticket = Err("not linked".into());
        store
            .record_alert_events(d, &[unlinked], &ticket_job)
            .await
            .unwrap();
        let (all, _) = store
            .alerts(&AlertFilter {
                device_id: Some(d),
                limit: 1,
                ..AlertFilter::default()
            })
            .await
            .unwrap();
        assert_eq!(all[0].monitor_id, "cpu-load");
        assert_eq!(all[0].ticket, None);
        assert_eq!(all[0].no_ticket_reason.as_deref(), Some("not linked"));
    }
);

on_both!(
    help_requests_are_idempotent_and_tickets_record_progress,
    |store: Store| async move {
        let p = store.create_policy("Helpdesk").await.unwrap();
        let d = store
            .enroll_device(&new_device("h-1", None, p.id, "{}", "s"))
            .await
            .unwrap()
            .device()
            .id;
        let req = NewHelpRequest {
            device_id: d,
            request_id: "req-1".into(),
            user_name: Some("jane".into()),
            summary: "Printer jammed".into(),
            details: None,
            ticket: Ok(NewTicket {
                device_id: d,
                board: TicketBoard::SelfService,
                company_id: CompanyId(2),
                summary: "Printer jammed".into(),
                description: "Requested by jane".into(),
                contact_name: Some("jane".into()),
            }),
        };
        let a = store.record_help(&req, &ticket_job).await.unwrap();
        let b = store.record_help(&req, &ticket_job).await.unwrap();
        assert_eq!(a, b);
        assert_eq!(store.help_requests(None, false, 50, 0).await.unwrap().1, 1);
        let tid = a.ticket.unwrap().id;
        let mut t = store.ticket(tid).await.unwrap().unwrap();
        assert_eq!(t.board, TicketBoard::SelfService);
        t.progress.cw_ticket_id = Some(77);
        t.progress.state = TicketState::Open;
        store.record_ticket(tid, &t.progress).await.unwrap();
        let by_number = store.help_request_by_ticket(d, 77).await.unwrap().unwrap();
        assert_eq!(by_number.ticket.as_ref().unwrap().number, Some(77));
        assert_eq!(store.help_request_by_ticket(d, 78).await.unwrap(), None);
        let closing = store
            .close_help(by_number.id, "Closed by jane", &ticket_job)
            .await
            .unwrap()
            .unwrap();
        assert!(closing.ticket.unwrap().want_closed);
        assert!(matches!(
            store.close_help(by_number.id, "again", &ticket_job).await,
            Err(StoreError::Conflict(_))
        ));
        assert_eq!(store.help_requests(None, true, 50, 0).await.unwrap().1, 0);
        // Tickets without their configuration are found for attaching once the device binds.
        assert_eq!(store.tickets_to_attach(d).await.unwrap(), vec![tid]);
    }
);

on_both!(
    ticket_jobs_are_leased_before_bulk_work,
    |store: Store| async move {
        let now = now_ms();
        for n in 0..5 {
            store
                .enqueue(&job(&format!("bind:{n}"), now - 1000))
                .await
                .unwrap();
        }
        // Queued last and due last, but a person waits for it.
        let ticket = NewJob {
            run_after_ms: now,
            ..ticket_job(TicketId(9))
        };
        store.enqueue(&ticket).await.unwrap();
        let first = store.lease_jobs("w", now, 60_000, 1).await.unwrap();
        assert_eq!(first[0].kind, "cw.ticket");
        let rest = store.lease_jobs("w", now, 60_000, 10).await.unwrap();
        assert_eq!(rest.len(), 5);
    }
);

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

on_both!(
    what_people_do_in_connectwise_is_recorded_once,
    |store: Store| async move {
        use bindery_server::store::{AlertFilter, AlertState, TicketProgress, TicketState};
        let p = store.create_policy("P").await.unwrap();
        let d = store
            .enroll_device(&new_device("agent-a", None, p.id, "{}", "h"))
            .await
            .unwrap()
            .device()
            .id;
        store
            .record_alert_events(
                d,
                &[alert_input(Some(1), "disk-free", true, d)],
                &ticket_job,
            )
            .await
            .unwrap();
        let (alerts, _) = store
            .alerts(&AlertFilter {
                limit: 10,
                ..AlertFilter::default()
            })
            .await
            .unwrap();
        let ticket = alerts[0].ticket.as_ref().unwrap().id;
        let mut progress: TicketProgress = store.ticket(ticket).await.unwrap().unwrap().progress;
        progress.state = TicketState::Open;
        progress.cw_ticket_id = Some(501);
        store.record_ticket(ticket, &progress).await.unwrap();
        assert_eq!(
            store.open_cw_tickets(0, 1000).await.unwrap(),
            vec![(ticket, 501)]
        );
        assert_eq!(store.ticket_by_cw_id(501).await.unwrap(), Some(ticket));
        // A callback message is taken once.
        assert!(store.take_callback_message("m-1").await.unwrap());
        assert!(!store.take_callback_message("m-1").await.unwrap());
        // A person's close: once, and the alert is acknowledged (still the active one).
        assert!(
            store
                .ticket_closed_by_person(ticket, "jtech")
                .await
                .unwrap()
        );
        assert!(
            !store
                .ticket_closed_by_person(ticket, "jtech")
                .await
                .unwrap()
        );
        let alert = store.alert(alerts[0].id).await.unwrap().unwrap();
        assert_eq!(alert.state, AlertState::Acknowledged);
        assert!(store.open_cw_tickets(0, 1000).await.unwrap().is_empty());
        // A repeat counts on it, and opens nothing.
        store
            .record_alert_events(
                d,
                &[alert_input(Some(2), "disk-free", true, d)],
                &ticket_job,
            )
            .await
            .unwrap();
        let alert = store.alert(alerts[0].id).await.unwrap().unwrap();
        assert_eq!((alert.state, alert.repeats), (AlertState::Acknowledged, 1));
        assert_eq!(store.ticket_counts().await.unwrap().len(), 1);
        // Deleted: recorded once.
        assert!(store.ticket_deleted_in_connectwise(ticket).await.unwrap());
        assert!(!store.ticket_deleted_in_connectwise(ticket).await.unwrap());
        assert!(
            store
                .ticket(ticket)
                .await
                .unwrap()
                .unwrap()
                .deleted_ms
                .is_some()
        );
    }
);

on_both!(
    a_held_alert_opens_no_ticket_until_released_and_only_if_still_raised,
    |store: Store| async move {
        use bindery_server::store::{AlertFilter, Release};
        let p = store.create_policy("P").await.unwrap();
        let d = store
            .enroll_device(&new_device("agent-a", None, p.id, "{}", "h"))
            .await
            .unwrap()
            .device()
            .id;
        let until = now_ms() + 60_000;
        let held = |seq: i64, monitor: &str, raised: bool| AlertInput {
            held_until_ms: raised.then_some(until),
            ..alert_input(Some(seq), monitor, raised, d)
        };
        store
            .record_alert_events(
                d,
                &[
                    held(1, "disk-free", true),
                    held(2, "cpu", true),
                    held(3, "cpu", false),
                ],
                &ticket_job,
            )
            .await
            .unwrap();
        let all = |store: Store| async move {
            let (a, _) = store
                .alerts(&AlertFilter {
                    limit: 10,
                    held_only: true,
                    ..AlertFilter::default()
                })
                .await
                .unwrap();
            a
        };
        let alerts = all(store.clone()).await;
        assert_eq!(alerts.len(), 2);
        assert!(
            alerts
                .iter()
                .all(|a| a.ticket.is_none() && a.held_until_ms == Some(until))
        );
        assert_eq!(store.job_counts().await.unwrap().queued, 0, "no ticket job");
        assert_eq!(store.held_alert_count(p.id).await.unwrap(), 2);
        // Not due before the window ends.
        assert!(
            store
                .held_alerts_due(until - 1, 100)
                .await
                .unwrap()
                .is_empty()
        );
        let due = store.held_alerts_due(until, 100).await.unwrap();
        assert_eq!(due.len(), 2);
        let ticket = Release::Ticket(alert_input(Some(9), "x", true, d).ticket);
        for a in &due {
            let asked = store
                .release_held(a.id, &ticket, &ticket_job)
                .await
                .unwrap();
            // The disk alert is still raised: its ticket now. The CPU one resolved meanwhile.
            assert_eq!(asked, a.monitor_id == "disk-free", "{}", a.monitor_id);
            // Released once: a second server doing the same does nothing.
            assert!(
                !store
                    .release_held(a.id, &ticket, &ticket_job)
                    .await
                    .unwrap()
            );
        }
        let alerts = all(store.clone()).await;
        let disk = alerts.iter().find(|a| a.monitor_id == "disk-free").unwrap();
        let cpu = alerts.iter().find(|a| a.monitor_id == "cpu").unwrap();
        assert!(disk.ticket.is_some() && disk.held_until_ms.is_none() && disk.held_ms.is_some());
        assert!(cpu.ticket.is_none());
        assert_eq!(
            cpu.no_ticket_reason.as_deref(),
            Some("resolved inside a maintenance window")
        );
        assert_eq!(store.job_counts().await.unwrap().queued, 1);
        assert_eq!(store.held_alert_count(p.id).await.unwrap(), 0);
        // A window that goes on holds on.
        store
            .record_alert_events(d, &[held(4, "mem", true)], &ticket_job)
            .await
            .unwrap();
        let mem = store.held_alerts_due(until, 10).await.unwrap()[0].id;
        assert!(
            !store
                .release_held(mem, &Release::HoldUntil(until + 5), &ticket_job)
                .await
                .unwrap()
        );
        assert!(store.held_alerts_due(until, 10).await.unwrap().is_empty());
        assert_eq!(store.held_alerts_due(until + 5, 10).await.unwrap().len(), 1);
        // Windows are stored per policy.
        store
            .set_policy_maintenance(p.id, Some(r#"{"weekly":[]}"#))
            .await
            .unwrap();
        assert_eq!(
            store.policy_maintenance(p.id).await.unwrap().as_deref(),
            Some(r#"{"weekly":[]}"#)
        );
    }
);

on_both!(
    history_past_its_retention_goes_in_batches_and_nothing_active_does,
    |store: Store| async move {
        const DAY: i64 = 86_400_000;
        let p = store.create_policy("Kept a while").await.unwrap();
        let d = store
            .enroll_device(&new_device("r-1", None, p.id, "{}", "s"))
            .await
            .unwrap()
            .device()
            .id;
        let old = now_ms() - 100 * DAY;
        let at = |mut a: AlertInput, linked: bool| {
            a.at_ms = old;
            if !linked {
                a.ticket = Err("not linked".into());
            }
            a
        };
        store
            .record_alert_events(
                d,
                &[
                    // Raised and resolved long ago, no ticket: history.
                    at(alert_input(Some(1), "disk-free", true, d), false),
                    at(alert_input(Some(2), "disk-free", false, d), false),
                    // Raised long ago and still open: kept, however old.
                    at(alert_input(Some(3), "cpu", true, d), false),
                    // Resolved long ago, its ticket not closed in ConnectWise yet: kept.
                    at(alert_input(Some(4), "memory", true, d), true),
                    at(alert_input(Some(5), "memory", false, d), true),
                ],
                &ticket_job,
            )
            .await
            .unwrap();
        for _ in 0..5 {
            sqlx::query(
                "INSERT INTO activity (at_ms, action, subject, ok) VALUES ($1, 'ticket.note', 'old', 1)",
            )
            .bind(old)
            .execute(store.pool())
            .await
            .unwrap();
        }
        store
            .record_activity("ticket.create", "recent", None, Ok(()))
            .await;
        let cutoff = now_ms() - 90 * DAY;

        // One batch takes at most its size of each kind, and says more may be waiting.
        let first = store.prune_batch(cutoff, cutoff, 2).await.unwrap();
        assert_eq!((first.activity, first.alerts), (2, 1), "{first:?}");
        assert!(first.full(2));
        let rest = store
            .prune(cutoff, cutoff, 2, std::time::Duration::ZERO)
            .await
            .unwrap();
        assert_eq!(
            (rest.activity, rest.alerts, rest.tickets),
            (3, 0, 0),
            "{rest:?}"
        );
        let (_, left) = store.activity("", false, 50, 0).await.unwrap();
        assert_eq!(left, 1, "the recent entry stays");
        let alerts = |state| {
            let store = store.clone();
            async move {
                store
                    .alerts(&AlertFilter {
                        state,
                        limit: 50,
                        ..AlertFilter::default()
                    })
                    .await
                    .unwrap()
                    .1
            }
        };
        assert_eq!(alerts(Some(AlertState::Open)).await, 1);
        assert_eq!(alerts(Some(AlertState::Resolved)).await, 1);

        // Once ConnectWise has closed its ticket (long ago), the alert and the ticket go too.
        sqlx::query("UPDATE tickets SET closed_ms = $1")
            .bind(old)
            .execute(store.pool())
            .await
            .unwrap();
        let last = store
            .prune(cutoff, cutoff, 2, std::time::Duration::ZERO)
            .await
            .unwrap();
        assert_eq!((last.alerts, last.tickets), (1, 1), "{last:?}");
        assert_eq!(alerts(None).await, 1, "only the open alert is left");
        // Zero days (i64::MIN): nothing is old enough.
        assert_eq!(
            store
                .prune_batch(i64::MIN, i64::MIN, 100)
                .await
                .unwrap()
                .total(),
            0
        );
    }
);
