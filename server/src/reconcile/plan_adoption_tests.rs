//! The planner and adoption: a clear match adopted, ambiguity and holds waiting for a person.

use super::*;

pub(super) fn adopt_test_desired(f: &DeviceFacts) -> Desired<'_> {
    Desired {
        agent_id: "agent-1",
        facts: f,
        company_id: Some(CompanyId(5)),
        choice: PersonChoice::Auto,
        hold: None,
        extras: &NO_EXTRAS,
    }
}

#[test]
fn a_clear_match_is_adopted_with_its_type_kept_and_the_old_values_recorded() {
    let f = facts("web-01", "Windows Server 2022");
    let d = adopt_test_desired(&f);
    let mut theirs = observed(40, 5, INACTIVE, "WEB-01", "Windows Server 2019", "16.0 GB");
    theirs.fields[0].1 = None; // no deviceIdentifier: made by a person or another tool
    let one = Candidacy::One {
        config: theirs.clone(),
        key: MatchKey::Name,
    };
    let Action::Adopt {
        configuration_id,
        key,
        fields,
        before,
        activate,
        type_id,
        ..
    } = plan(&d, &[], &one, &settings())
    else {
        panic!()
    };
    assert_eq!(
        (configuration_id, key, activate, type_id),
        (ConfigurationId(40), MatchKey::Name, true, None)
    );
    assert!(fields.contains(&(FactField::DeviceIdentifier, "agent-1".into())));
    assert!(fields.contains(&(FactField::Name, "web-01".into())));
    assert!(
        !fields.iter().any(|(f, _)| *f == FactField::Ram),
        "unchanged: not written"
    );
    assert!(before.contains(&(FactField::Name, Some("WEB-01".into()))));
    assert!(before.contains(&(FactField::DeviceIdentifier, None)));
    // Asked to, adoption applies the type rules.
    let mut s = settings();
    s.adoption.apply_type_rules = true;
    assert!(matches!(
        plan(&d, &[], &one, &s),
        Action::Adopt {
            type_id: Some(20),
            ..
        }
    ));
}

#[test]
fn ambiguity_and_holds_wait_for_a_person_and_a_person_decides() {
    let f = facts("web-01", "x");
    let d = adopt_test_desired(&f);
    let two = Candidacy::Ambiguous {
        key: MatchKey::Serial,
        candidates: vec![ConfigurationId(40), ConfigurationId(41)],
        contested: false,
    };
    assert!(matches!(
        plan(&d, &[], &two, &settings()),
        Action::NeedsPerson { ref candidates, .. } if *candidates == vec![ConfigurationId(40), ConfigurationId(41)]
    ));
    let held = Desired {
        hold: Some("possible reinstall of device 3"),
        ..d.clone()
    };
    assert!(matches!(
        plan(&held, &[], &Candidacy::Nothing, &settings()),
        Action::NeedsPerson { .. }
    ));
    let create = Desired {
        choice: PersonChoice::CreateNew,
        ..d.clone()
    };
    assert!(matches!(
        plan(&create, &[], &two, &settings()),
        Action::Create { .. }
    ));
    // A person's pick is adopted; the device's own configuration elsewhere in the company
    // is deactivated first.
    let theirs = observed(41, 5, ACTIVE, "web-01", "x", "16.0 GB");
    let pick = Desired {
        choice: PersonChoice::Adopt(ConfigurationId(41)),
        ..d
    };
    let mine = observed(7, 5, ACTIVE, "web-01", "x", "16.0 GB");
    let chosen = Candidacy::One {
        config: theirs,
        key: MatchKey::Person,
    };
    assert_eq!(
        plan(&pick, std::slice::from_ref(&mine), &chosen, &settings()),
        Action::Deactivate {
            configuration_id: ConfigurationId(7)
        }
    );
    let mine = Observed {
        status_id: Some(INACTIVE),
        ..mine
    };
    assert!(matches!(
        plan(&pick, &[mine], &chosen, &settings()),
        Action::Adopt {
            configuration_id: ConfigurationId(41),
            key: MatchKey::Person,
            ..
        }
    ));
}
