//! Device facts: the per-OS collectors, each a thin layer of raw reads over pure parsers that are
//! compiled and tested everywhere with samples recorded on each OS (`tests/samples/`).
//!
//! Collection never fails as a whole: a fact that cannot be read is absent with the reason, and no
//! value is ever made up.

// The parsers of every OS are compiled on every OS so their tests run on the Linux CI machine.
#[cfg_attr(not(target_os = "linux"), allow(dead_code))]
mod linux_parse;
#[cfg_attr(not(target_os = "macos"), allow(dead_code))]
mod macos_parse;
#[cfg_attr(not(windows), allow(dead_code))]
mod windows_parse;

mod disks;
#[cfg(target_os = "linux")]
mod linux;
#[cfg(target_os = "linux")]
mod linux_hardware;
#[cfg(target_os = "macos")]
mod macos;
#[cfg(windows)]
mod windows;

use std::path::PathBuf;

use bindery_shared::{DeviceFacts, FactField};

/// Where facts are read from.
#[derive(Clone, Debug, Default)]
pub struct Source {
    /// Linux only: read /proc, /sys, /etc and /run under this directory instead of `/`.
    pub root: Option<PathBuf>,
}

/// This machine's facts, normalised, with `agent_id` (or the reason there is none) as the
/// device identifier.
pub fn collect(source: &Source, agent_id: Result<String, String>) -> Result<DeviceFacts, String> {
    if source.root.is_some() && !cfg!(target_os = "linux") {
        return Err("--root reads Linux's /proc and /sys: it works on Linux only".into());
    }
    let mut facts = collect_os(source);
    facts.set_result(FactField::DeviceIdentifier, agent_id);
    Ok(facts.normalized())
}

#[cfg(target_os = "linux")]
fn collect_os(source: &Source) -> DeviceFacts {
    let root = source.root.clone().unwrap_or_else(|| PathBuf::from("/"));
    linux::LinuxSystem::new(root).collect()
}

#[cfg(target_os = "macos")]
fn collect_os(_source: &Source) -> DeviceFacts {
    macos::collect()
}

#[cfg(windows)]
fn collect_os(_source: &Source) -> DeviceFacts {
    windows::collect()
}

/// Windows: the raw readings as JSON (the form of the parser's test samples).
#[cfg(windows)]
pub fn inventory_json() -> Result<String, String> {
    let mut text =
        serde_json::to_string_pretty(&windows::inventory()).map_err(|e| e.to_string())?;
    text.push('\n');
    Ok(text)
}

#[cfg(not(windows))]
pub fn inventory_json() -> Result<String, String> {
    Err("--inventory prints the Windows collector's raw readings: it works on Windows only".into())
}

#[cfg(not(any(target_os = "linux", target_os = "macos", windows)))]
fn collect_os(_source: &Source) -> DeviceFacts {
    let mut facts = DeviceFacts::default();
    for field in FactField::ALL {
        facts.set_absent(field, "this operating system is not supported");
    }
    facts
}

/// The rated speed in a CPU model name ("Intel(R) Core(TM) i7-8650U CPU @ 1.90GHz"), in GHz.
pub(crate) fn rated_ghz_in_model_name(model: &str) -> Option<f64> {
    let at = model.rfind('@')?;
    let speed = model[at + 1..].trim();
    let (number, unit) = speed.split_at(speed.find(|c: char| c.is_ascii_alphabetic())?);
    let number: f64 = number.trim().parse().ok()?;
    match unit.trim().to_ascii_lowercase().as_str() {
        "ghz" => Some(number),
        "mhz" => Some(number / 1000.0),
        _ => None,
    }
    .filter(|ghz| *ghz > 0.0 && ghz.is_finite())
}

/// A processor speed as ConnectWise shows it: `2.60 GHz`.
pub(crate) fn format_ghz(ghz: f64) -> String {
    format!("{ghz:.2} GHz")
}

/// Memory as ConnectWise shows it: `15.6 GB` (binary gigabytes, as every OS reports them).
pub(crate) fn format_gb(bytes: u64) -> String {
    format!("{:.1} GB", bytes as f64 / (1024.0 * 1024.0 * 1024.0))
}

/// The facts as a two-column table for people, with the reason beside each absent fact.
pub fn table(facts: &DeviceFacts) -> String {
    let mut out = String::new();
    for field in FactField::ALL {
        let value = match (facts.get(field), facts.absent_reason(field)) {
            (Some(v), _) => v.to_owned(),
            (None, Some(reason)) => format!("- ({reason})"),
            (None, None) => "-".to_owned(),
        };
        out.push_str(&format!("{:<15} {value}\n", field.label()));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn speeds_and_sizes_read_as_people_expect() {
        assert_eq!(format_ghz(2.6), "2.60 GHz");
        assert_eq!(format_ghz(0.8), "0.80 GHz");
        assert_eq!(format_gb(16 * 1024 * 1024 * 1024), "16.0 GB");
        assert_eq!(format_gb(25_225_904_128), "23.5 GB");
    }

    #[test]
    fn the_table_shows_values_and_reasons() {
        let mut facts = DeviceFacts::default();
        facts.set(FactField::Name, "web-01");
        facts.set_absent(FactField::SerialNumber, "no DMI");
        let table = table(&facts);
        assert!(table.contains("Name            web-01\n"), "{table}");
        assert!(table.contains("Serial number   - (no DMI)\n"), "{table}");
        assert_eq!(table.lines().count(), FactField::ALL.len());
    }
}
