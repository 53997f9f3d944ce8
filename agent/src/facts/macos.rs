//! macOS: runs the system's own tools (no root needed, no private frameworks) and hands their
//! output to `macos_parse`.

use std::process::Command;

use bindery_shared::normalize::is_junk_serial;
use bindery_shared::{DeviceFacts, FactField};

use super::macos_parse as parse;
use super::{format_gb, format_ghz, rated_ghz_in_model_name};

pub fn collect() -> DeviceFacts {
    let mut facts = DeviceFacts::default();
    let name = run("/usr/sbin/scutil", &["--get", "LocalHostName"])
        .or_else(|_| run("/bin/hostname", &["-s"]))
        .map(|n| n.trim().to_owned());
    facts.set_result(FactField::Name, name);

    let serial = run("/usr/sbin/ioreg", &["-rd1", "-c", "IOPlatformExpertDevice"]).and_then(|t| {
        match parse::ioreg_serial(&t) {
            Some(s) if !is_junk_serial(&s) => Ok(s),
            Some(s) => Err(format!("the firmware holds a placeholder serial ({s})")),
            None => Err("IOPlatformExpertDevice has no serial number".into()),
        }
    });
    facts.set_result(FactField::SerialNumber, serial);

    let (mac, ip) = network();
    facts.set_result(FactField::MacAddress, mac);
    facts.set_result(FactField::IpAddress, ip);

    facts.set(FactField::OsType, "macOS");
    let os = run("/usr/bin/sw_vers", &[])
        .and_then(|t| parse::sw_vers_pretty(&t).ok_or_else(|| "sw_vers printed no version".into()));
    facts.set_result(FactField::OsInfo, os);

    // Intel Macs publish their rated speed; Apple silicon publishes none, so it stays absent.
    let ghz = run("/usr/sbin/sysctl", &["-n", "hw.cpufrequency_max"])
        .ok()
        .and_then(|t| parse::sysctl_u64(&t))
        .map(|hz| hz as f64 / 1e9)
        .or_else(|| {
            let brand = run("/usr/sbin/sysctl", &["-n", "machdep.cpu.brand_string"]).ok()?;
            rated_ghz_in_model_name(&brand)
        });
    facts.set_result(
        FactField::CpuSpeed,
        ghz.map(format_ghz)
            .ok_or_else(|| "this processor publishes no rated clock speed".into()),
    );
    let ram = run("/usr/sbin/sysctl", &["-n", "hw.memsize"])
        .and_then(|t| parse::sysctl_u64(&t).ok_or_else(|| "hw.memsize is not a number".into()));
    facts.set_result(FactField::Ram, ram.map(format_gb));

    let user = run("/usr/bin/stat", &["-f", "%Su", "/dev/console"])
        .and_then(|t| parse::console_owner(&t).ok_or_else(|| "no one is logged in".into()));
    facts.set_result(FactField::LastLoginName, user);
    hardware(&mut facts);
    facts
}

/// The inventory facts: Apple makes every Mac; the model identifier and firmware version from the
/// hardware overview; the volumes through `sysinfo`; the install date from Setup Assistant's mark.
fn hardware(facts: &mut DeviceFacts) {
    facts.set(FactField::Manufacturer, "Apple Inc.");
    let overview = run("/usr/sbin/system_profiler", &["SPHardwareDataType"]);
    let value = |label: &str| {
        overview.clone().and_then(|t| {
            parse::hardware_overview_value(&t, label)
                .ok_or_else(|| format!("the hardware overview has no {label}"))
        })
    };
    facts.set_result(FactField::Model, value("Model Identifier"));
    facts.set_result(
        FactField::BiosVersion,
        value("System Firmware Version").or_else(|_| value("Boot ROM Version")),
    );
    let gateway = run("/sbin/route", &["-n", "get", "default"]).and_then(|t| {
        parse::route_get_gateway(&t).ok_or_else(|| "the default route has no gateway".into())
    });
    facts.set_result(FactField::DefaultGateway, gateway);
    facts.set_result(
        FactField::LocalHardDrives,
        super::disks::volumes().and_then(|v| super::disks::disks_text(&v)),
    );
    let setup_done = std::fs::metadata("/var/db/.AppleSetupDone")
        .and_then(|m| m.modified())
        .map_err(|e| format!("no Setup Assistant mark (/var/db/.AppleSetupDone): {e}"))
        .and_then(|t| {
            t.duration_since(std::time::UNIX_EPOCH)
                .map_err(|_| "the Setup Assistant mark predates 1970".to_owned())
        })
        .map(|d| bindery_shared::time::utc_date(i64::try_from(d.as_millis()).unwrap_or(i64::MAX)));
    facts.set_result(FactField::OsInstallDate, setup_done);
}

/// MAC and address of the interface carrying the default route.
fn network() -> (Result<String, String>, Result<String, String>) {
    let route = run("/sbin/route", &["-n", "get", "default"]);
    let Some(iface) = route.ok().and_then(|t| parse::route_get_interface(&t)) else {
        return (
            Err("no default route".into()),
            Err("no default route".into()),
        );
    };
    match run("/sbin/ifconfig", &[iface.as_str()]) {
        Ok(text) => {
            let (mac, ip) = parse::ifconfig_mac_and_ip(&text);
            (
                mac.ok_or_else(|| format!("{iface} has no hardware (MAC) address")),
                ip.map(|a| a.to_string())
                    .ok_or_else(|| format!("{iface} has no usable address")),
            )
        }
        Err(e) => (Err(e.clone()), Err(e)),
    }
}

fn run(program: &str, args: &[&str]) -> Result<String, String> {
    let out = Command::new(program)
        .args(args)
        .output()
        .map_err(|e| format!("cannot run {program}: {e}"))?;
    if !out.status.success() {
        return Err(format!("{program} failed ({})", out.status));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}
