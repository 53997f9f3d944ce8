//! launchd: a daemon in /Library/LaunchDaemons, bootstrapped into the system domain.

use std::path::{Path, PathBuf};

use super::{LABEL, launchd_plist, run};

fn plist_path() -> PathBuf {
    Path::new("/Library/LaunchDaemons").join(format!("{LABEL}.plist"))
}

pub fn install() -> Result<String, String> {
    let binary = std::env::current_exe().map_err(|e| format!("cannot find this program: {e}"))?;
    let binary = super::only_root_can_replace(&binary)?;
    let state = crate::state::StateDir::resolve(None)?;
    let path = plist_path();
    crate::state::write_file_atomic(
        &path,
        launchd_plist(&binary, state.dir()?).as_bytes(),
        0o644,
    )
    .map_err(|e| format!("{e} (installing a service needs root)"))?;
    // A daemon already loaded (a reinstall) is replaced.
    let _ = run("launchctl", &["bootout", &format!("system/{LABEL}")]);
    let target = path.display().to_string();
    run("launchctl", &["bootstrap", "system", &target])?;
    Ok(format!("installed and started {LABEL} ({target})"))
}

pub fn uninstall() -> Result<String, String> {
    let _ = run("launchctl", &["bootout", &format!("system/{LABEL}")]);
    match std::fs::remove_file(plist_path()) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(format!("cannot remove {}: {e}", plist_path().display())),
    }
    Ok(format!(
        "removed {LABEL}; the agent's state (its identity) stays"
    ))
}
