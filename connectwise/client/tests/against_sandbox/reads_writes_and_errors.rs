//! Reads, writes, and how ConnectWise's errors map to the client's.

use super::*;

#[tokio::test]
async fn discovery_and_system_info() {
    let sb = sandbox().await;
    let c = client(&sb);
    let info = c.company_info().await.unwrap();
    assert_eq!(info.codebase.as_deref(), Some("v4_6_release/"));
    let sys = c.system_info().await.unwrap();
    assert_eq!(sys.is_cloud, Some(false));
    // Every API call carried the headers the real API needs.
    let log = sb.sandbox.requests();
    assert_eq!(log.len(), 2);
    assert_eq!(log[1].path, "/v4_6_release/apis/3.0/system/info");
    sb.stop().await;
}

#[tokio::test]
async fn companies_are_searched_by_name_or_identifier() {
    let sb = sandbox().await;
    let c = client(&sb);
    let found = c.search_companies("acme", 25).await.unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].identifier, "Acme");
    assert_eq!(
        found[0].status.as_ref().and_then(|s| s.name.as_deref()),
        Some("Active")
    );
    assert_eq!(found[0].types[0].name.as_deref(), Some("Client"));
    assert_eq!(c.search_companies("Globex", 25).await.unwrap()[0].id, 3);
    // Characters that cannot be placed in a condition are searched around, then matched here.
    assert_eq!(
        c.search_companies("Müller & Söhne", 25).await.unwrap()[0].id,
        6
    );
    assert!(c.search_companies("O'Brien", 25).await.unwrap().is_empty());
    assert!(c.search_companies("\"", 25).await.unwrap().is_empty());
    assert_eq!(c.get_company(2).await.unwrap().name, "Acme Corporation");
    // Navigable paging with an order: two per page, followed through the Link header.
    let all = c
        .list_companies(&ListQuery::default().order_by("name desc").page_size(2))
        .await
        .unwrap();
    let names: Vec<&str> = all.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "Umbrella Health",
            "Müller & Söhne GmbH",
            "Initech",
            "Globex Inc",
            "Bindery MSP",
            "Acme Corporation"
        ]
    );
    sb.stop().await;
}

#[tokio::test]
async fn configuration_catalogues_are_read() {
    let sb = sandbox().await;
    let c = client(&sb);
    let types = c.configuration_types().await.unwrap();
    assert_eq!(types.len(), 3);
    let firewall = types.iter().find(|t| t.name == "Firewall").unwrap();
    let questions = c.configuration_type_questions(firewall.id).await.unwrap();
    assert_eq!(questions.len(), 1);
    assert_eq!(questions[0].required_flag, Some(true));
    let statuses = c.configuration_statuses().await.unwrap();
    assert!(
        statuses
            .iter()
            .any(|s| s.description == "Inactive" && s.closed_flag == Some(true))
    );
    let boards = c.boards().await.unwrap();
    assert_eq!(
        boards.iter().map(|b| b.name.as_str()).collect::<Vec<_>>(),
        ["Monitoring", "Self Service"]
    );
    for board in boards {
        let statuses = c.board_statuses(board.id).await.unwrap();
        assert_eq!(
            statuses
                .iter()
                .filter(|s| s.closed_status == Some(true))
                .count(),
            1
        );
    }
    sb.stop().await;
}

#[tokio::test]
async fn configurations_are_created_read_patched_and_counted() {
    let sb = sandbox().await;
    let c = client(&sb);
    let created = c
        .create_configuration(&device("web-01", 2, "agent-1"))
        .await
        .unwrap();
    let id = created.id.unwrap();
    assert_eq!(
        created.status.as_ref().and_then(|s| s.name.as_deref()),
        Some("Active")
    );
    assert_eq!(
        created
            .company
            .as_ref()
            .and_then(|r| r.identifier.as_deref()),
        Some("Acme")
    );
    assert_eq!(
        c.get_configuration(id)
            .await
            .unwrap()
            .device_identifier
            .as_deref(),
        Some("agent-1")
    );

    let patched = c
        .patch_configuration(
            id,
            &[
                PatchOp::replace_reference("status", 2),
                PatchOp::replace("ipAddress", "10.0.0.9"),
            ],
        )
        .await
        .unwrap();
    assert_eq!(patched.active_flag, Some(false));
    assert_eq!(patched.ip_address.as_deref(), Some("10.0.0.9"));

    c.create_configuration(&device("web-02", 2, "agent-2"))
        .await
        .unwrap();
    c.create_configuration(&device("db-01", 3, "agent-3"))
        .await
        .unwrap();
    let acme = ListQuery::filter(Condition::int("company/id", Op::Eq, 2).unwrap());
    assert_eq!(c.count_configurations(&acme).await.unwrap(), 2);
    assert_eq!(
        c.count_configurations(&ListQuery::default()).await.unwrap(),
        3
    );
    sb.stop().await;
}

/// One paged query per company, however many configurations it holds: forward-only pages of
/// 1,000 with only the asked-for fields.
#[tokio::test]
async fn a_large_company_is_read_in_pages_of_a_thousand() {
    let sb = sandbox().await;
    {
        let mut data = sb.sandbox.data();
        for i in 0..2345 {
            let company = if i % 5 == 0 { 3 } else { 2 };
            data.configurations.insert(json!({
                "name": format!("pc-{i}"), "type": {"id": 1, "name": "Managed Workstation"},
                "company": {"id": company}, "deviceIdentifier": format!("dev-{i}"), "ram": "8.0 GB",
            }));
        }
    }
    let c = client(&sb);
    let configs = c
        .company_configurations(2, "id,deviceIdentifier,name")
        .await
        .unwrap();
    assert_eq!(configs.len(), 1876);
    assert!(
        configs
            .iter()
            .all(|c| c.ram.is_none() && c.device_identifier.is_some()),
        "fields= was honoured"
    );
    let gets: Vec<_> = sb
        .sandbox
        .requests()
        .into_iter()
        .filter(|r| r.path.ends_with("/company/configurations"))
        .collect();
    assert_eq!(gets.len(), 2, "{gets:?}");
    assert!(
        gets[1].query.contains("pageId="),
        "forward-only paging follows pageId: {}",
        gets[1].query
    );
    sb.stop().await;
}

#[tokio::test]
async fn tickets_open_take_notes_and_configurations_and_close() {
    let sb = sandbox().await;
    let c = client(&sb);
    let config = c
        .create_configuration(&device("web-01", 2, "agent-1"))
        .await
        .unwrap();
    let ticket = c
        .create_ticket(&NewTicket {
            summary: "Disk /var 4% free on web-01".into(),
            company: Reference::id(2),
            board: Reference::id(1),
            status: Some(Reference::id(1)),
            initial_description: Some("4.2% free; threshold 10%".into()),
            external_x_ref: Some("bindery-alert-17".into()),
            contact_name: None,
            contact: Some(Reference::id(1)),
            site: Some(Reference::id(2)),
            // Routed: Alert / Disk / Server, High, from Monitoring (the sandbox's seed).
            kind: Some(Reference::id(1)),
            sub_type: Some(Reference::id(1)),
            item: Some(Reference::id(1)),
            priority: Some(Reference::id(2)),
            source: Some(Reference::id(3)),
            severity: Some("High".into()),
            impact: None,
        })
        .await
        .unwrap();
    assert_eq!(ticket.closed_flag, Some(false));
    // The company's sites, by name; a site of another company is refused on a ticket.
    let sites = c.company_sites(2).await.unwrap();
    let names: Vec<&str> = sites.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["Berlin Office", "Main", "Warehouse"]);
    assert_eq!(sites[1].primary_address_flag, Some(true));
    let elsewhere = c
        .create_ticket(&NewTicket {
            summary: "Printer".into(),
            company: Reference::id(2),
            board: Reference::id(2),
            site: Some(Reference::id(4)),
            ..NewTicket::default()
        })
        .await;
    assert!(
        matches!(
            &elsewhere,
            Err(connectwise_client::Error::Validation { .. })
        ),
        "{elsewhere:?}"
    );
    // A contact that does not exist is refused, as ConnectWise refuses it.
    let refused = c
        .create_ticket(&NewTicket {
            summary: "Printer".into(),
            company: Reference::id(2),
            board: Reference::id(2),
            contact: Some(Reference::id(999)),
            ..NewTicket::default()
        })
        .await;
    assert!(
        matches!(&refused, Err(connectwise_client::Error::Validation { .. })),
        "{refused:?}"
    );
    assert_eq!(
        ticket.board.as_ref().and_then(|b| b.name.as_deref()),
        Some("Monitoring")
    );
    let notes = c.ticket_notes(ticket.id).await.unwrap();
    assert_eq!(notes.len(), 1, "the initial description is the first note");
    assert_eq!(notes[0].text, "4.2% free; threshold 10%");

    let attached = c
        .attach_configuration(ticket.id, config.id.unwrap())
        .await
        .unwrap();
    assert_eq!(attached.device_identifier.as_deref(), Some("agent-1"));
    assert_eq!(
        c.ticket_configurations(ticket.id).await.unwrap(),
        vec![attached]
    );
    assert_eq!(
        c.find_tickets_by_external_ref("bindery-alert-17")
            .await
            .unwrap()[0]
            .id,
        ticket.id
    );

    c.add_ticket_note(ticket.id, "Resolved: 18% free", false)
        .await
        .unwrap();
    let closed = c.set_ticket_status(ticket.id, 2).await.unwrap();
    assert_eq!(closed.closed_flag, Some(true));
    assert_eq!(
        c.get_ticket(ticket.id).await.unwrap().closed_flag,
        Some(true)
    );
    assert_eq!(c.ticket_notes(ticket.id).await.unwrap().len(), 2);
    sb.stop().await;
}

#[tokio::test]
async fn wrong_keys_are_an_authentication_error() {
    let sb = sandbox().await;
    let c = Client::new(config_for(&sb.url(), "wrong-private")).unwrap();
    let err = c.system_info().await.unwrap_err();
    assert_eq!(err, Error::Authentication);
    assert!(!err.is_transient());
    assert!(!format!("{err} {err:?}").contains("wrong-private"));
    sb.stop().await;
}

#[tokio::test]
async fn a_wrong_company_id_is_a_codebase_error() {
    let sb = sandbox().await;
    let mut config = config_for(&sb.url(), "sandbox-private");
    config.credentials.company_id = "nosuchco".into();
    let err = Client::new(config)
        .unwrap()
        .system_info()
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Codebase { .. }), "{err:?}");
    sb.stop().await;
}

#[tokio::test]
async fn fixed_failures_map_to_forbidden_and_conflict() {
    let sb = sandbox().await;
    let c = client(&sb);
    c.company_info().await.unwrap(); // discover before the failures start
    c.system_info().await.unwrap();
    sb.sandbox.set_faults(Faults {
        fail_with: Some(FixedFailure {
            status: 403,
            code: "Forbidden".into(),
            message: "Company Maintenance".into(),
            location: None,
        }),
        ..Faults::default()
    });
    let err = c.get_company(2).await.unwrap_err();
    assert_eq!(
        err,
        Error::Forbidden {
            area: Some("Company Maintenance".into())
        }
    );
    assert!(err.to_string().contains("Company Maintenance"));
    sb.sandbox.set_faults(Faults {
        fail_with: Some(FixedFailure {
            status: 409,
            code: "Conflict".into(),
            message: "record in use".into(),
            location: None,
        }),
        ..Faults::default()
    });
    assert!(matches!(
        c.get_company(2).await.unwrap_err(),
        Error::Conflict { .. }
    ));
    sb.stop().await;
}

#[tokio::test]
async fn not_found_and_validation_errors_are_permanent_and_name_the_field() {
    let sb = sandbox().await;
    let c = client(&sb);
    let err = c.get_configuration(424242).await.unwrap_err();
    assert!(matches!(err, Error::NotFound { .. }), "{err:?}");
    assert!(!err.is_transient());

    let mut too_long = device(&"n".repeat(101), 2, "agent-9");
    too_long.mac_address = Some("AA:BB:CC:DD:EE:FF:00:11:22:33".into());
    let Error::Validation { errors, .. } = c.create_configuration(&too_long).await.unwrap_err()
    else {
        panic!()
    };
    let fields: Vec<_> = errors.iter().filter_map(|e| e.field.as_deref()).collect();
    assert_eq!(fields, ["macAddress", "name"]);

    let mut firewall = device("fw-01", 2, "agent-fw");
    firewall.kind = Some(Reference::id(3));
    let err = c.create_configuration(&firewall).await.unwrap_err();
    assert!(err.to_string().contains("Rack location"), "{err}");
    firewall.questions = vec![ConfigurationQuestion {
        question_id: Some(2),
        question: None,
        answer: Some(json!("Rack 4")),
    }];
    c.create_configuration(&firewall).await.unwrap();
    assert_eq!(
        sb.sandbox.data().configurations.len(),
        1,
        "only the valid one was stored"
    );
    sb.stop().await;
}

#[tokio::test]
async fn throttling_carries_retry_after_and_is_transient() {
    let sb = sandbox().await;
    let c = client(&sb);
    c.company_info().await.unwrap();
    sb.sandbox.set_faults(Faults {
        burst_429: 1,
        retry_after_secs: 7,
        ..Faults::default()
    });
    let err = c.system_info().await.unwrap_err();
    assert_eq!(
        err,
        Error::RateLimited {
            retry_after: Some(Duration::from_secs(7))
        }
    );
    assert!(err.is_transient());
    c.system_info().await.unwrap(); // the burst is over
    sb.sandbox.set_faults(Faults {
        rate_limit_per_minute: Some(2),
        retry_after_secs: 30,
        ..Faults::default()
    });
    c.system_info().await.unwrap();
    c.system_info().await.unwrap();
    assert_eq!(
        c.system_info().await.unwrap_err().retry_after(),
        Some(Duration::from_secs(30))
    );
    sb.stop().await;
}
