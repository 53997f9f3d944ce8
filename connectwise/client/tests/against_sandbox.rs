//! The client against the sandbox, over real HTTP on loopback: every operation Bindery uses and
//! every error class.
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use std::time::Duration;

use connectwise_client::conditions::{Condition, Op};
use connectwise_client::*;
use connectwise_sandbox::faults::FixedFailure;
use connectwise_sandbox::{Faults, Running, Seed};
use serde_json::json;

async fn sandbox() -> Running {
    connectwise_sandbox::spawn("127.0.0.1:0".parse().unwrap(), Seed::default_seed(), true)
        .await
        .unwrap()
}

fn config_for(site: &str, private_key: &str) -> ClientConfig {
    let creds = Credentials {
        company_id: "bindery".into(),
        public_key: "sandbox-public".into(),
        private_key: PrivateKey::new(private_key),
        client_id: "3f1b2c4d-bindery-tests".into(),
    };
    let mut config = ClientConfig::new(Site::parse(site, true).unwrap(), creds);
    config.requests_per_minute = 1_000_000; // the limiter has its own tests
    config.timeout = Duration::from_secs(5);
    config
}

/// How many codebase lookups (`/login/companyinfo`) the sandbox has answered.
fn codebase_lookups(sb: &Running) -> usize {
    sb.sandbox
        .requests()
        .iter()
        .filter(|r| r.path.starts_with("/login/companyinfo"))
        .count()
}

fn client(sb: &Running) -> Client {
    Client::new(config_for(&sb.url(), "sandbox-private")).unwrap()
}

fn device(name: &str, company: i64, id: &str) -> Configuration {
    Configuration {
        name: Some(name.into()),
        kind: Some(Reference::id(1)),
        company: Some(Reference::id(company)),
        device_identifier: Some(id.into()),
        serial_number: Some(format!("SN-{id}")),
        ram: Some("16.0 GB".into()),
        ..Configuration::default()
    }
}

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
        })
        .await
        .unwrap();
    assert_eq!(ticket.closed_flag, Some(false));
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

// ---- error classes ----

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

#[tokio::test]
async fn server_errors_timeouts_and_lost_replies_are_transient() {
    let sb = sandbox().await;
    let mut config = config_for(&sb.url(), "sandbox-private");
    config.timeout = Duration::from_millis(400);
    let c = Client::new(config).unwrap();
    c.company_info().await.unwrap();

    sb.sandbox.set_faults(Faults {
        error_rate: 1.0,
        ..Faults::default()
    });
    let err = c.system_info().await.unwrap_err();
    assert!(
        matches!(err, Error::Server { status: 500, .. }) && err.is_transient(),
        "{err:?}"
    );

    sb.sandbox.set_faults(Faults {
        timeout_rate: 1.0,
        hang_ms: 3_000,
        ..Faults::default()
    });
    let err = c.system_info().await.unwrap_err();
    assert_eq!(err, Error::Timeout);

    sb.stop().await;
}

/// The write happens, the reply never arrives: the hardest case for duplicates.
#[tokio::test]
async fn a_lost_reply_is_transient_though_the_write_happened() {
    let sb = sandbox().await;
    let c = client(&sb);
    c.company_info().await.unwrap();
    sb.sandbox.set_faults(Faults {
        lost_reply_rate: 1.0,
        ..Faults::default()
    });
    let err = c
        .create_configuration(&device("lost", 2, "agent-lost"))
        .await
        .unwrap_err();
    assert!(err.is_transient(), "{err:?}");
    let log = sb.sandbox.requests();
    let post = log.iter().find(|r| r.method == "POST").unwrap();
    assert_eq!((post.status, post.fault), (201, Some("lost-reply")));
    sb.sandbox.set_faults(Faults::default());
    let q = ListQuery::filter(Condition::text("deviceIdentifier", Op::Eq, "agent-lost").unwrap());
    assert_eq!(
        c.count_configurations(&q).await.unwrap(),
        1,
        "ConnectWise holds it even so"
    );
    sb.stop().await;
}

#[tokio::test]
async fn an_unreachable_site_is_a_network_error() {
    // Bind then drop a listener: the port is free and refuses connections.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let c = Client::new(config_for(&format!("http://127.0.0.1:{port}"), "k")).unwrap();
    let err = c.system_info().await.unwrap_err();
    assert!(
        matches!(err, Error::Network { .. }) && err.is_transient(),
        "{err:?}"
    );
}

#[tokio::test]
async fn unsafe_condition_values_are_refused_before_anything_is_sent() {
    let sb = sandbox().await;
    let c = client(&sb);
    let err = c
        .find_tickets_by_external_ref("x\" or id > 0 or externalXRef=\"")
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Condition(_)), "{err:?}");
    assert!(
        sb.sandbox.requests().is_empty(),
        "nothing reached ConnectWise"
    );
    sb.stop().await;
}

#[tokio::test]
async fn a_404_on_a_discovered_codebase_discovers_it_again() {
    let sb = sandbox().await;
    let c = client(&sb);
    // A missing record is a real 404: the codebase is looked up once more, found unchanged, and
    // the 404 stands.
    assert!(matches!(
        c.get_ticket(99).await.unwrap_err(),
        Error::NotFound { .. }
    ));
    let companyinfo = codebase_lookups(&sb);
    assert_eq!(companyinfo, 2);
    sb.stop().await;
}

/// A site that answers every request with a 302 to another loopback port: the client follows
/// none of them (they would carry the keys or the clientId anywhere), and says where it led.
#[tokio::test]
async fn redirects_are_never_followed() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let elsewhere = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let elsewhere_port = elsewhere.local_addr().unwrap().port();
    let reached = Arc::new(AtomicUsize::new(0));
    let counter = reached.clone();
    tokio::spawn(async move {
        while let Ok((mut s, _)) = elsewhere.accept().await {
            counter.fetch_add(1, Ordering::SeqCst);
            let _ = s
                .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 19\r\n\r\n{\"signing_key\":\"k\"}")
                .await;
        }
    });
    let site = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let site_port = site.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((mut s, _)) = site.accept().await {
            tokio::spawn(async move {
                let mut buf = vec![0u8; 8192];
                let mut got = Vec::new();
                while !got.windows(4).any(|w| w == b"\r\n\r\n") {
                    match s.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => got.extend_from_slice(&buf[..n]),
                    }
                }
                let answer = format!(
                    "HTTP/1.1 302 Found\r\nlocation: http://127.0.0.1:{elsewhere_port}/stolen\r\n\
                     content-length: 0\r\n\r\n"
                );
                let _ = s.write_all(answer.as_bytes()).await;
            });
        }
    });
    let site_url = format!("http://127.0.0.1:{site_port}");
    let c = Client::new(config_for(&site_url, "sandbox-private")).unwrap();
    let key_url = format!("{site_url}/v4_6_release/apis/3.0/callbackkey");
    for err in [
        c.callback_signing_key(&key_url).await.unwrap_err(),
        c.company_info().await.unwrap_err(),
        c.system_info().await.unwrap_err(),
    ] {
        match &err {
            Error::Redirected { status, to } => {
                assert_eq!(
                    (*status, to.as_str()),
                    (302, format!("127.0.0.1:{elsewhere_port}").as_str())
                );
            }
            other => panic!("not refused as a redirect: {other:?}"),
        }
        assert!(!err.is_transient(), "a person must fix the site address");
    }
    assert_eq!(
        reached.load(Ordering::SeqCst),
        0,
        "nothing reached the other port"
    );
}

/// The jobs that start together after a restart share one codebase lookup.
#[tokio::test]
async fn many_first_requests_share_one_codebase_lookup() {
    let sb = sandbox().await;
    let c = client(&sb);
    let mut calls = tokio::task::JoinSet::new();
    for _ in 0..20 {
        let c = c.clone();
        calls.spawn(async move { c.system_info().await.map(|_| ()) });
    }
    for r in calls.join_all().await {
        r.unwrap();
    }
    let companyinfo = codebase_lookups(&sb);
    assert_eq!(companyinfo, 1);
    sb.stop().await;
}
