//! The alert spool: alert events wait here, on disk, until the server has acknowledged them, so
//! that none is lost while the server is unreachable or the agent restarts. Events are numbered
//! here (from 1, never reused), delivered in order, and the server drops replays by number.
//!
//! The spool is bounded: past [`MAX_EVENTS`] the oldest event is dropped, counted, and the count
//! reported in the next check-in. It is one small file, rewritten whole (temporary file, sync,
//! rename) at each change, so a crash leaves either the old or the new spool.

use std::collections::VecDeque;
use std::path::{Path, PathBuf};

use bindery_shared::protocol::{AlertEvent, MAX_ALERTS_PER_BATCH};
use serde::{Deserialize, Serialize};

/// Most events kept waiting. Each is at most a few hundred bytes, so the file stays well under
/// a megabyte.
pub const MAX_EVENTS: usize = 1000;

#[derive(Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct SpoolFile {
    /// The number the next event gets.
    next_seq: u64,
    /// Events dropped from a full spool and not yet reported to the server.
    dropped: u64,
    events: VecDeque<AlertEvent>,
    /// The alerts open when last written (monitor, subject), so that an agent restarted while
    /// alerting still resolves them.
    #[serde(default)]
    open: Vec<(String, String)>,
}

pub struct Spool {
    path: PathBuf,
    file: SpoolFile,
}

impl Spool {
    /// Opens the spool in `dir`. A damaged file is set aside (`alerts.spool.damaged`) and
    /// numbering carries on from the clock, which is past any number used before, so the server
    /// does not take new events for replays.
    pub fn open(dir: &Path, now_ms: u64) -> Result<Spool, String> {
        let path = dir.join("alerts.spool");
        let file = match std::fs::read(&path) {
            Ok(bytes) => match serde_json::from_slice::<SpoolFile>(&bytes) {
                Ok(f) => f,
                Err(e) => {
                    crate::log::warning(&format!(
                        "{} is damaged ({e}); starting a new spool",
                        path.display()
                    ));
                    let _ = std::fs::rename(&path, dir.join("alerts.spool.damaged"));
                    SpoolFile {
                        next_seq: now_ms.max(1),
                        ..SpoolFile::default()
                    }
                }
            },
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => SpoolFile {
                next_seq: 1,
                ..SpoolFile::default()
            },
            Err(e) => return Err(format!("cannot read {}: {e}", path.display())),
        };
        Ok(Spool { path, file })
    }

    /// Numbers and stores events (in order), dropping the oldest past the bound, and records
    /// which alerts are open.
    pub fn push(
        &mut self,
        events: Vec<AlertEvent>,
        open: Vec<(String, String)>,
    ) -> Result<(), String> {
        for mut e in events {
            e.seq = self.file.next_seq.max(1);
            self.file.next_seq = e.seq + 1;
            if self.file.events.len() >= MAX_EVENTS {
                self.file.events.pop_front();
                self.file.dropped += 1;
            }
            self.file.events.push_back(e);
        }
        self.file.open = open;
        self.save()
    }

    /// The oldest events waiting, at most one batch.
    pub fn batch(&self) -> Vec<AlertEvent> {
        self.file
            .events
            .iter()
            .take(MAX_ALERTS_PER_BATCH)
            .cloned()
            .collect()
    }

    pub fn len(&self) -> usize {
        self.file.events.len()
    }

    /// Forgets every event up to `through`, which the server has stored.
    pub fn ack(&mut self, through: u64) -> Result<(), String> {
        let before = self.file.events.len();
        self.file.events.retain(|e| e.seq > through);
        if self.file.events.len() != before {
            self.save()?;
        }
        Ok(())
    }

    /// Forgets events the server refused for good, counting them as dropped.
    pub fn discard_through(&mut self, through: u64) -> Result<(), String> {
        let before = self.file.events.len();
        self.file.events.retain(|e| e.seq > through);
        self.file.dropped += (before - self.file.events.len()) as u64;
        self.save()
    }

    /// Events dropped and not yet reported.
    pub fn dropped(&self) -> u64 {
        self.file.dropped
    }

    /// The server was told about `n` dropped events.
    pub fn reported_dropped(&mut self, n: u64) -> Result<(), String> {
        if n == 0 {
            return Ok(());
        }
        self.file.dropped = self.file.dropped.saturating_sub(n);
        self.save()
    }

    /// The alerts open when the agent last ran.
    pub fn open_alerts(&self) -> &[(String, String)] {
        &self.file.open
    }

    fn save(&self) -> Result<(), String> {
        let json = serde_json::to_vec(&self.file).map_err(|e| e.to_string())?;
        crate::state::write_file_atomic(&self.path, &json, 0o600)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bindery_shared::protocol::AlertEventKind;

    fn event(n: u64) -> AlertEvent {
        AlertEvent {
            seq: 0,
            monitor_id: "disk-free".into(),
            subject: None,
            kind: if n.is_multiple_of(2) {
                AlertEventKind::Raised
            } else {
                AlertEventKind::Resolved
            },
            at_ms: n,
            summary: format!("event {n}"),
            detail: None,
            value: None,
        }
    }

    #[test]
    fn events_are_numbered_kept_across_restarts_and_forgotten_once_acknowledged() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = Spool::open(dir.path(), 0).unwrap();
        s.push(
            (0..3).map(event).collect(),
            vec![("disk-free".into(), "/".into())],
        )
        .unwrap();
        drop(s);
        let mut s = Spool::open(dir.path(), 0).unwrap();
        let batch = s.batch();
        assert_eq!(
            batch.iter().map(|e| e.seq).collect::<Vec<_>>(),
            vec![1, 2, 3]
        );
        assert_eq!(s.open_alerts(), &[("disk-free".to_owned(), "/".to_owned())]);
        s.ack(2).unwrap();
        assert_eq!(s.len(), 1);
        s.push(vec![event(9)], vec![]).unwrap();
        drop(s);
        let s = Spool::open(dir.path(), 0).unwrap();
        assert_eq!(
            s.batch().iter().map(|e| e.seq).collect::<Vec<_>>(),
            vec![3, 4]
        );
    }

    #[test]
    fn a_full_spool_drops_the_oldest_and_counts_them() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = Spool::open(dir.path(), 0).unwrap();
        s.push((0..MAX_EVENTS as u64 + 25).map(event).collect(), vec![])
            .unwrap();
        assert_eq!(s.len(), MAX_EVENTS);
        assert_eq!(s.dropped(), 25);
        assert_eq!(s.batch()[0].seq, 26);
        assert_eq!(s.batch().len(), MAX_ALERTS_PER_BATCH);
        s.reported_dropped(25).unwrap();
        assert_eq!(s.dropped(), 0);
        let size = std::fs::metadata(dir.path().join("alerts.spool"))
            .unwrap()
            .len();
        assert!(size < 1024 * 1024, "{size} bytes");
    }

    #[test]
    fn a_damaged_spool_is_set_aside_and_numbering_moves_past_any_earlier_number() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("alerts.spool"), b"{not json").unwrap();
        let mut s = Spool::open(dir.path(), 1_795_310_405_000).unwrap();
        assert!(dir.path().join("alerts.spool.damaged").exists());
        s.push(vec![event(1)], vec![]).unwrap();
        assert_eq!(s.batch()[0].seq, 1_795_310_405_000);
    }
}
