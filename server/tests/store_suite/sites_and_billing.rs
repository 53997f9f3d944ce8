//! A link's site, and billing by device count: what the store keeps for them.

use super::*;
use bindery_server::store::{
    BilledAddition, Binding, BindingState, PolicyBilling, Product, SiteRef,
};

on_both!(
    a_link_keeps_its_site_until_linked_without_one_or_unlinked,
    |store: Store| async move {
        let p = store.create_policy("P").await.unwrap();
        let berlin = SiteRef {
            id: 2,
            name: "Berlin Office".into(),
        };
        let linked = store
            .link_policy_at(
                p.id,
                Some((
                    bindery_server::ids::IntegrationId::FIRST,
                    CompanyId(2),
                    "Acme",
                )),
                Some(&berlin),
            )
            .await
            .unwrap();
        assert_eq!(linked.cw_site, Some(berlin.clone()));
        assert_eq!(
            store.policy(p.id).await.unwrap().cw_site,
            Some(berlin.clone())
        );
        let d = store
            .enroll_device(&new_device("agent-a", None, p.id, "{}", "h"))
            .await
            .unwrap()
            .device()
            .id;
        assert_eq!(
            store.device_target(d).await.unwrap().unwrap().site_id,
            Some(2)
        );
        let again = store
            .link_policy(p.id, Some((CompanyId(2), "Acme")))
            .await
            .unwrap();
        assert_eq!(again.cw_site, None);
        store
            .link_policy_at(
                p.id,
                Some((
                    bindery_server::ids::IntegrationId::FIRST,
                    CompanyId(2),
                    "Acme",
                )),
                Some(&berlin),
            )
            .await
            .unwrap();
        // Unlinking drops the site with the company, whatever was passed.
        let unlinked = store
            .link_policy_at(p.id, None, Some(&berlin))
            .await
            .unwrap();
        assert_eq!((unlinked.cw_company_id, unlinked.cw_site), (None, None));
    }
);

on_both!(
    billing_counts_bound_devices_of_billed_policies_and_keeps_its_additions,
    |store: Store| async move {
        let p = store.create_policy("P").await.unwrap();
        let other = store.create_policy("Not billed").await.unwrap();
        store
            .link_policy(p.id, Some((CompanyId(2), "Acme")))
            .await
            .unwrap();
        let mut devices = Vec::new();
        for (n, policy) in [(1, p.id), (2, p.id), (3, p.id), (4, other.id)] {
            let facts = format!(r#"{{"osInfo":"Windows {n}"}}"#);
            let d = store
                .enroll_device(&new_device(
                    &format!("agent-{n}"),
                    None,
                    policy,
                    &facts,
                    "h",
                ))
                .await
                .unwrap()
                .device()
                .id;
            devices.push(d);
        }
        let bound = |device_id: DeviceId, company: i64, state: BindingState| Binding {
            integration_id: bindery_server::ids::IntegrationId::FIRST,
            device_id,
            state,
            company_id: Some(CompanyId(company)),
            configuration_id: Some(ConfigurationId(device_id.0 + 100)),
            error: None,
            updated_ms: 0,
            write_started_ms: None,
            candidates: Vec::new(),
        };
        // Bound in the company: counts. Failed, bound elsewhere, or in another policy: not.
        store
            .set_binding(&bound(devices[0], 2, BindingState::Bound))
            .await
            .unwrap();
        store
            .set_binding(&bound(devices[1], 2, BindingState::Failed))
            .await
            .unwrap();
        store
            .set_binding(&bound(devices[2], 3, BindingState::Bound))
            .await
            .unwrap();
        store
            .set_binding(&bound(devices[3], 2, BindingState::Bound))
            .await
            .unwrap();
        let ws = Product {
            id: 1,
            identifier: "MANAGED-WS".into(),
        };
        let billing = PolicyBilling {
            policy_id: p.id,
            integration_id: bindery_server::ids::IntegrationId::FIRST,
            company_id: CompanyId(2),
            agreement_id: 7,
            agreement_name: "Acme Managed Services".into(),
            workstation_product: Some(ws.clone()),
            server_product: None,
            bill_customer: "Billable".into(),
            cover_configurations: true,
        };
        store.set_policy_billing(&billing).await.unwrap();
        store.set_policy_billing(&billing).await.unwrap();
        assert_eq!(
            store.policy_billing(p.id).await.unwrap(),
            Some(billing.clone())
        );
        assert_eq!(
            store
                .agreement_billing(bindery_server::ids::IntegrationId::FIRST, 7)
                .await
                .unwrap(),
            std::slice::from_ref(&billing)
        );
        assert_eq!(
            store.billed_agreements().await.unwrap(),
            [(bindery_server::ids::IntegrationId::FIRST, 7)]
        );
        let counted = store
            .billed_devices(bindery_server::ids::IntegrationId::FIRST, 7)
            .await
            .unwrap();
        assert_eq!(counted.len(), 1, "{counted:?}");
        assert_eq!(counted[0].policy_id, p.id);
        assert_eq!(
            counted[0].configuration_id,
            Some(ConfigurationId(devices[0].0 + 100))
        );
        assert_eq!(
            counted[0].facts.get(bindery_shared::FactField::OsInfo),
            Some("Windows 1")
        );

        // One record per (agreement, product), kept across settings saved again.
        let recs = store
            .billed_additions(Some((bindery_server::ids::IntegrationId::FIRST, 7)))
            .await
            .unwrap();
        assert_eq!(recs.len(), 1);
        let rec = BilledAddition {
            addition_id: Some(40),
            quantity: Some(1),
            written_ms: Some(5),
            held_quantity: Some(0),
            held_reason: Some("a drop".into()),
            ..recs[0].clone()
        };
        store.record_billed_addition(&rec).await.unwrap();
        store.set_policy_billing(&billing).await.unwrap();
        assert_eq!(store.billed_additions(None).await.unwrap(), [rec]);
        assert!(
            store
                .billed_additions(Some((bindery_server::ids::IntegrationId::FIRST, 8)))
                .await
                .unwrap()
                .is_empty()
        );

        assert_eq!(
            store.clear_policy_billing(p.id).await.unwrap(),
            Some((bindery_server::ids::IntegrationId::FIRST, 7))
        );
        assert_eq!(store.clear_policy_billing(p.id).await.unwrap(), None);
        assert!(store.billed_agreements().await.unwrap().is_empty());
        // The record stays: Bindery never loses track of an addition it made.
        assert_eq!(
            store
                .billed_additions(Some((bindery_server::ids::IntegrationId::FIRST, 7)))
                .await
                .unwrap()
                .len(),
            1
        );
    }
);

on_both!(
    what_bindery_wrote_into_mapped_fields_outlives_binding_records,
    |store: Store| async move {
        use bindery_server::store::WrittenFields;
        let p = store.create_policy("P").await.unwrap();
        let d = store
            .enroll_device(&new_device("agent-w", None, p.id, "{}", "h"))
            .await
            .unwrap()
            .device()
            .id;
        let target = || async { store.device_target(d).await.unwrap().unwrap() };
        assert_eq!(target().await.written, WrittenFields::default());
        store.mark_write_started(d, now_ms()).await.unwrap();
        let written = WrittenFields {
            configuration_id: Some(ConfigurationId(7)),
            fields: [("modelNumber".to_owned(), "Latitude 7420".to_owned())].into(),
        };
        store.remember_written(d, &written).await.unwrap();
        assert_eq!(target().await.written, written);
        // A new binding record (the write's outcome) keeps what was written.
        let bound = Binding {
            device_id: d,
            state: BindingState::Bound,
            integration_id: bindery_server::ids::IntegrationId::FIRST,
            company_id: Some(CompanyId(2)),
            configuration_id: Some(ConfigurationId(7)),
            error: None,
            updated_ms: now_ms(),
            write_started_ms: None,
            candidates: Vec::new(),
        };
        store.set_binding(&bound).await.unwrap();
        assert_eq!(target().await.written, written);
    }
);
