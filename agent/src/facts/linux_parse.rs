//! Pure parsers for what Linux publishes in /proc, /sys, /etc and /run. No I/O: the reader in
//! `linux.rs` hands them file contents, and the tests hand them recorded samples.

use std::net::{Ipv4Addr, Ipv6Addr};

/// `PRETTY_NAME` from os-release ("Debian GNU/Linux 12 (bookworm)"), else `NAME VERSION`.
pub fn os_release_pretty(text: &str) -> Option<String> {
    let value = |key: &str| {
        text.lines().find_map(|line| {
            let rest = line.trim().strip_prefix(key)?.strip_prefix('=')?;
            let v = rest.trim().trim_matches(|c| c == '"' || c == '\'').trim();
            (!v.is_empty()).then(|| v.replace("\\\"", "\""))
        })
    };
    value("PRETTY_NAME").or_else(|| match (value("NAME"), value("VERSION")) {
        (Some(n), Some(v)) => Some(format!("{n} {v}")),
        (n, _) => n,
    })
}

/// `MemTotal` of /proc/meminfo, in bytes.
pub fn meminfo_total_bytes(text: &str) -> Option<u64> {
    let line = text.lines().find(|l| l.starts_with("MemTotal:"))?;
    let mut parts = line["MemTotal:".len()..].split_whitespace();
    let kib: u64 = parts.next()?.parse().ok()?;
    kib.checked_mul(1024)
}

/// The rated speed printed in the CPU model name of /proc/cpuinfo.
pub fn cpuinfo_rated_ghz(text: &str) -> Option<f64> {
    super::rated_ghz_in_model_name(cpuinfo_value(text, "model name")?)
}

/// The first `cpu MHz` of /proc/cpuinfo, in GHz.
pub fn cpuinfo_mhz_as_ghz(text: &str) -> Option<f64> {
    let mhz: f64 = cpuinfo_value(text, "cpu MHz")?.parse().ok()?;
    (mhz > 0.0 && mhz.is_finite()).then_some(mhz / 1000.0)
}

/// The board serial some ARM systems (Raspberry Pi) print in /proc/cpuinfo.
pub fn cpuinfo_serial(text: &str) -> Option<String> {
    cpuinfo_value(text, "Serial").map(str::to_owned)
}

fn cpuinfo_value<'a>(text: &'a str, key: &str) -> Option<&'a str> {
    text.lines().find_map(|line| {
        let (k, v) = line.split_once(':')?;
        (k.trim() == key)
            .then_some(v.trim())
            .filter(|v| !v.is_empty())
    })
}

/// A scaling driver's maximum frequency file (`cpuinfo_max_freq`, in kHz), in GHz.
pub fn cpufreq_khz_as_ghz(text: &str) -> Option<f64> {
    let khz: u64 = text.trim().parse().ok()?;
    (khz > 0).then(|| khz as f64 / 1_000_000.0)
}

/// One row of /proc/net/route (IPv4).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Route4 {
    pub iface: String,
    pub destination: Ipv4Addr,
    pub gateway: Ipv4Addr,
    pub mask: Ipv4Addr,
    pub flags: u32,
    pub metric: u32,
}

const RTF_UP: u32 = 0x1;
const RTF_REJECT: u32 = 0x200;

/// Parses /proc/net/route. Addresses there are the kernel's in-memory (network order) bytes printed
/// as a native-endian number, so they are read back with the same endianness.
pub fn parse_route(text: &str) -> Vec<Route4> {
    let addr = |hex: &str| {
        u32::from_str_radix(hex, 16)
            .ok()
            .map(|n| Ipv4Addr::from(n.to_ne_bytes()))
    };
    text.lines()
        .skip(1)
        .filter_map(|line| {
            let f: Vec<&str> = line.split_whitespace().collect();
            if f.len() < 8 {
                return None;
            }
            Some(Route4 {
                iface: f[0].to_owned(),
                destination: addr(f[1])?,
                gateway: addr(f[2])?,
                flags: u32::from_str_radix(f[3], 16).ok()?,
                metric: f[6].parse().ok()?,
                mask: addr(f[7])?,
            })
        })
        .collect()
}

/// The interface of the IPv4 default route with the lowest metric.
pub fn default_route_iface(routes: &[Route4]) -> Option<&str> {
    routes
        .iter()
        .filter(|r| {
            r.destination.is_unspecified()
                && r.mask.is_unspecified()
                && r.flags & RTF_UP != 0
                && r.flags & RTF_REJECT == 0
                && r.iface != "lo"
        })
        .min_by_key(|r| r.metric)
        .map(|r| r.iface.as_str())
}

/// The machine's own IPv4 addresses, from /proc/net/fib_trie (the `host LOCAL` entries).
pub fn fib_trie_local_addresses(text: &str) -> Vec<Ipv4Addr> {
    let mut last: Option<Ipv4Addr> = None;
    let mut out = Vec::new();
    for line in text.lines() {
        let line = line.trim();
        if let Some(addr) = line.strip_prefix("|-- ") {
            last = addr.trim().parse().ok();
        } else if line.ends_with("host LOCAL")
            && let Some(addr) = last
            && !out.contains(&addr)
        {
            out.push(addr);
        }
    }
    out
}

/// The address of `iface`: a local address inside one of the subnets routed directly on it
/// (most specific first). Loopback and link-local addresses are never chosen.
pub fn ipv4_on_iface(routes: &[Route4], locals: &[Ipv4Addr], iface: &str) -> Option<Ipv4Addr> {
    let mut subnets: Vec<&Route4> = routes
        .iter()
        .filter(|r| r.iface == iface && r.gateway.is_unspecified() && !r.mask.is_unspecified())
        .collect();
    subnets.sort_by_key(|r| std::cmp::Reverse(u32::from(r.mask)));
    subnets.iter().find_map(|r| {
        locals.iter().copied().find(|a| {
            !a.is_loopback()
                && !a.is_link_local()
                && u32::from(*a) & u32::from(r.mask) == u32::from(r.destination)
        })
    })
}

/// One address of /proc/net/if_inet6.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Addr6 {
    pub addr: Ipv6Addr,
    pub iface: String,
    /// 0x00 global, 0x20 link, 0x10 host.
    pub scope: u8,
    pub flags: u8,
}

const IFA_F_TEMPORARY: u8 = 0x01;
const IFA_F_DEPRECATED: u8 = 0x20;
const IFA_F_TENTATIVE: u8 = 0x40;

pub fn parse_if_inet6(text: &str) -> Vec<Addr6> {
    text.lines()
        .filter_map(|line| {
            let f: Vec<&str> = line.split_whitespace().collect();
            if f.len() < 6 {
                return None;
            }
            Some(Addr6 {
                addr: Ipv6Addr::from(u128::from_str_radix(f[0], 16).ok()?),
                scope: u8::from_str_radix(f[3], 16).ok()?,
                flags: u8::from_str_radix(f[4], 16).ok()?,
                iface: f[5].to_owned(),
            })
        })
        .collect()
}

/// A stable global IPv6 address of `iface` (not temporary, deprecated or tentative).
pub fn ipv6_on_iface(addrs: &[Addr6], iface: &str) -> Option<Ipv6Addr> {
    let usable = |a: &&Addr6| a.iface == iface && a.scope == 0 && !a.addr.is_loopback();
    let bad = IFA_F_TEMPORARY | IFA_F_DEPRECATED | IFA_F_TENTATIVE;
    addrs
        .iter()
        .filter(usable)
        .find(|a| a.flags & bad == 0)
        .or_else(|| addrs.iter().find(usable))
        .map(|a| a.addr)
}

/// The interface of the IPv6 default route with the lowest metric, from /proc/net/ipv6_route.
pub fn ipv6_default_route_iface(text: &str) -> Option<String> {
    text.lines()
        .filter_map(|line| {
            let f: Vec<&str> = line.split_whitespace().collect();
            if f.len() < 10 || f[0].bytes().any(|b| b != b'0') || f[1] != "00" {
                return None;
            }
            let metric = u32::from_str_radix(f[5], 16).ok()?;
            let flags = u32::from_str_radix(f[8], 16).ok()?;
            (flags & RTF_UP != 0 && flags & RTF_REJECT == 0 && f[9] != "lo")
                .then(|| (metric, f[9].to_owned()))
        })
        .min()
        .map(|(_, iface)| iface)
}

/// A login session, from logind or utmp.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Session {
    pub user: String,
    /// On a seat (a local display and keyboard).
    pub seat: bool,
    /// The session in the foreground of its seat.
    pub active: bool,
    /// Logged in over the network (ssh).
    pub remote: bool,
}

/// One file of /run/systemd/sessions/. Greeter, lock-screen and background sessions, and sessions
/// being closed, are not a person at the machine.
pub fn parse_logind_session(text: &str) -> Option<Session> {
    let get = |key: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(key)?.strip_prefix('=').map(str::trim))
    };
    let user = get("USER").filter(|u| !u.is_empty())?;
    if get("CLASS").is_some_and(|c| c != "user") || get("STATE") == Some("closing") {
        return None;
    }
    Some(Session {
        user: user.to_owned(),
        seat: get("SEAT").is_some_and(|s| !s.is_empty()),
        active: get("ACTIVE") == Some("1"),
        remote: get("REMOTE") == Some("1"),
    })
}

/// glibc's `struct utmp` on Linux (x86_64, aarch64 and the other 64-bit ports): 384 bytes.
const UTMP_RECORD: usize = 384;
const USER_PROCESS: i16 = 7;

/// The user sessions in a utmp file (the fallback where logind keeps no session files).
pub fn parse_utmp(bytes: &[u8]) -> Vec<Session> {
    let text = |b: &[u8]| {
        let end = b.iter().position(|&c| c == 0).unwrap_or(b.len());
        String::from_utf8_lossy(&b[..end]).trim().to_owned()
    };
    bytes
        .chunks_exact(UTMP_RECORD)
        .filter(|r| i16::from_ne_bytes([r[0], r[1]]) == USER_PROCESS)
        .filter_map(|r| {
            let line = text(&r[8..40]);
            let user = text(&r[44..76]);
            let host = text(&r[76..332]);
            let local_display = host.starts_with(':');
            let on_seat = line.starts_with("tty") || line.starts_with(':') || local_display;
            (!user.is_empty()).then_some(Session {
                user,
                seat: on_seat,
                active: on_seat,
                remote: !host.is_empty() && !local_display,
            })
        })
        .collect()
}

/// The person at the machine: the active seat session, else any seat session, else a local
/// terminal, else a remote login.
pub fn console_user(sessions: &[Session]) -> Option<&str> {
    let rank = |s: &Session| match (s.seat, s.active, s.remote) {
        (true, true, _) => 0,
        (true, false, _) => 1,
        (false, _, false) => 2,
        (false, _, true) => 3,
    };
    sessions
        .iter()
        .min_by_key(|s| rank(s))
        .map(|s| s.user.as_str())
}

/// The gateway of the IPv4 default route with the lowest metric, if it has one (a default route
/// straight onto a link, as on point-to-point links, has none).
pub fn default_route_gateway(routes: &[Route4]) -> Option<Ipv4Addr> {
    let iface = default_route_iface(routes)?;
    routes
        .iter()
        .filter(|r| r.iface == iface && r.destination.is_unspecified() && r.mask.is_unspecified())
        .min_by_key(|r| r.metric)
        .map(|r| r.gateway)
        .filter(|g| !g.is_unspecified())
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/samples/linux");

    fn sample(name: &str) -> String {
        std::fs::read_to_string(format!("{SAMPLES}/{name}")).unwrap()
    }

    #[test]
    fn os_release_gives_the_pretty_name() {
        assert_eq!(
            os_release_pretty(&sample("os-release-debian12")).as_deref(),
            Some("Debian GNU/Linux 12 (bookworm)")
        );
        assert_eq!(
            os_release_pretty("NAME=\"Alpine Linux\"\nVERSION=3.20.1\n").as_deref(),
            Some("Alpine Linux 3.20.1")
        );
        assert_eq!(os_release_pretty("ID=x\n"), None);
    }

    #[test]
    fn meminfo_total_is_in_bytes() {
        assert_eq!(
            meminfo_total_bytes(&sample("meminfo")),
            Some(24_634_672 * 1024)
        );
        assert_eq!(meminfo_total_bytes("MemFree: 1 kB\n"), None);
    }

    #[test]
    fn cpu_speed_comes_from_the_model_name_or_cpufreq() {
        assert_eq!(cpuinfo_rated_ghz(&sample("cpuinfo-laptop")), Some(1.9));
        assert_eq!(cpuinfo_rated_ghz(&sample("cpuinfo-kvm")), None);
        assert_eq!(cpuinfo_mhz_as_ghz(&sample("cpuinfo-kvm")), Some(2.0));
        assert_eq!(cpufreq_khz_as_ghz("4200000\n"), Some(4.2));
        assert_eq!(cpufreq_khz_as_ghz("garbage"), None);
        assert_eq!(
            cpuinfo_serial(&sample("cpuinfo-raspberrypi")).as_deref(),
            Some("10000000abcdef01")
        );
    }

    #[test]
    fn the_default_route_and_its_address_are_found() {
        let routes = parse_route(&sample("route-two-ifaces"));
        assert_eq!(default_route_iface(&routes), Some("wlp2s0"));
        let locals = fib_trie_local_addresses(&sample("fib_trie-two-ifaces"));
        assert!(locals.contains(&Ipv4Addr::new(172, 17, 0, 1)));
        assert_eq!(
            ipv4_on_iface(&routes, &locals, "wlp2s0"),
            Some(Ipv4Addr::new(192, 168, 1, 23))
        );
        assert_eq!(
            ipv4_on_iface(&routes, &locals, "docker0"),
            Some(Ipv4Addr::new(172, 17, 0, 1))
        );
    }

    #[test]
    fn this_vms_recorded_network_files_parse() {
        let routes = parse_route(&sample("route-vm"));
        assert_eq!(default_route_iface(&routes), Some("eth0"));
        let locals = fib_trie_local_addresses(&sample("fib_trie-vm"));
        assert_eq!(
            ipv4_on_iface(&routes, &locals, "eth0"),
            Some(Ipv4Addr::new(192, 0, 2, 2))
        );
        let v6 = parse_if_inet6(&sample("if_inet6-vm"));
        assert_eq!(ipv6_on_iface(&v6, "eth0"), Some("fd00::2".parse().unwrap()));
        assert_eq!(
            ipv6_default_route_iface(&sample("ipv6_route-vm")).as_deref(),
            Some("eth0")
        );
    }

    #[test]
    fn a_rejecting_or_loopback_default_route_is_not_a_default_route() {
        let text = "Iface\tDestination\tGateway\tFlags\tRefCnt\tUse\tMetric\tMask\n\
                    lo\t00000000\t00000000\t0201\t0\t0\t0\t00000000\n";
        assert_eq!(default_route_iface(&parse_route(text)), None);
        let v6 = "00000000000000000000000000000000 00 00000000000000000000000000000000 00 \
                  00000000000000000000000000000000 ffffffff 00000001 00000000 00200200 lo\n";
        assert_eq!(ipv6_default_route_iface(v6), None);
    }

    #[test]
    fn temporary_ipv6_addresses_are_passed_over() {
        let text = "20010db8000000000000000000000099 03 40 00 01 wlan0\n\
                    20010db8000000000000000000000001 03 40 00 00 wlan0\n\
                    fe800000000000000000000000000001 03 40 20 80 wlan0\n";
        let addrs = parse_if_inet6(text);
        assert_eq!(
            ipv6_on_iface(&addrs, "wlan0"),
            Some("2001:db8::1".parse().unwrap())
        );
    }

    #[test]
    fn the_person_at_the_seat_wins_over_ssh_and_greeters() {
        let sessions: Vec<Session> = ["logind-ssh", "logind-greeter", "logind-seat0"]
            .iter()
            .filter_map(|f| parse_logind_session(&sample(f)))
            .collect();
        assert_eq!(sessions.len(), 2, "the greeter is not a person");
        assert_eq!(console_user(&sessions), Some("alice"));
        assert_eq!(console_user(&sessions[..1]), Some("bob"));
        assert_eq!(console_user(&[]), None);
    }

    fn utmp_record(kind: i16, line: &str, user: &str, host: &str) -> Vec<u8> {
        let mut r = vec![0u8; UTMP_RECORD];
        r[0..2].copy_from_slice(&kind.to_ne_bytes());
        r[8..8 + line.len()].copy_from_slice(line.as_bytes());
        r[44..44 + user.len()].copy_from_slice(user.as_bytes());
        r[76..76 + host.len()].copy_from_slice(host.as_bytes());
        r
    }

    #[test]
    fn utmp_records_give_local_and_remote_users() {
        let mut file = utmp_record(2, "~", "reboot", "6.1.0");
        file.extend(utmp_record(7, "pts/0", "bob", "203.0.113.9"));
        file.extend(utmp_record(7, "tty1", "carol", ""));
        file.extend(utmp_record(8, "tty2", "dave", ""));
        file.extend([1, 2, 3]); // a torn final record is ignored
        let sessions = parse_utmp(&file);
        assert_eq!(sessions.len(), 2);
        assert!(sessions[0].remote && !sessions[1].remote);
        assert_eq!(console_user(&sessions), Some("carol"));
    }
}
