//! Check-in: the agent's periodic report of its facts and monitor states, and the server's reply
//! with the monitors to run and when to come back.

use serde::{Deserialize, Serialize};

use super::{Invalid, MAX_DETAIL_CHARS, MAX_MONITORS, check_id, check_len, invalid};
use crate::facts::DeviceFacts;

/// `POST /checkin`, authenticated with the device credential.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CheckIn {
    pub agent_version: String,
    pub facts: DeviceFacts,
    /// The current state of each monitor the agent runs.
    #[serde(default)]
    pub monitors: Vec<MonitorState>,
    /// Alert events dropped from the agent's full spool since the last check-in.
    #[serde(default)]
    pub spool_dropped: u64,
}

impl CheckIn {
    pub fn validate(&self) -> Result<(), Invalid> {
        check_len("agentVersion", &self.agent_version, 50)?;
        if self.monitors.len() > MAX_MONITORS {
            return Err(invalid(
                "monitors",
                format!("more than {MAX_MONITORS} entries"),
            ));
        }
        for m in &self.monitors {
            check_id("monitors.monitorId", &m.monitor_id)?;
            if let Some(subject) = &m.subject {
                check_len("monitors.subject", subject, super::MAX_ID_CHARS)?;
            }
            if let Some(detail) = &m.detail {
                check_len("monitors.detail", detail, MAX_DETAIL_CHARS)?;
            }
        }
        Ok(())
    }
}

/// One monitor's state as the agent last evaluated it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MonitorState {
    pub monitor_id: String,
    /// What the monitor looked at when it applies to several things (a volume's mount point).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    pub status: MonitorStatus,
    /// The last measured value (percent, load), when the monitor measures one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum MonitorStatus {
    Ok,
    Alerting,
    /// The agent could not evaluate it (nothing to measure on this OS, read failed).
    Unknown,
    #[serde(other)]
    Unsupported,
}

/// The server's answer to a check-in.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CheckInReply {
    /// Seconds until the next check-in; the agent adds up to 10 % jitter.
    pub next_checkin_secs: u32,
    /// The monitors this device should run (replaces the previous set).
    #[serde(default)]
    pub monitors: Vec<MonitorSpec>,
    /// Set when an admin approved this machine as a reinstall of a device the server already
    /// knew: the agent id to use from now on (the credential stays the same).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_id: Option<String>,
}

/// A monitor to evaluate on the device.
///
/// The alert is raised when the measured value stays past `threshold` for `minDurationSecs`,
/// and resolved only once it comes back past `threshold` by more than `hysteresis` (for the same
/// duration), so a value hovering at the threshold opens one alert, not a stream of them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct MonitorSpec {
    /// Stable id, unique within the policy (`disk-free`, `memory`, `svc-nginx`).
    pub id: String,
    pub kind: MonitorKind,
    /// The service or process name, or a mount point to restrict a disk monitor to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    /// Percent for disk and memory, load per core for CPU; unused for service and process.
    #[serde(default)]
    pub threshold: f64,
    #[serde(default)]
    pub min_duration_secs: u32,
    #[serde(default)]
    pub hysteresis: f64,
    /// How serious its alert is, for the server's ticket routing (agents do not use it); none:
    /// a warning.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub severity: Option<AlertSeverity>,
}

/// How serious an alert is, as ticket routing rules match it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub enum AlertSeverity {
    #[default]
    Warning,
    Critical,
}

/// What a monitor watches. Kinds added by a newer server read as `Unsupported` and are skipped.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub enum MonitorKind {
    /// Free space on each mounted volume falls below `threshold` percent.
    DiskFree,
    /// Memory in use rises above `threshold` percent.
    MemoryUsed,
    /// Load average per core rises above `threshold`.
    CpuLoad,
    /// The service named by `target` is not running.
    ServiceRunning,
    /// No process named `target` is running.
    ProcessRunning,
    #[serde(other)]
    Unsupported,
}
