//! The device list as people page through it: filtered (a search over the facts people look
//! devices up by, the policy, the binding state) and paged by the database, so a page costs the
//! same whether the fleet is a hundred devices or a hundred thousand.

use sqlx::Row;

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

impl Store {
    /// One page of the active devices that match, in enrollment order, and how many match in all.
    pub async fn device_page(&self, f: &DeviceFilter) -> Result<(Vec<DeviceListRow>, i64)> {
        let from = format!(
            "FROM devices d LEFT JOIN policies p ON p.id = d.policy_id \
             LEFT JOIN bindings b ON b.device_id = d.id \
             WHERE ($4 = 1 OR d.retired_ms IS NULL) AND ($1 < 0 OR d.policy_id = $1) \
             AND ($2 = '' OR d.search_text LIKE $2 ESCAPE '\\' OR d.agent_id LIKE $2 ESCAPE '\\') \
             AND ($3 = '' OR {SHOWN_STATE} = $3)"
        );
        let pattern = if f.q.trim().is_empty() {
            String::new()
        } else {
            contains_pattern(&f.q)
        };
        let policy = f.policy.map_or(-1, i64::from);
        let state = f.state.clone().unwrap_or_default();
        let (total,): (i64,) =
            sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT COUNT(*) {from}")))
                .bind(policy)
                .bind(&pattern)
                .bind(&state)
                .bind(i64::from(f.retired_too))
                .fetch_one(&self.pool)
                .await?;
        let columns: Vec<String> = COLUMNS.split(", ").map(|c| format!("d.{c}")).collect();
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {}, {SHOWN_STATE} AS shown_state, b.error AS binding_error {from} \
             ORDER BY d.id LIMIT $5 OFFSET $6",
            columns.join(", ")
        )))
        .bind(policy)
        .bind(&pattern)
        .bind(&state)
        .bind(i64::from(f.retired_too))
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
