//! Turning readings into alerts: pure, so every threshold, duration and hysteresis rule is
//! tested with recorded values.
//!
//! A monitor raises when its reading stays past the threshold for `minDurationSecs`, and resolves
//! only once the reading is back by more than `hysteresis` for as long. A reading in between
//! (the dead band) keeps the current state and restarts the clock, so a value hovering at the
//! threshold opens one alert, not a stream of them.

use std::collections::{BTreeMap, BTreeSet};

use bindery_shared::protocol::{
    AlertEvent, AlertEventKind, MonitorKind, MonitorSpec, MonitorState, MonitorStatus,
};

/// What a monitor read for one subject.
#[derive(Clone, Debug, PartialEq)]
pub enum Measure {
    /// A percentage or a load.
    Value(f64),
    /// A service or process: running or not.
    Running(bool),
    /// Could not be read (with why).
    Unknown(String),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Reading {
    pub monitor_id: String,
    /// The mount point, for disk monitors; empty otherwise.
    pub subject: String,
    pub measure: Measure,
}

/// One monitor and subject's alert state.
#[derive(Clone, Debug, Default, PartialEq)]
struct Track {
    alerting: bool,
    /// Since when the reading has pointed to the other state.
    turning_since_ms: Option<u64>,
}

/// An alert event before the spool numbers it.
pub type Pending = AlertEvent;

#[derive(Debug, Default)]
pub struct Evaluator {
    tracks: BTreeMap<(String, String), Track>,
}

/// How a reading compares with a monitor's threshold.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Side {
    Bad,
    Good,
    Between,
}

fn side(spec: &MonitorSpec, measure: &Measure) -> Option<Side> {
    let (t, h) = (spec.threshold, spec.hysteresis.max(0.0));
    Some(match (spec.kind, measure) {
        (_, Measure::Unknown(_)) => return None,
        (MonitorKind::ServiceRunning | MonitorKind::ProcessRunning, Measure::Running(r)) => {
            if *r {
                Side::Good
            } else {
                Side::Bad
            }
        }
        (MonitorKind::DiskFree, Measure::Value(v)) => {
            if *v < t {
                Side::Bad
            } else if *v >= t + h {
                Side::Good
            } else {
                Side::Between
            }
        }
        (MonitorKind::MemoryUsed | MonitorKind::CpuLoad, Measure::Value(v)) => {
            if *v > t {
                Side::Bad
            } else if *v <= t - h {
                Side::Good
            } else {
                Side::Between
            }
        }
        _ => return None,
    })
}

/// One line for people, at most 100 characters: what and where.
fn summary(spec: &MonitorSpec, subject: &str, measure: &Measure, raised: bool) -> String {
    let target = spec.target.as_deref().unwrap_or("");
    let text = match (spec.kind, measure) {
        (MonitorKind::DiskFree, Measure::Value(v)) => format!("Disk {subject} has {v:.1}% free"),
        (MonitorKind::MemoryUsed, Measure::Value(v)) => format!("Memory {v:.0}% used"),
        (MonitorKind::CpuLoad, Measure::Value(v)) => format!("CPU load {v:.2} per core"),
        (MonitorKind::ServiceRunning, _) if raised => format!("Service {target} is not running"),
        (MonitorKind::ServiceRunning, _) => format!("Service {target} is running again"),
        (MonitorKind::ProcessRunning, _) if raised => format!("Process {target} is not running"),
        (MonitorKind::ProcessRunning, _) => format!("Process {target} is running again"),
        _ => format!("Monitor {}", spec.id),
    };
    text.chars().take(100).collect()
}

fn detail(spec: &MonitorSpec, raised: bool) -> String {
    let mins = spec.min_duration_secs / 60;
    let secs = spec.min_duration_secs % 60;
    let duration = match (mins, secs) {
        (0, s) => format!("{s} s"),
        (m, 0) => format!("{m} min"),
        (m, s) => format!("{m} min {s} s"),
    };
    let rule = match spec.kind {
        MonitorKind::DiskFree => format!("free space below {}%", spec.threshold),
        MonitorKind::MemoryUsed => format!("memory use above {}%", spec.threshold),
        MonitorKind::CpuLoad => format!("load above {} per core", spec.threshold),
        _ => "not running".into(),
    };
    if raised {
        format!("Bindery monitor {:?}: {rule} for {duration}.", spec.id)
    } else {
        format!(
            "Bindery monitor {:?}: back to normal for {duration}.",
            spec.id
        )
    }
}

impl Evaluator {
    /// An evaluator that knows which alerts were open when the agent last stopped.
    pub fn with_open(open: &[(String, String)]) -> Evaluator {
        let tracks = open
            .iter()
            .map(|k| {
                (
                    k.clone(),
                    Track {
                        alerting: true,
                        turning_since_ms: None,
                    },
                )
            })
            .collect();
        Evaluator { tracks }
    }

    /// The (monitor, subject) pairs alerting now, to keep across restarts.
    pub fn open(&self) -> Vec<(String, String)> {
        self.tracks
            .iter()
            .filter(|(_, t)| t.alerting)
            .map(|(k, _)| k.clone())
            .collect()
    }

    /// Takes one round of readings at `now_ms`; returns the alert events it causes (not yet
    /// numbered) and each reading's state for the check-in.
    pub fn observe(
        &mut self,
        specs: &[MonitorSpec],
        readings: &[Reading],
        now_ms: u64,
    ) -> (Vec<Pending>, Vec<MonitorState>) {
        let mut events = Vec::new();
        let mut states = Vec::new();
        for r in readings {
            let Some(spec) = specs.iter().find(|s| s.id == r.monitor_id) else {
                continue;
            };
            let key = (r.monitor_id.clone(), r.subject.clone());
            let track = self.tracks.entry(key).or_default();
            let value = match r.measure {
                Measure::Value(v) => Some(v),
                _ => None,
            };
            let subject = (!r.subject.is_empty()).then(|| r.subject.clone());
            let Some(side) = side(spec, &r.measure) else {
                states.push(MonitorState {
                    monitor_id: r.monitor_id.clone(),
                    subject,
                    status: MonitorStatus::Unknown,
                    value: None,
                    detail: match &r.measure {
                        Measure::Unknown(why) => Some(why.chars().take(500).collect()),
                        _ => None,
                    },
                });
                continue;
            };
            let turning = matches!(
                (track.alerting, side),
                (false, Side::Bad) | (true, Side::Good)
            );
            if turning {
                let since = *track.turning_since_ms.get_or_insert(now_ms);
                if now_ms.saturating_sub(since) >= u64::from(spec.min_duration_secs) * 1000 {
                    track.alerting = !track.alerting;
                    track.turning_since_ms = None;
                    let raised = track.alerting;
                    events.push(AlertEvent {
                        seq: 0,
                        monitor_id: r.monitor_id.clone(),
                        subject: subject.clone(),
                        kind: if raised {
                            AlertEventKind::Raised
                        } else {
                            AlertEventKind::Resolved
                        },
                        at_ms: now_ms,
                        summary: summary(spec, &r.subject, &r.measure, raised),
                        detail: Some(detail(spec, raised)),
                        value,
                    });
                }
            } else {
                track.turning_since_ms = None;
            }
            states.push(MonitorState {
                monitor_id: r.monitor_id.clone(),
                subject,
                status: if track.alerting {
                    MonitorStatus::Alerting
                } else {
                    MonitorStatus::Ok
                },
                value,
                detail: None,
            });
        }
        // A monitor taken out of the policy while alerting resolves, so no alert stays open
        // forever on the server.
        let live: BTreeSet<&str> = specs.iter().map(|s| s.id.as_str()).collect();
        let gone: Vec<(String, String)> = self
            .tracks
            .keys()
            .filter(|(m, _)| !live.contains(m.as_str()))
            .cloned()
            .collect();
        for key in gone {
            if self.tracks.remove(&key).is_some_and(|t| t.alerting) {
                events.push(AlertEvent {
                    seq: 0,
                    monitor_id: key.0.clone(),
                    subject: (!key.1.is_empty()).then(|| key.1.clone()),
                    kind: AlertEventKind::Resolved,
                    at_ms: now_ms,
                    summary: format!("Monitor {} was removed", key.0)
                        .chars()
                        .take(100)
                        .collect(),
                    detail: Some("The policy no longer has this monitor.".into()),
                    value: None,
                });
            }
        }
        (events, states)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn disk(min_secs: u32) -> MonitorSpec {
        MonitorSpec {
            severity: None,
            id: "disk-free".into(),
            kind: MonitorKind::DiskFree,
            target: None,
            threshold: 10.0,
            min_duration_secs: min_secs,
            hysteresis: 5.0,
        }
    }

    fn read(v: f64) -> Vec<Reading> {
        vec![Reading {
            monitor_id: "disk-free".into(),
            subject: "/var".into(),
            measure: Measure::Value(v),
        }]
    }

    /// Feeds values one per `step_ms` and returns the kinds of the events, in order.
    fn run(spec: &MonitorSpec, values: &[f64], step_ms: u64) -> Vec<AlertEventKind> {
        let mut e = Evaluator::default();
        let mut kinds = Vec::new();
        for (i, v) in values.iter().enumerate() {
            let (events, _) = e.observe(std::slice::from_ref(spec), &read(*v), i as u64 * step_ms);
            kinds.extend(events.iter().map(|ev| ev.kind));
        }
        kinds
    }

    #[test]
    fn a_value_past_the_threshold_for_the_duration_raises_once_and_resolves_once() {
        use AlertEventKind::*;
        // Readings every 10 s, 30 s needed: raised on the 4th bad reading, resolved on the 4th
        // good one.
        let values = [50.0, 8.0, 7.0, 6.0, 5.0, 5.0, 20.0, 20.0, 20.0, 20.0, 20.0];
        assert_eq!(run(&disk(30), &values, 10_000), vec![Raised, Resolved]);
        // Too short a dip raises nothing.
        assert!(run(&disk(30), &[50.0, 8.0, 8.0, 50.0, 8.0, 50.0], 10_000).is_empty());
    }

    #[test]
    fn a_value_flapping_around_the_threshold_stays_one_alert() {
        use AlertEventKind::*;
        // Threshold 10, hysteresis 5: 9.9 ↔ 12 never reaches the 15 % needed to resolve.
        let flapping: Vec<f64> = (0..200)
            .map(|i| if i % 2 == 0 { 9.9 } else { 12.0 })
            .collect();
        let mut values = vec![5.0; 5];
        values.extend(flapping);
        assert_eq!(run(&disk(0), &values, 1_000), vec![Raised]);
        // With no hysteresis, the same values would open and close every second reading.
        let mut plain = disk(0);
        plain.hysteresis = 0.0;
        assert!(run(&plain, &values, 1_000).len() > 100);
    }

    #[test]
    fn the_event_says_what_and_where_and_the_state_is_reported() {
        let mut e = Evaluator::default();
        let (events, states) = e.observe(&[disk(0)], &read(4.24), 5);
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].summary, "Disk /var has 4.2% free");
        assert_eq!(events[0].subject.as_deref(), Some("/var"));
        assert_eq!(events[0].value, Some(4.24));
        assert_eq!(states[0].status, MonitorStatus::Alerting);
        assert_eq!(e.open(), vec![("disk-free".to_owned(), "/var".to_owned())]);
    }

    #[test]
    fn processes_memory_and_load_compare_the_right_way() {
        let process = MonitorSpec {
            severity: None,
            id: "proc".into(),
            kind: MonitorKind::ProcessRunning,
            target: Some("backupd".into()),
            threshold: 0.0,
            min_duration_secs: 0,
            hysteresis: 0.0,
        };
        let mut e = Evaluator::default();
        let running = |r| {
            vec![Reading {
                monitor_id: "proc".into(),
                subject: String::new(),
                measure: Measure::Running(r),
            }]
        };
        let specs = [process];
        assert!(e.observe(&specs, &running(true), 0).0.is_empty());
        let (events, _) = e.observe(&specs, &running(false), 1);
        assert_eq!(events[0].summary, "Process backupd is not running");
        let (events, _) = e.observe(&specs, &running(true), 2);
        assert_eq!(events[0].kind, AlertEventKind::Resolved);

        let memory = MonitorSpec {
            severity: None,
            id: "mem".into(),
            kind: MonitorKind::MemoryUsed,
            target: None,
            threshold: 90.0,
            min_duration_secs: 0,
            hysteresis: 5.0,
        };
        let value = |v| {
            vec![Reading {
                monitor_id: "mem".into(),
                subject: String::new(),
                measure: Measure::Value(v),
            }]
        };
        let specs = [memory];
        assert!(e.observe(&specs, &value(89.0), 0).0.is_empty());
        assert_eq!(e.observe(&specs, &value(95.0), 1).0.len(), 1);
        assert!(e.observe(&specs, &value(87.0), 2).0.is_empty(), "dead band");
        assert_eq!(e.observe(&specs, &value(84.0), 3).0.len(), 1);
    }

    #[test]
    fn unknown_readings_change_nothing_and_removed_monitors_resolve() {
        let mut e = Evaluator::with_open(&[("disk-free".into(), "/var".into())]);
        let unknown = vec![Reading {
            monitor_id: "disk-free".into(),
            subject: "/var".into(),
            measure: Measure::Unknown("statvfs failed".into()),
        }];
        let (events, states) = e.observe(&[disk(0)], &unknown, 0);
        assert!(events.is_empty());
        assert_eq!(states[0].status, MonitorStatus::Unknown);
        assert_eq!(e.open().len(), 1);
        let (events, _) = e.observe(&[], &[], 1);
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].kind, AlertEventKind::Resolved);
        assert!(e.open().is_empty());
    }
}
