//! Where the agent's own messages go. Run by hand, to stderr. Run as a service (`run --service`,
//! as every service definition it writes says), to the OS's log: the journal on Linux (stderr
//! with syslog priority prefixes, which journald reads), the system log on macOS (syslog(3), in
//! `log show --predicate 'process == "bindery-agent"'`), the Application event log on Windows
//! (source "bindery-agent").

use std::sync::atomic::{AtomicBool, Ordering};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Level {
    Error,
    Warning,
    Info,
}

impl Level {
    /// syslog(3)'s priority: LOG_ERR, LOG_WARNING, LOG_INFO.
    #[cfg_attr(windows, allow(dead_code))]
    fn syslog_priority(self) -> u8 {
        match self {
            Level::Error => 3,
            Level::Warning => 4,
            Level::Info => 6,
        }
    }
}

static TO_OS: AtomicBool = AtomicBool::new(false);

/// From now on, messages go to the OS's log (the agent runs as a service).
pub fn to_os_log() {
    TO_OS.store(true, Ordering::Relaxed);
}

pub fn error(message: &str) {
    emit(Level::Error, message);
}

pub fn warning(message: &str) {
    emit(Level::Warning, message);
}

pub fn info(message: &str) {
    emit(Level::Info, message);
}

fn emit(level: Level, message: &str) {
    if TO_OS.load(Ordering::Relaxed) {
        os::write(level, message);
    } else {
        eprintln!("bindery-agent: {message}");
    }
}

/// A line for the journal: `<4>message`, one line however many the message has (journald would
/// take each line for a message of its own, and only the first with its priority).
#[cfg_attr(not(target_os = "linux"), allow(dead_code))]
pub fn journal_line(level: Level, message: &str) -> String {
    let flat: String = message
        .chars()
        .map(|c| if c == '\n' || c == '\r' { ' ' } else { c })
        .collect();
    format!("<{}>{flat}", level.syslog_priority())
}

#[cfg(target_os = "linux")]
mod os {
    pub fn write(level: super::Level, message: &str) {
        eprintln!("{}", super::journal_line(level, message));
    }
}

#[cfg(target_os = "macos")]
mod os {
    use std::ffi::CString;
    use std::sync::Once;

    pub fn write(level: super::Level, message: &str) {
        static OPEN: Once = Once::new();
        // SAFETY: the identifier is a static C string that outlives every later syslog call.
        OPEN.call_once(|| unsafe {
            libc::openlog(c"bindery-agent".as_ptr(), libc::LOG_PID, libc::LOG_DAEMON)
        });
        let Ok(text) = CString::new(message.replace('\0', " ")) else {
            return;
        };
        // SAFETY: a "%s" format with one valid C string argument.
        unsafe {
            libc::syslog(
                libc::c_int::from(level.syslog_priority()),
                c"%s".as_ptr(),
                text.as_ptr(),
            )
        };
    }
}

#[cfg(windows)]
mod os {
    use windows_sys::Win32::System::EventLog::{
        DeregisterEventSource, EVENTLOG_ERROR_TYPE, EVENTLOG_INFORMATION_TYPE,
        EVENTLOG_WARNING_TYPE, RegisterEventSourceW, ReportEventW,
    };

    /// The event id the agent's messages carry.
    const EVENT_ID: u32 = 1000;

    pub fn write(level: super::Level, message: &str) {
        let source: Vec<u16> = "bindery-agent\0".encode_utf16().collect();
        let text: Vec<u16> = message
            .encode_utf16()
            .map(|c| if c == 0 { u16::from(b' ') } else { c })
            .chain([0])
            .collect();
        let kind = match level {
            super::Level::Error => EVENTLOG_ERROR_TYPE,
            super::Level::Warning => EVENTLOG_WARNING_TYPE,
            super::Level::Info => EVENTLOG_INFORMATION_TYPE,
        };
        // SAFETY: both strings are NUL-terminated UTF-16 that outlive the calls; the handle is
        // checked before use and released after.
        unsafe {
            let log = RegisterEventSourceW(std::ptr::null(), source.as_ptr());
            if log.is_null() {
                return;
            }
            let strings = [text.as_ptr()];
            ReportEventW(
                log,
                kind,
                0,
                EVENT_ID,
                std::ptr::null_mut(),
                1,
                0,
                strings.as_ptr(),
                std::ptr::null(),
            );
            DeregisterEventSource(log);
        }
    }
}

#[cfg(not(any(target_os = "linux", target_os = "macos", windows)))]
mod os {
    pub fn write(_level: super::Level, message: &str) {
        eprintln!("bindery-agent: {message}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn journal_lines_carry_the_priority_and_stay_one_line() {
        assert_eq!(journal_line(Level::Error, "boom"), "<3>boom");
        assert_eq!(
            journal_line(Level::Warning, "check-in failed:\nreset\r\n"),
            "<4>check-in failed: reset  "
        );
        assert_eq!(journal_line(Level::Info, "ok"), "<6>ok");
    }
}
