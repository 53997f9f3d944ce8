//! `bindery-agent service install|uninstall`: the agent as a system service that starts at boot
//! and restarts when it stops. The service files are written by pure functions, tested on every
//! OS; the thin OS parts only write them and ask the service manager.
//!
//! - Linux: a hardened systemd unit (packaging/bindery-agent.service), `systemctl enable --now`.
//! - macOS: a launchd daemon in /Library/LaunchDaemons, `launchctl bootstrap system`.
//! - Windows: a service of the Service Control Manager (windows-service), started automatically
//!   and restarted after a failure; `run --service` answers the SCM's start and stop.
//!
//! The state directory is left alone by all three, so a reinstalled or upgraded agent keeps its
//! identity and enrollment.

use std::path::Path;

// The writers of every OS are compiled on every OS so their tests run on the Linux CI machine.

/// The systemd unit's name and the launchd label.
#[cfg_attr(not(target_os = "linux"), allow(dead_code))]
pub const UNIT: &str = "bindery-agent.service";
#[cfg_attr(not(target_os = "macos"), allow(dead_code))]
pub const LABEL: &str = "com.bindery.agent";

/// The unit the package installs, for the agent in /usr/bin.
const PACKAGED_UNIT: &str = include_str!("../../../packaging/bindery-agent.service");
/// Where the package puts the agent.
#[cfg_attr(not(target_os = "linux"), allow(dead_code))]
pub const PACKAGED_BINARY: &str = "/usr/bin/bindery-agent";

/// The systemd unit for the agent at `binary`: the package's, pointed at it.
#[cfg_attr(not(target_os = "linux"), allow(dead_code))]
pub fn systemd_unit(binary: &Path) -> String {
    PACKAGED_UNIT.replace(
        &format!("ExecStart={PACKAGED_BINARY} "),
        &format!("ExecStart={} ", binary.display()),
    )
}

/// Escapes text for an XML property list.
#[cfg_attr(not(target_os = "macos"), allow(dead_code))]
fn xml(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The launchd daemon for the agent at `binary`, keeping its state in `state_dir`.
#[cfg_attr(not(target_os = "macos"), allow(dead_code))]
pub fn launchd_plist(binary: &Path, state_dir: &Path) -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0">
<dict>
  <key>Label</key><string>{LABEL}</string>
  <key>ProgramArguments</key>
  <array><string>{}</string><string>run</string><string>--service</string></array>
  <key>EnvironmentVariables</key>
  <dict><key>BINDERY_AGENT_STATE_DIR</key><string>{}</string></dict>
  <key>RunAtLoad</key><true/>
  <key>KeepAlive</key><true/>
  <key>ThrottleInterval</key><integer>10</integer>
  <key>ProcessType</key><string>Background</string>
  <key>LowPriorityIO</key><true/>
</dict>
</plist>
"#,
        xml(&binary.display().to_string()),
        xml(&state_dir.display().to_string()),
    )
}

#[cfg(target_os = "linux")]
mod linux;
#[cfg(target_os = "linux")]
pub use linux::{install, uninstall};

#[cfg(target_os = "macos")]
mod macos;
#[cfg(target_os = "macos")]
pub use macos::{install, uninstall};

#[cfg(windows)]
mod windows;
#[cfg(windows)]
pub use windows::{install, run_as_service, stop_requested, uninstall};

#[cfg(not(any(target_os = "linux", target_os = "macos", windows)))]
pub fn install() -> Result<String, String> {
    Err("installing the agent as a service is not supported on this OS".into())
}

#[cfg(not(any(target_os = "linux", target_os = "macos", windows)))]
pub fn uninstall() -> Result<String, String> {
    Err("installing the agent as a service is not supported on this OS".into())
}

/// `run --service` where the service manager simply starts the program (systemd, launchd): the
/// agent's loop, until SIGTERM.
#[cfg(not(windows))]
pub fn run_as_service(state_dir: Option<std::path::PathBuf>) -> Result<(), String> {
    crate::cli::runtime().and_then(|rt| rt.block_on(crate::cli::run::run(state_dir, false)))
}

/// Why a file or folder with this owner and mode must not be what a root service runs: someone
/// other than root could replace it. `None` when only root can. (Windows checks its ACLs instead:
/// the Windows issue's work.)
#[cfg_attr(not(unix), allow(dead_code))]
pub fn replaceable_by_others(uid: u32, mode: u32) -> Option<&'static str> {
    if uid != 0 {
        Some("is not owned by root")
    } else if mode & 0o022 != 0 {
        Some("is writable by group or others")
    } else {
        None
    }
}

/// Why a root service must not run a program whose path, resolved and walked up to `/`, has
/// these entries (each path with its owner and mode, the program first): any of them that
/// someone other than root could change lets them replace what the service runs. `None` when
/// only root can.
#[cfg_attr(not(unix), allow(dead_code))]
pub fn chain_replaceable_by_others(chain: &[(std::path::PathBuf, u32, u32)]) -> Option<String> {
    chain.iter().find_map(|(path, uid, mode)| {
        replaceable_by_others(*uid, *mode).map(|why| {
            format!(
                "{} {why}, so someone else could replace what the service runs as root: \
                 `sudo chown root {p} && sudo chmod go-w {p}`, or put the agent in /usr/local/bin",
                path.display(),
                p = path.display()
            )
        })
    })
}

/// Refuses to make a service of a program that someone other than root could replace: the
/// program itself or any folder on its way up to `/`, after symlinks are resolved (`current_exe`
/// on macOS can be a link, and so can any folder). The service would run their code as root at
/// every start. Returns the resolved path, which the service then names.
#[cfg(unix)]
fn only_root_can_replace(binary: &std::path::Path) -> Result<std::path::PathBuf, String> {
    use std::os::unix::fs::MetadataExt;
    let resolved = std::fs::canonicalize(binary)
        .map_err(|e| format!("cannot resolve {}: {e}", binary.display()))?;
    let mut chain = Vec::new();
    for path in resolved.ancestors() {
        let meta =
            std::fs::metadata(path).map_err(|e| format!("cannot check {}: {e}", path.display()))?;
        chain.push((path.to_owned(), meta.uid(), meta.mode()));
    }
    match chain_replaceable_by_others(&chain) {
        Some(why) => Err(why),
        None => Ok(resolved),
    }
}

/// Runs a service-manager command; its error output on failure.
#[cfg(unix)]
fn run(program: &str, args: &[&str]) -> Result<(), String> {
    let out = std::process::Command::new(program)
        .args(args)
        .output()
        .map_err(|e| format!("cannot run {program}: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{program} {} failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_service_runs_only_what_only_root_can_replace() {
        assert_eq!(replaceable_by_others(0, 0o100755), None);
        assert_eq!(replaceable_by_others(0, 0o040755), None);
        assert_eq!(
            replaceable_by_others(1000, 0o100755),
            Some("is not owned by root")
        );
        assert_eq!(
            replaceable_by_others(0, 0o100775),
            Some("is writable by group or others")
        );
        assert_eq!(
            replaceable_by_others(0, 0o041777),
            Some("is writable by group or others"),
            "a sticky /tmp is still not a place for a root service's program"
        );
    }

    #[test]
    fn every_folder_up_to_the_root_counts() {
        use std::path::PathBuf;
        let link = |p: &str, uid, mode| (PathBuf::from(p), uid, mode);
        let safe = [
            link("/usr/local/bin/bindery-agent", 0, 0o100755),
            link("/usr/local/bin", 0, 0o040755),
            link("/usr/local", 0, 0o040755),
            link("/usr", 0, 0o040755),
            link("/", 0, 0o040755),
        ];
        assert_eq!(chain_replaceable_by_others(&safe), None);
        // A user's folder two levels up: they could rename `bin` away and put their own there.
        let mut owned = safe.clone();
        owned[2] = link("/usr/local", 1000, 0o040755);
        let why = chain_replaceable_by_others(&owned).unwrap();
        assert!(why.starts_with("/usr/local is not owned by root"), "{why}");
        let mut writable = safe.clone();
        writable[4] = link("/", 0, 0o040777);
        assert!(
            chain_replaceable_by_others(&writable)
                .unwrap()
                .starts_with("/ is writable")
        );
    }

    #[cfg(unix)]
    #[test]
    fn a_program_under_a_writable_folder_further_up_is_refused() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let inner = dir.path().join("opt/bindery");
        std::fs::create_dir_all(&inner).unwrap();
        let program = inner.join("bindery-agent");
        std::fs::write(&program, b"#!/bin/sh\n").unwrap();
        for p in [&inner, &dir.path().join("opt")] {
            std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        // Only the top folder, two levels above the program, is open to others.
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
        let refused = only_root_can_replace(&program).unwrap_err();
        assert!(
            refused.starts_with(&format!(
                "{} ",
                dir.path().canonicalize().unwrap().display()
            )),
            "{refused}"
        );
        // Reached through a symlink, the same program is judged where it really is.
        let link = dir.path().join("link");
        std::os::unix::fs::symlink(&program, &link).unwrap();
        assert_eq!(only_root_can_replace(&link).unwrap_err(), refused);
    }

    #[cfg(unix)]
    #[test]
    fn a_program_in_a_world_writable_folder_is_refused_with_the_fix() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let program = dir.path().join("bindery-agent");
        std::fs::write(&program, b"#!/bin/sh\n").unwrap();
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
        let refused = only_root_can_replace(&program).unwrap_err();
        assert!(refused.contains("chmod go-w"), "{refused}");
    }

    #[test]
    fn the_unit_runs_this_binary_hardened_and_keeps_its_state() {
        let unit = systemd_unit(Path::new("/opt/bindery/bindery-agent"));
        assert!(unit.contains("ExecStart=/opt/bindery/bindery-agent run --service\n"));
        assert!(!unit.contains(PACKAGED_BINARY));
        assert!(unit.contains("StateDirectory=bindery-agent"));
        assert!(unit.contains("ConditionPathExists=/var/lib/bindery-agent/enrollment.json"));
        assert!(unit.contains("ProtectSystem=strict"));
        assert!(unit.contains("CapabilityBoundingSet=\n"));
        assert_eq!(systemd_unit(Path::new(PACKAGED_BINARY)), PACKAGED_UNIT);
    }

    #[test]
    fn the_plist_names_the_binary_and_state_and_escapes_them() {
        let plist = launchd_plist(
            Path::new("/Applications/Bindery & Co/bindery-agent"),
            Path::new("/Library/Application Support/Bindery Agent"),
        );
        assert!(plist.contains(
            "<string>/Applications/Bindery &amp; Co/bindery-agent</string><string>run</string><string>--service</string>"
        ));
        assert!(plist.contains("<string>/Library/Application Support/Bindery Agent</string>"));
        assert!(plist.contains("<key>KeepAlive</key><true/>"));
    }
}
