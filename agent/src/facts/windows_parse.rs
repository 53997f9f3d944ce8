//! Windows: the PowerShell inventory script the reader runs (one process, CIM and the registry)
//! and the pure parser of its JSON. Tests use recorded output.

use bindery_shared::normalize::is_junk_serial;
use bindery_shared::{DeviceFacts, FactField};
use serde_json::Value;

use super::{format_gb, format_ghz, rated_ghz_in_model_name};

/// Prints one compact JSON object with everything the facts need. Serial sources in order of
/// preference (BIOS, then enclosure, then baseboard, as GLPI Agent does); MAC and IP of the
/// interface carrying the IPv4 default route with the lowest metric; the console user from
/// Win32_ComputerSystem.
pub const INVENTORY_SCRIPT: &str = r#"
$ErrorActionPreference = 'SilentlyContinue'
$os = Get-CimInstance Win32_OperatingSystem
$cs = Get-CimInstance Win32_ComputerSystem
$bios = Get-CimInstance Win32_BIOS
$enc = @(Get-CimInstance Win32_SystemEnclosure)[0]
$bb = Get-CimInstance Win32_BaseBoard
$cpu = @(Get-CimInstance Win32_Processor)[0]
$cv = Get-ItemProperty 'HKLM:\SOFTWARE\Microsoft\Windows NT\CurrentVersion'
$route = Get-NetRoute -DestinationPrefix '0.0.0.0/0' | Sort-Object { $_.RouteMetric + $_.InterfaceMetric } | Select-Object -First 1
$adapter = $null; $ip = $null
if ($route) {
  $adapter = Get-NetAdapter -InterfaceIndex $route.ifIndex
  $ip = @(Get-NetIPAddress -InterfaceIndex $route.ifIndex -AddressFamily IPv4)[0].IPAddress
}
[pscustomobject]@{
  computerName = $env:COMPUTERNAME
  osCaption = $os.Caption; osVersion = $os.Version; osBuild = $os.BuildNumber
  displayVersion = $cv.DisplayVersion; releaseId = $cv.ReleaseId
  biosSerial = $bios.SerialNumber; enclosureSerial = $enc.SerialNumber; baseboardSerial = $bb.SerialNumber
  cpuMaxClockMhz = $cpu.MaxClockSpeed; cpuName = $cpu.Name
  totalPhysicalMemory = $cs.TotalPhysicalMemory; userName = $cs.UserName
  interface = $adapter.Name; mac = $adapter.MacAddress; ip = $ip
} | ConvertTo-Json -Compress
"#;

/// The facts (but the agent id) from the script's output.
pub fn facts_from_inventory(json: &str) -> DeviceFacts {
    let mut facts = DeviceFacts::default();
    let inv: Value = match serde_json::from_str(json) {
        Ok(v @ Value::Object(_)) => v,
        _ => {
            for field in FactField::ALL {
                facts.set_absent(field, "the inventory script printed no JSON object");
            }
            return facts;
        }
    };
    // PowerShell prints numbers as numbers, but some CIM providers give strings.
    let text = |key: &str| match inv.get(key) {
        Some(Value::String(s)) if !s.trim().is_empty() => Some(s.trim().to_owned()),
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    };
    let number = |key: &str| {
        text(key)
            .and_then(|t| t.parse::<u64>().ok())
            .filter(|n| *n > 0)
    };

    facts.set_result(
        FactField::Name,
        text("computerName").ok_or_else(|| "no computer name".into()),
    );

    let serial_sources = ["biosSerial", "enclosureSerial", "baseboardSerial"];
    let serials: Vec<String> = serial_sources.iter().filter_map(|k| text(k)).collect();
    let serial = serials
        .iter()
        .find(|s| !is_junk_serial(s))
        .cloned()
        .ok_or_else(|| match serials.first() {
            Some(junk) => {
                format!("the firmware holds a placeholder serial ({junk}), not a real one")
            }
            None => "the BIOS, enclosure and baseboard report no serial".into(),
        });
    facts.set_result(FactField::SerialNumber, serial);

    facts.set_result(
        FactField::MacAddress,
        text("mac").ok_or_else(|| no_route(&text)),
    );
    facts.set_result(
        FactField::IpAddress,
        text("ip").ok_or_else(|| no_route(&text)),
    );
    facts.set(FactField::OsType, "Windows");
    facts.set_result(
        FactField::OsInfo,
        os_info(&text).ok_or_else(|| "no OS caption".into()),
    );

    let ghz = number("cpuMaxClockMhz")
        .map(|mhz| mhz as f64 / 1000.0)
        .or_else(|| text("cpuName").and_then(|n| rated_ghz_in_model_name(&n)));
    facts.set_result(
        FactField::CpuSpeed,
        ghz.map(format_ghz)
            .ok_or_else(|| "no processor speed".into()),
    );
    facts.set_result(
        FactField::Ram,
        number("totalPhysicalMemory")
            .map(format_gb)
            .ok_or_else(|| "no memory size".into()),
    );
    facts.set_result(
        FactField::LastLoginName,
        text("userName").ok_or_else(|| "no one is logged in at the console".into()),
    );
    facts
}

fn no_route(text: &impl Fn(&str) -> Option<String>) -> String {
    match text("interface") {
        Some(iface) => format!("{iface} reports no address"),
        None => "no IPv4 default route".into(),
    }
}

/// "Windows 11 Pro 23H2 (22631)".
fn os_info(text: &impl Fn(&str) -> Option<String>) -> Option<String> {
    let caption = text("osCaption")?;
    let caption = caption
        .strip_prefix("Microsoft ")
        .unwrap_or(&caption)
        .to_owned();
    let release = text("displayVersion").or_else(|| text("releaseId"));
    let build = text("osBuild");
    Some(match (release, build) {
        (Some(r), Some(b)) => format!("{caption} {r} ({b})"),
        (None, Some(b)) => format!("{caption} ({b})"),
        (Some(r), None) => format!("{caption} {r}"),
        (None, None) => caption,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/samples/windows");

    fn facts(name: &str) -> DeviceFacts {
        let text = std::fs::read_to_string(format!("{SAMPLES}/{name}")).unwrap();
        facts_from_inventory(&text).normalized()
    }

    #[test]
    fn a_business_laptop_gives_every_fact() {
        let f = facts("inventory-win11.json");
        assert_eq!(f.name.as_deref(), Some("WS-0042"));
        assert_eq!(f.serial_number.as_deref(), Some("5CG1234XYZ"));
        assert_eq!(f.mac_address.as_deref(), Some("3C:52:82:1A:2B:3C"));
        assert_eq!(f.ip_address.as_deref(), Some("10.20.30.40"));
        assert_eq!(f.os_type.as_deref(), Some("Windows"));
        assert_eq!(f.os_info.as_deref(), Some("Windows 11 Pro 23H2 (22631)"));
        assert_eq!(f.cpu_speed.as_deref(), Some("2.80 GHz"));
        assert_eq!(f.ram.as_deref(), Some("15.8 GB"));
        assert_eq!(f.last_login_name.as_deref(), Some("CONTOSO\\alice"));
    }

    #[test]
    fn a_white_box_falls_back_to_the_baseboard_and_explains_gaps() {
        let f = facts("inventory-whitebox-win10.json");
        assert_eq!(f.serial_number.as_deref(), Some("M80-C4003100123"));
        assert_eq!(f.os_info.as_deref(), Some("Windows 10 Home 1909 (18363)"));
        assert_eq!(
            f.ram.as_deref(),
            Some("8.0 GB"),
            "a string number is still read"
        );
        assert_eq!(
            f.cpu_speed, None,
            "no MaxClockSpeed and no @ in the name: nothing invented"
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
            Some("Windows Server 2022 Standard 21H2 (20348)")
        );
    }

    #[test]
    fn garbage_output_gives_reasons_for_everything() {
        for text in [
            "",
            "WARNING: CIM unavailable",
            "[1,2]",
            "{\"computerName\": 5",
        ] {
            let f = facts_from_inventory(text).normalized();
            assert_eq!(f.name, None, "{text}");
            assert!(f.absent_reason(FactField::Ram).is_some());
        }
    }

    #[test]
    fn the_script_asks_for_every_key_the_parser_reads() {
        for key in [
            "computerName",
            "osCaption",
            "biosSerial",
            "enclosureSerial",
            "baseboardSerial",
            "cpuMaxClockMhz",
            "totalPhysicalMemory",
            "userName",
            "mac",
            "ip",
            "displayVersion",
        ] {
            assert!(INVENTORY_SCRIPT.contains(&format!("{key} =")), "{key}");
        }
    }
}
