//! Local disks for ConnectWise's `localHardDrives`: each fixed volume with its size and free space,
//! read through `sysinfo` on every OS (the same volumes the disk monitors watch). The text is made
//! by a pure function, tested here with recorded volumes of each OS.

use serde::{Deserialize, Serialize};
use sysinfo::{DiskRefreshKind, Disks};

use super::format_gb;
use crate::monitors::sample::watched_volume;

/// The longest text the fact may hold (whole volumes only: the list is cut between entries).
const MAX_TEXT: usize = 1000;

/// One mounted volume as the OS lists it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Volume {
    pub mount: String,
    /// The device behind it: a volume mounted twice (bind mounts, subvolumes) counts once.
    pub device: String,
    pub file_system: String,
    pub total_bytes: u64,
    pub free_bytes: u64,
    pub removable: bool,
}

/// The volumes of this machine, as `sysinfo` lists them.
pub fn volumes() -> Result<Vec<Volume>, String> {
    let disks = Disks::new_with_refreshed_list_specifics(DiskRefreshKind::nothing().with_storage())
        .map_err(|e| format!("cannot list volumes: {e}"))?;
    Ok(disks
        .iter()
        .map(|d| Volume {
            mount: d.mount_point().to_string_lossy().into_owned(),
            device: d.name().to_string_lossy().into_owned(),
            file_system: d.file_system().to_string_lossy().into_owned(),
            total_bytes: d.total_space(),
            free_bytes: d.available_space(),
            removable: d.is_removable(),
        })
        .collect())
}

/// `C: 476.3 GB (201.2 GB free); D: 931.5 GB (900.0 GB free)`: the fixed volumes by mount point,
/// each device once (under its shortest mount point), at most 1,000 characters of whole entries.
pub fn disks_text(volumes: &[Volume]) -> Result<String, String> {
    let mut fixed: Vec<&Volume> = volumes
        .iter()
        .filter(|v| watched_volume(&v.file_system, v.total_bytes, v.removable))
        .collect();
    fixed.sort_by(|a, b| (a.mount.len(), &a.mount).cmp(&(b.mount.len(), &b.mount)));
    let mut seen = std::collections::BTreeSet::new();
    fixed.retain(|v| v.device.is_empty() || seen.insert(v.device.as_str()));
    fixed.sort_by(|a, b| a.mount.cmp(&b.mount));
    let mut text = String::new();
    for v in fixed {
        let mount = match v.mount.strip_suffix('\\') {
            Some(drive) if drive.ends_with(':') => drive,
            _ => v.mount.as_str(),
        };
        let entry = format!(
            "{mount} {} ({} free)",
            format_gb(v.total_bytes),
            format_gb(v.free_bytes.min(v.total_bytes))
        );
        let separator = if text.is_empty() { "" } else { "; " };
        if text.chars().count() + separator.len() + entry.chars().count() > MAX_TEXT {
            break;
        }
        text.push_str(separator);
        text.push_str(&entry);
    }
    if text.is_empty() {
        return Err("no fixed volume is mounted".into());
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    const GB: u64 = 1024 * 1024 * 1024;

    fn volume(mount: &str, device: &str, fs: &str, total: u64, free: u64) -> Volume {
        Volume {
            mount: mount.into(),
            device: device.into(),
            file_system: fs.into(),
            total_bytes: total,
            free_bytes: free,
            removable: false,
        }
    }

    #[test]
    fn windows_drives_read_as_letters_with_size_and_free_space() {
        let mut usb = volume("E:\\", "KINGSTON", "FAT32", 16 * GB, 8 * GB);
        usb.removable = true;
        let text = disks_text(&[
            volume("D:\\", "Data", "NTFS", 931 * GB, 900 * GB),
            volume("C:\\", "", "NTFS", 476 * GB, 201 * GB),
            usb,
        ]);
        assert_eq!(
            text.as_deref(),
            Ok("C: 476.0 GB (201.0 GB free); D: 931.0 GB (900.0 GB free)")
        );
    }

    #[test]
    fn linux_pseudo_file_systems_and_second_mounts_are_left_out() {
        let text = disks_text(&[
            volume("/home", "/dev/nvme0n1p2", "ext4", 400 * GB, 100 * GB),
            volume("/", "/dev/nvme0n1p2", "ext4", 400 * GB, 100 * GB),
            volume("/run", "tmpfs", "tmpfs", 2 * GB, 2 * GB),
            volume(
                "/var/lib/docker/overlay2/x/merged",
                "overlay",
                "overlay",
                GB,
                GB,
            ),
            volume("/boot/efi", "/dev/nvme0n1p1", "vfat", GB / 2, GB / 4),
        ]);
        assert_eq!(
            text.as_deref(),
            Ok("/ 400.0 GB (100.0 GB free); /boot/efi 0.5 GB (0.2 GB free)")
        );
    }

    #[test]
    fn nothing_fixed_is_a_reason_and_a_long_list_is_cut_between_entries() {
        assert!(disks_text(&[volume("/run", "tmpfs", "tmpfs", GB, GB)]).is_err());
        let many: Vec<Volume> = (0..100)
            .map(|i| {
                volume(
                    &format!("/srv/volume-{i:03}"),
                    &format!("/dev/sd{i}"),
                    "xfs",
                    GB,
                    GB,
                )
            })
            .collect();
        let text = disks_text(&many).unwrap();
        assert!(text.chars().count() <= MAX_TEXT);
        assert!(text.ends_with("free)"), "{text}");
    }
}
