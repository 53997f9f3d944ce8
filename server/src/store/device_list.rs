//! The device list as people page through it: filtered (a search over the facts people look
//! devices up by, the policy, the binding state) and paged by the database, so a page costs the
//! same whether the fleet is a hundred devices or a hundred thousand.

use sqlx::Row;

use super::conditions::{Arg, Conditions};
use super::devices::{COLUMNS, from_row, search_text};
use super::{Device, Result, Store};
use crate::ids::{DeviceId, PolicyId};

/// Which devices, and which page of them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DeviceFilter {
    /// Looked for, without case, in the name, serial, MAC, IP, user, OS and agent id.
    pub q: String,
    pub policy: Option<PolicyId>,
    /// A binding state as lists show it (`pending`, `bound`, …, `none`); `None`: any.
    pub state: Option<String>,
    /// Retired devices too (the admin API lists them, marked; the console does not).
    pub retired_too: bool,
    pub limit: i64,
    pub offset: i64,
    /// Only devices after this one (keyset paging: walking a whole fleet, each page costs what
    /// the first does, where a deep offset reads and throws away every row before it).
    pub after: Option<DeviceId>,
}

/// A device in the list, with its binding state as shown (a device of a linked policy with no
/// binding yet is `pending`; one in no linked policy, `none`) and the binding's error.
#[derive(Clone, Debug, PartialEq)]
pub struct DeviceListRow {
    pub device: Device,
    pub state: String,
    pub error: Option<String>,
}

const SHOWN_STATE: &str =
    "COALESCE(b.state, CASE WHEN p.cw_company_id IS NOT NULL THEN 'pending' ELSE 'none' END)";

/// `%text%` for LIKE, its own `%`, `_` and `\` taken literally.
fn contains_pattern(text: &str) -> String {
    let mut out = String::from("%");
    for c in text.trim().to_lowercase().chars().take(100) {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('%');
    out
}

/// The filter's conditions, every one on the device row itself (so neither the count nor the
/// page's ids join another table).
fn conditions(f: &DeviceFilter) -> Conditions {
    let mut c = Conditions::default();
    if !f.retired_too {
        c.push("d.retired_ms IS NULL");
    }
    if let Some(p) = f.policy {
        let n = c.param(Arg::Int(p.into()));
        c.push(format!("d.policy_id = {n}"));
    }
    if !f.q.trim().is_empty() {
        let n = c.param(Arg::Text(contains_pattern(&f.q)));
        c.push(format!(
            "(d.search_text LIKE {n} ESCAPE '\\' OR d.agent_id LIKE {n} ESCAPE '\\')"
        ));
    }
    if let Some(state) = f.state.as_deref().filter(|s| !s.is_empty()) {
        // The shown state (`SHOWN_STATE`) from the device's copy of its binding's state
        // (migration 15), which an index serves; a device without a binding shows `pending` in
        // a linked policy and `none` elsewhere.
        const LINKED: &str = "SELECT id FROM policies WHERE cw_company_id IS NOT NULL";
        let shown = match state {
            "none" => format!(
                "(d.binding_state IS NULL AND (d.policy_id IS NULL OR d.policy_id NOT IN ({LINKED})))"
            ),
            "pending" => format!(
                "(d.binding_state = {} OR (d.binding_state IS NULL AND d.policy_id IN ({LINKED})))",
                c.param(Arg::Text(state.to_owned()))
            ),
            _ => format!("d.binding_state = {}", c.param(Arg::Text(state.to_owned()))),
        };
        c.push(shown);
    }
    c
}

const JOINS: &str =
    "LEFT JOIN policies p ON p.id = d.policy_id LEFT JOIN bindings b ON b.device_id = d.id";

impl Store {
    /// One page of the active devices that match, in enrollment order, and how many match in all.
    pub async fn device_page(&self, f: &DeviceFilter) -> Result<(Vec<DeviceListRow>, i64)> {
        let mut c = conditions(f);
        let count_sql = format!("SELECT COUNT(*) FROM devices d {}", c.where_clause());
        let total: i64 = c
            .bind(sqlx::query(sqlx::AssertSqlSafe(count_sql)))
            .fetch_one(&self.pool)
            .await?
            .try_get(0)?;
        if let Some(after) = f.after {
            let n = c.param(Arg::Int(after.into()));
            c.push(format!("d.id > {n}"));
        }
        let columns: Vec<String> = COLUMNS.split(", ").map(|c| format!("d.{c}")).collect();
        let n = c.params();
        // The page's ids first, from the indexes alone; only those rows are then read whole and
        // joined, so an offset skips index entries rather than joined rows.
        let page_sql = format!(
            "SELECT {}, {SHOWN_STATE} AS shown_state, b.error AS binding_error \
             FROM (SELECT d.id FROM devices d {} ORDER BY d.id LIMIT ${} OFFSET ${}) page \
             JOIN devices d ON d.id = page.id {JOINS} ORDER BY d.id",
            columns.join(", "),
            c.where_clause(),
            n + 1,
            n + 2
        );
        let rows = c
            .bind(sqlx::query(sqlx::AssertSqlSafe(page_sql)))
            .bind(f.limit.clamp(1, 1000))
            .bind(f.offset.max(0))
            .fetch_all(&self.pool)
            .await?;
        let page = rows
            .iter()
            .map(|r| {
                Ok(DeviceListRow {
                    device: from_row(r)?,
                    state: r.try_get("shown_state")?,
                    error: r.try_get("binding_error")?,
                })
            })
            .collect::<std::result::Result<_, sqlx::Error>>()?;
        Ok((page, total))
    }

    /// Fills the search text of devices stored before it existed, a batch at a time.
    pub(super) async fn fill_search_text(&self) -> Result<()> {
        loop {
            let rows: Vec<(DeviceId, String)> = sqlx::query_as(
                "SELECT id, facts_json FROM devices WHERE search_text IS NULL ORDER BY id LIMIT 500",
            )
            .fetch_all(&self.pool)
            .await?;
            if rows.is_empty() {
                return Ok(());
            }
            let mut tx = self.begin_write().await?;
            for (id, facts) in rows {
                sqlx::query("UPDATE devices SET search_text = $1 WHERE id = $2")
                    .bind(search_text(&facts))
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_search_is_taken_literally() {
        assert_eq!(contains_pattern(" PC-1 "), "%pc-1%");
        assert_eq!(contains_pattern("100%_a\\b"), "%100\\%\\_a\\\\b%");
    }
}
