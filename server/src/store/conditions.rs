//! A list's filter as SQL: only the conditions in use, numbered parameters and their values.
//! One statement per shape, so the database plans each for what it asks (a catch-all
//! `$1 < 0 OR …` leaves PostgreSQL's cached generic plan reading every row).

use sqlx::AnyPool;
use sqlx::any::{AnyArguments, AnyRow};
use sqlx::query::{Query, QueryAs};

#[derive(Default)]
pub(super) struct Conditions {
    sql: Vec<String>,
    args: Vec<Arg>,
}

pub(super) enum Arg {
    Int(i64),
    Text(String),
}

impl Conditions {
    /// A condition, with its parameters already placed (`param`).
    pub fn push(&mut self, condition: impl Into<String>) {
        self.sql.push(condition.into());
    }

    /// The next parameter's placeholder, `$n`.
    pub fn param(&mut self, arg: Arg) -> String {
        self.args.push(arg);
        format!("${}", self.args.len())
    }

    /// How many parameters so far: the statement's own come after them.
    pub fn params(&self) -> usize {
        self.args.len()
    }

    /// `WHERE …`, or nothing when no condition is in use.
    pub fn where_clause(&self) -> String {
        if self.sql.is_empty() {
            String::new()
        } else {
            format!("WHERE {}", self.sql.join(" AND "))
        }
    }

    pub fn bind<'q>(
        &'q self,
        mut q: Query<'q, sqlx::Any, AnyArguments>,
    ) -> Query<'q, sqlx::Any, AnyArguments> {
        for a in &self.args {
            q = match a {
                Arg::Int(v) => q.bind(*v),
                Arg::Text(v) => q.bind(v.as_str()),
            };
        }
        q
    }

    pub fn bind_as<'q, O>(
        &'q self,
        mut q: QueryAs<'q, sqlx::Any, O, AnyArguments>,
    ) -> QueryAs<'q, sqlx::Any, O, AnyArguments> {
        for a in &self.args {
            q = match a {
                Arg::Int(v) => q.bind(*v),
                Arg::Text(v) => q.bind(v.as_str()),
            };
        }
        q
    }

    /// A newest-first page of `table` (aliased `a`, as the conditions name it) and how many
    /// rows match in all. The count and the page's ids read the table alone; only the page's
    /// rows are joined (`joins`) and given their `columns`.
    pub async fn newest_page(
        &self,
        pool: &AnyPool,
        (table, a): (&str, &str),
        columns: &str,
        joins: &str,
        (limit, offset): (i64, i64),
    ) -> sqlx::Result<(Vec<AnyRow>, i64)> {
        let wheres = self.where_clause();
        let (total,): (i64,) = self
            .bind_as(sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT COUNT(*) FROM {table} {a} {wheres}"
            ))))
            .fetch_one(pool)
            .await?;
        let rows = self
            .bind(sqlx::query(sqlx::AssertSqlSafe(format!(
                "SELECT {columns} FROM (SELECT {a}.id FROM {table} {a} {wheres} \
                 ORDER BY {a}.id DESC LIMIT ${} OFFSET ${}) page JOIN {table} {a} ON {a}.id = page.id \
                 {joins} ORDER BY {a}.id DESC",
                self.params() + 1,
                self.params() + 2
            ))))
            .bind(limit.clamp(1, 500))
            .bind(offset.max(0))
            .fetch_all(pool)
            .await?;
        Ok((rows, total))
    }
}
