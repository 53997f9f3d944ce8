//! Agreements, additions, covered configurations and products, against the sandbox.

use super::*;
use connectwise_client::model::Addition;

#[tokio::test]
async fn agreements_additions_and_covered_configurations() {
    let sb = sandbox().await;
    let c = client(&sb);
    // Acme's agreements that are not cancelled, the child one included, by name.
    let agreements = c.company_agreements(2).await.unwrap();
    let names: Vec<&str> = agreements.iter().map(|a| a.name.as_str()).collect();
    assert_eq!(names, ["Acme Berlin Office", "Acme Managed Services"]);
    assert_eq!(
        agreements[0].parent_agreement.as_ref().and_then(|p| p.id),
        Some(1)
    );
    let server = c.catalog_item("MANAGED-SRV").await.unwrap().unwrap();
    assert_eq!(server.id, 2);
    assert!(
        c.catalog_item("MANAGED-LEGACY").await.unwrap().is_none(),
        "inactive"
    );

    let made = c
        .add_addition(
            1,
            &Addition {
                product: Reference::id(server.id),
                quantity: Some(3.0),
                bill_customer: "Billable".into(),
                ..Addition::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(made.billed_quantity, Some(0.0));
    let id = made.id.unwrap();
    let changed = c.set_addition_quantity(1, id, 4.0).await.unwrap();
    assert_eq!(changed.quantity, Some(4.0));
    let all = c.agreement_additions(1).await.unwrap();
    assert_eq!(all.len(), 2, "{all:?}");
    // A product that is not in the catalog is ConnectWise's refusal, with the field.
    let refused = c
        .add_addition(
            1,
            &Addition {
                product: Reference::id(99),
                bill_customer: "Billable".into(),
                ..Addition::default()
            },
        )
        .await;
    assert!(
        matches!(&refused, Err(Error::Validation { .. })),
        "{refused:?}"
    );

    let config = c
        .create_configuration(&device("web-01", 2, "agent-1"))
        .await
        .unwrap();
    let config_id = config.id.unwrap();
    c.cover_configuration(1, config_id).await.unwrap();
    let covered = c.covered_configurations(1).await.unwrap();
    assert_eq!(
        covered.iter().filter_map(|r| r.id).collect::<Vec<_>>(),
        [config_id]
    );
    c.uncover_configuration(1, config_id).await.unwrap();
    assert!(c.covered_configurations(1).await.unwrap().is_empty());
    sb.stop().await;
}

#[tokio::test]
async fn a_board_s_routing_and_the_priorities_and_sources_are_read() {
    let sb = sandbox().await;
    let c = client(&sb);
    let names = |l: Vec<connectwise_client::model::Lookup>| -> Vec<String> {
        l.into_iter().map(|l| l.name).collect()
    };
    let types = c.board_lookups(1, BoardLookup::Types).await.unwrap();
    assert_eq!(names(types), ["Alert", "Maintenance"]);
    let items = c.board_lookups(1, BoardLookup::Items).await.unwrap();
    assert_eq!(names(items), ["Server", "Workstation"]);
    let subtypes = c.board_lookups(2, BoardLookup::Subtypes).await.unwrap();
    assert_eq!(names(subtypes), ["Hardware", "Software"]);
    let allowed = c.board_associations(1).await.unwrap();
    assert!(allowed.iter().any(|a| {
        a.kind.as_ref().and_then(|k| k.id) == Some(1)
            && a.sub_type.as_ref().and_then(|s| s.id) == Some(1)
            && a.item.as_ref().and_then(|i| i.id) == Some(2)
    }));
    assert_eq!(c.priorities().await.unwrap().len(), 4);
    assert_eq!(
        names(c.sources().await.unwrap()),
        ["Email", "Monitoring", "Phone"]
    );
    sb.stop().await;
}
