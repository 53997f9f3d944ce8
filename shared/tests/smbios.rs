//! The SMBIOS table parser on recorded tables and on damaged ones.
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use bindery_shared::smbios::{SmbiosIds, ids, table_of_raw_smbios_data};

const SAMPLES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/samples/smbios");

/// A `.hex` sample: hex bytes, `#` comments.
fn sample(name: &str) -> Vec<u8> {
    std::fs::read_to_string(format!("{SAMPLES}/{name}"))
        .unwrap()
        .lines()
        .map(|l| l.split('#').next().unwrap_or(""))
        .flat_map(|l| l.split_whitespace().map(str::to_owned).collect::<Vec<_>>())
        .map(|b| u8::from_str_radix(&b, 16).unwrap())
        .collect()
}

/// A structure of `kind` whose serial (offset 7) is string `serial_index`, with `strings`.
fn structure(kind: u8, length: u8, serial_index: u8, strings: &[&str]) -> Vec<u8> {
    let mut s = vec![kind, length, 0x10, 0x00];
    s.resize(usize::from(length), 0);
    if length > 7 {
        s[4] = 1; // manufacturer: string 1
        s[7] = serial_index;
    }
    for t in strings {
        s.extend_from_slice(t.as_bytes());
        s.push(0);
    }
    if strings.is_empty() {
        s.push(0);
    }
    s.push(0);
    s
}

#[test]
fn a_real_system_structure_gives_its_serial_maker_and_model() {
    let table = sample("thinkstation-p520-type1.hex");
    assert_eq!(
        ids(&table),
        SmbiosIds {
            system_serial: Some("MN06PQRS".into()),
            chassis_serial: None,
            baseboard_serial: None,
            manufacturer: Some("LENOVO".into()),
            product: Some("30BFS07500".into()),
            version: Some("ThinkStation P520".into()),
            bios_version: None,
        }
    );
    // Windows hands the same table behind an 8-byte header.
    let mut raw = vec![0, 3, 2, 0];
    raw.extend_from_slice(&(table.len() as u32).to_le_bytes());
    raw.extend_from_slice(&table);
    assert_eq!(table_of_raw_smbios_data(&raw), Some(&table[..]));
    raw.truncate(raw.len() - 1);
    assert_eq!(table_of_raw_smbios_data(&raw), None, "a short buffer");
    assert_eq!(table_of_raw_smbios_data(&[0, 3]), None);
}

#[test]
fn system_chassis_and_baseboard_are_read_from_their_own_structures() {
    let mut table = structure(0, 0x18, 0, &["BIOS vendor", "S03KT61A"]);
    table[5] = 2; // the BIOS version: string 2
    table.extend(structure(2, 0x0f, 2, &["Board maker", "BSN-22"]));
    table.extend(structure(3, 0x15, 2, &["Case maker", "CSN-33"]));
    table.extend(structure(1, 0x1b, 2, &["Maker", "SSN-11"]));
    table.extend(structure(127, 4, 0, &[]));
    // After the end, nothing counts.
    table.extend(structure(1, 0x1b, 2, &["Other", "LATE"]));
    let found = ids(&table);
    assert_eq!(found.system_serial.as_deref(), Some("SSN-11"));
    assert_eq!(found.chassis_serial.as_deref(), Some("CSN-33"));
    assert_eq!(found.baseboard_serial.as_deref(), Some("BSN-22"));
    assert_eq!(found.manufacturer.as_deref(), Some("Maker"));
    assert_eq!(found.bios_version.as_deref(), Some("S03KT61A"));
}

#[test]
fn unset_blank_and_out_of_range_strings_are_none_and_damage_never_panics() {
    let mut table = structure(1, 0x1b, 0, &["Maker"]); // serial: no string
    table.extend(structure(3, 0x15, 5, &["Case"])); // index past the set
    table.extend(structure(2, 0x0f, 2, &["Board", "   "])); // blank
    let found = ids(&table);
    assert_eq!(
        (
            found.system_serial,
            found.chassis_serial,
            found.baseboard_serial
        ),
        (None, None, None)
    );
    // Truncated anywhere, or a length under 4: what fits is read, and nothing panics.
    let full = sample("thinkstation-p520-type1.hex");
    for cut in 0..full.len() {
        let _ = ids(&full[..cut]);
    }
    assert_eq!(ids(&[1, 2, 0, 0, 5, 5]), SmbiosIds::default());
    assert_eq!(ids(&[]), SmbiosIds::default());
}
