//! What a policy's devices watch: the monitors sent to agents in each check-in reply, and how
//! long a device may stay silent before the server raises "offline". A policy without its own
//! settings gets [`MonitorSettings::default`].

use bindery_shared::protocol::{MAX_MONITORS, MonitorKind, MonitorSpec};
use serde::{Deserialize, Serialize};

/// The monitor id of the server's own alert for a device that stopped checking in.
pub const OFFLINE_MONITOR: &str = "offline";

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct MonitorSettings {
    pub monitors: Vec<MonitorSpec>,
    /// Minutes without a check-in before "offline" is raised; 0 turns it off.
    pub offline_after_mins: u32,
}

impl Default for MonitorSettings {
    /// What most MSPs start with: a volume under 10 % free for 5 minutes, memory over 90 % for
    /// 10 minutes, load over 1.5 per core for 15 minutes, and 15 minutes of silence.
    fn default() -> MonitorSettings {
        let spec = |id: &str, kind, threshold, mins: u32, hysteresis| MonitorSpec {
            severity: None,
            id: id.into(),
            kind,
            target: None,
            threshold,
            min_duration_secs: mins * 60,
            hysteresis,
        };
        MonitorSettings {
            monitors: vec![
                spec("disk-free", MonitorKind::DiskFree, 10.0, 5, 5.0),
                spec("memory-used", MonitorKind::MemoryUsed, 90.0, 10, 5.0),
                spec("cpu-load", MonitorKind::CpuLoad, 1.5, 15, 0.25),
            ],
            offline_after_mins: 15,
        }
    }
}

impl MonitorSettings {
    /// The policy's settings from their stored JSON; the defaults when there is none, or when
    /// what is stored no longer reads (logged: an older server's format).
    pub fn from_stored(json: Option<&str>) -> MonitorSettings {
        let Some(json) = json else {
            return MonitorSettings::default();
        };
        match serde_json::from_str(json) {
            Ok(s) => s,
            Err(e) => {
                tracing::warn!(error = %e, "stored monitor settings do not read; using the defaults");
                MonitorSettings::default()
            }
        }
    }

    /// Every reason these settings cannot be used (empty when they can).
    pub fn problems(&self) -> Vec<String> {
        let mut out = Vec::new();
        if self.monitors.len() > MAX_MONITORS {
            out.push(format!("at most {MAX_MONITORS} monitors"));
        }
        if self.offline_after_mins > 0 && self.offline_after_mins < 2 {
            out.push("offlineAfterMins must be 0 (off) or at least 2".into());
        }
        let mut seen = std::collections::BTreeSet::new();
        for m in &self.monitors {
            let name = &m.id;
            if !bindery_shared::normalize::is_safe_identifier(name) || name == OFFLINE_MONITOR {
                out.push(format!(
                    "monitor id {name:?} must be 1-100 letters, digits, '-', '_', '.' or ':' (and not \"offline\")"
                ));
            }
            if !seen.insert(name.clone()) {
                out.push(format!("monitor id {name:?} is used twice"));
            }
            let needs_target = matches!(
                m.kind,
                MonitorKind::ServiceRunning | MonitorKind::ProcessRunning
            );
            let target_ok = m.target.as_deref().is_some_and(|t| {
                !t.trim().is_empty() && t.chars().count() <= 100 && !t.chars().any(char::is_control)
            });
            if needs_target && !target_ok {
                out.push(format!(
                    "monitor {name:?} needs a target: the service or process name (1-100 characters)"
                ));
            }
            if m.target.is_some() && !target_ok {
                out.push(format!("monitor {name:?} has an unusable target"));
            }
            let range = match m.kind {
                MonitorKind::DiskFree | MonitorKind::MemoryUsed => Some(0.0..=100.0),
                MonitorKind::CpuLoad => Some(0.0..=1000.0),
                _ => None,
            };
            if let Some(r) = range
                && (!r.contains(&m.threshold) || !(0.0..=*r.end()).contains(&m.hysteresis))
            {
                out.push(format!(
                    "monitor {name:?}: threshold and hysteresis must be between {} and {}",
                    r.start(),
                    r.end()
                ));
            }
            if m.kind == MonitorKind::Unsupported {
                out.push(format!("monitor {name:?} has an unknown kind"));
            }
            if m.min_duration_secs > 7 * 86_400 {
                out.push(format!(
                    "monitor {name:?}: minDurationSecs is at most a week"
                ));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_defaults_are_usable_and_bad_settings_are_named() {
        assert!(MonitorSettings::default().problems().is_empty());
        let mut s = MonitorSettings::default();
        s.monitors.push(MonitorSpec {
            severity: None,
            id: "disk-free".into(),
            kind: MonitorKind::ProcessRunning,
            target: None,
            threshold: 0.0,
            min_duration_secs: 0,
            hysteresis: 0.0,
        });
        s.monitors[0].threshold = 150.0;
        s.offline_after_mins = 1;
        let problems = s.problems().join("\n");
        assert!(problems.contains("used twice"), "{problems}");
        assert!(problems.contains("needs a target"), "{problems}");
        assert!(problems.contains("between 0 and 100"), "{problems}");
        assert!(problems.contains("offlineAfterMins"), "{problems}");
    }

    #[test]
    fn stored_settings_read_back_and_damage_falls_back_to_the_defaults() {
        let s = MonitorSettings {
            offline_after_mins: 0,
            ..MonitorSettings::default()
        };
        let json = serde_json::to_string(&s).unwrap();
        assert_eq!(MonitorSettings::from_stored(Some(&json)), s);
        assert_eq!(
            MonitorSettings::from_stored(Some("{not json")),
            MonitorSettings::default()
        );
        assert_eq!(
            MonitorSettings::from_stored(None),
            MonitorSettings::default()
        );
    }
}
