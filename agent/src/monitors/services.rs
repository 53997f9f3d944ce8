//! Whether a named service is running, asked of the OS's service manager: `systemctl` on Linux,
//! `launchctl` on macOS, `sc` on Windows. The answers are read by pure functions tested here with
//! recorded output.

use std::process::Command;

/// True when the service runs, false when it is stopped or unknown to the service manager;
/// an error when the manager cannot be asked.
pub fn running(name: &str) -> Result<bool, String> {
    if name.is_empty() || name.starts_with('-') || name.chars().any(char::is_control) {
        return Err(format!("{name:?} is not a service name"));
    }
    ask(name)
}

#[cfg(target_os = "linux")]
fn ask(name: &str) -> Result<bool, String> {
    // `is-active` exits 0 only for an active unit (3 for inactive or unknown ones).
    let out = Command::new("systemctl")
        .args(["is-active", "--", name])
        .output()
        .map_err(|e| format!("cannot run systemctl: {e}"))?;
    Ok(systemctl_active(&String::from_utf8_lossy(&out.stdout)))
}

#[cfg(target_os = "macos")]
fn ask(name: &str) -> Result<bool, String> {
    let out = Command::new("launchctl")
        .args(["list", name])
        .output()
        .map_err(|e| format!("cannot run launchctl: {e}"))?;
    Ok(out.status.success() && launchctl_has_pid(&String::from_utf8_lossy(&out.stdout)))
}

#[cfg(windows)]
fn ask(name: &str) -> Result<bool, String> {
    let out = Command::new("sc.exe")
        .args(["query", name])
        .output()
        .map_err(|e| format!("cannot run sc.exe: {e}"))?;
    Ok(sc_running(&String::from_utf8_lossy(&out.stdout)))
}

#[cfg(not(any(target_os = "linux", target_os = "macos", windows)))]
fn ask(_name: &str) -> Result<bool, String> {
    let _ = Command::new;
    Err("service monitors are not supported on this OS".into())
}

/// `systemctl is-active` prints one state per unit.
#[cfg_attr(not(target_os = "linux"), allow(dead_code))]
pub fn systemctl_active(stdout: &str) -> bool {
    stdout.trim() == "active"
}

/// `launchctl list LABEL` prints a plist-like dictionary; a running job has a `"PID"` entry.
#[cfg_attr(not(target_os = "macos"), allow(dead_code))]
pub fn launchctl_has_pid(stdout: &str) -> bool {
    stdout
        .lines()
        .any(|l| l.trim_start().starts_with("\"PID\" ="))
}

/// `sc query NAME` prints `STATE : 4  RUNNING` for a running service.
#[cfg_attr(not(windows), allow(dead_code))]
pub fn sc_running(stdout: &str) -> bool {
    stdout.lines().any(|l| {
        let l = l.trim();
        l.starts_with("STATE") && l.split_whitespace().any(|w| w == "RUNNING")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_service_manager_s_answer_is_read() {
        assert!(systemctl_active("active\n"));
        assert!(!systemctl_active("inactive\n"));
        assert!(!systemctl_active("activating\n"));

        let running = "{\n\t\"LimitLoadToSessionType\" = \"System\";\n\t\"Label\" = \"com.openssh.sshd\";\n\t\"PID\" = 412;\n\t\"Program\" = \"/usr/sbin/sshd\";\n};\n";
        let stopped = "{\n\t\"LimitLoadToSessionType\" = \"System\";\n\t\"Label\" = \"com.openssh.sshd\";\n\t\"LastExitStatus\" = 0;\n};\n";
        assert!(launchctl_has_pid(running));
        assert!(!launchctl_has_pid(stopped));

        let sc = "\r\nSERVICE_NAME: Spooler \r\n        TYPE               : 110  WIN32_OWN_PROCESS  (interactive)\r\n        STATE              : 4  RUNNING \r\n                                (STOPPABLE, NOT_PAUSABLE, ACCEPTS_SHUTDOWN)\r\n";
        assert!(sc_running(sc));
        assert!(!sc_running(&sc.replace("4  RUNNING", "1  STOPPED")));
        assert!(!sc_running(
            "[SC] EnumQueryServicesStatus:OpenService FAILED 1060:\r\n"
        ));
    }

    #[test]
    fn names_that_look_like_options_are_refused() {
        assert!(running("--all").is_err());
        assert!(running("").is_err());
        assert!(running("a\nb").is_err());
    }
}
