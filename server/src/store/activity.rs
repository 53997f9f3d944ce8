//! The activity log: every ConnectWise write the job runner made, when, on what, and whether
//! ConnectWise took it (with its words when not). Kept for the retention setting (retention.rs).

use super::conditions::{Arg, Conditions};
use super::{Result, Store, now_ms};

/// The activity log is counted up to this many matches: a count of millions would cost as much
/// as the log is long, and nobody pages that far (they filter).
pub const COUNTED_AT_MOST: i64 = 100_000;

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Activity {
    pub id: i64,
    pub at_ms: i64,
    /// `configuration.create`, `configuration.update`, `configuration.adopt`,
    /// `configuration.deactivate`,
    /// `ticket.create`, `ticket.attach`, `ticket.note`, `ticket.close`.
    pub action: String,
    /// What it was about, for people: a device's name and agent id, a ticket's summary.
    pub subject: String,
    /// The ConnectWise record's id, when known.
    pub cw_id: Option<i64>,
    pub ok: bool,
    /// ConnectWise's error, when it refused; for an adoption, each field before and after.
    pub detail: Option<String>,
}

impl Store {
    /// Records one write. A failure to record is logged, never fails the write itself.
    pub async fn record_activity(
        &self,
        action: &str,
        subject: &str,
        cw_id: Option<i64>,
        outcome: std::result::Result<(), &str>,
    ) {
        self.record_activity_detail(action, subject, cw_id, outcome.is_ok(), outcome.err())
            .await;
    }

    /// Records one write with its detail: ConnectWise's refusal, or (for an adoption) what
    /// changed.
    pub async fn record_activity_detail(
        &self,
        action: &str,
        subject: &str,
        cw_id: Option<i64>,
        ok: bool,
        detail: Option<&str>,
    ) {
        let subject: String = subject.chars().take(200).collect();
        let detail = detail.map(|d| d.chars().take(2000).collect::<String>());
        let done = sqlx::query(
            "INSERT INTO activity (at_ms, action, subject, cw_id, ok, detail) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(now_ms())
        .bind(action)
        .bind(&subject)
        .bind(cw_id)
        .bind(i64::from(ok))
        .bind(&detail)
        .execute(&self.pool)
        .await;
        if let Err(e) = done {
            tracing::warn!(error = %e, action, "cannot record activity");
        }
    }

    /// A page of the log, newest first, and how many entries match, counted up to
    /// `COUNTED_AT_MOST + 1` (past that, "more than"). `action` filters by prefix (`ticket.`),
    /// `failed_only` keeps refusals. Only the filters in use are asked for, each served by its
    /// own index (migration 15), so a page and its count cost the same at any size of the log.
    pub async fn activity(
        &self,
        action: &str,
        failed_only: bool,
        limit: i64,
        offset: i64,
    ) -> Result<(Vec<Activity>, i64)> {
        // The count reads the action's range from its index (compared byte by byte, as the
        // index is built, whatever PostgreSQL's collation). The page reads newest first from the
        // primary key and skips other actions: it spells the column so that no index on it
        // qualifies, else the database sorts every match to find the newest 50.
        let (counted, paged) = match self.backend {
            super::Backend::Sqlite => ("action", "+action"),
            super::Backend::Postgres => ("action COLLATE \"C\"", "(action || '') COLLATE \"C\""),
        };
        let filter = |column: &str| {
            let mut c = Conditions::default();
            if let Some((from, to)) = prefix_range(action) {
                let n = c.param(Arg::Text(from));
                c.push(format!("{column} >= {n}"));
                if let Some(to) = to {
                    let n = c.param(Arg::Text(to));
                    c.push(format!("{column} < {n}"));
                }
            }
            if failed_only {
                c.push("ok = 0");
            }
            c
        };
        let (c, p) = (filter(counted), filter(paged));
        let count = format!(
            "SELECT COUNT(*) FROM (SELECT 1 FROM activity {} LIMIT {}) counted",
            c.where_clause(),
            COUNTED_AT_MOST + 1
        );
        let (total,) = c
            .bind_as(sqlx::query_as::<_, (i64,)>(sqlx::AssertSqlSafe(count)))
            .fetch_one(&self.pool)
            .await?;
        type Row = (i64, i64, String, String, Option<i64>, i64, Option<String>);
        let page = format!(
            "SELECT id, at_ms, action, subject, cw_id, ok, detail FROM activity {} \
             ORDER BY id DESC LIMIT ${} OFFSET ${}",
            p.where_clause(),
            p.params() + 1,
            p.params() + 2
        );
        let rows = p
            .bind_as(sqlx::query_as::<_, Row>(sqlx::AssertSqlSafe(page)))
            .bind(limit.clamp(1, 500))
            .bind(offset.max(0))
            .fetch_all(&self.pool)
            .await?;
        Ok((
            rows.into_iter()
                .map(|(id, at_ms, action, subject, cw_id, ok, detail)| Activity {
                    id,
                    at_ms,
                    action,
                    subject,
                    cw_id,
                    ok: ok != 0,
                    detail,
                })
                .collect(),
            total,
        ))
    }
}

/// The actions that start with `prefix`, as a range an index serves: from the prefix up to (not
/// including) its successor, the shortest string above every string it starts (the last
/// character that has a successor, raised by one). `None`: no filter (an empty prefix).
fn prefix_range(prefix: &str) -> Option<(String, Option<String>)> {
    if prefix.is_empty() {
        return None;
    }
    let mut to = prefix.to_owned();
    while let Some(last) = to.pop() {
        let next = (u32::from(last) + 1..=u32::from(char::MAX)).find_map(char::from_u32);
        if let Some(next) = next {
            to.push(next);
            return Some((prefix.to_owned(), Some(to)));
        }
    }
    // Only the last character of all: nothing sorts above it.
    Some((prefix.to_owned(), None))
}

#[cfg(test)]
mod tests {
    use super::prefix_range;

    #[test]
    fn a_prefix_is_a_range_of_actions() {
        let (from, to) = prefix_range("ticket.").unwrap();
        let to = to.unwrap();
        assert_eq!((from.as_str(), to.as_str()), ("ticket.", "ticket/"));
        for action in ["ticket.", "ticket.close", "ticket.note"] {
            assert!(from.as_str() <= action && action < to.as_str(), "{action}");
        }
        for action in ["ticket", "ticket/", "tickets.close", "configuration.create"] {
            assert!(
                !(from.as_str() <= action && action < to.as_str()),
                "{action}"
            );
        }
        assert_eq!(prefix_range(""), None);
        // Past the surrogates' gap, and the last character of all has no successor.
        assert_eq!(prefix_range("a\u{d7ff}").unwrap().1.unwrap(), "a\u{e000}");
        assert_eq!(prefix_range("a\u{10ffff}").unwrap().1.unwrap(), "b");
        assert_eq!(prefix_range("\u{10ffff}").unwrap().1, None);
    }
}
