//! systemd: the unit in /etc/systemd/system, enabled and started.

use std::path::Path;

use super::{UNIT, run, systemd_unit};

const UNIT_DIR: &str = "/etc/systemd/system";

pub fn install() -> Result<String, String> {
    let binary = std::env::current_exe().map_err(|e| format!("cannot find this program: {e}"))?;
    let path = Path::new(UNIT_DIR).join(UNIT);
    crate::state::write_file_atomic(&path, systemd_unit(&binary).as_bytes(), 0o644)
        .map_err(|e| format!("{e} (installing a service needs root)"))?;
    run("systemctl", &["daemon-reload"])?;
    run("systemctl", &["enable", "--now", UNIT])?;
    Ok(format!(
        "installed and started {UNIT} ({}); its state stays in /var/lib/bindery-agent",
        path.display()
    ))
}

pub fn uninstall() -> Result<String, String> {
    let path = Path::new(UNIT_DIR).join(UNIT);
    // Stopping a unit that is not there is not an error worth failing on.
    let _ = run("systemctl", &["disable", "--now", UNIT]);
    match std::fs::remove_file(&path) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(format!("cannot remove {}: {e}", path.display())),
    }
    run("systemctl", &["daemon-reload"])?;
    Ok(format!(
        "removed {UNIT}; the agent's state (its identity) stays in /var/lib/bindery-agent"
    ))
}
