//! The planner's unit tests: one device, every situation it can meet.

use super::*;
use crate::ids::{CompanyId, ConfigurationId};

static NO_EXTRAS: Extras = Extras {
    management_link: None,
    contact_id: None,
    site_id: None,
    mapped: Vec::new(),
    custom_fields: Vec::new(),
    written_in: None,
};

const ACTIVE: i64 = 1;
const INACTIVE: i64 = 2;

fn settings() -> BindingSettings {
    BindingSettings {
        active_status_id: ACTIVE,
        inactive_status_id: INACTIVE,
        default_type_id: 10,
        type_rules: vec![
            TypeRule {
                field: FactField::OsInfo,
                pattern: "Windows Server*".into(),
                type_id: 20,
            },
            TypeRule {
                field: FactField::Name,
                pattern: "*-fw-*".into(),
                type_id: 30,
            },
        ],
        adoption: AdoptionSettings::default(),
        answers: vec![
            crate::integration::QuestionAnswer {
                type_id: 30,
                question_id: 2,
                answer: "{serialNumber}".into(),
            },
            crate::integration::QuestionAnswer {
                type_id: 30,
                question_id: 5,
                answer: " Rack 4 ".into(),
            },
        ],
        field_map: Default::default(),
    }
}

#[test]
fn a_type_s_answers_are_fixed_texts_or_the_device_s_facts() {
    let s = settings();
    let written = [(FactField::SerialNumber, "SN-1".to_owned())];
    assert_eq!(
        s.answers_for(30, &written),
        [(2, "SN-1".to_owned()), (5, "Rack 4".to_owned())]
    );
    assert_eq!(
        s.answers_for(30, &[]),
        [(2, "unknown".to_owned()), (5, "Rack 4".to_owned())],
        "a fact the device does not report"
    );
    assert!(
        s.answers_for(10, &written).is_empty(),
        "another type asks nothing"
    );
}

fn facts(name: &str, os_info: &str) -> DeviceFacts {
    let mut f = DeviceFacts::default();
    f.set(FactField::Name, name);
    f.set(FactField::OsInfo, os_info);
    f.set(FactField::Ram, "16.0 GB");
    f.set_absent(FactField::SerialNumber, "needs root");
    f
}

fn observed(id: i64, company: i64, status: i64, name: &str, os: &str, ram: &str) -> Observed {
    Observed {
        id: ConfigurationId(id),
        company_id: CompanyId(company),
        status_id: Some(status),
        fields: vec![
            (FactField::DeviceIdentifier, Some("agent-1".into())),
            (FactField::Name, Some(name.into())),
            (FactField::OsInfo, Some(os.into())),
            (FactField::Ram, Some(ram.into())),
            (FactField::SerialNumber, Some("77NDZ12".into())),
        ],
        extras: Extras::default(),
    }
}

#[test]
fn a_new_device_is_created_with_the_type_its_first_matching_rule_names() {
    let f = facts("web-01", "Windows Server 2022 Standard 21H2 (20348)");
    let d = Desired {
        agent_id: "agent-1",
        facts: &f,
        company_id: Some(CompanyId(5)),
        choice: PersonChoice::Auto,
        hold: None,
        extras: &NO_EXTRAS,
    };
    let Action::Create {
        company_id,
        type_id,
        fields,
        ..
    } = plan(&d, &[], &Candidacy::Nothing, &settings())
    else {
        panic!()
    };
    assert_eq!((company_id, type_id), (CompanyId(5), 20));
    assert!(fields.contains(&(FactField::DeviceIdentifier, "agent-1".into())));
    assert!(
        !fields.iter().any(|(f, _)| *f == FactField::SerialNumber),
        "an absent fact is not sent"
    );
    let f = facts("branch-fw-02", "Linux");
    assert!(matches!(
        plan(
            &Desired {
                facts: &f,
                ..d.clone()
            },
            &[],
            &Candidacy::Nothing,
            &settings()
        ),
        Action::Create { type_id: 30, .. }
    ));
    let f = facts("laptop", "macOS 14.5 (23F79)");
    assert!(matches!(
        plan(
            &Desired { facts: &f, ..d },
            &[],
            &Candidacy::Nothing,
            &settings()
        ),
        Action::Create { type_id: 10, .. }
    ));
}

#[test]
fn an_up_to_date_configuration_needs_no_write() {
    let f = facts("web-01", "Debian GNU/Linux 12 (bookworm)");
    let d = Desired {
        agent_id: "agent-1",
        facts: &f,
        company_id: Some(CompanyId(5)),
        choice: PersonChoice::Auto,
        hold: None,
        extras: &NO_EXTRAS,
    };
    let o = observed(
        7,
        5,
        ACTIVE,
        "web-01",
        "Debian GNU/Linux 12 (bookworm)",
        "16.0 GB",
    );
    assert_eq!(
        plan(&d, &[o], &Candidacy::Nothing, &settings()),
        Action::InLine
    );
}

#[test]
fn only_changed_fields_are_written_and_absent_facts_blank_nothing() {
    let f = facts("web-01", "Debian GNU/Linux 12 (bookworm)");
    let d = Desired {
        agent_id: "agent-1",
        facts: &f,
        company_id: Some(CompanyId(5)),
        choice: PersonChoice::Auto,
        hold: None,
        extras: &NO_EXTRAS,
    };
    let o = observed(
        7,
        5,
        ACTIVE,
        "web-01",
        "Debian GNU/Linux 11 (bullseye)",
        "8.0 GB",
    );
    assert_eq!(
        plan(&d, &[o], &Candidacy::Nothing, &settings()),
        Action::Update {
            configuration_id: ConfigurationId(7),
            fields: vec![
                (FactField::OsInfo, "Debian GNU/Linux 12 (bookworm)".into()),
                (FactField::Ram, "16.0 GB".into())
            ],
            extras: Extras::default(),
            activate: false,
        }
    );
}

#[test]
fn an_inactive_configuration_is_reactivated_rather_than_duplicated() {
    let f = facts("web-01", "Debian GNU/Linux 12 (bookworm)");
    let d = Desired {
        agent_id: "agent-1",
        facts: &f,
        company_id: Some(CompanyId(5)),
        choice: PersonChoice::Auto,
        hold: None,
        extras: &NO_EXTRAS,
    };
    let o = observed(
        7,
        5,
        INACTIVE,
        "web-01",
        "Debian GNU/Linux 12 (bookworm)",
        "16.0 GB",
    );
    assert_eq!(
        plan(&d, &[o], &Candidacy::Nothing, &settings()),
        Action::Update {
            configuration_id: ConfigurationId(7),
            fields: vec![],
            extras: Extras::default(),
            activate: true
        }
    );
}

#[test]
fn a_device_bound_nowhere_has_its_configurations_deactivated() {
    let f = facts("web-01", "x");
    let d = Desired {
        agent_id: "agent-1",
        facts: &f,
        company_id: None,
        choice: PersonChoice::Auto,
        hold: None,
        extras: &NO_EXTRAS,
    };
    let o = observed(7, 5, ACTIVE, "web-01", "x", "16.0 GB");
    assert_eq!(
        plan(
            &d,
            std::slice::from_ref(&o),
            &Candidacy::Nothing,
            &settings()
        ),
        Action::Deactivate {
            configuration_id: ConfigurationId(7)
        }
    );
    let done = Observed {
        status_id: Some(INACTIVE),
        ..o
    };
    assert_eq!(
        plan(&d, &[done], &Candidacy::Nothing, &settings()),
        Action::InLine
    );
    assert_eq!(
        plan(&d, &[], &Candidacy::Nothing, &settings()),
        Action::InLine
    );
}

#[test]
fn a_moved_device_leaves_its_old_company_first() {
    let f = facts("web-01", "x");
    let d = Desired {
        agent_id: "agent-1",
        facts: &f,
        company_id: Some(CompanyId(6)),
        choice: PersonChoice::Auto,
        hold: None,
        extras: &NO_EXTRAS,
    };
    let old = observed(7, 5, ACTIVE, "web-01", "x", "16.0 GB");
    assert_eq!(
        plan(
            &d,
            std::slice::from_ref(&old),
            &Candidacy::Nothing,
            &settings()
        ),
        Action::Deactivate {
            configuration_id: ConfigurationId(7)
        }
    );
    let old = Observed {
        status_id: Some(INACTIVE),
        ..old
    };
    assert!(matches!(
        plan(&d, &[old], &Candidacy::Nothing, &settings()),
        Action::Create {
            company_id: CompanyId(6),
            ..
        }
    ));
}

#[test]
fn with_hand_made_duplicates_the_active_one_is_bound() {
    let f = facts("web-01", "x");
    let d = Desired {
        agent_id: "agent-1",
        facts: &f,
        company_id: Some(CompanyId(5)),
        choice: PersonChoice::Auto,
        hold: None,
        extras: &NO_EXTRAS,
    };
    let older_inactive = observed(3, 5, INACTIVE, "web-01", "x", "16.0 GB");
    let active = observed(9, 5, ACTIVE, "web-01", "x", "16.0 GB");
    assert_eq!(
        plan(
            &d,
            &[older_inactive, active],
            &Candidacy::Nothing,
            &settings()
        ),
        Action::InLine
    );
}

#[test]
fn globs_match_as_admins_expect() {
    for (text, pattern, expected) in [
        ("windows server 2022", "windows server*", true),
        ("windows 11 pro", "windows server*", false),
        ("branch-fw-02", "*-fw-*", true),
        ("fw", "*-fw-*", false),
        ("exact", "exact", true),
        ("ab", "a*b*", true),
        ("aXbYc", "a*b*c", true),
        ("abc", "*", true),
        ("aa", "a*a", true),
        ("a", "a*a", false),
    ] {
        assert_eq!(glob(text, pattern), expected, "{text} ~ {pattern}");
    }
}

#[path = "plan_adoption_tests.rs"]
mod adoption;
#[path = "plan_extras_tests.rs"]
mod extras;
#[path = "plan_field_map_tests.rs"]
mod field_map;
