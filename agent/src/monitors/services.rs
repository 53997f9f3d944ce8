//! Whether a named service is running, asked of the OS's service manager: `systemctl` on Linux,
//! `launchctl` on macOS (their answers read by pure functions tested here with recorded output),
//! and on Windows the Service Control Manager itself, through its API (no process started).

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
    let out = std::process::Command::new("systemctl")
        .args(["is-active", "--", name])
        .output()
        .map_err(|e| format!("cannot run systemctl: {e}"))?;
    Ok(systemctl_active(&String::from_utf8_lossy(&out.stdout)))
}

#[cfg(target_os = "macos")]
fn ask(name: &str) -> Result<bool, String> {
    let out = std::process::Command::new("launchctl")
        .args(["list", name])
        .output()
        .map_err(|e| format!("cannot run launchctl: {e}"))?;
    Ok(out.status.success() && launchctl_has_pid(&String::from_utf8_lossy(&out.stdout)))
}

#[cfg(windows)]
fn ask(name: &str) -> Result<bool, String> {
    use windows_service::service::{ServiceAccess, ServiceState};
    use windows_service::service_manager::{ServiceManager, ServiceManagerAccess};
    /// ERROR_SERVICE_DOES_NOT_EXIST
    const NO_SUCH_SERVICE: i32 = 1060;
    let scm = ServiceManager::local_computer(None::<&str>, ServiceManagerAccess::CONNECT)
        .map_err(|e| format!("cannot ask the Service Control Manager: {e}"))?;
    match scm.open_service(name, ServiceAccess::QUERY_STATUS) {
        Ok(service) => service
            .query_status()
            .map(|s| s.current_state == ServiceState::Running)
            .map_err(|e| format!("cannot query the service {name}: {e}")),
        Err(windows_service::Error::Winapi(e)) if e.raw_os_error() == Some(NO_SUCH_SERVICE) => {
            Ok(false)
        }
        Err(e) => Err(format!("cannot open the service {name}: {e}")),
    }
}

#[cfg(not(any(target_os = "linux", target_os = "macos", windows)))]
fn ask(_name: &str) -> Result<bool, String> {
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
    }

    #[test]
    fn names_that_look_like_options_are_refused() {
        assert!(running("--all").is_err());
        assert!(running("").is_err());
        assert!(running("a\nb").is_err());
    }
}
