//! The planner and the fields beside the facts (`Extras`): the console link, the contact and
//! the site.

use super::*;

/// web-01's configuration as ConnectWise holds it: its facts in line, no extras.
fn web_01() -> Observed {
    observed(
        7,
        5,
        ACTIVE,
        "web-01",
        "Debian GNU/Linux 12 (bookworm)",
        "16.0 GB",
    )
}

#[test]
fn the_link_and_contact_are_written_when_missing_and_never_blanked() {
    let f = facts("web-01", "Debian GNU/Linux 12 (bookworm)");
    let wanted = Extras {
        management_link: Some("https://bindery.example/console/devices/3".into()),
        contact_id: Some(2),
        site_id: Some(8),
        ..Extras::default()
    };
    let d = Desired {
        extras: &wanted,
        ..super::adoption::adopt_test_desired(&f)
    };
    let mut o = web_01();
    // Only the extras differ: an update of just those.
    assert_eq!(
        plan(
            &d,
            std::slice::from_ref(&o),
            &Candidacy::Nothing,
            &settings()
        ),
        Action::Update {
            configuration_id: ConfigurationId(7),
            fields: vec![],
            extras: wanted.clone(),
            activate: false,
        }
    );
    // Held already: in line. Only the one that differs is written.
    o.extras = wanted.clone();
    assert_eq!(
        plan(
            &d,
            std::slice::from_ref(&o),
            &Candidacy::Nothing,
            &settings()
        ),
        Action::InLine
    );
    o.extras.contact_id = Some(9);
    let Action::Update { extras, .. } = plan(
        &d,
        std::slice::from_ref(&o),
        &Candidacy::Nothing,
        &settings(),
    ) else {
        panic!("expected an update")
    };
    assert_eq!(
        extras,
        Extras {
            management_link: None,
            contact_id: Some(2),
            site_id: None,
            ..Extras::default()
        }
    );
    // No opinion (no public URL, no contact matched, no site): whatever the configuration
    // holds stays.
    let quiet = Desired {
        extras: &NO_EXTRAS,
        ..d.clone()
    };
    assert_eq!(
        plan(&quiet, &[o], &Candidacy::Nothing, &settings()),
        Action::InLine
    );
    // A new configuration carries both.
    let Action::Create { extras, .. } = plan(&d, &[], &Candidacy::Nothing, &settings()) else {
        panic!("expected a create")
    };
    assert_eq!(extras, wanted);
}

#[test]
fn a_job_stored_before_the_extras_existed_still_reads() {
    let old = serde_json::json!({
        "id": 7, "companyId": 5, "statusId": 1,
        "fields": [["serialNumber", "SN1"]]
    });
    let o: Observed = serde_json::from_value(old).unwrap();
    assert_eq!(o.extras, Extras::default());
}

#[test]
fn a_site_a_person_changed_is_put_back_alone() {
    let f = facts("web-01", "Debian GNU/Linux 12 (bookworm)");
    let wanted = Extras {
        site_id: Some(8),
        ..Extras::default()
    };
    let d = Desired {
        extras: &wanted,
        ..super::adoption::adopt_test_desired(&f)
    };
    let mut o = web_01();
    o.extras.contact_id = Some(2);
    o.extras.site_id = Some(1);
    let Action::Update { extras, .. } = plan(
        &d,
        std::slice::from_ref(&o),
        &Candidacy::Nothing,
        &settings(),
    ) else {
        panic!("expected an update")
    };
    assert_eq!(extras, wanted, "the site alone; the contact is left");
    o.extras.site_id = Some(8);
    assert_eq!(
        plan(&d, &[o], &Candidacy::Nothing, &settings()),
        Action::InLine
    );
}
