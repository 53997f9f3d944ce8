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

/// A filter's conditions, only those in use, and their parameters: one statement per shape, so
/// the database plans each for what it asks (a catch-all `$1 < 0 OR …` leaves PostgreSQL's
/// cached generic plan scanning every device).
struct Conditions {
    sql: Vec<String>,
    args: Vec<Arg>,
    /// The state filter reads the policy and binding.
    joins: bool,
}

enum Arg {
    Int(i64),
    Text(String),
}

impl Conditions {
    fn of(f: &DeviceFilter) -> Conditions {
        let mut c = Conditions {
            sql: Vec::new(),
            args: Vec::new(),
            joins: false,
        };
        if !f.retired_too {
            c.sql.push("d.retired_ms IS NULL".into());
        }
        if let Some(p) = f.policy {
            let n = c.param(Arg::Int(p.into()));
            c.sql.push(format!("d.policy_id = {n}"));
        }
        if !f.q.trim().is_empty() {
            let n = c.param(Arg::Text(contains_pattern(&f.q)));
            c.sql.push(format!(
                "(d.search_text LIKE {n} ESCAPE '\\' OR d.agent_id LIKE {n} ESCAPE '\\')"
            ));
        }
        if let Some(state) = f.state.as_deref().filter(|s| !s.is_empty()) {
            c.joins = true;
            // The shown state (`SHOWN_STATE`), spelled so that the index on bindings(state)
            // serves every state but the two a missing binding shows.
            let shown = match state {
                "none" => "(b.state IS NULL AND p.cw_company_id IS NULL)".to_owned(),
                "pending" => format!(
                    "(b.state = {} OR (b.state IS NULL AND p.cw_company_id IS NOT NULL))",
                    c.param(Arg::Text(state.to_owned()))
                ),
                _ => format!("b.state = {}", c.param(Arg::Text(state.to_owned()))),
            };
            c.sql.push(shown);
        }
        c
    }

    /// The next parameter's placeholder, `$n`.
    fn param(&mut self, arg: Arg) -> String {
        self.args.push(arg);
        format!("${}", self.args.len())
    }

    fn text(&self) -> String {
        if self.sql.is_empty() {
            "TRUE".into()
        } else {
            self.sql.join(" AND ")
        }
    }

    fn bind<'q>(
        &'q self,
        mut q: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments>,
    ) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments> {
        for a in &self.args {
            q = match a {
                Arg::Int(v) => q.bind(*v),
                Arg::Text(v) => q.bind(v.as_str()),
            };
        }
        q
    }
}

const JOINS: &str =
    "LEFT JOIN policies p ON p.id = d.policy_id LEFT JOIN bindings b ON b.device_id = d.id";

impl Store {
    /// One page of the active devices that match, in enrollment order, and how many match in all.
    pub async fn device_page(&self, f: &DeviceFilter) -> Result<(Vec<DeviceListRow>, i64)> {
        let c = Conditions::of(f);
        let wheres = c.text();
        // The count reads the joined tables only when the state filter needs them.
        let count_from = if c.joins { JOINS } else { "" };
        let count_sql = format!("SELECT COUNT(*) FROM devices d {count_from} WHERE {wheres}");
        let total: i64 = c
            .bind(sqlx::query(sqlx::AssertSqlSafe(count_sql)))
            .fetch_one(&self.pool)
            .await?
            .try_get(0)?;
        let columns: Vec<String> = COLUMNS.split(", ").map(|c| format!("d.{c}")).collect();
        let n = c.args.len();
        let page_sql = format!(
            "SELECT {}, {SHOWN_STATE} AS shown_state, b.error AS binding_error \
             FROM devices d {JOINS} WHERE {wheres} ORDER BY d.id LIMIT ${} OFFSET ${}",
            columns.join(", "),
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
