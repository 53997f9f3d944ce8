//! Linux: the inventory facts (maker, model, firmware, gateway, disks, install date), read the
//! same way as the others: relative to the collector's root, parsed by `linux_parse`.

use std::path::Path;

use bindery_shared::{DeviceFacts, FactField};

use super::linux::{LinuxSystem, bytes_to_text};
use super::linux_parse as parse;

const DMI: &str = "/sys/class/dmi/id";

/// Where an installer leaves a dated trace, best first; the root file system's own birth last.
const INSTALL_TRACES: [&str; 3] = ["/var/log/installer", "/root/anaconda-ks.cfg", "/"];

impl LinuxSystem {
    /// Fills the inventory facts.
    pub(super) fn hardware(&self, facts: &mut DeviceFacts) {
        let dmi = |name: &str| {
            std::fs::read(self.path(&format!("{DMI}/{name}")))
                .map(|b| bytes_to_text(&b))
                .ok()
                .filter(|t| !t.is_empty())
        };
        let vendor = dmi("sys_vendor");
        facts.set_result(
            FactField::Manufacturer,
            vendor.clone().ok_or_else(|| no_dmi("sys_vendor")),
        );
        let model = bindery_shared::smbios::model_name(
            vendor.as_deref(),
            dmi("product_name").as_deref(),
            dmi("product_version").as_deref(),
        )
        .or_else(|| {
            // Boards without DMI (ARM) name themselves in the device tree.
            let bytes = std::fs::read(self.path("/sys/firmware/devicetree/base/model")).ok()?;
            Some(bytes_to_text(&bytes)).filter(|t| !t.is_empty())
        });
        facts.set_result(
            FactField::Model,
            model.ok_or_else(|| no_dmi("product_name")),
        );
        facts.set_result(
            FactField::BiosVersion,
            dmi("bios_version").ok_or_else(|| no_dmi("bios_version")),
        );
        facts.set_result(FactField::DefaultGateway, self.gateway());
        facts.set_result(FactField::LocalHardDrives, self.disks());
        facts.set_result(FactField::OsInstallDate, self.install_date());
    }

    fn gateway(&self) -> Result<String, String> {
        let routes = parse::parse_route(&self.read("/proc/net/route")?);
        parse::default_route_gateway(&routes)
            .map(|g| g.to_string())
            .ok_or_else(|| "no IPv4 default route through a gateway".into())
    }

    /// Volumes come from the running system: a fake root (`facts --root`) has none of its own.
    fn disks(&self) -> Result<String, String> {
        if self.path("/") != Path::new("/") {
            return Err("volumes are read from the running system, not under --root".into());
        }
        super::disks::disks_text(&super::disks::volumes()?)
    }

    fn install_date(&self) -> Result<String, String> {
        // Images built with zeroed times say 1970: no better than nothing.
        const PLAUSIBLE_MS: u128 = 315_532_800_000; // 1980-01-01
        for trace in INSTALL_TRACES {
            let born = std::fs::metadata(self.path(trace)).and_then(|m| m.created());
            match born.map(|t| t.duration_since(std::time::UNIX_EPOCH)) {
                Ok(Ok(since)) if since.as_millis() >= PLAUSIBLE_MS => {
                    let ms = i64::try_from(since.as_millis()).unwrap_or(i64::MAX);
                    return Ok(bindery_shared::time::utc_date(ms));
                }
                Err(e) if e.kind() == std::io::ErrorKind::Unsupported => {
                    return Err("this file system records no creation times".into());
                }
                _ => {}
            }
        }
        Err("no installer trace, and the root file system has no plausible creation time".into())
    }
}

fn no_dmi(name: &str) -> String {
    format!("no {DMI}/{name} (no DMI on this machine)")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    use super::super::linux::tests::laptop_root;

    fn put(root: &Path, path: &str, contents: &str) {
        let p = root.join(path.trim_start_matches('/'));
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(p, contents).unwrap();
    }

    #[test]
    fn a_lenovo_laptop_gives_its_model_gateway_and_firmware() {
        let root = laptop_root();
        put(root.path(), "/sys/class/dmi/id/sys_vendor", "LENOVO\n");
        put(
            root.path(),
            "/sys/class/dmi/id/product_name",
            "20KHCTO1WW\n",
        );
        put(
            root.path(),
            "/sys/class/dmi/id/product_version",
            "ThinkPad X1 Carbon 6th\n",
        );
        put(
            root.path(),
            "/sys/class/dmi/id/bios_version",
            "N23ET81W (1.56 )\n",
        );
        let facts = LinuxSystem::new(root.path()).collect().normalized();
        assert_eq!(facts.manufacturer.as_deref(), Some("LENOVO"));
        assert_eq!(facts.model.as_deref(), Some("ThinkPad X1 Carbon 6th"));
        assert_eq!(facts.bios_version.as_deref(), Some("N23ET81W (1.56 )"));
        assert_eq!(facts.default_gateway.as_deref(), Some("192.168.1.1"));
        assert!(
            facts
                .absent_reason(FactField::LocalHardDrives)
                .is_some_and(|r| r.contains("--root")),
            "{facts:?}"
        );
        let today = bindery_shared::time::utc_date(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_millis() as i64,
        );
        assert_eq!(facts.os_install_date.as_deref(), Some(today.as_str()));
    }

    #[test]
    fn other_makers_use_the_product_name_and_placeholders_are_absent() {
        let root = laptop_root();
        put(root.path(), "/sys/class/dmi/id/sys_vendor", "Dell Inc.\n");
        put(
            root.path(),
            "/sys/class/dmi/id/product_name",
            "Latitude 7420\n",
        );
        put(
            root.path(),
            "/sys/class/dmi/id/product_version",
            "Not Specified\n",
        );
        let facts = LinuxSystem::new(root.path()).collect().normalized();
        assert_eq!(facts.model.as_deref(), Some("Latitude 7420"));
        put(
            root.path(),
            "/sys/class/dmi/id/sys_vendor",
            "System manufacturer\n",
        );
        put(
            root.path(),
            "/sys/class/dmi/id/product_name",
            "System Product Name\n",
        );
        let facts = LinuxSystem::new(root.path()).collect().normalized();
        assert_eq!(facts.manufacturer, None);
        assert_eq!(facts.model, None);
        assert!(
            facts
                .absent_reason(FactField::Manufacturer)
                .unwrap()
                .contains("placeholder")
        );
    }

    #[test]
    fn a_board_without_dmi_names_its_model_in_the_device_tree() {
        let root = laptop_root();
        put(
            root.path(),
            "/sys/firmware/devicetree/base/model",
            "Raspberry Pi 4 Model B Rev 1.4\0",
        );
        let facts = LinuxSystem::new(root.path()).collect().normalized();
        assert_eq!(
            facts.model.as_deref(),
            Some("Raspberry Pi 4 Model B Rev 1.4")
        );
        assert!(
            facts
                .absent_reason(FactField::Manufacturer)
                .unwrap()
                .contains("no DMI")
        );
    }

    #[test]
    fn a_default_route_without_a_gateway_has_none() {
        let routes = "Iface\tDestination\tGateway\tFlags\tRefCnt\tUse\tMetric\tMask\n\
                      ppp0\t00000000\t00000000\t0001\t0\t0\t0\t00000000\n";
        assert_eq!(
            parse::default_route_gateway(&parse::parse_route(routes)),
            None
        );
    }

    /// The real machine: every inventory fact is a value or a reason, and the disks are listed
    /// as sizes (a machine whose root is an overlay may have no fixed volume at all).
    #[test]
    fn this_machine_reports_its_disks() {
        let facts = LinuxSystem::new("/").collect().normalized();
        for field in FactField::INVENTORY {
            assert!(facts.get(field).is_some() != facts.absent_reason(field).is_some());
        }
        match (
            &facts.local_hard_drives,
            facts.absent_reason(FactField::LocalHardDrives),
        ) {
            (Some(disks), _) => assert!(disks.contains(" GB free)"), "{disks}"),
            (None, reason) => assert_eq!(reason, Some("no fixed volume is mounted")),
        }
    }
}
