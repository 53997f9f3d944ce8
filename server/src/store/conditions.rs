//! A list's filter as SQL: only the conditions in use, numbered parameters and their values.
//! One statement per shape, so the database plans each for what it asks (a catch-all
//! `$1 < 0 OR …` leaves PostgreSQL's cached generic plan reading every row).

use sqlx::any::AnyArguments;
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
}
