//! A server from before several ConnectWise instances (schema version 20), populated as it
//! would be, upgrades in place: its settings become the first integration, and nothing it
//! recorded (links, bindings, tickets, billing, queued jobs, the sealed private key) is lost.

use super::*;
use bindery_server::ids::IntegrationId;
use bindery_server::sealing::ServerKey;

const FIRST: IntegrationId = IntegrationId::FIRST;

/// What a version-20 server wrote, in its own schema.
const POPULATED: &[&str] = &[
    "INSERT INTO policies (id, name, cw_company_id, cw_company_name, created_ms, updated_ms) \
     VALUES (1, 'Linked', 250, 'Acme', 1, 1)",
    "INSERT INTO policies (id, name, created_ms, updated_ms) VALUES (2, 'Unlinked', 1, 1)",
    "INSERT INTO devices (id, agent_id, secret_hash, policy_id, facts_json, facts_hash, \
     agent_version, enrolled_ms, last_seen_ms) VALUES (1, 'agent-1', 'x', 1, '{\"name\":\"ws-1\"}', 'h', 'v', 1, 1)",
    "INSERT INTO bindings (device_id, state, company_id, configuration_id, updated_ms) \
     VALUES (1, 'bound', 250, 900, 1)",
    "INSERT INTO tickets (device_id, board, company_id, summary, description, state, \
     cw_ticket_id, created_ms, updated_ms) VALUES (1, 'monitoring', 250, 'Disk', 'Full', 'open', 77, 1, 1)",
    "INSERT INTO policy_billing (policy_id, company_id, agreement_id, agreement_name, \
     workstation_product_id, workstation_product, bill_customer, updated_ms) \
     VALUES (1, 250, 7, 'Managed', 1, 'MANAGED-WS', 'Billable', 1)",
    "INSERT INTO billed_additions (agreement_id, product_id, product, addition_id, quantity, \
     month, month_high) VALUES (7, 1, 'MANAGED-WS', 40, 3, '2026-12', 3)",
    "INSERT INTO jobs (kind, dedupe_key, payload, state, run_after_ms, created_ms, updated_ms) \
     VALUES ('cw.sync_company', 'sync:250', '{\"companyId\":250}', 'queued', 0, 1, 1)",
];

async fn upgrades_without_loss(location: &str, dir: &std::path::Path) {
    let key = ServerKey::load_or_create(&dir.join("server.key")).unwrap();
    let old = Store::open_as_of(location, 20).await.unwrap();
    for sql in POPULATED {
        sqlx::query(sqlx::AssertSqlSafe(*sql))
            .execute(old.pool())
            .await
            .unwrap();
    }
    let credentials = r#"{"site":"http://127.0.0.1:9","companyId":"acme","publicKey":"pub","clientId":"c","allowHttp":true}"#;
    old.put_setting("cw.credentials", credentials)
        .await
        .unwrap();
    old.put_setting(
        "cw.private_key",
        &key.seal("cw.private_key", "the-private-key").unwrap(),
    )
    .await
    .unwrap();
    old.pool().close().await;

    let store = Store::open(location).await.unwrap();
    let all = store.integrations().await.unwrap();
    assert_eq!(all.len(), 1, "{all:?}");
    assert_eq!((all[0].id, all[0].linked_policies), (FIRST, 1));
    let config = bindery_server::integration::client_config(&store, &key, FIRST)
        .await
        .unwrap();
    assert_eq!(config.credentials.private_key.expose(), "the-private-key");
    assert_eq!(config.credentials.company_id, "acme");

    let linked = store.policy(PolicyId(1)).await.unwrap();
    assert_eq!(
        (linked.cw_integration_id, linked.cw_company_id),
        (Some(FIRST), Some(CompanyId(250)))
    );
    assert_eq!(
        store.policy(PolicyId(2)).await.unwrap().cw_integration_id,
        None
    );
    let b = store.binding(DeviceId(1)).await.unwrap().unwrap();
    assert_eq!(
        (b.integration_id, b.configuration_id),
        (FIRST, Some(ConfigurationId(900)))
    );
    let t = store.ticket_by_cw_id(FIRST, 77).await.unwrap().unwrap();
    assert_eq!(
        store.ticket(t).await.unwrap().unwrap().integration_id,
        FIRST
    );
    assert_eq!(
        store.ticket_by_cw_id(IntegrationId(2), 77).await.unwrap(),
        None
    );
    let billing = store.policy_billing(PolicyId(1)).await.unwrap().unwrap();
    assert_eq!((billing.integration_id, billing.agreement_id), (FIRST, 7));
    let additions = store.billed_additions(Some((FIRST, 7))).await.unwrap();
    assert_eq!(additions.len(), 1);
    assert_eq!(
        (additions[0].addition_id, additions[0].month_high),
        (Some(40), Some(3))
    );
    assert_eq!(
        store.companies_to_sync().await.unwrap(),
        [(FIRST, CompanyId(250))]
    );
    // The job an older server queued still reads as the first integration's.
    let leased = store.lease_jobs("w", now_ms(), 60_000, 10).await.unwrap();
    let work = bindery_server::reconcile::jobs::Work::from_job(&leased[0].kind, &leased[0].payload)
        .unwrap();
    assert_eq!(
        work,
        bindery_server::reconcile::jobs::SyncCompany {
            integration: FIRST,
            company_id: CompanyId(250)
        }
        .into()
    );

    // A second instance: ids of its own, and the same agreement id there is another addition.
    let second = store.create_integration("Acquired").await.unwrap();
    assert_eq!(second.id, IntegrationId(2));
    assert!(
        store.create_integration(" Acquired ").await.is_err(),
        "names are unique"
    );
    store
        .link_policy_at(
            PolicyId(2),
            Some((second.id, CompanyId(250), "Acme (acquired)")),
            None,
        )
        .await
        .unwrap();
    store
        .set_policy_billing(&bindery_server::store::PolicyBilling {
            integration_id: second.id,
            policy_id: PolicyId(2),
            ..billing
        })
        .await
        .unwrap();
    assert_eq!(store.billed_additions(None).await.unwrap().len(), 2);
    assert_eq!(
        store.billed_agreements().await.unwrap(),
        [(FIRST, 7), (second.id, 7)]
    );
    let refused = store.delete_integration(second.id, &[]).await;
    assert!(
        matches!(&refused, Err(StoreError::Conflict(m)) if m.contains("linked")),
        "{refused:?}"
    );
}

#[tokio::test]
async fn a_populated_sqlite_database_upgrades_to_integrations_without_loss() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bindery.db");
    upgrades_without_loss(path.to_str().unwrap(), dir.path()).await;
}

#[tokio::test]
async fn a_populated_postgres_database_upgrades_to_integrations_without_loss() {
    let dir = tempfile::tempdir().unwrap();
    upgrades_without_loss(&crate::common::fresh_postgres_url().await, dir.path()).await;
}
