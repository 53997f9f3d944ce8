//! The sandbox's in-memory records, kept as the JSON ConnectWise returns.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde::Serialize;
use serde_json::Value;

use crate::conditions::{CmpOp, Expr, Literal, lookup};

/// One kind of record, by id, with optional equality indexes on some fields.
///
/// The real ConnectWise answers `deviceIdentifier = "…"` from a SQL index; a sandbox that scans
/// 100,000 configurations per lookup would measure itself, not the server, in fleet runs. Rows
/// change only through the methods here, so the indexes cannot go stale.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Table {
    rows: BTreeMap<i64, Value>,
    #[serde(skip)]
    next_id: i64,
    /// Indexed field paths (`company/id` is `["company", "id"]`).
    #[serde(skip)]
    indexed: Vec<Vec<String>>,
    /// (position in `indexed`, key of the value) → ids holding it.
    #[serde(skip)]
    index: HashMap<(usize, String), BTreeSet<i64>>,
}

impl Table {
    pub fn from_rows(rows: &[Value]) -> Table {
        Table::indexed_on(&[], rows)
    }

    /// A table that answers equality conditions on `paths` without a scan.
    pub fn indexed_on(paths: &[&str], rows: &[Value]) -> Table {
        let mut t = Table {
            indexed: paths
                .iter()
                .map(|p| p.split('/').map(str::to_owned).collect())
                .collect(),
            ..Table::default()
        };
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
        record["id"] = Value::from(id);
        self.put(id, record);
        id
    }

    /// Stores `record` as record `id`, replacing what was there.
    pub fn put(&mut self, id: i64, record: Value) {
        self.next_id = self.next_id.max(id);
        self.unindex(id);
        self.index_row(id, &record);
        self.rows.insert(id, record);
    }

    /// Changes record `id` in place; false when there is none.
    pub fn update(&mut self, id: i64, change: impl FnOnce(&mut Value)) -> bool {
        let Some(mut record) = self.rows.get(&id).cloned() else {
            return false;
        };
        change(&mut record);
        self.put(id, record);
        true
    }

    /// Changes every record in place.
    pub fn update_each(&mut self, mut change: impl FnMut(&mut Value)) {
        let ids: Vec<i64> = self.rows.keys().copied().collect();
        for id in ids {
            self.update(id, &mut change);
        }
    }

    /// Keeps only the records `keep` accepts.
    pub fn retain(&mut self, mut keep: impl FnMut(&Value) -> bool) {
        let gone: Vec<i64> = self
            .rows
            .iter()
            .filter(|(_, r)| !keep(r))
            .map(|(id, _)| *id)
            .collect();
        for id in gone {
            self.remove(id);
        }
    }

    pub fn remove(&mut self, id: i64) -> Option<Value> {
        self.unindex(id);
        self.rows.remove(&id)
    }

    pub fn get(&self, id: i64) -> Option<&Value> {
        self.rows.get(&id)
    }

    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    pub fn values(&self) -> impl Iterator<Item = &Value> {
        self.rows.values()
    }

    /// The records that can satisfy `conditions`, in id order: through an index when the
    /// conditions require an indexed field to equal a value, else every record. The caller
    /// still applies the whole condition.
    pub fn candidates<'a>(
        &'a self,
        conditions: Option<&Expr>,
    ) -> Box<dyn Iterator<Item = &'a Value> + 'a> {
        match conditions.and_then(|c| self.indexed_ids(c)) {
            Some(ids) => Box::new(ids.iter().filter_map(|id| self.rows.get(id))),
            None => Box::new(self.rows.values()),
        }
    }

    /// The first record whose top-level `key` equals `wanted` without ASCII case, as references
    /// by name are resolved; through the index when `key` has one.
    pub fn find_text(&self, key: &str, wanted: &str) -> Option<&Value> {
        let same = |r: &&Value| {
            r[key]
                .as_str()
                .is_some_and(|v| v.eq_ignore_ascii_case(wanted))
        };
        let path = [key.to_owned()];
        match self.indexed.iter().position(|p| same_path(p, &path)) {
            // Strings equal without ASCII case share a lowercase key.
            Some(at) => self
                .index
                .get(&(at, format!("s:{}", wanted.to_lowercase())))?
                .iter()
                .filter_map(|id| self.rows.get(id))
                .find(same),
            None => self.rows.values().find(same),
        }
    }

    /// The ids an indexed equality in `expr`'s top-level `and` chain allows.
    fn indexed_ids(&self, expr: &Expr) -> Option<&BTreeSet<i64>> {
        static NONE: BTreeSet<i64> = BTreeSet::new();
        match expr {
            Expr::And(a, b) => self.indexed_ids(a).or_else(|| self.indexed_ids(b)),
            Expr::Compare {
                path,
                op: CmpOp::Eq,
                negated: false,
                value,
            } => {
                let at = self.indexed.iter().position(|p| same_path(p, path))?;
                let key = literal_key(value)?;
                Some(self.index.get(&(at, key)).unwrap_or(&NONE))
            }
            _ => None,
        }
    }

    fn index_row(&mut self, id: i64, record: &Value) {
        for (at, path) in self.indexed.iter().enumerate() {
            if let Some(key) = value_key(lookup(record, path)) {
                self.index.entry((at, key)).or_default().insert(id);
            }
        }
    }

    fn unindex(&mut self, id: i64) {
        let Some(old) = self.rows.get(&id) else {
            return;
        };
        for (at, path) in self.indexed.iter().enumerate() {
            if let Some(key) = value_key(lookup(old, path))
                && let Some(ids) = self.index.get_mut(&(at, key.clone()))
            {
                ids.remove(&id);
                if ids.is_empty() {
                    self.index.remove(&(at, key));
                }
            }
        }
    }
}

/// Field names compare without case, as in conditions.
fn same_path(a: &[String], b: &[String]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.eq_ignore_ascii_case(y))
}

/// An index key that equal values share: strings compare without case, numbers by value
/// (`+ 0.0` makes -0 and 0 one key).
fn value_key(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(format!("s:{}", s.to_lowercase())),
        Value::Number(n) => n.as_f64().map(|n| format!("n:{}", n + 0.0)),
        _ => None,
    }
}

fn literal_key(l: &Literal) -> Option<String> {
    match l {
        Literal::Str(s) => Some(format!("s:{}", s.to_lowercase())),
        Literal::Num(n) => Some(format!("n:{}", n + 0.0)),
        _ => None,
    }
}

/// Everything ConnectWise would hold.
#[derive(Clone, Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Data {
    pub companies: Table,
    /// Each company's sites (`Company.Site`), indexed by their company.
    pub sites: Table,
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
    /// Agreements, their additions (indexed by agreement), and the product catalog.
    pub agreements: Table,
    pub additions: Table,
    pub catalog: Table,
    /// (agreement id, configuration id) pairs: the configurations an agreement covers.
    pub agreement_configurations: Vec<(i64, i64)>,
    /// Ticket routing: each board's types, subtypes, items and allowed combinations, and the
    /// priorities and sources.
    pub board_types: Table,
    pub board_subtypes: Table,
    pub board_items: Table,
    pub board_associations: Table,
    pub priorities: Table,
    pub sources: Table,
    /// Inventory: the manufacturer list, the custom fields of configurations, and the values
    /// list questions allow (indexed by question).
    pub manufacturers: Table,
    pub custom_fields: Table,
    pub question_values: Table,
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
    use serde_json::json;

    use super::Table;
    use crate::conditions::parse;

    /// What the index offers, after the whole condition, is what a scan finds: through
    /// inserts, replacements, updates and removals.
    #[test]
    fn indexed_lookups_find_what_a_scan_finds() {
        let mut t = Table::indexed_on(
            &["deviceIdentifier", "company/id"],
            &[
                json!({"deviceIdentifier": "AbC", "company": {"id": 7}}),
                json!({"deviceIdentifier": "abc", "company": {"id": 8}}),
                json!({"deviceIdentifier": "other", "company": {"id": 7}}),
                json!({"name": "no identifier"}),
            ],
        );
        let found = |t: &Table, c: &str| -> Vec<i64> {
            let e = parse(c).unwrap();
            let via_index: Vec<i64> = t
                .candidates(Some(&e))
                .filter(|r| e.matches(r))
                .map(|r| r["id"].as_i64().unwrap())
                .collect();
            let by_scan: Vec<i64> = t
                .values()
                .filter(|r| e.matches(r))
                .map(|r| r["id"].as_i64().unwrap())
                .collect();
            assert_eq!(via_index, by_scan, "{c}");
            via_index
        };
        assert_eq!(found(&t, r#"deviceIdentifier = "ABC""#), [1, 2]);
        assert_eq!(found(&t, "company/id = 7"), [1, 3]);
        assert_eq!(
            found(&t, "Company/ID = 7.0 and deviceIdentifier = 'abc'"),
            [1]
        );
        assert_eq!(
            found(&t, r#"deviceIdentifier = "abc" or company/id = 7"#),
            [1, 2, 3]
        );
        assert_eq!(
            found(&t, r#"deviceIdentifier = "nobody""#),
            Vec::<i64>::new()
        );
        // The index narrows only on equality: others scan.
        assert_eq!(
            t.candidates(Some(&parse("company/id != 7").unwrap()))
                .count(),
            4
        );

        t.put(
            1,
            json!({"id": 1, "deviceIdentifier": "moved", "company": {"id": 9}}),
        );
        assert!(t.update(3, |r| r["company"]["id"] = json!(9)));
        t.remove(2);
        let id = t.insert(json!({"deviceIdentifier": "ABC", "company": {"id": 7}}));
        t.retain(|r| r["name"] != "no identifier");
        assert_eq!(found(&t, r#"deviceIdentifier = "abc""#), [id]);
        assert_eq!(found(&t, "company/id = 9"), [1, 3]);
        assert_eq!(found(&t, "company/id = 7"), [id]);
        assert_eq!(t.len(), 3);
        assert_eq!(t.find_text("deviceIdentifier", "Moved").unwrap()["id"], 1);
        assert!(t.find_text("deviceIdentifier", "gone").is_none());
    }

    #[test]
    fn timestamps_look_like_connectwise_ones() {
        let t = super::now_iso();
        assert_eq!(t.len(), 20, "{t}");
        assert!(t.starts_with("20") && t.ends_with('Z'));
    }
}
