//! Settings, the job queue (leases, retries, urgency, claims) and reopening a store.

use super::*;

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
            (16,),
            (17,),
            (18,),
            (19,),
            (20,),
            (21,),
            (22,),
            (23,),
            (24,)
        ]
    );
    assert!(matches!(
        Store::open("what?ever").await,
        Err(StoreError::Config(_))
    ));
}

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
