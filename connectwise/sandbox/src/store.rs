//! The sandbox's in-memory records, kept as the JSON ConnectWise returns.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;

/// One kind of record, by id.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Table {
    pub rows: BTreeMap<i64, Value>,
    #[serde(skip)]
    next_id: i64,
}

impl Table {
    pub fn from_rows(rows: &[Value]) -> Table {
        let mut t = Table::default();
        for r in rows {
            t.insert(r.clone());
        }
        t
    }

    /// Stores a record under its own `id`, or the next free one, and returns the id.
    pub fn insert(&mut self, mut record: Value) -> i64 {
        let id = record["id"]
            .as_i64()
            .filter(|id| *id > 0)
            .unwrap_or(self.next_id + 1);
        self.next_id = self.next_id.max(id);
        record["id"] = Value::from(id);
        self.rows.insert(id, record);
        id
    }

    pub fn get(&self, id: i64) -> Option<&Value> {
        self.rows.get(&id)
    }

    pub fn values(&self) -> impl Iterator<Item = &Value> {
        self.rows.values()
    }
}

/// Everything ConnectWise would hold.
#[derive(Clone, Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Data {
    pub companies: Table,
    pub contacts: Table,
    pub configurations: Table,
    pub configuration_types: Table,
    pub type_questions: Table,
    pub configuration_statuses: Table,
    pub boards: Table,
    pub board_statuses: Table,
    pub tickets: Table,
    pub notes: Table,
    pub callbacks: Table,
    pub time_entries: Table,
    /// (ticket id, configuration id) pairs.
    pub ticket_configurations: Vec<(i64, i64)>,
}

/// The current UTC time as ConnectWise writes it: `2026-11-21T20:31:05Z`.
pub fn now_iso() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn timestamps_look_like_connectwise_ones() {
        let t = super::now_iso();
        assert_eq!(t.len(), 20, "{t}");
        assert!(t.starts_with("20") && t.ends_with('Z'));
    }
}
