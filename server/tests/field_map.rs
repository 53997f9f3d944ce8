//! The configuration field map against the sandbox (as strict as ConnectWise about
//! manufacturers, custom fields and the whole-array rule): the default map fills the maker,
//! model, gateway and disks; a person's edit stands unless Bindery owns the field; custom fields
//! are written without clearing the others; a field no rule names is never written; and a map
//! is refused, with its reason, before it can fail a write.
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use bindery_server::ids::{CompanyId, DeviceId, IntegrationId};
use bindery_server::integration::{FieldMap, FieldRule, MapTarget};
use bindery_server::ops::Ops;
use bindery_server::reconcile::queue;
use bindery_server::testkit::{World, facts, world};
use bindery_shared::{DeviceFacts, FactField};
use serde_json::{Value, json};

const FIRST: IntegrationId = IntegrationId::FIRST;
const ACME: CompanyId = CompanyId(2);
const PERSON: (&str, &str) = ("bindery+tech-public", "tech-private");

/// Device `n`'s facts with inventory: a Dell, or a maker ConnectWise does not list.
fn inventory(n: usize, maker: &str, model: &str, gateway: &str) -> DeviceFacts {
    let mut f = facts(n, "Windows 11 Pro 23H2 (22631.3007)");
    f.set(FactField::Manufacturer, maker);
    f.set(FactField::Model, model);
    f.set(FactField::DefaultGateway, gateway);
    f.set(FactField::LocalHardDrives, "C: 476.0 GB (201.0 GB free)");
    f.set(FactField::BiosVersion, "1.18.0");
    f.set(FactField::OsInstallDate, "2023-04-05");
    f.normalized()
}

/// Stores new facts for a device, as its next check-in would, and lets binding run.
async fn report(w: &World, device: DeviceId, n: usize, f: DeviceFacts) {
    let mut f = f;
    f.set(FactField::DeviceIdentifier, format!("agent-{n:04}"));
    let json = serde_json::to_string(&f).unwrap();
    let hash = bindery_server::secrets::hash_secret(&json);
    assert!(
        w.store
            .record_facts(device, &json, &hash, "test")
            .await
            .unwrap()
    );
    queue::device_changed(&w.store, device).await.unwrap();
    w.engine.wake();
    w.settled().await;
}

/// A change a technician makes in ConnectWise.
async fn person_patches(w: &World, config: i64, ops: Value) {
    let resp = reqwest::Client::new()
        .patch(format!(
            "{}/v4_6_release/apis/3.0/company/configurations/{config}",
            w.sb.url()
        ))
        .basic_auth(PERSON.0, Some(PERSON.1))
        .header("clientId", "tests")
        .header("content-type", "application/json")
        .body(ops.to_string())
        .send()
        .await
        .unwrap();
    assert!(resp.status().is_success(), "{}", resp.text().await.unwrap());
}

/// A world with devices 1 (a Dell) and 2 (a maker ConnectWise does not list) bound in Acme.
async fn bound() -> (World, Vec<DeviceId>) {
    let w = world().await;
    let p = w.store.create_policy("Acme laptops").await.unwrap();
    let one = w
        .enroll_with(
            p.id,
            1,
            inventory(1, "Dell Inc.", "Latitude 7420", "10.0.0.1"),
        )
        .await;
    let two = w
        .enroll_with(p.id, 2, inventory(2, "Acme Computers", "AC-1", "10.0.0.1"))
        .await;
    w.link(p.id, Some((ACME, "Acme"))).await;
    w.settled().await;
    (w, vec![one, two])
}

#[tokio::test(flavor = "multi_thread")]
async fn the_default_map_fills_inventory_and_a_persons_edit_stands_unless_bindery_owns_it() {
    let (w, devices) = bound().await;
    let c = &w.configs(1)[0];
    assert_eq!(c["modelNumber"], "Latitude 7420", "{c}");
    assert_eq!(c["manufacturer"], json!({"id": 1, "name": "Dell Inc."}));
    assert_eq!(c["defaultGateway"], "10.0.0.1");
    assert_eq!(c["localHardDrives"], "C: 476.0 GB (201.0 GB free)");
    for unmapped in ["tagNumber", "vendorNotes"] {
        assert!(
            c.get(unmapped).is_none_or(Value::is_null),
            "{unmapped}: {c}"
        );
    }
    // A maker ConnectWise does not list is left alone, never created.
    let other = &w.configs(2)[0];
    assert!(
        other.get("manufacturer").is_none_or(Value::is_null),
        "{other}"
    );
    assert_eq!(other["modelNumber"], "AC-1");
    assert_eq!(w.sb.sandbox.data().manufacturers.len(), 6);
    // The preview says so, by the code that writes.
    let ops = Ops::new(&w.store, Some(&w.key), Some(&w.engine));
    let preview = ops.field_map_preview(devices[1]).await.unwrap();
    assert_eq!(preview[0].field, "manufacturer");
    assert_eq!(preview[0].value, None);
    assert!(
        preview[0]
            .note
            .as_deref()
            .unwrap()
            .contains("lists no manufacturer")
    );
    assert_eq!(preview[1].value.as_deref(), Some("AC-1"));

    // A technician renames the model; the machine then reports a new model and gateway.
    let id = c["id"].as_i64().unwrap();
    person_patches(
        &w,
        id,
        json!([{"op": "replace", "path": "modelNumber", "value": "Spare for Finance"}]),
    )
    .await;
    let newer = inventory(1, "Dell Inc.", "Latitude 7430", "10.0.0.254");
    report(&w, devices[0], 1, newer.clone()).await;
    let c = &w.configs(1)[0];
    assert_eq!(
        c["modelNumber"], "Spare for Finance",
        "the person's edit stands"
    );
    assert_eq!(
        c["defaultGateway"], "10.0.0.254",
        "an untouched field follows"
    );

    // The other machine is an HP after all (a listed maker): it gets its manufacturer.
    report(&w, devices[1], 2, inventory(2, "hp", "AC-1", "10.0.0.1")).await;
    assert_eq!(
        w.configs(2)[0]["manufacturer"],
        json!({"id": 2, "name": "HP"})
    );

    // Once the map says Bindery owns the model number, it is put back.
    let mut map = FieldMap::default();
    map.rules[1].owned = true;
    assert_eq!(map.rules[1].target, MapTarget::ModelNumber);
    ops.save_field_map(FIRST, &map).await.unwrap();
    w.resync(ACME).await;
    assert_eq!(w.configs(1)[0]["modelNumber"], "Latitude 7430");
    // In line now: a re-sync writes nothing, even by a fresh client (a new budget makes a new
    // one, with empty caches, as a restart does).
    ops.set_integration_budget(FIRST, Some(600)).await.unwrap();
    w.sb.sandbox.clear_requests();
    w.resync(ACME).await;
    let requests = w.requests();
    let writes: Vec<_> = requests.iter().filter(|(m, _)| m != "GET").collect();
    assert!(writes.is_empty(), "{writes:?}");
    // Nor does it read the manufacturer list: each configuration already names its maker.
    assert!(
        !requests.iter().any(|(_, p)| p.contains("manufacturers")),
        "{requests:?}"
    );
    w.finish().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn custom_fields_are_written_with_the_others_kept_and_bad_maps_are_refused() {
    let (w, _) = bound().await;
    let id = w.configs(1)[0]["id"].as_i64().unwrap();
    // A technician sets the warranty date (a custom field) and an asset tag by hand.
    person_patches(
        &w,
        id,
        json!([
            {"op": "replace", "path": "customFields", "value": [{"id": 1, "value": "2027-01-31T00:00:00Z"}]},
            {"op": "replace", "path": "tagNumber", "value": "ASSET-0001"},
        ]),
    )
    .await;
    let ops = Ops::new(&w.store, Some(&w.key), Some(&w.engine));
    let rule = |target, custom: Option<i64>, value: &str| FieldRule {
        target,
        custom_field_id: custom,
        value: value.into(),
        owned: true,
    };
    // Refused before anything is written: a date field, a field that does not exist, a fact
    // that does not exist.
    for (bad, why) in [
        (
            rule(MapTarget::CustomField, Some(1), "{biosVersion}"),
            "only text fields",
        ),
        (
            rule(MapTarget::CustomField, Some(99), "{biosVersion}"),
            "no custom field 99",
        ),
        (
            rule(MapTarget::VendorNotes, None, "{bios}"),
            "names no fact {bios}",
        ),
    ] {
        let refused = ops
            .save_field_map(FIRST, &FieldMap { rules: vec![bad] })
            .await
            .unwrap_err()
            .to_string();
        assert!(refused.contains(why), "{refused}");
    }
    assert_eq!(ops.field_map(FIRST).await.unwrap(), FieldMap::default());

    let map = FieldMap {
        rules: vec![
            rule(MapTarget::CustomField, Some(2), "{biosVersion}"),
            rule(MapTarget::VendorNotes, None, "OS installed {osInstallDate}"),
        ],
    };
    ops.save_field_map(FIRST, &map).await.unwrap();
    w.resync(ACME).await;
    let c = &w.configs(1)[0];
    let custom: Vec<&Value> = c["customFields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| &f["value"])
        .collect();
    assert_eq!(
        custom,
        [
            &json!("2027-01-31T00:00:00Z"),
            &json!("1.18.0"),
            &Value::Null,
            &Value::Null
        ],
        "the warranty date a person set is kept"
    );
    assert_eq!(c["vendorNotes"], "OS installed 2023-04-05");
    assert_eq!(
        c["tagNumber"], "ASSET-0001",
        "a field no rule names is never written"
    );
    w.finish().await;
}
