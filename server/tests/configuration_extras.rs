//! The configuration fields beside the facts, against the sandbox over HTTP: `managementLink`
//! points at the device's console page, and `contact` names the user's contact when exactly one
//! fits, follows a new user, and leaves a contact a person chose alone.
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use bindery_server::ids::{CompanyId, DeviceId};
use bindery_server::reconcile::{EngineConfig, queue};
use bindery_shared::FactField;
use serde_json::Value;

mod common;
use bindery_server::testkit::{World, agent_id, facts, world_with};

const ACME: i64 = 2;
const PUBLIC: &str = "https://bindery.example.net/";

async fn linked_world() -> World {
    world_with(EngineConfig {
        public_url: Some(PUBLIC.into()),
        ..EngineConfig::default()
    })
    .await
}

/// What these tests add to the test world.
trait ExtrasWorld {
    async fn device_used_by(&self, n: usize, login: &str) -> DeviceId;
    async fn new_user(&self, d: DeviceId, n: usize, login: &str);
    fn contact_reads(&self) -> usize;
}

impl ExtrasWorld for World {
    /// Device `n`, used by `login`, in a new policy linked to Acme.
    async fn device_used_by(&self, n: usize, login: &str) -> DeviceId {
        let policy = self.store.create_policy(&format!("p{n}")).await.unwrap();
        let mut f = facts(n, "Windows 11 Pro");
        f.set(FactField::LastLoginName, login);
        let d = self.enroll_with(policy.id, n, f).await;
        self.link(policy.id, Some((CompanyId(ACME), "Acme"))).await;
        self.settled().await;
        d
    }

    async fn new_user(&self, d: DeviceId, n: usize, login: &str) {
        let mut f = facts(n, "Windows 11 Pro");
        f.set(FactField::LastLoginName, login);
        f.set(FactField::DeviceIdentifier, agent_id(n));
        let json = serde_json::to_string(&f).unwrap();
        let hash = bindery_server::secrets::hash_secret(&json);
        self.store
            .record_facts(d, &json, &hash, "test")
            .await
            .unwrap();
        queue::device_changed(&self.store, d).await.unwrap();
        self.engine.wake();
        self.settled().await;
    }

    fn contact_reads(&self) -> usize {
        self.sb
            .sandbox
            .requests()
            .iter()
            .filter(|r| r.path.ends_with("/company/contacts"))
            .count()
    }
}

fn contact_id(config: &Value) -> Option<i64> {
    config["contact"]["id"].as_i64()
}

#[tokio::test]
async fn every_configuration_links_back_to_its_device_page() {
    let w = linked_world().await;
    let d = w.device_used_by(1, "nobody-here").await;
    let c = &w.configs(1)[0];
    assert_eq!(
        c["managementLink"],
        format!("https://bindery.example.net/console/devices/{d}")
    );
    // A person blanking it gets it back at the next re-sync; one that is right costs no write.
    let id = c["id"].as_i64().unwrap();
    assert!(w.sb.sandbox.data().configurations.update(id, |c| {
        c.as_object_mut().unwrap().remove("managementLink");
    }));
    w.resync(CompanyId(ACME)).await;
    assert_eq!(
        w.configs(1)[0]["managementLink"],
        format!("https://bindery.example.net/console/devices/{d}")
    );
    w.sb.sandbox.clear_requests();
    w.resync(CompanyId(ACME)).await;
    let methods: Vec<String> = w.requests().into_iter().map(|(m, _)| m).collect();
    assert_eq!(
        methods,
        ["GET"],
        "an unchanged company: one read, nothing written"
    );
    w.finish().await;
}

#[tokio::test]
async fn the_user_s_contact_is_set_follows_a_new_user_and_a_person_s_choice_stays() {
    let w = linked_world().await;
    // ACME\alima is Ana Lima's security identifier.
    let d = w.device_used_by(1, "ACME\\alima").await;
    let c = &w.configs(1)[0];
    assert_eq!(contact_id(c), Some(2));
    assert_eq!(c["contact"]["name"], "Ana Lima");
    // A new user: jane.doe@acme.example is Jane Doe's e-mail.
    w.new_user(d, 1, "jane.doe@acme.example").await;
    assert_eq!(contact_id(&w.configs(1)[0]), Some(1));
    // A person sets the contact by hand; re-syncs leave it (the user has not changed).
    let id = w.configs(1)[0]["id"].as_i64().unwrap();
    assert!(w.sb.sandbox.data().configurations.update(id, |c| {
        c["contact"] = serde_json::json!({"id": 3, "name": "John Smith"});
    }));
    w.resync(CompanyId(ACME)).await;
    assert_eq!(contact_id(&w.configs(1)[0]), Some(3));
    // j.smith fits John and Joan Smith: a new device gets no contact rather than a guess.
    let d2 = w.device_used_by(2, "CORP\\j.smith").await;
    assert_eq!(contact_id(&w.configs(2)[0]), None);
    // The admin's mapping settles it at the next change of user.
    w.store
        .put_setting(
            bindery_server::reconcile::contact_lookup::MANUAL,
            r#"[["j.smith", 4]]"#,
        )
        .await
        .unwrap();
    w.new_user(d2, 2, "j.smith").await;
    assert_eq!(contact_id(&w.configs(2)[0]), Some(4));
    // Contacts were read once for all of it (a copy is kept ten minutes).
    assert_eq!(w.contact_reads(), 1);
    w.finish().await;
}

#[tokio::test]
async fn without_a_public_url_no_link_is_written() {
    let w = world_with(EngineConfig::default()).await;
    w.device_used_by(1, "ACME\\alima").await;
    let c = &w.configs(1)[0];
    assert!(c.get("managementLink").is_none(), "{c}");
    assert_eq!(contact_id(c), Some(2));
    w.finish().await;
}
