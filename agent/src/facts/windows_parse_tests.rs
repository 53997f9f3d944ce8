use super::*;

const SAMPLES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/samples/windows");

fn inventory(name: &str) -> Inventory {
    let text = std::fs::read_to_string(format!("{SAMPLES}/{name}")).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn facts(name: &str) -> DeviceFacts {
    facts_from_inventory(&inventory(name)).normalized()
}

#[test]
fn a_business_laptop_gives_every_fact() {
    let f = facts("inventory-win11.json");
    assert_eq!(f.name.as_deref(), Some("WS-0042"));
    assert_eq!(f.serial_number.as_deref(), Some("5CG1234XYZ"));
    assert_eq!(f.mac_address.as_deref(), Some("3C:52:82:1A:2B:3C"));
    assert_eq!(f.ip_address.as_deref(), Some("10.20.30.40"));
    assert_eq!(f.os_type.as_deref(), Some("Windows"));
    // The registry's ProductName says Windows 10; build 22631 is Windows 11.
    assert_eq!(
        f.os_info.as_deref(),
        Some("Windows 11 Pro 23H2 (22631.3007)")
    );
    assert_eq!(f.cpu_speed.as_deref(), Some("2.80 GHz"));
    assert_eq!(f.ram.as_deref(), Some("16.0 GB"));
    assert_eq!(f.last_login_name.as_deref(), Some("CONTOSO\\alice"));
    assert_eq!(f.manufacturer.as_deref(), Some("HP"));
    assert_eq!(f.model.as_deref(), Some("HP EliteBook 840 G8 Notebook PC"));
    assert_eq!(f.bios_version.as_deref(), Some("T37 Ver. 01.10.00"));
    assert_eq!(f.default_gateway.as_deref(), Some("10.20.30.1"));
    assert_eq!(f.os_install_date.as_deref(), Some("2023-04-05"));
    // The USB stick is removable: not a local hard drive.
    assert_eq!(
        f.local_hard_drives.as_deref(),
        Some("C: 476.0 GB (201.2 GB free)")
    );
}

#[test]
fn a_white_box_falls_back_to_the_baseboard_and_explains_gaps() {
    let f = facts("inventory-whitebox-win10.json");
    assert_eq!(f.serial_number.as_deref(), Some("M80-C4003100123"));
    assert_eq!(f.os_info.as_deref(), Some("Windows 10 Home 1909 (18363)"));
    assert_eq!(f.ram.as_deref(), Some("8.0 GB"));
    assert_eq!(
        f.cpu_speed, None,
        "no ~MHz and no @ in the name: nothing invented"
    );
    assert_eq!(
        f.absent_reason(FactField::IpAddress),
        Some("no IPv4 default route")
    );
    assert!(f.absent_reason(FactField::LastLoginName).is_some());
}

#[test]
fn only_junk_serials_give_no_serial() {
    let f = facts("inventory-vm-all-junk.json");
    assert_eq!(f.serial_number, None);
    assert!(
        f.absent_reason(FactField::SerialNumber)
            .unwrap()
            .contains("placeholder")
    );
    assert_eq!(
        f.os_info.as_deref(),
        Some("Windows Server 2022 Standard 21H2 (20348.2227)")
    );
}

#[test]
fn wine_answers_what_the_host_knows() {
    // Recorded with `bindery-agent.exe facts --inventory` under Wine 8 on this project's
    // Debian CI machine: Wine answers from the Linux host.
    let f = facts("inventory-wine8-debian.json");
    assert_eq!(f.name.as_deref(), Some("vm"));
    assert_eq!(f.mac_address.as_deref(), Some("02:FC:00:00:00:01"));
    assert_eq!(f.ip_address.as_deref(), Some("192.0.2.2"));
    assert_eq!(f.os_info.as_deref(), Some("Windows 7 (7601)"));
    assert_eq!(
        f.cpu_speed.as_deref(),
        Some("2.44 GHz"),
        "~MHz, not the name"
    );
    assert_eq!(f.ram.as_deref(), Some("23.5 GB"));
    assert_eq!(f.last_login_name.as_deref(), Some("VM\\root"));
    // This host has no SMBIOS table to pass on, so Wine's holds no serial, maker or model.
    assert!(f.absent_reason(FactField::SerialNumber).is_some());
    assert!(f.absent_reason(FactField::Model).is_some());
    assert_eq!(f.default_gateway.as_deref(), Some("192.0.2.1"));
    // Wine's registry carries a fixed InstallDate; Wine lists no volumes of its own.
    assert_eq!(f.os_install_date.as_deref(), Some("2010-05-08"));
    assert_eq!(
        f.absent_reason(FactField::LocalHardDrives),
        Some("no fixed volume is mounted")
    );
}

#[test]
fn nothing_read_gives_a_reason_for_everything() {
    let f = facts_from_inventory(&Inventory::default()).normalized();
    for field in [
        FactField::Name,
        FactField::SerialNumber,
        FactField::MacAddress,
        FactField::IpAddress,
        FactField::OsInfo,
        FactField::CpuSpeed,
        FactField::Ram,
        FactField::LastLoginName,
    ] {
        assert!(f.absent_reason(field).is_some(), "{field:?}");
    }
    assert_eq!(f.os_type.as_deref(), Some("Windows"));
}

#[test]
fn the_system_serial_wins_then_chassis_then_baseboard_without_placeholders() {
    let inv = Inventory {
        system_serial: Some("MN06PQRS".into()),
        chassis_serial: Some("Default string".into()),
        baseboard_serial: Some("L1HF8AB01TZ".into()),
        ..Inventory::default()
    };
    assert_eq!(serial(&inv).as_deref(), Ok("MN06PQRS"));
    let no_system = Inventory {
        system_serial: Some("To Be Filled By O.E.M.".into()),
        ..inv
    };
    assert_eq!(serial(&no_system).as_deref(), Ok("L1HF8AB01TZ"));
}
