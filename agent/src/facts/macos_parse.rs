//! Pure parsers for the output of macOS's own tools (`ioreg`, `sw_vers`, `route`, `ifconfig`,
//! `sysctl`). The reader in `macos.rs` runs them; tests use recorded output.

use std::net::IpAddr;

/// `IOPlatformSerialNumber` from `ioreg -rd1 -c IOPlatformExpertDevice`.
pub fn ioreg_serial(text: &str) -> Option<String> {
    text.lines().find_map(|line| {
        let rest = line.trim().strip_prefix("\"IOPlatformSerialNumber\"")?;
        let value = rest
            .trim()
            .strip_prefix('=')?
            .trim()
            .trim_matches('"')
            .trim();
        (!value.is_empty()).then(|| value.to_owned())
    })
}

/// "macOS 14.5 (23F79)" from `sw_vers`.
pub fn sw_vers_pretty(text: &str) -> Option<String> {
    let get = |key: &str| {
        text.lines().find_map(|l| {
            let (k, v) = l.split_once(':')?;
            (k.trim() == key)
                .then(|| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        })
    };
    let name = get("ProductName").unwrap_or_else(|| "macOS".to_owned());
    let version = get("ProductVersion")?;
    Some(match get("BuildVersion") {
        Some(build) => format!("{name} {version} ({build})"),
        None => format!("{name} {version}"),
    })
}

/// The interface of `route -n get default`.
pub fn route_get_interface(text: &str) -> Option<String> {
    labelled(text, "interface:")
}

/// The gateway of `route -n get default` (none when the default route goes straight onto a link).
pub fn route_get_gateway(text: &str) -> Option<String> {
    labelled(text, "gateway:").filter(|g| g.parse::<IpAddr>().is_ok())
}

/// A value of `system_profiler SPHardwareDataType` by its label (`System Firmware Version`).
pub fn hardware_overview_value(text: &str, label: &str) -> Option<String> {
    text.lines().find_map(|l| {
        let (key, value) = l.trim().split_once(':')?;
        (key.trim() == label && !value.trim().is_empty()).then(|| value.trim().to_owned())
    })
}

/// The value after `label` on the first line that starts with it.
fn labelled(text: &str, label: &str) -> Option<String> {
    text.lines().find_map(|l| {
        let v = l.trim().strip_prefix(label)?.trim();
        (!v.is_empty()).then(|| v.to_owned())
    })
}

/// The MAC (`ether`) and the address of one interface from `ifconfig IFACE`: IPv4 first, else a
/// stable global IPv6 (not link-local, not temporary).
pub fn ifconfig_mac_and_ip(text: &str) -> (Option<String>, Option<IpAddr>) {
    let mut mac = None;
    let mut v4 = None;
    let mut v6 = None;
    for line in text.lines() {
        let mut words = line.split_whitespace();
        match (words.next(), words.next()) {
            (Some("ether"), Some(m)) => mac = Some(m.to_owned()),
            (Some("inet"), Some(a)) if v4.is_none() => {
                v4 = a
                    .parse::<IpAddr>()
                    .ok()
                    .filter(|ip| !ip.is_loopback() && !is_link_local(ip));
            }
            (Some("inet6"), Some(a)) if v6.is_none() && !line.contains(" temporary") => {
                let addr = a.split('%').next().unwrap_or(a);
                v6 = addr
                    .parse::<IpAddr>()
                    .ok()
                    .filter(|ip| !ip.is_loopback() && !is_link_local(ip));
            }
            _ => {}
        }
    }
    (mac, v4.or(v6))
}

fn is_link_local(ip: &IpAddr) -> bool {
    match ip {
        IpAddr::V4(a) => a.is_link_local(),
        IpAddr::V6(a) => a.segments()[0] & 0xffc0 == 0xfe80,
    }
}

/// A number printed by `sysctl -n`.
pub fn sysctl_u64(text: &str) -> Option<u64> {
    text.trim().parse().ok()
}

/// The owner of /dev/console (`stat -f %Su /dev/console`): root means the login window, not a
/// person.
pub fn console_owner(text: &str) -> Option<String> {
    let user = text.trim();
    (!user.is_empty() && user != "root").then(|| user.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/samples/macos");

    fn sample(name: &str) -> String {
        std::fs::read_to_string(format!("{SAMPLES}/{name}")).unwrap()
    }

    #[test]
    fn the_gateway_and_firmware_are_read_from_their_tools() {
        let route = sample("route-get-default.txt");
        assert_eq!(route_get_gateway(&route).as_deref(), Some("192.168.1.1"));
        assert_eq!(route_get_gateway("  gateway: link#14\n"), None);
        let hardware = sample("system_profiler-hardware.txt");
        assert_eq!(
            hardware_overview_value(&hardware, "System Firmware Version").as_deref(),
            Some("10151.121.1")
        );
        assert_eq!(
            hardware_overview_value(&hardware, "Model Identifier").as_deref(),
            Some("MacBookPro18,3")
        );
        assert_eq!(hardware_overview_value(&hardware, "Nothing"), None);
    }

    #[test]
    fn serial_comes_from_the_platform_expert() {
        assert_eq!(
            ioreg_serial(&sample("ioreg-platform-expert.txt")).as_deref(),
            Some("C02XL0GHJGH5")
        );
        assert_eq!(ioreg_serial("\"IOPlatformSerialNumber\" = \"\"\n"), None);
    }

    #[test]
    fn version_reads_like_the_about_window() {
        assert_eq!(
            sw_vers_pretty(&sample("sw_vers.txt")).as_deref(),
            Some("macOS 14.5 (23F79)")
        );
        assert_eq!(
            sw_vers_pretty("ProductName:\tMac OS X\nProductVersion:\t10.15.7\n").as_deref(),
            Some("Mac OS X 10.15.7")
        );
    }

    #[test]
    fn mac_and_ip_come_from_the_default_route_interface() {
        assert_eq!(
            route_get_interface(&sample("route-get-default.txt")).as_deref(),
            Some("en0")
        );
        let (mac, ip) = ifconfig_mac_and_ip(&sample("ifconfig-en0.txt"));
        assert_eq!(mac.as_deref(), Some("3c:22:fb:12:34:56"));
        assert_eq!(ip, Some("192.168.1.20".parse().unwrap()));
        let (_, ip) = ifconfig_mac_and_ip(&sample("ifconfig-utun-v6only.txt"));
        assert_eq!(
            ip,
            Some("2001:db8::77".parse().unwrap()),
            "stable global, not temporary"
        );
    }

    #[test]
    fn the_login_window_is_nobody() {
        assert_eq!(console_owner("alice\n").as_deref(), Some("alice"));
        assert_eq!(console_owner("root\n"), None);
        assert_eq!(sysctl_u64("17179869184\n"), Some(17_179_869_184));
        assert_eq!(sysctl_u64("sysctl: unknown oid"), None);
    }
}
