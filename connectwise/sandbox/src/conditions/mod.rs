//! The `conditions` language: parsed strictly (a malformed condition is a 400, as on the real
//! API) and evaluated against stored records.
//!
//! Grammar: `expr := term (or term)*`, `term := factor (and factor)*`,
//! `factor := '(' expr ')' | path [not] op value | path [not] in '(' value, … ')'`,
//! `op := = != < <= > >= contains like`. Values: "double" or 'single' quoted strings (no escape
//! sequences: a quote ends the string), integers and decimals, `True`/`False`, `null`,
//! `[2016-08-20T18:04:26Z]`. Keywords and field names are case-insensitive; string comparison is
//! case-insensitive too, as ConnectWise's SQL Server collation is. `like` takes `*` or `%` as
//! wildcards.

mod parse;

use serde_json::Value;

pub use parse::{MAX_LEN, parse};

#[derive(Clone, Debug, PartialEq)]
pub enum Expr {
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    Compare {
        path: Vec<String>,
        op: CmpOp,
        negated: bool,
        value: Literal,
    },
    In {
        path: Vec<String>,
        negated: bool,
        values: Vec<Literal>,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Contains,
    Like,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Literal {
    Str(String),
    Num(f64),
    Bool(bool),
    Null,
    DateTime(String),
}

impl Expr {
    /// The field paths the expression names, for checking against the resource's schema.
    pub fn paths(&self) -> Vec<&[String]> {
        match self {
            Expr::And(a, b) | Expr::Or(a, b) => {
                let mut v = a.paths();
                v.extend(b.paths());
                v
            }
            Expr::Compare { path, .. } | Expr::In { path, .. } => vec![path.as_slice()],
        }
    }

    /// Does `record` satisfy the condition?
    pub fn matches(&self, record: &Value) -> bool {
        match self {
            Expr::And(a, b) => a.matches(record) && b.matches(record),
            Expr::Or(a, b) => a.matches(record) || b.matches(record),
            Expr::Compare {
                path,
                op,
                negated,
                value,
            } => compare(lookup(record, path), *op, value) != *negated,
            Expr::In {
                path,
                negated,
                values,
            } => {
                let field = lookup(record, path);
                values.iter().any(|v| compare(field, CmpOp::Eq, v)) != *negated
            }
        }
    }
}

/// A field by path, names compared without case.
pub fn lookup<'a>(record: &'a Value, path: &[String]) -> &'a Value {
    let mut cur = record;
    for seg in path {
        cur = match cur.as_object() {
            // The name as written first (a map lookup), then any case (a scan): a list over
            // 100,000 records asks this once a record.
            Some(map) => map
                .get(seg.as_str())
                .or_else(|| {
                    map.iter()
                        .find(|(k, _)| k.eq_ignore_ascii_case(seg))
                        .map(|(_, v)| v)
                })
                .unwrap_or(&Value::Null),
            None => &Value::Null,
        };
    }
    cur
}

fn compare(field: &Value, op: CmpOp, lit: &Literal) -> bool {
    use std::cmp::Ordering;
    let ordering: Option<Ordering> = match (field, lit) {
        (Value::Null, Literal::Null) => Some(Ordering::Equal),
        (_, Literal::Null) | (Value::Null, _) => {
            return match op {
                CmpOp::Ne => !(field.is_null() && matches!(lit, Literal::Null)),
                _ => false,
            };
        }
        (Value::String(s), Literal::Str(l)) => match op {
            CmpOp::Contains => return s.to_lowercase().contains(&l.to_lowercase()),
            CmpOp::Like => return like(&s.to_lowercase(), &l.to_lowercase()),
            _ => Some(cmp_without_case(s, l)),
        },
        (Value::String(s), Literal::DateTime(d)) => Some(s.as_str().cmp(d.as_str())),
        (Value::Number(n), Literal::Num(l)) => n.as_f64().and_then(|n| n.partial_cmp(l)),
        (Value::Bool(b), Literal::Bool(l)) => Some(b.cmp(l)),
        _ => None,
    };
    let Some(ord) = ordering else {
        return op == CmpOp::Ne;
    };
    match op {
        CmpOp::Eq => ord == Ordering::Equal,
        CmpOp::Ne => ord != Ordering::Equal,
        CmpOp::Lt => ord == Ordering::Less,
        CmpOp::Le => ord != Ordering::Greater,
        CmpOp::Gt => ord == Ordering::Greater,
        CmpOp::Ge => ord != Ordering::Less,
        CmpOp::Contains | CmpOp::Like => false,
    }
}

/// Two strings compared as their lowercase forms are, without making them (a list compares
/// every record). A capital sigma lowercases by its place in the word: those take the long way.
fn cmp_without_case(a: &str, b: &str) -> std::cmp::Ordering {
    if a.contains('Σ') || b.contains('Σ') {
        return a.to_lowercase().cmp(&b.to_lowercase());
    }
    a.chars()
        .flat_map(char::to_lowercase)
        .cmp(b.chars().flat_map(char::to_lowercase))
}

/// Wildcard match: `*` or `%` stand for any run of characters.
fn like(text: &str, pattern: &str) -> bool {
    let parts: Vec<&str> = pattern.split(['*', '%']).collect();
    if parts.len() == 1 {
        return text == pattern;
    }
    let mut rest = text;
    for (i, part) in parts.iter().enumerate() {
        if i == 0 {
            let Some(r) = rest.strip_prefix(part) else {
                return false;
            };
            rest = r;
        } else if i == parts.len() - 1 {
            return rest.ends_with(part);
        } else {
            let Some(at) = rest.find(part) else {
                return false;
            };
            rest = &rest[at + part.len()..];
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn strings_compare_as_their_lowercase_forms() {
        for (a, b) in [
            ("PC-01", "pc-01"),
            ("abc", "abd"),
            ("Straße", "STRASSE"),
            ("ΟΔΟΣ", "οδος"),
            ("İx", "i̇x"),
            ("", "a"),
        ] {
            assert_eq!(
                cmp_without_case(a, b),
                a.to_lowercase().cmp(&b.to_lowercase()),
                "{a} / {b}"
            );
        }
    }

    fn m(cond: &str, record: &Value) -> bool {
        parse(cond)
            .unwrap_or_else(|e| panic!("{cond}: {e}"))
            .matches(record)
    }

    #[test]
    fn the_documented_examples_parse_and_match() {
        let t = json!({"summary": "Low Priority printer", "board": {"id": 3, "name": "Integration"},
                       "closedFlag": false, "lastUpdated": "2016-08-21T10:00:00Z", "id": 7});
        assert!(m(r#"summary = "low priority printer""#, &t));
        assert!(m(r#"summary like "low*""#, &t));
        assert!(m("summary like '%printer'", &t));
        assert!(m("board/id = 3", &t));
        assert!(m(r#"board/name = "Integration""#, &t));
        assert!(m("closedFlag = False", &t));
        assert!(m("lastUpdated > [2016-08-20T18:04:26Z]", &t));
        assert!(m("board/id in (3, 2, 4)", &t));
        assert!(!m("board/id not in (3, 2, 4)", &t));
        assert!(!m(r#"Summary Not Contains "Low Priority""#, &t));
        assert!(m(r#"(id = 1 or id = 7) and board/id >= 3"#, &t));
        assert!(m("missing = null", &t));
        assert!(m("id != null", &t));
    }

    #[test]
    fn malformed_conditions_are_errors() {
        for bad in [
            "",
            "id =",
            "= 3",
            "id = 3 and",
            "(id = 3",
            "id = 3)",
            r#"name = "open"#,
            "id == 3",
            "id = [not a date]",
            "id in ()",
            "id in (1,",
            "name contains 3",
            "id = abc",
            "id ! 3",
            "a//b = 1",
            "and = 1",
            "id = 1 id = 2",
        ] {
            assert!(parse(bad).is_err(), "{bad:?} should be rejected");
        }
        assert!(parse(&"(".repeat(100)).is_err());
        assert!(parse(&format!("name = \"{}\"", "x".repeat(MAX_LEN))).is_err());
    }

    #[test]
    fn a_quote_ends_a_string_so_injection_becomes_a_syntax_error() {
        assert!(
            parse(r#"serialNumber = "x" or company/id=7 or serialNumber="""#).is_ok_and(|e| {
                // It parses, but as three comparisons: the builder must never produce this.
                matches!(e, Expr::Or(..))
            })
        );
        assert!(parse(r#"serialNumber = "x\" or 1=1""#).is_err());
    }
}
