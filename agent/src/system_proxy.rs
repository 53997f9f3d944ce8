//! The machine's own proxy setting, for an agent given none: on Windows, WinHTTP's (what
//! `netsh winhttp set proxy` and Group Policy write), which services use, rather than a user's
//! Internet Options. The raw read is a few lines behind `cfg(windows)`; reading the setting and
//! choosing the proxy for a server are pure and tested here on Linux with recorded values.

/// WinHTTP's proxy setting: `proxy` as `netsh winhttp` takes it (`host:port`, or per scheme
/// `http=host:port;https=host:port`) and the hosts that bypass it (`<local>`, `*.corp.example`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WinHttpProxy {
    pub proxy: String,
    pub bypass: Vec<String>,
}

/// Reads the `WinHttpSettings` value: DWORDs (little-endian) for its version, a change counter
/// and flags (1 always, 2 for a named proxy), then the proxy and the bypass list, each a DWORD
/// length and that many ASCII bytes. `None` when it names no proxy ("direct access") or does
/// not read.
#[cfg_attr(not(windows), allow(dead_code))] // read on Windows only; tested everywhere
pub fn parse_winhttp_settings(blob: &[u8]) -> Option<WinHttpProxy> {
    let dword = |at: usize| -> Option<u32> {
        let b = blob.get(at..at + 4)?;
        Some(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    };
    let text = |at: usize| -> Option<(String, usize)> {
        let len = usize::try_from(dword(at)?).ok()?;
        let end = at.checked_add(4)?.checked_add(len)?;
        let bytes = blob.get(at + 4..end)?;
        Some((String::from_utf8_lossy(bytes).trim().to_owned(), end))
    };
    let flags = dword(8)?;
    if flags & 2 == 0 {
        return None;
    }
    let (proxy, next) = text(12)?;
    let bypass = text(next).map(|(b, _)| b).unwrap_or_default();
    (!proxy.is_empty()).then(|| WinHttpProxy {
        proxy,
        bypass: bypass
            .split([';', ' '])
            .map(str::trim)
            .filter(|b| !b.is_empty())
            .map(str::to_owned)
            .collect(),
    })
}

impl WinHttpProxy {
    /// The proxy URL to reach `scheme://host` through, or `None` when the host bypasses it
    /// (or no proxy is named for that scheme).
    pub fn for_server(&self, scheme: &str, host: &str) -> Option<String> {
        if self.bypasses(host) {
            return None;
        }
        let entries: Vec<&str> = self.proxy.split(';').map(str::trim).collect();
        let named = |want: &str| {
            entries.iter().find_map(|e| {
                let (s, target) = e.split_once('=')?;
                s.trim().eq_ignore_ascii_case(want).then(|| target.trim())
            })
        };
        let target = named(scheme)
            .or_else(|| named("http"))
            .or_else(|| entries.iter().copied().find(|e| !e.contains('=')))?;
        let target = target.trim_start_matches("http://");
        (!target.is_empty()).then(|| format!("http://{target}"))
    }

    /// Whether `host` is on the bypass list: `<local>` is any name without a dot (as WinHTTP
    /// reads it); other entries match whole names, with `*` for any run of characters.
    fn bypasses(&self, host: &str) -> bool {
        let host = host.to_ascii_lowercase();
        self.bypass.iter().any(|b| {
            let b = b.to_ascii_lowercase();
            if b == "<local>" {
                return !host.contains('.') && !host.contains(':');
            }
            wildcard(&b, &host)
        })
    }
}

/// `pattern` (with `*` for any run of characters) matches all of `text`.
fn wildcard(pattern: &str, text: &str) -> bool {
    match pattern.split_once('*') {
        None => pattern == text,
        Some((head, rest)) => {
            let Some(after) = text.strip_prefix(head) else {
                return false;
            };
            (0..=after.len())
                .filter(|i| after.is_char_boundary(*i))
                .any(|i| wildcard(rest, &after[i..]))
        }
    }
}

/// Whether the environment names a proxy (which then applies, as reqwest reads it).
pub fn environment_has_proxy() -> bool {
    [
        "HTTPS_PROXY",
        "https_proxy",
        "HTTP_PROXY",
        "http_proxy",
        "ALL_PROXY",
        "all_proxy",
    ]
    .iter()
    .any(|v| std::env::var_os(v).is_some_and(|p| !p.is_empty()))
}

/// The machine's proxy for `scheme://host`, when the agent was given none.
pub fn for_server(scheme: &str, host: &str) -> Option<String> {
    if environment_has_proxy() {
        return None;
    }
    machine_setting()?.for_server(scheme, host)
}

#[cfg(windows)]
fn machine_setting() -> Option<WinHttpProxy> {
    parse_winhttp_settings(&windows_read::winhttp_settings()?)
}

#[cfg(not(windows))]
fn machine_setting() -> Option<WinHttpProxy> {
    None
}

#[cfg(windows)]
mod windows_read {
    use std::ffi::c_void;
    use std::ptr::null_mut;

    use windows_sys::Win32::Foundation::ERROR_SUCCESS;
    use windows_sys::Win32::System::Registry::{
        HKEY_LOCAL_MACHINE, RRF_RT_REG_BINARY, RegGetValueW,
    };

    /// `HKLM\...\Internet Settings\Connections\WinHttpSettings`, as stored.
    pub fn winhttp_settings() -> Option<Vec<u8>> {
        let wide = |s: &str| -> Vec<u16> { s.encode_utf16().chain(std::iter::once(0)).collect() };
        let key = wide(r"SOFTWARE\Microsoft\Windows\CurrentVersion\Internet Settings\Connections");
        let value = wide("WinHttpSettings");
        let mut buf = vec![0u8; 4096];
        let mut bytes = buf.len() as u32;
        // SAFETY: the buffer's size in bytes is passed with it; the type is restricted to
        // REG_BINARY.
        let status = unsafe {
            RegGetValueW(
                HKEY_LOCAL_MACHINE,
                key.as_ptr(),
                value.as_ptr(),
                RRF_RT_REG_BINARY,
                null_mut(),
                buf.as_mut_ptr().cast::<c_void>(),
                &mut bytes,
            )
        };
        (status == ERROR_SUCCESS).then(|| {
            buf.truncate(bytes as usize);
            buf
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A value as `netsh winhttp set proxy` writes it: version, counter, flags, then the
    /// length-prefixed proxy and bypass list, and the (empty) auto-config URL.
    fn blob(flags: u32, proxy: &str, bypass: &str) -> Vec<u8> {
        let mut b = Vec::new();
        for d in [0x28u32, 7, flags] {
            b.extend(d.to_le_bytes());
        }
        for s in [proxy, bypass, ""] {
            b.extend((s.len() as u32).to_le_bytes());
            b.extend(s.as_bytes());
        }
        b
    }

    #[test]
    fn the_recorded_direct_access_value_names_no_proxy() {
        // `netsh winhttp reset proxy`, as stored on a fresh Windows 11.
        let direct = [
            0x18, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        ];
        assert_eq!(parse_winhttp_settings(&direct), None);
        assert_eq!(parse_winhttp_settings(&[]), None);
        assert_eq!(
            parse_winhttp_settings(&blob(1, "proxy.corp:3128", "")),
            None
        );
    }

    #[test]
    fn a_named_proxy_and_its_bypass_list_are_read() {
        let set = parse_winhttp_settings(&blob(3, "proxy.corp:3128", "<local>;*.corp.example"));
        assert_eq!(
            set,
            Some(WinHttpProxy {
                proxy: "proxy.corp:3128".into(),
                bypass: vec!["<local>".into(), "*.corp.example".into()],
            })
        );
        // Cut short anywhere: nothing, never a panic.
        let full = blob(3, "proxy.corp:3128", "<local>");
        for n in 0..full.len() {
            let _ = parse_winhttp_settings(&full[..n]);
        }
        let mut lying = blob(3, "p:1", "");
        lying[12] = 0xff;
        assert_eq!(parse_winhttp_settings(&lying), None);
    }

    #[test]
    fn the_proxy_for_a_server_follows_its_scheme_and_the_bypass_list() {
        let one = WinHttpProxy {
            proxy: "proxy.corp:3128".into(),
            bypass: vec!["<local>".into(), "*.corp.example".into(), "10.1.*".into()],
        };
        let via = Some("http://proxy.corp:3128".to_owned());
        assert_eq!(one.for_server("https", "bindery.example.com"), via);
        assert_eq!(one.for_server("https", "bindery"), None, "<local>");
        assert_eq!(
            one.for_server("https", "127.0.0.1"),
            via,
            "<local> is names only"
        );
        assert_eq!(one.for_server("https", "BINDERY.Corp.Example"), None);
        assert_eq!(one.for_server("https", "10.1.2.3"), None);
        assert_eq!(one.for_server("https", "10.2.2.3"), via);
        let per_scheme = WinHttpProxy {
            proxy: "http=plain.corp:80;https=secure.corp:8443".into(),
            bypass: Vec::new(),
        };
        assert_eq!(
            per_scheme.for_server("https", "b.example"),
            Some("http://secure.corp:8443".into())
        );
        assert_eq!(
            per_scheme.for_server("http", "b.example"),
            Some("http://plain.corp:80".into())
        );
        let ftp_only = WinHttpProxy {
            proxy: "ftp=f.corp:21".into(),
            bypass: Vec::new(),
        };
        assert_eq!(ftp_only.for_server("https", "b.example"), None);
    }
}
