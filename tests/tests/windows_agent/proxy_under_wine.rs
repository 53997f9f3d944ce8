//! The Windows agent given no proxy uses the machine's WinHTTP proxy setting (what `netsh winhttp
//! set proxy` and Group Policy write, which services use), and its bypass list: set in the Wine
//! prefix's registry, with Debian's tinyproxy as that proxy.

use super::*;
use bindery_e2e::proxy::Proxy;

/// The registry key and value WinHTTP keeps its proxy in.
const CONNECTIONS: &str =
    r"HKLM\Software\Microsoft\Windows\CurrentVersion\Internet Settings\Connections";

/// `WinHttpSettings` as `netsh winhttp set proxy PROXY BYPASS` stores it, in `reg add`'s hex.
fn winhttp_settings(proxy: &str, bypass: &str) -> String {
    let mut blob = Vec::new();
    for d in [0x28u32, 1, 3] {
        blob.extend(d.to_le_bytes());
    }
    for s in [proxy, bypass, ""] {
        blob.extend((s.len() as u32).to_le_bytes());
        blob.extend(s.as_bytes());
    }
    blob.iter().map(|b| format!("{b:02x}")).collect()
}

impl Wine {
    /// Sets this prefix's WinHTTP proxy.
    fn set_winhttp_proxy(&self, proxy: &str, bypass: &str) {
        let data = winhttp_settings(proxy, bypass);
        let out = self.program(
            "reg",
            &[
                "add",
                CONNECTIONS,
                "/v",
                "WinHttpSettings",
                "/t",
                "REG_BINARY",
                "/d",
                &data,
                "/f",
            ],
        );
        assert!(
            out.status.success(),
            "reg add: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn under_wine_an_agent_given_no_proxy_uses_the_machine_s_winhttp_proxy() {
    let (sb, data) = windows_fleet().await;
    let d = data.path().to_str().unwrap().to_owned();
    let token = admin(&d, &["token-create", "--policy", "Windows fleet"])
        .trim()
        .to_owned();
    let server = ServerProcess::start(&["--data-dir", &d]);
    let scratch = tempfile::tempdir().unwrap();
    let proxy = Proxy::open(scratch.path());
    let wine = Wine::new();
    let state = tempfile::tempdir().unwrap();
    let state_dir = Wine::path(state.path());
    let through = |what: &str| {
        proxy
            .log()
            .contains(&format!("POST {}/api/agent/v1/{what}", server.url))
    };

    // The server bypasses the proxy: the agent goes straight to it.
    wine.set_winhttp_proxy(&format!("127.0.0.1:{}", proxy.port), "<local>;127.0.0.*");
    wine.enroll(&server.url, &token, &state_dir);
    assert!(!through("enroll"), "{}", proxy.log());

    // Without the bypass, every request goes through the machine's proxy.
    wine.set_winhttp_proxy(
        &format!("127.0.0.1:{}", proxy.port),
        "<local>;*.corp.example",
    );
    wine.ok(&["run", "--once", "--state-dir", &state_dir]);
    assert!(through("checkin"), "the proxy's log:\n{}", proxy.log());
    let status = wine.ok(&["status", "--state-dir", &state_dir]);
    assert!(
        status.contains(&format!(
            "proxy       http://127.0.0.1:{} (the machine's WinHTTP setting)",
            proxy.port
        )),
        "{status}"
    );
    drop(proxy);
    let out = wine.agent(&["run", "--once", "--state-dir", &state_dir]);
    assert!(
        !out.status.success(),
        "checked in around the machine's proxy"
    );
    sb.stop().await;
}
