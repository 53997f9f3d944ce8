//! Making fact text safe and bounded before it is stored, compared or sent to ConnectWise.
//!
//! Facts come from machines we do not trust, so every value is cleaned the same way on the agent
//! (before sending) and on the server (before storing): control and invisible characters removed,
//! white space folded, the value cut to ConnectWise's limit, and values that only look like data
//! (placeholder serials, zero MACs, loopback addresses) turned into an absence with a reason.
//! Normalising twice gives the same result as normalising once.

use std::net::IpAddr;

use crate::facts::{DeviceFacts, FactField};

/// Longest reason kept for an absent fact.
pub const REASON_MAX: usize = 200;

/// Serial numbers that firmware vendors ship as placeholders (compared without case). Collected
/// from GLPI's blacklist, GLPI Agent, osquery and Fleet (docs/facts.md lists them with the
/// patterns `is_junk_serial` adds).
pub const JUNK_SERIALS: &[&str] = &[
    "0",
    "-1",
    "None",
    "Null",
    "N/A",
    "NA",
    "TBD",
    "Empty",
    "Invalid",
    "No Serial",
    "No Asset Tag",
    "Unknow",
    "Unknown",
    "Not Specified",
    "Not Present",
    "Not Available",
    "Not Installed",
    "Not Applicable",
    "Default string",
    "System Serial Number",
    "Chassis Serial Number",
    "To Be Filled By O.E.M.",
    "OEM_Serial",
    "123456789",
    "0123456789",
    "1234567890",
    "ABCDEFGHIJ",
    "<BAD INDEX>",
    "<OUT OF SPEC>",
    "FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF",
    "03000200-0400-0500-0006-000700080009",
];

/// Cleans one text value: white space (including tabs and newlines) folded to single spaces,
/// control and invisible formatting characters (zero-width, bidi overrides, BOM) removed, ends
/// trimmed.
pub fn clean_text(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut pending_space = false;
    for c in raw.chars() {
        if c.is_whitespace() {
            pending_space = true;
        } else if c.is_control() || is_invisible_format(c) {
            continue;
        } else {
            if pending_space && !out.is_empty() {
                out.push(' ');
            }
            pending_space = false;
            out.push(c);
        }
    }
    out
}

/// Zero-width and bidirectional formatting characters: invisible, and a classic way to make a
/// value display as something it is not.
fn is_invisible_format(c: char) -> bool {
    matches!(c,
        '\u{00AD}' | '\u{061C}' | '\u{180E}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}'
        | '\u{2060}'..='\u{2064}' | '\u{2066}'..='\u{206F}' | '\u{FEFF}' | '\u{FFF9}'..='\u{FFFB}')
}

/// The longest prefix of `s` that fits in `max` UTF-16 code units (how ConnectWise, a .NET API,
/// counts length), cut at a character boundary, without trailing white space.
pub fn truncate_to_limit(s: &str, max: usize) -> &str {
    let mut units = 0;
    let mut end = s.len();
    for (i, c) in s.char_indices() {
        units += c.len_utf16();
        if units > max {
            end = i;
            break;
        }
    }
    s[..end].trim_end()
}

/// Length as ConnectWise counts it (UTF-16 code units).
pub fn utf16_len(s: &str) -> usize {
    s.chars().map(char::len_utf16).sum()
}

/// True for serial numbers that are placeholders rather than a machine's own: never bind on them,
/// since one placeholder shared by many machines would merge them into one record.
pub fn is_junk_serial(serial: &str) -> bool {
    let s = serial.trim();
    let lower = s.to_lowercase();
    if s.chars().count() < 3 || JUNK_SERIALS.iter().any(|j| j.eq_ignore_ascii_case(s)) {
        return true;
    }
    // Fleet's pattern: anything naming "default", "serial" or "string" is a template value.
    if ["default", "serial", "string", "o.e.m"]
        .iter()
        .any(|w| lower.contains(w))
    {
        return true;
    }
    // Separators aside: one character repeated ("0000-0000", "XXXXXXXX"), or only 0/1 digits
    // ("0101", "11111"), or nothing at all ("----").
    let alnum: Vec<char> = s.chars().filter(|c| c.is_alphanumeric()).collect();
    if alnum.windows(2).all(|w| w[0] == w[1]) || alnum.iter().all(|&c| c == '0' || c == '1') {
        return true;
    }
    is_counting_run(&alnum) || is_version_like(s)
}

/// Five or more digits that only count up or down ("0123456789", "12345", "987654321"): what a
/// white-box board's firmware template holds, shared by every board of the batch.
fn is_counting_run(alnum: &[char]) -> bool {
    let digits: Option<Vec<i32>> = alnum
        .iter()
        .map(|c| c.to_digit(10).map(|d| d as i32))
        .collect();
    let Some(digits) = digits else { return false };
    if digits.len() < 5 {
        return false;
    }
    let step = |w: &[i32]| (w[1] - w[0]).rem_euclid(10);
    let first = step(&digits[..2]);
    (first == 1 || first == 9) && digits.windows(2).all(|w| step(w) == first)
}

/// `\d\.\d(\.\d)?` as a whole: firmware that put its version where the serial belongs.
fn is_version_like(s: &str) -> bool {
    let parts: Vec<&str> = s.split('.').collect();
    (parts.len() == 2 || parts.len() == 3)
        && parts
            .iter()
            .all(|p| p.len() == 1 && p.bytes().all(|b| b.is_ascii_digit()))
}

/// The canonical `AA:BB:CC:DD:EE:FF` form of a MAC written with `:`, `-`, `.` or no separators.
pub fn canonical_mac(raw: &str) -> Result<String, String> {
    let mut hex = String::with_capacity(12);
    for c in raw.trim().chars() {
        match c {
            ':' | '-' | '.' => {}
            c if c.is_ascii_hexdigit() => hex.push(c.to_ascii_uppercase()),
            _ => return Err("not a MAC address".to_owned()),
        }
    }
    if hex.len() != 12 {
        return Err("not a MAC address (needs 12 hex digits)".to_owned());
    }
    let mut out = String::with_capacity(17);
    for (i, pair) in hex.as_bytes().chunks(2).enumerate() {
        if i > 0 {
            out.push(':');
        }
        out.extend(pair.iter().map(|&b| b as char));
    }
    if is_junk_mac(&out) {
        return Err(format!("placeholder MAC address {out}"));
    }
    Ok(out)
}

/// All-zero, broadcast and VMware host-only adapter MACs identify no machine.
pub fn is_junk_mac(canonical: &str) -> bool {
    canonical == "00:00:00:00:00:00"
        || canonical == "FF:FF:FF:FF:FF:FF"
        || canonical.starts_with("00:50:56:C0:")
}

/// The canonical text of an IP address; a zone (`%eth0`) or prefix length (`/24`) is dropped.
/// Loopback and unspecified addresses are refused: they say nothing about the machine.
pub fn canonical_ip(raw: &str) -> Result<String, String> {
    let text = raw.trim();
    let text = text.split(['%', '/']).next().unwrap_or(text);
    let ip: IpAddr = text.parse().map_err(|_| "not an IP address".to_owned())?;
    if ip.is_loopback() || ip.is_unspecified() {
        return Err(format!("{ip} is not a routable address"));
    }
    Ok(ip.to_string())
}

/// True for identifiers safe to place in a ConnectWise condition or a URL unchanged: ASCII
/// letters, digits, `-`, `_`, `.` and `:`, 1 to 100 characters.
pub fn is_safe_identifier(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= FactField::DeviceIdentifier.max_len()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'))
}

/// Cleans one fact value for its field; `Err` is the reason the value is not usable.
pub fn normalize_value(field: FactField, raw: &str) -> Result<String, String> {
    let cleaned = clean_text(raw);
    let value = truncate_to_limit(&cleaned, field.max_len());
    if value.is_empty() {
        return Err("empty value reported".to_owned());
    }
    match field {
        FactField::MacAddress => canonical_mac(value),
        FactField::IpAddress => canonical_ip(value),
        FactField::SerialNumber if is_junk_serial(value) => Err(format!(
            "placeholder serial from firmware ({}), not a real serial",
            truncate_to_limit(value, 40)
        )),
        FactField::DeviceIdentifier if !is_safe_identifier(value) => {
            Err("agent id may only hold letters, digits, '-', '_', '.' and ':'".to_owned())
        }
        _ => Ok(value.to_owned()),
    }
}

/// Normalises every fact in place: values cleaned and bounded, unusable ones made absent with a
/// reason, every absent fact given a reason, no reason kept for a present fact.
pub fn normalize_facts(facts: &mut DeviceFacts) {
    for field in FactField::ALL {
        if let Some(raw) = facts.slot_mut(field).take() {
            match normalize_value(field, &raw) {
                Ok(value) => {
                    *facts.slot_mut(field) = Some(value);
                    facts.absent.remove(&field);
                }
                Err(reason) => {
                    facts.absent.insert(field, reason);
                }
            }
        } else {
            let reason = facts
                .absent
                .get(&field)
                .map(|r| clean_text(r))
                .unwrap_or_default();
            let reason = truncate_to_limit(&reason, REASON_MAX);
            let reason = if reason.is_empty() {
                "not reported by the agent"
            } else {
                reason
            };
            facts.absent.insert(field, reason.to_owned());
        }
    }
    for reason in facts.absent.values_mut() {
        let cleaned = clean_text(reason);
        *reason = truncate_to_limit(&cleaned, REASON_MAX).to_owned();
    }
}

#[cfg(test)]
mod tests {
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
    fn hostile_agent_ids_are_refused() {
        assert!(normalize_value(FactField::DeviceIdentifier, "5f0c-11aa").is_ok());
        for bad in ["x\" or company/id=7", "a b", "ünï", "id'"] {
            assert!(
                normalize_value(FactField::DeviceIdentifier, bad).is_err(),
                "{bad}"
            );
        }
    }
}
