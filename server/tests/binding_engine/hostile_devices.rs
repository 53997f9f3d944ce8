//! Nameless, damaged and dock-sharing devices, and jobs Bindery cannot read.

use super::*;

/// The regression of issue 36: a machine that reports no name stopped its whole company from
/// binding. It binds under its agent id and takes its name when it reports one; a device whose
/// stored facts were damaged fails alone, and the company's sync carries on for the others.
#[tokio::test]
async fn a_nameless_device_binds_under_its_agent_id_and_a_damaged_one_stops_nobody() {
    let w = world().await;
    let p = w.store.create_policy("Office").await.unwrap();
    w.link(p.id, Some((CompanyId(ACME), "Acme"))).await;
    w.settled().await;
    let mut devices = Vec::new();
    for n in 0..5 {
        let mut f = facts(n, "Debian GNU/Linux 12");
        if n == 2 {
            f.set_absent(FactField::Name, "the host name could not be read");
        }
        devices.push(w.enroll_with(p.id, n, f).await);
    }
    let damaged = w
        .enroll_with(p.id, 5, facts(5, "Debian GNU/Linux 12"))
        .await;
    sqlx::query("UPDATE devices SET facts_json = '{\"name\": 7' WHERE id = $1")
        .bind(damaged)
        .execute(w.store.pool())
        .await
        .unwrap();
    queue::device_changed(&w.store, damaged).await.unwrap();
    w.resync(CompanyId(ACME)).await;
    // Once more, now that the damage is known: the company's sync still succeeds.
    w.resync(CompanyId(ACME)).await;

    for n in 0..5 {
        let found = w.configs(n);
        assert_eq!(found.len(), 1, "device {n}: one configuration");
        let b = w.store.binding(devices[n]).await.unwrap().unwrap();
        assert_eq!(b.state, BindingState::Bound, "device {n}: {b:?}");
    }
    assert_eq!(
        w.configs(2)[0]["name"],
        agent_id(2),
        "named after its agent id"
    );
    let b = w.store.binding(damaged).await.unwrap().unwrap();
    assert_eq!(b.state, BindingState::Failed);
    assert!(
        b.error.as_deref().unwrap().contains("cannot be read"),
        "{b:?}"
    );
    let failed_syncs: Vec<(String,)> = sqlx::query_as(
        "SELECT last_error FROM jobs WHERE kind = 'cw.sync_company' AND state = 'failed'",
    )
    .fetch_all(w.store.pool())
    .await
    .unwrap();
    assert!(failed_syncs.is_empty(), "{failed_syncs:?}");
    let s = w.store.policy_bindings(p.id).await.unwrap();
    assert_eq!((s.devices, s.bound, s.failed, s.pending), (6, 5, 1, 0));

    // The nameless machine reports its name: its configuration takes it.
    let mut named = facts(2, "Debian GNU/Linux 12");
    named.set(FactField::DeviceIdentifier, agent_id(2));
    let json = serde_json::to_string(&named).unwrap();
    let hash = bindery_server::secrets::hash_secret(&json);
    assert!(
        w.store
            .record_facts(devices[2], &json, &hash, "test")
            .await
            .unwrap()
    );
    queue::device_changed(&w.store, devices[2]).await.unwrap();
    // The damaged device's next check-in writes its facts again, even unchanged ones.
    let mut whole = facts(5, "Debian GNU/Linux 12");
    whole.set(FactField::DeviceIdentifier, agent_id(5));
    let json = serde_json::to_string(&whole).unwrap();
    let hash = bindery_server::secrets::hash_secret(&json);
    let auth = w.store.device_auth(&agent_id(5)).await.unwrap().unwrap();
    assert_ne!(auth.facts_hash, hash, "its check-in will write its facts");
    assert!(
        w.store
            .record_facts(damaged, &json, &hash, "test")
            .await
            .unwrap()
    );
    queue::device_changed(&w.store, damaged).await.unwrap();
    w.engine.wake();
    w.settled().await;
    assert_eq!(w.configs(2)[0]["name"], "host-002");
    assert_eq!(w.configs(5).len(), 1);
    let s = w.store.policy_bindings(p.id).await.unwrap();
    assert_eq!((s.bound, s.failed), (6, 0));
    w.finish().await;
}

/// Two laptops on one dock model report one MAC: two devices, two configurations. The MAC
/// adopts nothing for them (a record with another real serial, or any record once the MAC is
/// shared), while the serial still adopts the record that is the machine's.
#[tokio::test]
async fn machines_sharing_a_dock_mac_bind_to_two_configurations() {
    let w = world().await;
    let p = w.store.create_policy("Office").await.unwrap();
    const DOCK: &str = "02:00:00:00:d0:c1";
    let by_serial = w.seed_config(
        CompanyId(ACME),
        "old-record",
        serde_json::json!({"serialNumber": "SN00000", "macAddress": DOCK}),
    );
    let mac_only = w.seed_config(
        CompanyId(ACME),
        "dock-record",
        serde_json::json!({"macAddress": DOCK}),
    );
    w.sb.sandbox.clear_requests();
    let mut devices = Vec::new();
    for n in 0..2 {
        let mut f = facts(n, "Windows 11 Pro");
        f.set(FactField::MacAddress, DOCK);
        devices.push(w.enroll_with(p.id, n, f).await);
    }
    w.link(p.id, Some((CompanyId(ACME), "Acme"))).await;
    w.settled().await;
    for n in 0..2 {
        assert_eq!(w.configs(n).len(), 1, "device {n}");
        let b = w.store.binding(devices[n]).await.unwrap().unwrap();
        assert_eq!(b.state, BindingState::Bound, "device {n}: {b:?}");
    }
    assert_eq!(w.configs(0)[0]["id"], by_serial.0, "adopted by its serial");
    assert_ne!(w.configs(1)[0]["id"], by_serial.0);
    assert_ne!(
        w.configs(1)[0]["id"],
        mac_only.0,
        "a shared MAC adopts nothing"
    );
    assert_eq!(w.configs(1)[0]["macAddress"], DOCK, "still written");
    assert!(
        w.config(mac_only)
            .get("deviceIdentifier")
            .is_none_or(Value::is_null)
    );
    w.finish().await;
}

/// A job this server cannot read is Bindery's fault, not a person's: it is logged and tried
/// again later (a fixed server carries it out), never parked as failed.
#[tokio::test]
async fn a_job_bindery_cannot_read_is_retried_not_parked() {
    let w = world().await;
    let id = w
        .store
        .enqueue(&bindery_server::store::NewJob {
            kind: "cw.bind_device".into(),
            dedupe_key: None,
            payload: "{not json".into(),
            run_after_ms: bindery_server::store::now_ms(),
            urgent: false,
        })
        .await
        .unwrap();
    w.engine.wake();
    let mut seen = None;
    for _ in 0..100 {
        tokio::time::sleep(Duration::from_millis(50)).await;
        let row: (String, i64, Option<String>) =
            sqlx::query_as("SELECT state, attempts, last_error FROM jobs WHERE id = $1")
                .bind(id)
                .fetch_one(w.store.pool())
                .await
                .unwrap();
        if row.1 >= 2 {
            seen = Some(row);
            break;
        }
    }
    let (state, attempts, error) = seen.expect("the job was tried again");
    assert_ne!(state, "failed", "never parked");
    assert!(attempts >= 2);
    assert!(error.unwrap_or_default().contains("damaged"));
    w.finish().await;
}
