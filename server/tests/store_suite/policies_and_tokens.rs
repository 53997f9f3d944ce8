//! Policies, enrollment tokens and the bindings that colour a policy's icon.

use super::*;

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
            integration_id: bindery_server::ids::IntegrationId::FIRST,
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
                integration_id: bindery_server::ids::IntegrationId::FIRST,
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
