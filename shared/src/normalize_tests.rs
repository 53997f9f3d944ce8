//! The normalisation rules on every kind of fact.
use super::*;

#[test]
fn every_listed_placeholder_serial_is_junk_in_any_case() {
    for junk in JUNK_SERIALS {
        assert!(is_junk_serial(junk), "{junk}");
        assert!(is_junk_serial(&junk.to_lowercase()), "{junk}");
        assert!(is_junk_serial(&format!("  {junk}\t")), "{junk}");
    }
}

#[test]
fn pattern_placeholders_are_junk() {
    for junk in [
        "",
        "ab",
        "00000000",
        "0000-0000",
        "11111111",
        "0101010",
        "XXXXXXXXXX",
        "1.0",
        "2.3.4",
        "Default String 01",
        "SerialNumber",
        "To be filled by O.E.M",
        "Base Board Serial Number",
        "0123456789",
        "1234567890",
        "12345678",
        "987654321",
        "01234-56789",
        "None",
        "n/a",
        "NULL",
        "System Serial Number",
        "ZZZZZZZZ",
        "aaaa-aaaa",
    ] {
        assert!(is_junk_serial(junk), "{junk:?} should be junk");
    }
}

#[test]
fn real_serials_are_kept() {
    for real in [
        "77NDZ12",
        "C02XL0GHJGH5",
        "VMware-56 4d 2a 9e 73 c1 5b 1a-7e 51 50 2b 6a 09 f4 1c",
        "5CG1234XYZ",
        "PF2ABCDE",
        "12.34",
        "1.2.3.4",
        "20240117",
        "8CG3041ABC",
    ] {
        assert!(!is_junk_serial(real), "{real:?} should be kept");
    }
}

#[test]
fn macs_take_the_canonical_form() {
    for raw in [
        "aa:bb:cc:dd:ee:0f",
        "AA-BB-CC-DD-EE-0F",
        "aabb.ccdd.ee0f",
        "aabbccddee0f",
    ] {
        assert_eq!(
            canonical_mac(raw).as_deref(),
            Ok("AA:BB:CC:DD:EE:0F"),
            "{raw}"
        );
    }
    for bad in [
        "aa:bb:cc:dd:ee",
        "zz:bb:cc:dd:ee:ff",
        "00:00:00:00:00:00",
        "00:50:56:c0:00:08",
    ] {
        assert!(canonical_mac(bad).is_err(), "{bad}");
    }
}

#[test]
fn ips_are_canonical_and_routable() {
    assert_eq!(
        canonical_ip("192.168.1.10/24").as_deref(),
        Ok("192.168.1.10")
    );
    assert_eq!(canonical_ip("fe80::0001%eth0").as_deref(), Ok("fe80::1"));
    assert!(canonical_ip("127.0.0.1").is_err());
    assert!(canonical_ip("0.0.0.0").is_err());
    assert!(canonical_ip("::1").is_err());
    assert!(canonical_ip("10.0.0.300").is_err());
}

#[test]
fn text_is_cleaned_of_control_and_invisible_characters() {
    assert_eq!(
        clean_text("  Intel\t(R)\r\n Xeon\u{0}\u{7f}  "),
        "Intel (R) Xeon"
    );
    assert_eq!(clean_text("ad\u{202E}min\u{200B}"), "admin");
    assert_eq!(clean_text("a \u{200B} b"), "a b");
    assert_eq!(clean_text("\u{FEFF}"), "");
}

#[test]
fn every_field_is_cut_to_its_connectwise_limit() {
    for field in FactField::ALL {
        let max = field.max_len();
        // ASCII: exactly the limit.
        let long = "a".repeat(max + 17);
        let cut = truncate_to_limit(&long, max);
        assert_eq!(cut.len(), max, "{field}");
        // A 4-byte character (2 UTF-16 units) straddling the limit is dropped whole.
        let tricky = format!("{}😀tail", "b".repeat(max - 1));
        let cut = truncate_to_limit(&tricky, max);
        assert_eq!(cut, "b".repeat(max - 1), "{field}");
        assert!(utf16_len(cut) <= max);
    }
}

#[test]
fn normalize_value_applies_each_fields_limit() {
    for field in [
        FactField::Name,
        FactField::OsType,
        FactField::OsInfo,
        FactField::CpuSpeed,
        FactField::Ram,
        FactField::LastLoginName,
        FactField::SerialNumber,
        FactField::DeviceIdentifier,
    ] {
        let value = normalize_value(field, &format!("K7{}", "x9".repeat(400))).unwrap();
        assert_eq!(utf16_len(&value), field.max_len(), "{field}");
    }
}

#[test]
fn normalized_facts_explain_every_absence() {
    let mut facts = DeviceFacts::default();
    facts.set(FactField::Name, " web-01\n");
    facts.set(FactField::SerialNumber, "To Be Filled By O.E.M.");
    facts.set(FactField::MacAddress, "02-fc-00-00-00-01");
    facts.set_absent(FactField::Ram, "  could not\nread /proc/meminfo ");
    facts.absent.insert(FactField::Name, "stale reason".into());
    let n = facts.normalized();
    assert_eq!(n.name.as_deref(), Some("web-01"));
    assert_eq!(n.mac_address.as_deref(), Some("02:FC:00:00:00:01"));
    assert_eq!(n.serial_number, None);
    assert!(
        n.absent_reason(FactField::SerialNumber)
            .unwrap()
            .contains("placeholder")
    );
    assert_eq!(
        n.absent_reason(FactField::Ram),
        Some("could not read /proc/meminfo")
    );
    assert_eq!(
        n.absent_reason(FactField::OsInfo),
        Some("not reported by the agent")
    );
    assert_eq!(n.absent_reason(FactField::Name), None);
    for field in FactField::ALL {
        assert!(
            n.get(field).is_some() != n.absent_reason(field).is_some(),
            "{field}"
        );
    }
}

#[test]
fn inventory_facts_are_checked_for_their_kind() {
    assert_eq!(
        normalize_value(FactField::DefaultGateway, " 192.168.1.1 "),
        Ok("192.168.1.1".into())
    );
    assert!(normalize_value(FactField::DefaultGateway, "router").is_err());
    assert_eq!(
        normalize_value(FactField::OsInstallDate, "2023-04-05"),
        Ok("2023-04-05".into())
    );
    for bad in [
        "2023-4-5",
        "yesterday",
        "2023-13-01",
        "1970-01-01",
        "2023-04-05x",
    ] {
        assert!(
            normalize_value(FactField::OsInstallDate, bad).is_err(),
            "{bad}"
        );
    }
    for junk in [
        "System manufacturer",
        "To Be Filled By O.E.M.",
        "Default string",
    ] {
        assert!(
            normalize_value(FactField::Manufacturer, junk).is_err(),
            "{junk}"
        );
        assert!(normalize_value(FactField::Model, junk).is_err(), "{junk}");
    }
    assert_eq!(
        normalize_value(FactField::Model, "ThinkPad X1 Carbon Gen 9"),
        Ok("ThinkPad X1 Carbon Gen 9".into())
    );
    assert_eq!(
        normalize_value(FactField::BiosVersion, "N32ET86W (1.62 )"),
        Ok("N32ET86W (1.62 )".into())
    );
}

#[test]
fn hostile_agent_ids_are_refused() {
    assert!(normalize_value(FactField::DeviceIdentifier, "5f0c-11aa").is_ok());
    for bad in ["x\" or company/id=7", "a b", "ünï", "id'"] {
        assert!(
            normalize_value(FactField::DeviceIdentifier, bad).is_err(),
            "{bad}"
        );
    }
}
