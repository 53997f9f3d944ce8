//! Reading what monitors watch, through `sysinfo` on every OS (memory, load, volumes, processes)
//! and the service manager for services (`services`). Only what the current monitors need is
//! refreshed: an agent with no process monitor never lists processes.

use bindery_shared::protocol::{MonitorKind, MonitorSpec};
use sysinfo::{DiskRefreshKind, Disks, ProcessRefreshKind, ProcessesToUpdate, System};

use super::evaluate::{Measure, Reading};
use super::services;

pub struct Sampler {
    system: Option<System>,
    disks: Option<Disks>,
}

/// File systems that are not storage a person fills: skipped by disk monitors.
const PSEUDO_FS: &[&str] = &[
    "tmpfs", "devtmpfs", "overlay", "squashfs", "proc", "sysfs", "devfs", "autofs", "ramfs",
    "nsfs", "efivarfs", "iso9660", "udf",
];

/// True for a volume a disk monitor watches: real storage, not removable, not read-only media.
pub fn watched_volume(file_system: &str, total_bytes: u64, removable: bool) -> bool {
    total_bytes > 0 && !removable && !PSEUDO_FS.contains(&file_system.to_ascii_lowercase().as_str())
}

/// Free space in percent.
pub fn free_percent(available: u64, total: u64) -> f64 {
    if total == 0 {
        return 0.0;
    }
    available as f64 * 100.0 / total as f64
}

/// True when a process listed as `listed` is the one a monitor names. Linux keeps 15 bytes of a
/// process name; Windows lists `name.exe`.
pub fn same_process(listed: &str, wanted: &str) -> bool {
    let listed = listed.strip_suffix(".exe").unwrap_or(listed);
    let wanted = wanted.strip_suffix(".exe").unwrap_or(wanted);
    if listed.eq_ignore_ascii_case(wanted) {
        return true;
    }
    cfg!(target_os = "linux")
        && wanted.len() > 15
        && listed.len() == 15
        && wanted.is_char_boundary(15)
        && listed == &wanted[..15]
}

impl Sampler {
    pub fn new() -> Sampler {
        Sampler {
            system: None,
            disks: None,
        }
    }

    fn system(&mut self) -> Option<&mut System> {
        if self.system.is_none() {
            self.system = System::new().ok();
        }
        self.system.as_mut()
    }

    /// One reading per monitor (per volume for disk monitors).
    pub fn sample(&mut self, specs: &[MonitorSpec]) -> Vec<Reading> {
        let mut out = Vec::new();
        let wants = |k: MonitorKind| specs.iter().any(|s| s.kind == k);
        if wants(MonitorKind::ProcessRunning)
            && let Some(sys) = self.system()
        {
            sys.refresh_processes_specifics(
                ProcessesToUpdate::All,
                true,
                ProcessRefreshKind::nothing(),
            );
        }
        if wants(MonitorKind::MemoryUsed)
            && let Some(sys) = self.system()
        {
            sys.refresh_memory();
        }
        if wants(MonitorKind::CpuLoad)
            && cfg!(windows)
            && let Some(sys) = self.system()
        {
            sys.refresh_cpu_usage();
        }
        if wants(MonitorKind::DiskFree) {
            match self.disks.as_mut() {
                // The list is read again each time: volumes come and go.
                Some(d) => d.refresh_specifics(true, DiskRefreshKind::nothing().with_storage()),
                None => {
                    self.disks = Disks::new_with_refreshed_list_specifics(
                        DiskRefreshKind::nothing().with_storage(),
                    )
                    .ok();
                }
            }
        }
        for spec in specs {
            let one = |measure| Reading {
                monitor_id: spec.id.clone(),
                subject: String::new(),
                measure,
            };
            match spec.kind {
                MonitorKind::DiskFree => out.extend(self.disk_readings(spec)),
                MonitorKind::MemoryUsed => out.push(one(self.memory())),
                MonitorKind::CpuLoad => out.push(one(self.load())),
                MonitorKind::ProcessRunning => {
                    let wanted = spec.target.as_deref().unwrap_or("");
                    let measure = match &self.system {
                        Some(sys) => Measure::Running(
                            sys.processes()
                                .values()
                                .any(|p| same_process(&p.name().to_string_lossy(), wanted)),
                        ),
                        None => Measure::Unknown("cannot list processes".into()),
                    };
                    out.push(one(measure));
                }
                MonitorKind::ServiceRunning => {
                    let name = spec.target.as_deref().unwrap_or("");
                    out.push(one(match services::running(name) {
                        Ok(r) => Measure::Running(r),
                        Err(why) => Measure::Unknown(why),
                    }));
                }
                MonitorKind::Unsupported => {}
            }
        }
        out
    }

    fn disk_readings(&self, spec: &MonitorSpec) -> Vec<Reading> {
        let Some(disks) = &self.disks else {
            return vec![Reading {
                monitor_id: spec.id.clone(),
                subject: String::new(),
                measure: Measure::Unknown("cannot list volumes".into()),
            }];
        };
        let mut seen = std::collections::BTreeSet::new();
        disks
            .iter()
            .filter(|d| {
                watched_volume(
                    &d.file_system().to_string_lossy(),
                    d.total_space(),
                    d.is_removable(),
                )
            })
            .filter_map(|d| {
                let mount = d.mount_point().to_string_lossy().into_owned();
                let wanted = spec.target.as_deref().is_none_or(|t| t == mount);
                // One reading per mount point (bind mounts list a volume twice).
                (wanted && seen.insert(mount.clone())).then(|| Reading {
                    monitor_id: spec.id.clone(),
                    subject: mount.chars().take(100).collect(),
                    measure: Measure::Value(free_percent(d.available_space(), d.total_space())),
                })
            })
            .collect()
    }

    fn memory(&self) -> Measure {
        match &self.system {
            Some(sys) if sys.total_memory() > 0 => {
                Measure::Value(100.0 - free_percent(sys.available_memory(), sys.total_memory()))
            }
            _ => Measure::Unknown("cannot read memory use".into()),
        }
    }

    /// Load per core: the 1-minute load average over the logical CPUs. Windows has no load
    /// average; there the share of CPU time in use stands in (1.0 = every core busy).
    fn load(&self) -> Measure {
        if cfg!(windows) {
            return match &self.system {
                Some(sys) => Measure::Value(f64::from(sys.global_cpu_usage()) / 100.0),
                None => Measure::Unknown("cannot read CPU use".into()),
            };
        }
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        match System::load_average() {
            Ok(l) => Measure::Value(l.one / cores as f64),
            Err(e) => Measure::Unknown(format!("cannot read the load average: {e}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_real_fixed_volumes_are_watched() {
        assert!(watched_volume("ext4", 1 << 30, false));
        assert!(watched_volume("APFS", 1 << 30, false));
        assert!(watched_volume("NTFS", 1 << 30, false));
        assert!(!watched_volume("tmpfs", 1 << 30, false));
        assert!(!watched_volume("overlay", 1 << 30, false));
        assert!(!watched_volume("vfat", 1 << 30, true));
        assert!(!watched_volume("ext4", 0, false));
        assert_eq!(free_percent(25, 100), 25.0);
        assert_eq!(free_percent(1, 0), 0.0);
    }

    #[test]
    fn process_names_match_as_each_os_lists_them() {
        assert!(same_process("sshd", "sshd"));
        assert!(same_process("Backup.exe", "backup"));
        assert!(same_process("backup", "backup.exe"));
        assert!(!same_process("sshd-session", "sshd"));
        if cfg!(target_os = "linux") {
            assert!(same_process("bindery-test-sl", "bindery-test-sleeper"));
        }
    }

    #[test]
    fn this_machine_can_be_sampled() {
        let specs = vec![
            MonitorSpec {
                severity: None,
                id: "mem".into(),
                kind: MonitorKind::MemoryUsed,
                target: None,
                threshold: 90.0,
                min_duration_secs: 0,
                hysteresis: 5.0,
            },
            MonitorSpec {
                severity: None,
                id: "me".into(),
                kind: MonitorKind::ProcessRunning,
                target: Some("no-such-process-xyz".into()),
                threshold: 0.0,
                min_duration_secs: 0,
                hysteresis: 0.0,
            },
        ];
        let readings = Sampler::new().sample(&specs);
        assert_eq!(readings.len(), 2);
        assert!(matches!(readings[0].measure, Measure::Value(v) if (0.0..=100.0).contains(&v)));
        assert_eq!(readings[1].measure, Measure::Running(false));
    }
}
