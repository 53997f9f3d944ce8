//! systemd: the unit in /etc/systemd/system, enabled and started.

use std::path::Path;

use super::{PACKAGED_BINARY, UNIT, run, systemd_unit};

const UNIT_DIR: &str = "/etc/systemd/system";

/// Where a package puts units.
const PACKAGE_UNIT_DIRS: [&str; 2] = ["/usr/lib/systemd/system", "/lib/systemd/system"];

pub fn install() -> Result<String, String> {
    let binary = std::env::current_exe().map_err(|e| format!("cannot find this program: {e}"))?;
    let binary = super::only_root_can_replace(&binary)?;
    let packaged = PACKAGE_UNIT_DIRS
        .iter()
        .map(|d| Path::new(d).join(UNIT))
        .find(|unit| unit.is_file())
        .filter(|_| binary == Path::new(PACKAGED_BINARY));
    // The package's own unit is used as it is (its upgrades then reach it); any other copy of
    // the agent gets a unit of its own in /etc.
    let path = if let Some(unit) = packaged {
        unit
    } else {
        let path = Path::new(UNIT_DIR).join(UNIT);
        crate::state::write_file_atomic(&path, systemd_unit(&binary).as_bytes(), 0o644)
            .map_err(|e| format!("{e} (installing a service needs root)"))?;
        path
    };
    if !systemd_running() {
        // A container or chroot (an image being built): enabled now, started at its next boot.
        run("systemctl", &["enable", UNIT])?;
        return Ok(format!(
            "installed and enabled {UNIT} ({}); systemd is not running here, so it starts at \
             the next boot (or run `bindery-agent run` now)",
            path.display()
        ));
    }
    run("systemctl", &["daemon-reload"])?;
    run("systemctl", &["enable", "--now", UNIT])?;
    Ok(format!(
        "installed and started {UNIT} ({}); its state stays in /var/lib/bindery-agent",
        path.display()
    ))
}

/// Whether systemd manages this machine now (sd_booted(3)'s test).
fn systemd_running() -> bool {
    Path::new("/run/systemd/system").is_dir()
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
    if systemd_running() {
        run("systemctl", &["daemon-reload"])?;
    }
    Ok(format!(
        "removed {UNIT}; the agent's state (its identity) stays in /var/lib/bindery-agent"
    ))
}
