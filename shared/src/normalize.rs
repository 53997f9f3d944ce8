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

/// True for the firmware's template text in a maker, model or version field ("System
/// manufacturer", "To Be Filled By O.E.M.", "Default string"): never shown as a real value.
pub fn is_placeholder_text(text: &str) -> bool {
    let lower = text.trim().to_lowercase();
    JUNK_SERIALS.iter().any(|j| j.eq_ignore_ascii_case(&lower))
        || [
            "o.e.m",
            "default string",
            "system manufacturer",
            "system product name",
            "not specified",
        ]
        .iter()
        .any(|w| lower.contains(w))
}

/// A calendar date as `YYYY-MM-DD` (what the OS install date is reported as).
fn iso_date(text: &str) -> Result<String, String> {
    let parts: Vec<&str> = text.split('-').collect();
    let number = |s: &str, len: usize| {
        (s.len() == len && s.bytes().all(|b| b.is_ascii_digit()))
            .then(|| s.parse::<u32>().ok())
            .flatten()
    };
    match parts.as_slice() {
        [y, m, d] => match (number(y, 4), number(m, 2), number(d, 2)) {
            (Some(y), Some(m @ 1..=12), Some(d @ 1..=31)) if y >= 1980 => {
                Ok(format!("{y:04}-{m:02}-{d:02}"))
            }
            _ => Err(format!("not a date (YYYY-MM-DD): {text}")),
        },
        _ => Err(format!("not a date (YYYY-MM-DD): {text}")),
    }
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
        FactField::DefaultGateway => canonical_ip(value),
        FactField::OsInstallDate => iso_date(value),
        FactField::Manufacturer | FactField::Model | FactField::BiosVersion
            if is_placeholder_text(value) =>
        {
            Err(format!(
                "placeholder from firmware ({}), not a real value",
                truncate_to_limit(value, 40)
            ))
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
#[path = "normalize_tests.rs"]
mod tests;
