//! "Test connection" against the ConnectWise sandbox: success fetches what the admin chooses
//! from; each failure says precisely what is wrong.
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use std::time::Duration;

use bindery_server::integration::{QuestionAnswer, test_connection};
use bindery_shared::FactField;
use connectwise_client::{ClientConfig, Credentials, Error, PrivateKey, Site};
use connectwise_sandbox::faults::FixedFailure;
use connectwise_sandbox::{Faults, Seed};

fn config(site: &str, company: &str, private_key: &str) -> ClientConfig {
    let creds = Credentials {
        company_id: company.into(),
        public_key: "sandbox-public".into(),
        private_key: PrivateKey::new(private_key),
        client_id: "tests".into(),
    };
    let mut c = ClientConfig::new(Site::parse(site, true).unwrap(), creds);
    c.timeout = Duration::from_secs(5);
    c
}

fn client(site: &str, company: &str, private_key: &str) -> connectwise_client::Client {
    connectwise_client::Client::new(config(site, company, private_key)).unwrap()
}

#[tokio::test]
async fn a_working_connection_lists_boards_statuses_and_types() {
    let sb = connectwise_sandbox::spawn("127.0.0.1:0".parse().unwrap(), Seed::default_seed(), true)
        .await
        .unwrap();
    let catalog = test_connection(&client(&sb.url(), "bindery", "sandbox-private"))
        .await
        .unwrap();
    let boards: Vec<&str> = catalog.boards.iter().map(|b| b.name.as_str()).collect();
    assert_eq!(boards, ["Monitoring", "Self Service"]);
    assert!(
        catalog
            .boards
            .iter()
            .all(|b| b.statuses.iter().filter(|s| s.closed).count() == 1)
    );
    assert!(
        catalog
            .configuration_statuses
            .iter()
            .any(|s| s.name == "Inactive" && s.closed)
    );
    let firewall = catalog
        .configuration_types
        .iter()
        .find(|t| t.name == "Firewall")
        .unwrap();
    assert_eq!(firewall.required_questions, ["Rack location"]);
    assert!(firewall.refusal(&[]).unwrap().contains("Rack location"));
    let rack = QuestionAnswer {
        type_id: 3,
        question_id: 2,
        answer: "{serialNumber}".into(),
    };
    assert_eq!(
        firewall.refusal(std::slice::from_ref(&rack)),
        None,
        "answered, the type may be chosen"
    );
    assert_eq!(rack.fact(), Some(FactField::SerialNumber));
    let workstation = catalog
        .configuration_types
        .iter()
        .find(|t| t.name == "Managed Workstation")
        .unwrap();
    assert_eq!(
        workstation.refusal(&[]),
        None,
        "an optional question does not block a type"
    );
    assert_eq!(catalog.access.len(), 8);
    assert!(
        catalog
            .access
            .iter()
            .all(|a| a.granted && a.grant.is_none())
    );
    sb.stop().await;
}

#[tokio::test]
async fn the_test_names_each_security_area_refused_and_what_to_grant() {
    let sb = connectwise_sandbox::spawn("127.0.0.1:0".parse().unwrap(), Seed::default_seed(), true)
        .await
        .unwrap();
    let c = client(&sb.url(), "bindery", "sandbox-private");
    for (path, area, grant) in [
        ("/system/callbacks", "Callbacks", "System > Callbacks"),
        ("/company/contacts", "Contacts", "Companies > Contacts"),
        ("/time/entries", "Time entries", "Time Entry"),
    ] {
        sb.sandbox.set_faults(Faults {
            fail_with: Some(FixedFailure {
                status: 403,
                code: "Forbidden".into(),
                message: "You do not have access to this area".into(),
                location: None,
            }),
            only_path: Some(path.into()),
            ..Faults::default()
        });
        // The rest of the test still works; the one area is named with what to grant.
        let catalog = test_connection(&c).await.unwrap();
        let refused: Vec<_> = catalog.access.iter().filter(|a| !a.granted).collect();
        assert_eq!(refused.len(), 1, "{path}: {refused:?}");
        assert_eq!(refused[0].area, area);
        assert!(refused[0].grant.unwrap().contains(grant), "{refused:?}");
    }
    sb.stop().await;
}

#[tokio::test]
async fn each_failure_is_named_precisely() {
    let sb = connectwise_sandbox::spawn("127.0.0.1:0".parse().unwrap(), Seed::default_seed(), true)
        .await
        .unwrap();
    let err = test_connection(&client(&sb.url(), "bindery", "wrong"))
        .await
        .unwrap_err();
    assert_eq!(err, Error::Authentication);
    assert!(err.to_string().contains("401"));

    let err = test_connection(&client(&sb.url(), "nosuchco", "sandbox-private"))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Codebase { .. }), "{err:?}");

    sb.sandbox.set_faults(Faults {
        fail_with: Some(FixedFailure {
            status: 403,
            code: "Forbidden".into(),
            message: "Service Desk > Service Boards".into(),
            location: None,
        }),
        ..Faults::default()
    });
    let err = test_connection(&client(&sb.url(), "bindery", "sandbox-private"))
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("Service Desk > Service Boards"),
        "{err}"
    );

    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let err = test_connection(&client(&format!("http://127.0.0.1:{port}"), "bindery", "k"))
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::Network { .. }) && err.to_string().contains("cannot connect"),
        "{err}"
    );
    sb.stop().await;
}

#[tokio::test]
async fn choices_must_fit_what_connectwise_offers() {
    use bindery_server::integration::{
        BoardUse, Choices, CloseRule, TicketRules, TypeRuleChoice, choices, save_choices,
    };
    use bindery_server::store::Store;

    let sb = connectwise_sandbox::spawn("127.0.0.1:0".parse().unwrap(), Seed::default_seed(), true)
        .await
        .unwrap();
    let catalog = test_connection(&client(&sb.url(), "bindery", "sandbox-private"))
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open_in_dir(dir.path()).await.unwrap();
    // The sandbox's seed: Monitoring (1) New 1 / Closed 2, Self Service (2) New 3 / Closed 4;
    // configuration statuses Active 1, Inactive 2; types 1, 2, and 3 (Firewall, required question).
    let good = Choices {
        monitoring: BoardUse {
            board_id: 1,
            open_status_id: 1,
            closed_status_id: 2,
            close_rule: CloseRule::Always,
        },
        self_service: BoardUse {
            board_id: 2,
            open_status_id: 3,
            closed_status_id: 4,
            close_rule: CloseRule::default(),
        },
        active_status_id: 1,
        inactive_status_id: 2,
        default_type_id: 1,
        type_rules: vec![TypeRuleChoice {
            field: FactField::OsInfo,
            pattern: "Windows Server*".into(),
            type_id: 2,
        }],
        adoption: Default::default(),
        tickets: TicketRules {
            reopen_within_hours: 48,
            poll_minutes: 10,
            max_open_alerts: 50,
            max_open_help: 5,
        },
        answers: vec![QuestionAnswer {
            type_id: 3,
            question_id: 2,
            answer: "Rack 4".into(),
        }],
    };
    assert!(
        good.problems(&catalog).is_empty(),
        "{:?}",
        good.problems(&catalog)
    );
    save_choices(
        &store,
        bindery_server::ids::IntegrationId::FIRST,
        &catalog,
        &good,
    )
    .await
    .unwrap();
    assert_eq!(
        choices(&store, bindery_server::ids::IntegrationId::FIRST)
            .await
            .unwrap(),
        Some(good.clone())
    );
    assert_eq!(
        bindery_server::reconcile::plan::BindingSettings::from_choices(&good).type_rules[0].type_id,
        2
    );

    let bad = Choices {
        monitoring: BoardUse {
            board_id: 1,
            open_status_id: 2,
            closed_status_id: 3,
            close_rule: CloseRule::Never,
        },
        self_service: BoardUse {
            board_id: 9,
            open_status_id: 3,
            closed_status_id: 4,
            close_rule: CloseRule::default(),
        },
        active_status_id: 2,
        inactive_status_id: 1,
        default_type_id: 3,
        type_rules: vec![TypeRuleChoice {
            field: FactField::Name,
            pattern: " ".into(),
            type_id: 77,
        }],
        adoption: Default::default(),
        tickets: TicketRules {
            reopen_within_hours: 10_000,
            poll_minutes: 0,
            max_open_alerts: 0,
            max_open_help: 10,
        },
        answers: vec![
            QuestionAnswer {
                type_id: 3,
                question_id: 1,
                answer: "x".into(),
            },
            QuestionAnswer {
                type_id: 3,
                question_id: 2,
                answer: "{nonsense}".into(),
            },
        ],
    };
    let problems = bad.problems(&catalog).join("\n");
    for expected in [
        "monitoring open status \"Closed\" is a closed status",
        "monitoring closed status is not a status of \"Monitoring\"",
        "self-service board does not exist",
        "active configuration status \"Inactive\" is a closed one",
        "inactive configuration status \"Active\" is not a closed one",
        "{nonsense} names no fact",
        "question 1 of type 3: the type has no such required question",
        "rule 1: the configuration type does not exist",
        "rule 1: the pattern must be",
        "the reopen window is at most 720 hours",
        "polling runs every 1 to 1,440 minutes",
        "a device may have 1 to 1,000 open alerts",
    ] {
        assert!(
            problems.contains(expected),
            "missing {expected:?} in\n{problems}"
        );
    }
    assert!(
        save_choices(
            &store,
            bindery_server::ids::IntegrationId::FIRST,
            &catalog,
            &bad
        )
        .await
        .is_err()
    );
    assert_eq!(
        choices(&store, bindery_server::ids::IntegrationId::FIRST)
            .await
            .unwrap(),
        Some(good),
        "refused choices change nothing"
    );
    sb.stop().await;
}
