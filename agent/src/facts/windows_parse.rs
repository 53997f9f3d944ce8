//! Windows: the raw readings the collector takes through the Win32 API (`Inventory`), and the
//! pure rules that turn them into facts. Tests use inventories recorded with
//! `bindery-agent facts --inventory` (under Wine here; on Windows machines by hand).

use bindery_shared::normalize::is_junk_serial;
use bindery_shared::{DeviceFacts, FactField};
use serde::{Deserialize, Serialize};

use super::{format_gb, format_ghz, rated_ghz_in_model_name};

/// The first build of Windows 11: its registry still says "Windows 10" in ProductName.
const WINDOWS_11_BUILD: u32 = 22000;

/// What the collector read, each reading absent when the API gave nothing.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Inventory {
    /// The DNS host name (`GetComputerNameExW`).
    pub computer_name: Option<String>,
    /// `HKLM\SOFTWARE\Microsoft\Windows NT\CurrentVersion`: ProductName, DisplayVersion (or
    /// ReleaseId), CurrentBuild, UBR.
    pub product_name: Option<String>,
    pub display_version: Option<String>,
    pub current_build: Option<String>,
    pub ubr: Option<u32>,
    /// From the SMBIOS table: the system's, the chassis' and the baseboard's serials.
    pub system_serial: Option<String>,
    pub chassis_serial: Option<String>,
    pub baseboard_serial: Option<String>,
    /// `HKLM\HARDWARE\DESCRIPTION\System\CentralProcessor\0`: ProcessorNameString, ~MHz.
    pub cpu_name: Option<String>,
    pub cpu_mhz: Option<u32>,
    /// Installed RAM (`GetPhysicallyInstalledSystemMemory`, else `GlobalMemoryStatusEx`).
    pub memory_bytes: Option<u64>,
    /// `DOMAIN\user` at the console (WTS).
    pub console_user: Option<String>,
    /// The interface of the IPv4 default route with the lowest metric, its MAC and address.
    pub interface: Option<String>,
    pub mac: Option<String>,
    pub ip: Option<String>,
    /// The next hop of that default route.
    pub gateway: Option<String>,
    /// From the SMBIOS table: the system's maker, product name and version, and the BIOS version.
    pub manufacturer: Option<String>,
    pub product: Option<String>,
    pub version: Option<String>,
    pub bios_version: Option<String>,
    /// `CurrentVersion\InstallDate`: when Windows was installed (or last upgraded in place), in
    /// seconds since 1970.
    pub install_date: Option<u32>,
    /// The volumes `sysinfo` lists.
    pub volumes: Vec<super::disks::Volume>,
}

fn clean(v: &Option<String>) -> Option<String> {
    v.as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

/// The facts (but the agent id) from the readings.
pub fn facts_from_inventory(inv: &Inventory) -> DeviceFacts {
    let mut facts = DeviceFacts::default();
    facts.set_result(
        FactField::Name,
        clean(&inv.computer_name).ok_or_else(|| "no computer name".into()),
    );
    facts.set_result(FactField::SerialNumber, serial(inv));
    let no_route = || match clean(&inv.interface) {
        Some(iface) => format!("{iface} reports no address"),
        None => "no IPv4 default route".into(),
    };
    facts.set_result(FactField::MacAddress, clean(&inv.mac).ok_or_else(no_route));
    facts.set_result(FactField::IpAddress, clean(&inv.ip).ok_or_else(no_route));
    facts.set(FactField::OsType, "Windows");
    facts.set_result(
        FactField::OsInfo,
        os_info(inv).ok_or_else(|| "the registry names no Windows product".into()),
    );
    let ghz = inv
        .cpu_mhz
        .filter(|m| *m > 0)
        .map(|mhz| f64::from(mhz) / 1000.0)
        .or_else(|| clean(&inv.cpu_name).and_then(|n| rated_ghz_in_model_name(&n)));
    facts.set_result(
        FactField::CpuSpeed,
        ghz.map(format_ghz)
            .ok_or_else(|| "no processor speed".into()),
    );
    facts.set_result(
        FactField::Ram,
        inv.memory_bytes
            .filter(|b| *b > 0)
            .map(format_gb)
            .ok_or_else(|| "no memory size".into()),
    );
    facts.set_result(
        FactField::LastLoginName,
        clean(&inv.console_user).ok_or_else(|| "no one is logged in at the console".into()),
    );
    hardware(inv, &mut facts);
    facts
}

/// The inventory facts.
fn hardware(inv: &Inventory, facts: &mut DeviceFacts) {
    let from_smbios = |name: &str| format!("the SMBIOS table names no {name}");
    facts.set_result(
        FactField::Manufacturer,
        clean(&inv.manufacturer).ok_or_else(|| from_smbios("system manufacturer")),
    );
    let model = bindery_shared::smbios::model_name(
        inv.manufacturer.as_deref(),
        inv.product.as_deref(),
        inv.version.as_deref(),
    );
    facts.set_result(
        FactField::Model,
        model.ok_or_else(|| from_smbios("product")),
    );
    facts.set_result(
        FactField::BiosVersion,
        clean(&inv.bios_version).ok_or_else(|| from_smbios("BIOS version")),
    );
    facts.set_result(
        FactField::DefaultGateway,
        clean(&inv.gateway).ok_or_else(|| "no IPv4 default route through a gateway".into()),
    );
    facts.set_result(
        FactField::LocalHardDrives,
        super::disks::disks_text(&inv.volumes),
    );
    facts.set_result(
        FactField::OsInstallDate,
        inv.install_date
            .filter(|s| *s > 0)
            .map(|s| bindery_shared::time::utc_date(i64::from(s) * 1000))
            .ok_or_else(|| "the registry has no InstallDate".into()),
    );
}

/// System, then chassis, then baseboard serial, placeholders dropped (as GLPI Agent does).
fn serial(inv: &Inventory) -> Result<String, String> {
    let serials: Vec<String> = [
        &inv.system_serial,
        &inv.chassis_serial,
        &inv.baseboard_serial,
    ]
    .into_iter()
    .filter_map(clean)
    .collect();
    serials
        .iter()
        .find(|s| !is_junk_serial(s))
        .cloned()
        .ok_or_else(|| match serials.first() {
            Some(junk) => {
                format!("the firmware holds a placeholder serial ({junk}), not a real one")
            }
            None => "the SMBIOS table holds no system, chassis or baseboard serial".into(),
        })
}

/// "Windows 11 Pro 23H2 (22631.3007)". From build 22000 on it is Windows 11, whatever
/// ProductName says.
fn os_info(inv: &Inventory) -> Option<String> {
    let product = clean(&inv.product_name)?;
    let product = product
        .strip_prefix("Microsoft ")
        .unwrap_or(&product)
        .to_owned();
    let build = clean(&inv.current_build);
    let number: Option<u32> = build.as_deref().and_then(|b| b.parse().ok());
    let product = match product.strip_prefix("Windows 10") {
        Some(rest) if number.is_some_and(|n| n >= WINDOWS_11_BUILD) => format!("Windows 11{rest}"),
        _ => product,
    };
    let build = build.map(|b| match inv.ubr {
        Some(ubr) => format!("{b}.{ubr}"),
        None => b,
    });
    Some(match (clean(&inv.display_version), build) {
        (Some(r), Some(b)) => format!("{product} {r} ({b})"),
        (None, Some(b)) => format!("{product} ({b})"),
        (Some(r), None) => format!("{product} {r}"),
        (None, None) => product,
    })
}

#[cfg(test)]
#[path = "windows_parse_tests.rs"]
mod tests;
