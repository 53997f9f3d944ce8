//! Linking, moving, repairing and faults: one configuration per device whatever happens.

use super::*;

#[tokio::test]
async fn linking_binds_each_device_once_and_an_unchanged_resync_only_reads() {
    let w = world().await;
    let p = w.store.create_policy("Acme office").await.unwrap();
    let devices = w.enroll(p.id, 0..30).await;
    w.settled().await;
    assert!(
        w.all_configs().is_empty(),
        "an unlinked policy binds nothing"
    );
    assert_eq!(
        w.store.policy_bindings(p.id).await.unwrap().link,
        LinkState::Grey
    );

    w.sb.sandbox.clear_requests();
    w.link(p.id, Some((CompanyId(ACME), "Acme"))).await;
    w.settled().await;
    for n in 0..30 {
        let found = w.configs(n);
        assert_eq!(found.len(), 1, "device {n}: exactly one configuration");
        let c = &found[0];
        assert_eq!(c["company"]["id"], ACME);
        assert_eq!(status(c), ACTIVE);
        assert_eq!(c["name"], format!("host-{n:03}"));
        assert_eq!(c["serialNumber"], format!("SN{n:05}"));
        assert_eq!(c["ram"], "16 GB");
        let kind = if n % 10 == 0 {
            "Managed Server"
        } else {
            "Managed Workstation"
        };
        assert_eq!(
            c["type"]["name"], kind,
            "device {n}: the first matching rule"
        );
        let b = w.store.binding(devices[n]).await.unwrap().unwrap();
        assert_eq!(b.state, BindingState::Bound);
        assert_eq!(b.configuration_id.map(i64::from), c["id"].as_i64());
    }
    let s = w.store.policy_bindings(p.id).await.unwrap();
    assert_eq!((s.bound, s.link), (30, LinkState::Blue));
    let reqs = w.requests();
    let reads = reqs.iter().filter(|(m, _)| m == "GET").count();
    let creates = reqs.iter().filter(|(m, _)| m == "POST").count();
    assert_eq!(creates, 30, "one write per device: {reqs:?}");
    assert!(
        reads <= 3,
        "one paged read for the company (and the codebase lookup), not one per device: {reqs:?}"
    );

    // Nothing changed: a re-sync reads the company's page and writes nothing.
    w.sb.sandbox.clear_requests();
    w.resync(CompanyId(ACME)).await;
    let reqs = w.requests();
    assert_eq!(reqs.len(), 1, "{reqs:?}");
    assert_eq!(reqs[0].0, "GET");

    // One device's user changes: one lookup and one patch of just that field.
    w.sb.sandbox.clear_requests();
    let mut f = facts(7, "Debian GNU/Linux 12");
    f.set(FactField::LastLoginName, "bea");
    f.set(FactField::DeviceIdentifier, agent_id(7));
    let json = serde_json::to_string(&f).unwrap();
    assert!(
        w.store
            .record_facts(
                devices[7],
                &json,
                &bindery_server::secrets::hash_secret(&json),
                "test"
            )
            .await
            .unwrap()
    );
    queue::device_changed(&w.store, devices[7]).await.unwrap();
    w.engine.wake();
    w.settled().await;
    assert_eq!(w.configs(7)[0]["lastLoginName"], "bea");
    let methods: Vec<String> = w.requests().into_iter().map(|(m, _)| m).collect();
    assert_eq!(methods, ["GET", "PATCH"]);
    w.finish().await;
}

#[tokio::test]
async fn moving_unlinking_and_retiring_deactivate_and_relinking_reactivates() {
    let w = world().await;
    let a = w.store.create_policy("A").await.unwrap();
    let b = w.store.create_policy("B").await.unwrap();
    w.link(a.id, Some((CompanyId(ACME), "Acme"))).await;
    w.link(b.id, Some((CompanyId(GLOBEX), "Globex"))).await;
    let devices = w.enroll(a.id, 0..6).await;
    w.engine.wake();
    w.settled().await;
    assert!((0..6).all(|n| w.configs(n).len() == 1));

    // Move device 0 to B (Globex): inactive at Acme, active at Globex.
    w.store.move_device(devices[0], Some(b.id)).await.unwrap();
    queue::device_changed(&w.store, devices[0]).await.unwrap();
    w.engine.wake();
    w.settled().await;
    let mut moved = w.configs(0);
    moved.sort_by_key(|c| c["company"]["id"].as_i64());
    assert_eq!(moved.len(), 2);
    assert_eq!(
        (moved[0]["company"]["id"].as_i64(), status(&moved[0])),
        (Some(ACME), INACTIVE)
    );
    assert_eq!(
        (moved[1]["company"]["id"].as_i64(), status(&moved[1])),
        (Some(GLOBEX), ACTIVE)
    );
    let binding = w.store.binding(devices[0]).await.unwrap().unwrap();
    assert_eq!(
        (binding.state, binding.company_id),
        (BindingState::Bound, Some(CompanyId(GLOBEX)))
    );

    // Retire device 1: inactive.
    w.store.retire_device(devices[1]).await.unwrap();
    queue::device_changed(&w.store, devices[1]).await.unwrap();
    // Unlink A: devices 1..6 inactive (device 1 was already retired).
    w.link(a.id, None).await;
    w.settled().await;
    for n in 1..6 {
        let c = w.configs(n);
        assert_eq!(c.len(), 1);
        assert_eq!(status(&c[0]), INACTIVE, "device {n}");
        assert_eq!(
            w.store.binding(devices[n]).await.unwrap().unwrap().state,
            BindingState::Inactive
        );
    }
    assert_eq!(
        w.store.policy_bindings(a.id).await.unwrap().link,
        LinkState::Grey
    );

    // Link A again: the same configurations come back active, none is added.
    let before = w.all_configs().len();
    w.link(a.id, Some((CompanyId(ACME), "Acme"))).await;
    w.settled().await;
    assert_eq!(w.all_configs().len(), before);
    for n in 2..6 {
        assert_eq!(status(&w.configs(n)[0]), ACTIVE, "device {n}");
    }
    assert_eq!(
        status(&w.configs(1)[0]),
        INACTIVE,
        "a retired device stays inactive"
    );
    assert_eq!(
        w.store.policy_bindings(a.id).await.unwrap().link,
        LinkState::Blue
    );
    w.finish().await;
}

#[tokio::test]
async fn a_resync_repairs_configurations_deleted_or_deactivated_by_hand() {
    let w = world().await;
    let p = w.store.create_policy("P").await.unwrap();
    w.enroll(p.id, 0..4).await;
    w.link(p.id, Some((CompanyId(ACME), "Acme"))).await;
    w.settled().await;
    let deleted = w.configs(0)[0]["id"].as_i64().unwrap();
    let edited = w.configs(1)[0]["id"].as_i64().unwrap();
    {
        let mut data = w.sb.sandbox.data();
        data.configurations.remove(deleted);
        assert!(data.configurations.update(edited, |c| {
            c["status"] = serde_json::json!({"id": INACTIVE, "name": "Inactive"});
            c["name"] = "renamed by hand".into();
        }));
    }
    queue::sync_all(&w.store, 1_000).await.unwrap();
    w.engine.wake();
    w.settled().await;
    let recreated = w.configs(0);
    assert_eq!(recreated.len(), 1);
    assert_ne!(recreated[0]["id"].as_i64(), Some(deleted));
    let repaired = &w.configs(1)[0];
    assert_eq!(
        (repaired["id"].as_i64(), status(repaired)),
        (Some(edited), ACTIVE)
    );
    assert_eq!(repaired["name"], "host-001");
    w.finish().await;
}

#[tokio::test]
async fn faults_lost_replies_and_429s_never_make_a_second_configuration() {
    let w = world().await;
    let p = w.store.create_policy("P").await.unwrap();
    w.enroll(p.id, 0..40).await;
    w.sb.sandbox.set_faults(Faults {
        error_rate: 0.15,
        timeout_rate: 0.05,
        lost_reply_rate: 0.15,
        hang_ms: 50,
        burst_429: 5,
        retry_after_secs: 0,
        seed: Some(7),
        ..Faults::default()
    });
    w.link(p.id, Some((CompanyId(ACME), "Acme"))).await;
    w.settled().await;
    let faulted =
        w.sb.sandbox
            .requests()
            .iter()
            .filter(|r| r.fault.is_some())
            .count();
    assert!(faulted >= 5, "the faults did happen ({faulted})");
    w.sb.sandbox.set_faults(Faults::default());
    // Whatever failed for good is retried once the faults stop.
    queue::retry_pending(&w.store, p.id).await.unwrap();
    w.engine.wake();
    w.settled().await;
    assert_eq!(w.all_configs().len(), 40);
    for n in 0..40 {
        let c = w.configs(n);
        assert_eq!(c.len(), 1, "device {n}: {c:?}");
        assert_eq!(status(&c[0]), ACTIVE);
    }
    let s = w.store.policy_bindings(p.id).await.unwrap();
    assert_eq!((s.bound, s.link), (40, LinkState::Blue));
    w.finish().await;
}

#[tokio::test]
async fn a_refused_write_fails_the_device_with_connectwises_words_until_retried() {
    let w = world().await;
    let p = w.store.create_policy("P").await.unwrap();
    // Workstations all (device 0 would be a server, of another type).
    let devices = w.enroll(p.id, 1..4).await;
    w.sb.sandbox.set_faults(Faults {
        fail_with: Some(connectwise_sandbox::faults::FixedFailure {
            status: 400,
            code: "InvalidObject".into(),
            message: "configuration object is invalid".into(),
            location: None,
        }),
        ..Faults::default()
    });
    w.link(p.id, Some((CompanyId(ACME), "Acme"))).await;
    w.settled().await;
    assert!(w.all_configs().is_empty());
    let s = w.store.policy_bindings(p.id).await.unwrap();
    assert_eq!(s.link, LinkState::Red);
    let c = w.store.job_counts().await.unwrap();
    assert!(c.failed >= 1, "a permanent error waits for a person: {c:?}");

    // Only the company sync ran (and failed); the devices show pending until it succeeds.
    // Now let the sync through but refuse the creates.
    w.sb.sandbox.set_faults(Faults::default());
    // The default type's "Asset tag" question made required (by someone in ConnectWise):
    // every create is now a validation error.
    set_asset_tag_required(&w, true);
    queue::retry_pending(&w.store, p.id).await.unwrap();
    w.engine.wake();
    w.settled().await;
    for d in &devices {
        let b = w.store.binding(*d).await.unwrap().unwrap();
        assert_eq!(b.state, BindingState::Failed);
        let error = b.error.unwrap();
        assert!(error.contains("400"), "{error}");
    }
    assert_eq!(
        w.store.policy_bindings(p.id).await.unwrap().link,
        LinkState::Red
    );

    // The cause removed, "Retry Pending" binds them.
    set_asset_tag_required(&w, false);
    assert_eq!(queue::retry_pending(&w.store, p.id).await.unwrap(), 3);
    w.engine.wake();
    w.settled().await;
    assert_eq!(
        w.store.policy_bindings(p.id).await.unwrap().link,
        LinkState::Blue
    );
    assert_eq!(w.all_configs().len(), 3);
    w.finish().await;
}

// Two servers share one PostgreSQL: they split the jobs, never run one twice at once, and when
// one dies mid-way (its task aborted, leases left behind) the other finishes its work.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_servers_on_one_postgres_bind_each_device_once_when_one_dies() {
    connectwise_client::install_tls_provider();
    let sb = connectwise_sandbox::spawn("127.0.0.1:0".parse().unwrap(), Seed::default_seed(), true)
        .await
        .unwrap();
    let url = common::fresh_postgres_url().await;
    let dir = tempfile::tempdir().unwrap();
    let key = Arc::new(ServerKey::load_or_create(&dir.path().join("server.key")).unwrap());
    let a = Store::open(&url).await.unwrap();
    let b = Store::open(&url).await.unwrap();
    bindery_server::demo::connect_to_sandbox(&a, &key, &sb.url())
        .await
        .unwrap();
    let p = a.create_policy("Shared").await.unwrap();
    // The World's helpers (enroll, link, settled, configs) on store A; its own engine is never
    // run here: the two servers are engine_a and engine_b below.
    let w = World {
        sb,
        store: a.clone(),
        engine: Engine::new(a.clone(), key.clone(), EngineConfig::default()),
        key: key.clone(),
        stop: tokio::sync::watch::channel(false).0,
        _dir: dir,
    };
    w.enroll(p.id, 0..60).await;
    w.sb.sandbox.set_faults(Faults {
        latency_ms: 20,
        lost_reply_rate: 0.1,
        error_rate: 0.05,
        seed: Some(3),
        ..Faults::default()
    });
    let config = || EngineConfig {
        workers: 4,
        lease: Duration::from_secs(2),
        poll: Duration::from_millis(50),
        retry_base: Duration::from_millis(50),
        retry_max: Duration::from_millis(500),
        ..EngineConfig::default()
    };
    let (_stop_a, stopped_a) = tokio::sync::watch::channel(false);
    let (_stop_b, stopped_b) = tokio::sync::watch::channel(false);
    let engine_a = Engine::new(a.clone(), key.clone(), config());
    let engine_b = Engine::new(b.clone(), key.clone(), config());
    let run_a = tokio::spawn(engine_a.clone().run(stopped_a));
    tokio::spawn(engine_b.clone().run(stopped_b));
    w.link(p.id, Some((CompanyId(ACME), "Acme"))).await;

    // Server A dies once both have done some work.
    for _ in 0..400 {
        let done = |e: &Engine| e.stats.jobs_done.load(std::sync::atomic::Ordering::Relaxed);
        if done(&engine_a) >= 5 && done(&engine_b) >= 5 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    run_a.abort();
    w.settled().await;
    w.sb.sandbox.set_faults(Faults::default());
    queue::retry_pending(&b, p.id).await.unwrap();
    w.settled().await;

    assert!(
        engine_a
            .stats
            .jobs_done
            .load(std::sync::atomic::Ordering::Relaxed)
            > 0
    );
    assert!(
        engine_b
            .stats
            .jobs_done
            .load(std::sync::atomic::Ordering::Relaxed)
            > 0
    );
    assert_eq!(
        w.all_configs().len(),
        60,
        "exactly one configuration per device"
    );
    for n in 0..60 {
        assert_eq!(w.configs(n).len(), 1, "device {n}");
    }
    let s = b.policy_bindings(p.id).await.unwrap();
    assert_eq!((s.bound, s.link), (60, LinkState::Blue));
    w.sb.stop().await;
}
