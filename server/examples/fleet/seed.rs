//! The fleet as it stands before the benchmark: the sandbox's companies, one policy linked to
//! each, and every device enrolled through the store's own enrollment (the same rows, secrets
//! and facts hashes an HTTP enrollment makes, without 100,000 requests).

use bindery_server::demo::connect_to_sandbox;
use bindery_server::ids::{CompanyId, PolicyId};
use bindery_server::sealing::ServerKey;
use bindery_server::secrets::{hash_secret, random_secret};
use bindery_server::store::{NewDevice, Store, facts_for_storage};
use bindery_shared::{DeviceFacts, FactField};
use connectwise_sandbox::Seed;
use serde_json::json;

/// The first of the benchmark's companies in the sandbox (below are the seed's own).
const FIRST_COMPANY: i64 = 1000;

/// One simulated machine: what its agent keeps (its agent id and secret).
pub struct Agent {
    pub agent_id: String,
    pub authorization: String,
}

/// The sandbox's seed plus `companies` companies for the fleet.
pub fn sandbox_seed(companies: usize) -> Seed {
    let mut seed = Seed::default_seed();
    for n in 0..companies {
        let id = FIRST_COMPANY + n as i64;
        seed.companies.push(json!({
            "id": id, "identifier": format!("Fleet{n:03}"), "name": format!("Fleet customer {n:03}"),
            "status": { "id": 1, "name": "Active" }, "types": [{ "id": 1, "name": "Client" }],
            "deletedFlag": false
        }));
    }
    seed
}

/// Device `i`'s facts after `version` changes: only the signed-in user changes (the fact that
/// changes most often in a fleet), so every version is a ConnectWise write.
pub fn facts(i: usize, version: u64) -> DeviceFacts {
    let mut f = DeviceFacts::default();
    let windows = !i.is_multiple_of(4);
    f.set(FactField::Name, format!("fleet-{i:06}"));
    f.set(FactField::SerialNumber, format!("FS{i:08}"));
    f.set(
        FactField::MacAddress,
        format!(
            "02:42:00:{:02X}:{:02X}:{:02X}",
            i >> 16 & 0xff,
            i >> 8 & 0xff,
            i & 0xff
        ),
    );
    f.set(
        FactField::IpAddress,
        format!("10.{}.{}.{}", i >> 16 & 0xff, i >> 8 & 0xff, i & 0xff),
    );
    f.set(FactField::OsType, if windows { "Windows" } else { "Linux" });
    f.set(
        FactField::OsInfo,
        if windows {
            "Windows 11 Pro 23H2 (build 22631)"
        } else {
            "Ubuntu 24.04.1 LTS"
        },
    );
    f.set(FactField::CpuSpeed, "2.60 GHz");
    f.set(FactField::Ram, "16.0 GB");
    let user = match version {
        0 => format!("CORP\\user{i}"),
        v => format!("CORP\\user{i}-{v}"),
    };
    f.set(FactField::LastLoginName, user);
    f
}

/// Points the store at the sandbox, makes one policy per company, linked, and enrolls
/// `devices` machines spread evenly over them; returns their credentials.
pub async fn fleet(
    store: &Store,
    key: &ServerKey,
    sandbox_url: &str,
    companies: usize,
    devices: usize,
) -> Vec<Agent> {
    connect_to_sandbox(store, key, sandbox_url)
        .await
        .expect("the sandbox accepts the settings");
    let mut policies: Vec<PolicyId> = Vec::with_capacity(companies);
    for n in 0..companies {
        let policy = store
            .create_policy(&format!("Fleet customer {n:03}"))
            .await
            .expect("a policy");
        let company = CompanyId(FIRST_COMPANY + n as i64);
        store
            .link_policy(
                policy.id,
                Some((company, &format!("Fleet customer {n:03}"))),
            )
            .await
            .expect("a link");
        policies.push(policy.id);
    }
    let mut agents = Vec::with_capacity(devices);
    for i in 0..devices {
        let agent_id = format!("fleet-agent-{i:06}");
        let secret = random_secret("").expect("randomness");
        let facts = facts(i, 0);
        let clean = facts.clone().normalized();
        let (json, hash) = facts_for_storage(facts, &agent_id).expect("facts encode");
        store
            .enroll_device(&NewDevice {
                agent_id: &agent_id,
                serial: clean.serial_number.as_deref(),
                mac: clean.mac_address.as_deref(),
                name: clean.name.as_deref(),
                // Device i in company i / (devices / companies): 200 to a company.
                policy_id: policies[i * companies / devices],
                facts_json: &json,
                facts_hash: &hash,
                agent_version: crate::AGENT_VERSION,
                secret_hash: &hash_secret(&secret),
                proven: false,
                auto_approve_silent_ms: None,
            })
            .await
            .expect("an enrollment");
        agents.push(Agent {
            authorization: format!("Bearer {agent_id}.{secret}"),
            agent_id,
        });
    }
    agents
}
