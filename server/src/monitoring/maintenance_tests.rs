use super::*;

/// Milliseconds of a local time in `zone`.
fn at(zone: &str, local: &str) -> i64 {
    let dt: DateTime = local.parse().unwrap();
    dt.to_zoned(TimeZone::get(zone).unwrap())
        .unwrap()
        .timestamp()
        .as_millisecond()
}

#[test]
fn a_weekly_window_holds_inside_its_hours_in_its_zone_and_across_midnight() {
    let m = Maintenance::parse_lines("Europe/Berlin", "sat,sun 22:00-02:00").unwrap();
    // 2026-12-05 is a Saturday.
    assert_eq!(m.held_until(at("Europe/Berlin", "2026-12-05T21:59")), None);
    let end = at("Europe/Berlin", "2026-12-06T02:00");
    assert_eq!(
        m.held_until(at("Europe/Berlin", "2026-12-05T22:00")),
        Some(end)
    );
    // After midnight it is still Saturday's window.
    assert_eq!(
        m.held_until(at("Europe/Berlin", "2026-12-06T01:30")),
        Some(end)
    );
    assert_eq!(m.held_until(end), None, "the end is outside");
    // Friday night is not in it; the same wall time in UTC is an hour later.
    assert_eq!(m.held_until(at("Europe/Berlin", "2026-12-04T23:00")), None);
    assert_eq!(m.held_until(at("UTC", "2026-12-05T21:30")), Some(end));
    // Sunday's window ends on Monday.
    assert_eq!(
        m.held_until(at("Europe/Berlin", "2026-12-07T00:10")),
        Some(at("Europe/Berlin", "2026-12-07T02:00"))
    );
}

#[test]
fn windows_that_touch_are_one_and_daylight_saving_is_followed() {
    let m = Maintenance::parse_lines(
        "America/New_York",
        "daily 01:00-03:00\n2026-03-08 03:00 - 2026-03-08 05:00 patching",
    )
    .unwrap();
    // 2026-03-08 is the spring-forward day: 02:00 does not exist, and the daily window ends at
    // 03:00 local, where the one-off begins: one maintenance until 05:00.
    assert_eq!(
        m.held_until(at("America/New_York", "2026-03-08T01:30")),
        Some(at("America/New_York", "2026-03-08T05:00"))
    );
    // In winter and in summer the window is at local 01:00, whatever the UTC offset.
    for day in ["2026-01-10", "2026-07-10"] {
        let inside = at("America/New_York", &format!("{day}T01:15"));
        assert!(m.held_until(inside).is_some(), "{day}");
        assert!(m.held_until(inside - 30 * 60_000).is_none(), "{day}");
    }
}

#[test]
fn the_next_window_is_found_within_a_week() {
    let m = Maintenance::parse_lines("UTC", "wed 12:00-13:00").unwrap();
    let monday = at("UTC", "2026-11-30T09:00");
    assert_eq!(m.next_start(monday), Some(at("UTC", "2026-12-02T12:00")));
    assert_eq!(Maintenance::default().next_start(monday), None);
    assert_eq!(Maintenance::default().held_until(monday), None);
}

#[test]
fn text_and_json_forms_agree_and_mistakes_name_their_line() {
    let text = "mon-fri 22:00-02:00\nfri-mon 12:00-12:30\n# a comment\n\n2026-12-24 18:00 - 2026-12-27 08:00 Office move";
    let m = Maintenance::parse_lines("Europe/Paris", text).unwrap();
    assert_eq!(
        m.weekly[0].days,
        [Day::Mon, Day::Tue, Day::Wed, Day::Thu, Day::Fri]
    );
    assert_eq!(m.weekly[1].days, [Day::Mon, Day::Fri, Day::Sat, Day::Sun]);
    assert_eq!(m.once[0].note.as_deref(), Some("Office move"));
    let again = Maintenance::parse_lines("Europe/Paris", &m.to_lines()).unwrap();
    assert_eq!(again, m);
    let json = serde_json::to_value(&m).unwrap();
    assert_eq!(json["weekly"][0]["days"][0], "mon");
    assert_eq!(json["once"][0]["start"], "2026-12-24T18:00");
    let back: Maintenance = serde_json::from_value(json).unwrap();
    assert_eq!(back, m);

    for (zone, text, says) in [
        ("Mars/Olympus", "daily 01:00-02:00", "not a time zone"),
        ("UTC", "someday 01:00-02:00", "line 1"),
        ("UTC", "mon 01:00", "line 1"),
        ("UTC", "\nmon 25:00-26:00", "line 2"),
        (
            "UTC",
            "2026-12-24 18:00 - 2026-12-20 08:00",
            "ends before it starts",
        ),
        (
            "UTC",
            "2026-12-01 00:00 - 2027-03-01 00:00",
            "longer than 31 days",
        ),
        ("UTC", "2026-12-24 18:00 2026-12-27 08:00", "line 1"),
    ] {
        let e = Maintenance::parse_lines(zone, text).unwrap_err();
        assert!(e.contains(says), "{text:?}: {e}");
    }
    let unknown = serde_json::from_str::<Maintenance>(r#"{"weekly": [], "extra": 1}"#);
    assert!(unknown.is_err());
}
