//! Who a request is from, for per-client limits. The TCP peer, unless the peer is a configured
//! trusted proxy: then the right-most hop of the one forwarding header the proxy writes
//! (`X-Forwarded-For` by default, or `Forwarded`) that is not itself a trusted proxy (anything
//! left of it the client may have forged). The other header is ignored: proxies pass a header
//! they do not write through untouched, so a client could put any address in it. Limits key IPv6 clients by
//! their /64, since one machine commonly holds a whole /64.

use std::net::IpAddr;
use std::str::FromStr;

use axum::http::HeaderMap;

/// An address block, `10.0.0.0/8` or `2001:db8::/32` (a bare address is a block of one).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cidr {
    addr: IpAddr,
    bits: u8,
}

impl FromStr for Cidr {
    type Err = String;

    fn from_str(s: &str) -> Result<Cidr, String> {
        let s = s.trim();
        let (addr, bits) = match s.split_once('/') {
            Some((a, b)) => (a, Some(b)),
            None => (s, None),
        };
        let addr: IpAddr = addr
            .parse()
            .map_err(|_| format!("{s:?} is not an address or an address/bits block"))?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let bits = match bits {
            Some(b) => b
                .parse::<u8>()
                .ok()
                .filter(|b| *b <= max)
                .ok_or_else(|| format!("{s:?}: the prefix length must be 0 to {max}"))?,
            None => max,
        };
        Ok(Cidr { addr, bits })
    }
}

impl Cidr {
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.addr, canonical(ip)) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX.checked_shl(32 - u32::from(self.bits)).unwrap_or(0);
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.bits))
                    .unwrap_or(0);
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

/// IPv4-mapped IPv6 (`::ffff:10.0.0.1`, as a dual-stack listener sees IPv4) as IPv4.
pub fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// The forwarding header a trusted proxy writes (appends its peer to).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum ProxyHeader {
    /// `X-Forwarded-For`: nginx, HAProxy, Traefik, most load balancers.
    #[default]
    #[value(name = "x-forwarded-for")]
    XForwardedFor,
    /// `Forwarded` (RFC 7239).
    #[value(name = "forwarded")]
    Forwarded,
}

/// The proxies whose forwarding header is believed (none by default), and which header that is.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TrustedProxies(pub Vec<Cidr>, pub ProxyHeader);

impl FromStr for TrustedProxies {
    type Err = String;

    /// A comma-separated list of blocks (`10.0.0.0/8, 127.0.0.1`).
    fn from_str(s: &str) -> Result<TrustedProxies, String> {
        s.split(',')
            .filter(|p| !p.trim().is_empty())
            .map(Cidr::from_str)
            .collect::<Result<_, _>>()
            .map(|blocks| TrustedProxies(blocks, ProxyHeader::default()))
    }
}

impl TrustedProxies {
    /// The same proxies, writing `header`.
    pub fn with_header(self, header: ProxyHeader) -> TrustedProxies {
        TrustedProxies(self.0, header)
    }

    fn trusts(&self, ip: IpAddr) -> bool {
        self.0.iter().any(|c| c.contains(ip))
    }

    /// The client behind `peer`, from the forwarding headers when `peer` is trusted.
    pub fn client(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        if !self.trusts(peer) {
            return canonical(peer);
        }
        let hops = forwarded_hops(headers, self.1);
        // Right to left: the first hop that is not one of ours is the client.
        hops.iter()
            .rev()
            .copied()
            .find(|ip| !self.trusts(*ip))
            .or_else(|| hops.first().copied())
            .map_or(canonical(peer), canonical)
    }
}

/// Every address the proxy's forwarding header names, in order. A hop that does not parse ends
/// the list there: nothing left of a damaged entry is believed.
fn forwarded_hops(headers: &HeaderMap, header: ProxyHeader) -> Vec<IpAddr> {
    let values = |name: &str| -> Vec<String> {
        headers
            .get_all(name)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(|h| h.trim().to_owned())
            .collect()
    };
    let entries: Vec<String> = match header {
        ProxyHeader::XForwardedFor => values("x-forwarded-for"),
        ProxyHeader::Forwarded => values("forwarded")
            .iter()
            .filter_map(|e| {
                e.split(';')
                    .find_map(|p| p.trim().strip_prefix("for=").map(str::to_owned))
            })
            .collect(),
    };
    let mut out = Vec::new();
    for entry in entries.iter().rev() {
        match parse_hop(entry) {
            Some(ip) => out.push(ip),
            None => break,
        }
    }
    out.reverse();
    out
}

/// `192.0.2.1`, `"[2001:db8::1]:443"`, `192.0.2.1:8080`.
fn parse_hop(s: &str) -> Option<IpAddr> {
    let s = s.trim().trim_matches('"');
    if let Ok(ip) = s.parse() {
        return Some(ip);
    }
    if let Some(rest) = s.strip_prefix('[') {
        return rest.split(']').next()?.parse().ok();
    }
    s.rsplit_once(':').and_then(|(ip, _)| ip.parse().ok())
}

/// The key a per-client limit counts under: the address, or for IPv6 its /64.
pub fn limit_key(ip: IpAddr) -> IpAddr {
    match canonical(ip) {
        IpAddr::V6(v6) => IpAddr::V6((u128::from(v6) & (u128::MAX << 64)).into()),
        v4 => v4,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(
                axum::http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                v.parse().unwrap(),
            );
        }
        h
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn blocks_parse_and_contain() {
        let net: Cidr = "10.0.0.0/8".parse().unwrap();
        assert!(net.contains(ip("10.200.1.2")) && !net.contains(ip("11.0.0.1")));
        assert!(
            net.contains(ip("::ffff:10.1.1.1")),
            "IPv4-mapped counts as IPv4"
        );
        let v6: Cidr = "2001:db8::/32".parse().unwrap();
        assert!(v6.contains(ip("2001:db8:1::5")) && !v6.contains(ip("2001:db9::1")));
        let one: Cidr = "127.0.0.1".parse().unwrap();
        assert!(one.contains(ip("127.0.0.1")) && !one.contains(ip("127.0.0.2")));
        let all: Cidr = "0.0.0.0/0".parse().unwrap();
        assert!(all.contains(ip("8.8.8.8")));
        for bad in ["10.0.0.0/33", "nonsense", "10.0.0/8", "::1/129"] {
            assert!(bad.parse::<Cidr>().is_err(), "{bad}");
        }
        let list: TrustedProxies = "10.0.0.0/8, 127.0.0.1".parse().unwrap();
        assert_eq!(list.0.len(), 2);
        assert_eq!(
            "".parse::<TrustedProxies>().unwrap(),
            TrustedProxies::default()
        );
    }

    #[test]
    fn forwarding_headers_count_only_from_trusted_proxies() {
        let proxies: TrustedProxies = "10.0.0.0/8".parse().unwrap();
        let forged = headers(&[("x-forwarded-for", "203.0.113.9")]);
        // Straight from the internet: the header is ignored.
        assert_eq!(
            proxies.client(ip("198.51.100.7"), &forged),
            ip("198.51.100.7")
        );
        // Through our proxy: the right-most hop that is not ours.
        let chain = headers(&[("x-forwarded-for", "1.2.3.4, 198.51.100.7, 10.0.0.5")]);
        assert_eq!(proxies.client(ip("10.0.0.2"), &chain), ip("198.51.100.7"));
        // Only the header the proxy writes counts: a client's own `Forwarded`, passed through
        // untouched by a proxy that writes X-Forwarded-For, changes nothing.
        let both = headers(&[
            (
                "forwarded",
                "for=192.0.2.60;proto=https, for=\"[2001:db8::1]:4711\"",
            ),
            ("x-forwarded-for", "9.9.9.9"),
        ]);
        assert_eq!(proxies.client(ip("10.0.0.2"), &both), ip("9.9.9.9"));
        let spoofed = headers(&[("forwarded", "for=203.0.113.77")]);
        assert_eq!(
            proxies.client(ip("10.0.0.2"), &spoofed),
            ip("10.0.0.2"),
            "no X-Forwarded-For: the proxy itself"
        );
        // A proxy that writes Forwarded: quoted IPv6 and ports, X-Forwarded-For ignored.
        let rfc = proxies.clone().with_header(ProxyHeader::Forwarded);
        assert_eq!(rfc.client(ip("10.0.0.2"), &both), ip("2001:db8::1"));
        // Nothing forwarded, or only our own hops: the peer, or the left-most hop.
        assert_eq!(
            proxies.client(ip("10.0.0.2"), &HeaderMap::new()),
            ip("10.0.0.2")
        );
        let ours = headers(&[("x-forwarded-for", "10.1.1.1, 10.2.2.2")]);
        assert_eq!(proxies.client(ip("10.0.0.2"), &ours), ip("10.1.1.1"));
        // A damaged hop ends what is believed.
        let damaged = headers(&[("x-forwarded-for", "6.6.6.6, garbage, 10.0.0.9")]);
        assert_eq!(proxies.client(ip("10.0.0.2"), &damaged), ip("10.0.0.9"));
        // No proxies configured: never believed.
        let none = TrustedProxies::default();
        assert_eq!(none.client(ip("10.0.0.2"), &chain), ip("10.0.0.2"));
    }

    #[test]
    fn ipv6_clients_are_limited_by_their_64() {
        assert_eq!(limit_key(ip("2001:db8:1:2:aaaa::1")), ip("2001:db8:1:2::"));
        assert_eq!(
            limit_key(ip("2001:db8:1:2:ffff::9")),
            limit_key(ip("2001:db8:1:2::5"))
        );
        assert_ne!(
            limit_key(ip("2001:db8:1:3::1")),
            limit_key(ip("2001:db8:1:2::1"))
        );
        assert_eq!(limit_key(ip("192.0.2.1")), ip("192.0.2.1"));
        assert_eq!(limit_key(ip("::ffff:192.0.2.1")), ip("192.0.2.1"));
    }
}
