//! `bindery-agent status`: the enrollment and the last check-in.

use std::path::PathBuf;

use super::now_ms;
use crate::state::StateDir;

/// Prints the enrollment, the state folder's access and the last check-in.
pub(super) fn print(state_dir: Option<PathBuf>) -> Result<(), String> {
    let state = StateDir::resolve(state_dir)?;
    let Some(enrolled) = state.enrollment()? else {
        println!("not enrolled");
        return Ok(());
    };
    println!("server      {}", enrolled.server);
    println!("agent id    {}", enrolled.agent_id);
    println!("state       {}", state.path().display());
    // The proxy's address only: its user and password stay in the enrollment.
    let machine = || {
        let url = reqwest::Url::parse(&enrolled.server).ok()?;
        crate::system_proxy::for_server(url.scheme(), url.host_str()?)
    };
    match (enrolled.proxy.as_deref(), machine()) {
        (Some(p), _) => println!("proxy       {}", crate::server::proxy_shown(p)),
        (None, Some(m)) => println!(
            "proxy       {} (the machine's WinHTTP setting)",
            crate::server::proxy_shown(&m)
        ),
        (None, None) => println!("proxy       none (HTTPS_PROXY and NO_PROXY apply when set)"),
    }
    // Windows: read back from the folder too, so a changed access list shows.
    match state.access() {
        Ok(access) => println!("access      {access}"),
        Err(e) => println!("access      {e}"),
    }
    match state.status() {
        Some(s) => {
            println!("last result {}", s.last_result);
            let ago = |ms: u64| format!("{}s ago", now_ms().saturating_sub(ms) / 1000);
            println!("last try    {}", ago(s.last_attempt_ms));
            println!(
                "last ok     {}",
                s.last_success_ms.map(ago).unwrap_or_else(|| "never".into())
            );
            println!("interval    {}s", s.next_checkin_secs);
        }
        None => println!("last result no check-in yet"),
    }
    Ok(())
}
