//! Linux: raw reads of /proc, /sys, /etc and /run, every path taken relative to a root directory
//! so that tests (and `facts --root`) can point them at a fake tree. Parsing is in `linux_parse`.

use std::io::ErrorKind;
use std::path::{Path, PathBuf};

use bindery_shared::normalize::is_junk_serial;
use bindery_shared::{DeviceFacts, FactField};

use super::linux_parse as parse;
use super::{format_gb, format_ghz};

/// Serial sources, best first (docs/facts.md): the product serial is the service
/// tag; the board serial is a fallback because on some vendors it is a composite string.
const SERIAL_FILES: [&str; 3] = [
    "/sys/class/dmi/id/product_serial",
    "/sys/class/dmi/id/board_serial",
    "/sys/firmware/devicetree/base/serial-number",
];

pub struct LinuxSystem {
    root: PathBuf,
}

impl LinuxSystem {
    pub fn new(root: impl Into<PathBuf>) -> LinuxSystem {
        LinuxSystem { root: root.into() }
    }

    /// Every fact but the agent id.
    pub fn collect(&self) -> DeviceFacts {
        let mut facts = DeviceFacts::default();
        facts.set_result(FactField::Name, self.hostname());
        facts.set_result(FactField::SerialNumber, self.serial());
        let (mac, ip) = self.network();
        facts.set_result(FactField::MacAddress, mac);
        facts.set_result(FactField::IpAddress, ip);
        facts.set(FactField::OsType, "Linux");
        facts.set_result(FactField::OsInfo, self.os_info());
        facts.set_result(FactField::CpuSpeed, self.cpu_speed());
        facts.set_result(FactField::Ram, self.ram());
        facts.set_result(FactField::LastLoginName, self.current_user());
        self.hardware(&mut facts);
        facts
    }

    pub(super) fn path(&self, absolute: &str) -> PathBuf {
        self.root.join(absolute.trim_start_matches('/'))
    }

    pub(super) fn read(&self, absolute: &str) -> Result<String, String> {
        std::fs::read_to_string(self.path(absolute)).map_err(|e| describe(absolute, e.kind()))
    }

    fn hostname(&self) -> Result<String, String> {
        let name = self
            .read("/proc/sys/kernel/hostname")
            .or_else(|_| self.read("/etc/hostname"))?;
        Some(name.trim().to_owned())
            .filter(|n| !n.is_empty())
            .ok_or_else(|| "host name is empty".into())
    }

    fn serial(&self) -> Result<String, String> {
        let mut denied = Vec::new();
        let mut junk = Vec::new();
        let candidates = SERIAL_FILES
            .iter()
            .map(|file| {
                (
                    *file,
                    std::fs::read(self.path(file)).map(|b| bytes_to_text(&b)),
                )
            })
            .chain(std::iter::once((
                "/proc/cpuinfo Serial",
                self.read("/proc/cpuinfo")
                    .map(|t| parse::cpuinfo_serial(&t).unwrap_or_default())
                    .map_err(|_| std::io::Error::from(ErrorKind::NotFound)),
            )));
        for (source, read) in candidates {
            match read {
                Ok(value) if value.is_empty() => {}
                Ok(value) if is_junk_serial(&value) => junk.push(value),
                Ok(value) => return Ok(value),
                Err(e) if e.kind() == ErrorKind::PermissionDenied => denied.push(source),
                Err(_) => {}
            }
        }
        Err(match (denied.first(), junk.first()) {
            (Some(file), _) => {
                format!(
                    "{file} is readable by root only: run the agent as root (as its service does)"
                )
            }
            (None, Some(value)) => {
                let shown: String = value.chars().take(40).collect();
                format!("the firmware holds a placeholder serial ({shown}), not a real one")
            }
            (None, None) => {
                "this machine publishes no serial (no DMI, no device-tree serial)".into()
            }
        })
    }

    /// MAC and IP of the interface carrying the default route (IPv4 preferred, then IPv6, then
    /// the first physical interface with an address when there is no default route at all).
    fn network(&self) -> (Result<String, String>, Result<String, String>) {
        let routes = self
            .read("/proc/net/route")
            .map(|t| parse::parse_route(&t))
            .unwrap_or_default();
        let locals = self
            .read("/proc/net/fib_trie")
            .map(|t| parse::fib_trie_local_addresses(&t))
            .unwrap_or_default();
        let v6 = self
            .read("/proc/net/if_inet6")
            .map(|t| parse::parse_if_inet6(&t))
            .unwrap_or_default();
        let address_of = |iface: &str| {
            parse::ipv4_on_iface(&routes, &locals, iface)
                .map(|a| a.to_string())
                .or_else(|| parse::ipv6_on_iface(&v6, iface).map(|a| a.to_string()))
        };
        let iface = parse::default_route_iface(&routes)
            .map(str::to_owned)
            .or_else(|| {
                self.read("/proc/net/ipv6_route")
                    .ok()
                    .and_then(|t| parse::ipv6_default_route_iface(&t))
            })
            .or_else(|| {
                self.physical_ifaces()
                    .into_iter()
                    .find(|i| address_of(i).is_some())
            });
        let Some(iface) = iface.filter(|i| !i.contains('/') && !i.starts_with('.')) else {
            let reason = "no default route and no physical interface with an address".to_owned();
            return (Err(reason.clone()), Err(reason));
        };
        let ip = address_of(&iface).ok_or_else(|| format!("{iface} has no usable address"));
        let mac = self
            .read(&format!("/sys/class/net/{iface}/address"))
            .map(|m| m.trim().to_owned())
            .and_then(|m| {
                bindery_shared::normalize::canonical_mac(&m)
                    .map_err(|_| format!("{iface} has no hardware (MAC) address"))
            });
        (mac, ip)
    }

    /// Interfaces backed by a device (not loopback, bridges, veth, tunnels), by name.
    fn physical_ifaces(&self) -> Vec<String> {
        let Ok(dir) = std::fs::read_dir(self.path("/sys/class/net")) else {
            return Vec::new();
        };
        let mut names: Vec<String> = dir
            .filter_map(|e| e.ok())
            .filter(|e| e.path().join("device").exists())
            .filter_map(|e| e.file_name().into_string().ok())
            .collect();
        names.sort();
        names
    }

    fn os_info(&self) -> Result<String, String> {
        let text = self
            .read("/etc/os-release")
            .or_else(|_| self.read("/usr/lib/os-release"))?;
        parse::os_release_pretty(&text).ok_or_else(|| "os-release names no OS".into())
    }

    fn cpu_speed(&self) -> Result<String, String> {
        let cpuinfo = self.read("/proc/cpuinfo")?;
        let cpufreq = "/sys/devices/system/cpu/cpu0/cpufreq";
        let ghz = parse::cpuinfo_rated_ghz(&cpuinfo)
            .or_else(|| {
                let max = self.read(&format!("{cpufreq}/cpuinfo_max_freq")).ok()?;
                parse::cpufreq_khz_as_ghz(&max)
            })
            // Without a scaling driver the kernel's figure is the fixed clock, not a moment's.
            .or_else(|| {
                (!self.path(cpufreq).exists())
                    .then(|| parse::cpuinfo_mhz_as_ghz(&cpuinfo))
                    .flatten()
            });
        ghz.map(format_ghz).ok_or_else(|| {
            "no rated speed published (no speed in the model name, no cpufreq maximum)".into()
        })
    }

    fn ram(&self) -> Result<String, String> {
        let text = self.read("/proc/meminfo")?;
        parse::meminfo_total_bytes(&text)
            .map(format_gb)
            .ok_or_else(|| "no MemTotal in /proc/meminfo".into())
    }

    fn current_user(&self) -> Result<String, String> {
        let logind = self.path("/run/systemd/sessions");
        let sessions = if logind.is_dir() {
            logind_sessions(&logind)
        } else {
            let utmp = std::fs::read(self.path("/run/utmp"))
                .or_else(|_| std::fs::read(self.path("/var/run/utmp")))
                .map_err(|_| "no login records (no logind sessions, no utmp)".to_owned())?;
            parse::parse_utmp(&utmp)
        };
        parse::console_user(&sessions)
            .map(str::to_owned)
            .ok_or_else(|| "no one is logged in".into())
    }
}

/// The session files of logind (named by session id; the `.ref` entries beside them are FIFOs).
fn logind_sessions(dir: &Path) -> Vec<parse::Session> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    entries
        .filter_map(|e| e.ok())
        .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
        .filter(|e| !e.file_name().to_string_lossy().contains('.'))
        .filter_map(|e| std::fs::read_to_string(e.path()).ok())
        .filter_map(|text| parse::parse_logind_session(&text))
        .collect()
}

/// sysfs text, or a device-tree string (NUL-terminated), trimmed.
pub(super) fn bytes_to_text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes)
        .trim_matches(|c: char| c == '\0' || c.is_whitespace())
        .to_owned()
}

fn describe(path: &str, kind: ErrorKind) -> String {
    match kind {
        ErrorKind::PermissionDenied => {
            format!("{path} is readable by root only: run the agent as root")
        }
        ErrorKind::NotFound => format!("{path} does not exist"),
        other => format!("cannot read {path}: {other}"),
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use std::fs;

    const SAMPLES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/samples/linux");

    /// A fake root: a laptop whose default route is on its second interface (docker0 comes first).
    pub(in crate::facts) fn laptop_root() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        let put = |path: &str, contents: &[u8]| {
            let p = dir.path().join(path.trim_start_matches('/'));
            fs::create_dir_all(p.parent().unwrap()).unwrap();
            fs::write(p, contents).unwrap();
        };
        let sample = |name: &str| fs::read(format!("{SAMPLES}/{name}")).unwrap();
        put("/proc/sys/kernel/hostname", b"alice-laptop\n");
        put("/etc/os-release", &sample("os-release-debian12"));
        put("/proc/meminfo", &sample("meminfo"));
        put("/proc/cpuinfo", &sample("cpuinfo-laptop"));
        put("/proc/net/route", &sample("route-two-ifaces"));
        put("/proc/net/fib_trie", &sample("fib_trie-two-ifaces"));
        put("/sys/class/net/docker0/address", b"02:42:ac:11:00:01\n");
        put("/sys/class/net/wlp2s0/address", b"a4:c3:f0:12:34:56\n");
        put("/sys/class/net/wlp2s0/device/vendor", b"0x8086\n");
        put("/sys/class/dmi/id/product_serial", b"PF2ABCDE\n");
        put("/sys/class/dmi/id/board_serial", b"/PF2ABCDE/CN1296/\n");
        put("/run/systemd/sessions/2", &sample("logind-seat0"));
        put("/run/systemd/sessions/7", &sample("logind-ssh"));
        dir
    }

    #[test]
    fn a_laptop_tree_gives_every_fact() {
        let root = laptop_root();
        let facts = LinuxSystem::new(root.path()).collect().normalized();
        assert_eq!(facts.name.as_deref(), Some("alice-laptop"));
        assert_eq!(facts.serial_number.as_deref(), Some("PF2ABCDE"));
        assert_eq!(facts.mac_address.as_deref(), Some("A4:C3:F0:12:34:56"));
        assert_eq!(facts.ip_address.as_deref(), Some("192.168.1.23"));
        assert_eq!(facts.os_type.as_deref(), Some("Linux"));
        assert_eq!(
            facts.os_info.as_deref(),
            Some("Debian GNU/Linux 12 (bookworm)")
        );
        assert_eq!(facts.cpu_speed.as_deref(), Some("1.90 GHz"));
        assert_eq!(facts.ram.as_deref(), Some("23.5 GB"));
        assert_eq!(facts.last_login_name.as_deref(), Some("alice"));
    }

    #[test]
    fn a_junk_product_serial_falls_back_to_the_board_serial() {
        let root = laptop_root();
        let dmi = root.path().join("sys/class/dmi/id");
        fs::write(dmi.join("product_serial"), "To Be Filled By O.E.M.\n").unwrap();
        fs::write(dmi.join("board_serial"), "BSN12345678\n").unwrap();
        assert_eq!(
            LinuxSystem::new(root.path()).serial(),
            Ok("BSN12345678".into())
        );
        fs::write(dmi.join("board_serial"), "Default string\n").unwrap();
        let reason = LinuxSystem::new(root.path()).serial().unwrap_err();
        assert!(
            reason.contains("placeholder serial (To Be Filled By O.E.M.)"),
            "{reason}"
        );
    }

    #[test]
    fn no_dmi_gives_a_device_tree_serial_or_a_reason() {
        let root = laptop_root();
        fs::remove_dir_all(root.path().join("sys/class/dmi")).unwrap();
        let reason = LinuxSystem::new(root.path()).serial().unwrap_err();
        assert!(reason.contains("publishes no serial"), "{reason}");
        let dt = root.path().join("sys/firmware/devicetree/base");
        fs::create_dir_all(&dt).unwrap();
        fs::write(dt.join("serial-number"), b"1000000012345678\0").unwrap();
        assert_eq!(
            LinuxSystem::new(root.path()).serial(),
            Ok("1000000012345678".into())
        );
    }

    #[test]
    fn without_a_default_route_a_physical_interface_is_used() {
        let root = laptop_root();
        let routes = "Iface\tDestination\tGateway\tFlags\tRefCnt\tUse\tMetric\tMask\n\
                      docker0\t000011AC\t00000000\t0001\t0\t0\t0\t0000FFFF\n\
                      wlp2s0\t0001A8C0\t00000000\t0001\t0\t0\t600\t00FFFFFF\n";
        fs::write(root.path().join("proc/net/route"), routes).unwrap();
        let (mac, ip) = LinuxSystem::new(root.path()).network();
        assert_eq!(
            ip.as_deref(),
            Ok("192.168.1.23"),
            "docker0 is virtual and never chosen"
        );
        assert_eq!(mac.as_deref(), Ok("A4:C3:F0:12:34:56"));
    }

    #[test]
    fn an_empty_tree_gives_reasons_not_values() {
        let root = tempfile::tempdir().unwrap();
        let facts = LinuxSystem::new(root.path()).collect().normalized();
        for field in FactField::ALL {
            // The platform is known; the install date is the (fake) root's own birth.
            if matches!(field, FactField::OsType | FactField::OsInstallDate) {
                continue;
            }
            assert!(facts.get(field).is_none(), "{field} was invented");
            assert!(
                facts.absent_reason(field).is_some(),
                "{field} has no reason"
            );
        }
    }

    #[test]
    fn no_cpufreq_uses_the_fixed_clock_but_a_scaling_cpu_does_not() {
        let root = laptop_root();
        fs::copy(
            format!("{SAMPLES}/cpuinfo-kvm"),
            root.path().join("proc/cpuinfo"),
        )
        .unwrap();
        assert_eq!(
            LinuxSystem::new(root.path()).cpu_speed(),
            Ok("2.00 GHz".into())
        );
        let cpufreq = root.path().join("sys/devices/system/cpu/cpu0/cpufreq");
        fs::create_dir_all(&cpufreq).unwrap();
        assert!(
            LinuxSystem::new(root.path()).cpu_speed().is_err(),
            "momentary MHz must not be used"
        );
        fs::write(cpufreq.join("cpuinfo_max_freq"), "3500000\n").unwrap();
        assert_eq!(
            LinuxSystem::new(root.path()).cpu_speed(),
            Ok("3.50 GHz".into())
        );
    }
}
