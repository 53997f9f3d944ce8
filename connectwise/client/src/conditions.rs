//! Building ConnectWise `conditions` strings so that no value can change a query's meaning.
//!
//! The grammar (developer guide): `field op value`, `and`/`or`, parentheses; strings in double
//! quotes, integers bare, `True`/`False`, datetimes in square brackets, `in (…)` lists. How to
//! escape a quote inside a quoted string is not publicly settled, so this builder never guesses:
//! a text value holding a quote, backslash, wildcard (`*`, `%`), square bracket or control
//! character is refused with an error. Bindery only puts values here that it generated or checked
//! (ids, UUIDs, clean serials); device facts that fail the check are matched another way.
//!
//! ```
//! use connectwise_client::conditions::{Condition, Op};
//! let c = Condition::int("company/id", Op::Eq, 250)
//!     .unwrap()
//!     .and(Condition::text("deviceIdentifier", Op::Eq, "9b2f4c1e-7d3a").unwrap());
//! assert_eq!(c.as_str(), r#"company/id = 250 and deviceIdentifier = "9b2f4c1e-7d3a""#);
//! ```

/// Comparison operators.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    /// Substring match (text only).
    Contains,
}

impl Op {
    fn as_str(self) -> &'static str {
        match self {
            Op::Eq => "=",
            Op::Ne => "!=",
            Op::Lt => "<",
            Op::Le => "<=",
            Op::Gt => ">",
            Op::Ge => ">=",
            Op::Contains => "contains",
        }
    }
}

/// Why a condition could not be built. Nothing is sent when this happens.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ConditionError {
    #[error("{0:?} is not a ConnectWise field path")]
    InvalidField(String),
    #[error("the value for {field} cannot be placed in a condition safely: {reason}")]
    UnsafeValue { field: String, reason: &'static str },
    #[error("{field}: an `in` list needs at least one value")]
    EmptyList { field: String },
    #[error("{field}: {value:?} is not a UTC datetime like 2026-01-31T23:59:00Z")]
    InvalidDateTime { field: String, value: String },
    #[error("{field}: `contains` applies to text only")]
    OperatorNotForType { field: String },
}

/// Longest text value accepted.
const MAX_VALUE_CHARS: usize = 1000;

/// A condition, or several joined with `and`/`or`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Condition {
    text: String,
    kind: Kind,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Single,
    And,
    Or,
}

impl Condition {
    /// `field op 123`.
    pub fn int(field: &str, op: Op, value: i64) -> Result<Condition, ConditionError> {
        let field = check_field(field)?;
        if op == Op::Contains {
            return Err(ConditionError::OperatorNotForType {
                field: field.to_owned(),
            });
        }
        Ok(Condition::single(format!(
            "{field} {} {value}",
            op.as_str()
        )))
    }

    /// `field op "value"`; refuses values it cannot quote safely.
    pub fn text(field: &str, op: Op, value: &str) -> Result<Condition, ConditionError> {
        let field = check_field(field)?;
        check_text(field, value)?;
        Ok(Condition::single(format!(
            "{field} {} \"{value}\"",
            op.as_str()
        )))
    }

    /// `field = True` / `field = False`.
    pub fn boolean(field: &str, value: bool) -> Result<Condition, ConditionError> {
        let field = check_field(field)?;
        let value = if value { "True" } else { "False" };
        Ok(Condition::single(format!("{field} = {value}")))
    }

    /// `field op [2026-01-31T23:59:00Z]`; the value must be exactly that UTC form.
    pub fn datetime(field: &str, op: Op, value: &str) -> Result<Condition, ConditionError> {
        let field = check_field(field)?;
        if op == Op::Contains {
            return Err(ConditionError::OperatorNotForType {
                field: field.to_owned(),
            });
        }
        if !is_utc_datetime(value) {
            return Err(ConditionError::InvalidDateTime {
                field: field.to_owned(),
                value: value.to_owned(),
            });
        }
        Ok(Condition::single(format!(
            "{field} {} [{value}]",
            op.as_str()
        )))
    }

    /// `field in (1, 2, 3)`.
    pub fn int_in(field: &str, values: &[i64]) -> Result<Condition, ConditionError> {
        let field = check_field(field)?;
        if values.is_empty() {
            return Err(ConditionError::EmptyList {
                field: field.to_owned(),
            });
        }
        let list: Vec<String> = values.iter().map(i64::to_string).collect();
        Ok(Condition::single(format!(
            "{field} in ({})",
            list.join(", ")
        )))
    }

    /// `field in ("a", "b")`; every value is checked as for [`Condition::text`].
    pub fn text_in<S: AsRef<str>>(field: &str, values: &[S]) -> Result<Condition, ConditionError> {
        let field = check_field(field)?;
        if values.is_empty() {
            return Err(ConditionError::EmptyList {
                field: field.to_owned(),
            });
        }
        let mut list = Vec::with_capacity(values.len());
        for v in values {
            check_text(field, v.as_ref())?;
            list.push(format!("\"{}\"", v.as_ref()));
        }
        Ok(Condition::single(format!(
            "{field} in ({})",
            list.join(", ")
        )))
    }

    /// Both must hold.
    pub fn and(self, other: Condition) -> Condition {
        let side = |c: Condition| {
            if c.kind == Kind::Or {
                format!("({})", c.text)
            } else {
                c.text
            }
        };
        Condition {
            text: format!("{} and {}", side(self), side(other)),
            kind: Kind::And,
        }
    }

    /// Either may hold.
    pub fn or(self, other: Condition) -> Condition {
        let side = |c: Condition| {
            if c.kind == Kind::And {
                format!("({})", c.text)
            } else {
                c.text
            }
        };
        Condition {
            text: format!("{} or {}", side(self), side(other)),
            kind: Kind::Or,
        }
    }

    /// The condition as ConnectWise reads it (URL-encoding is the HTTP layer's job).
    pub fn as_str(&self) -> &str {
        &self.text
    }

    fn single(text: String) -> Condition {
        Condition {
            text,
            kind: Kind::Single,
        }
    }
}

impl std::fmt::Display for Condition {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}

/// Field paths: `name`, `company/id`, `type/name` (letters, digits, `_`; segments joined by `/`).
fn check_field(field: &str) -> Result<&str, ConditionError> {
    let ok = !field.is_empty()
        && field.split('/').all(|seg| {
            let mut chars = seg.chars();
            chars
                .next()
                .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
                && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        });
    if ok {
        Ok(field)
    } else {
        Err(ConditionError::InvalidField(field.to_owned()))
    }
}

/// True when a text value can stand between double quotes with its meaning unchanged.
pub fn is_safe_text(value: &str) -> bool {
    value.chars().count() <= MAX_VALUE_CHARS
        && !value
            .chars()
            .any(|c| c.is_control() || matches!(c, '"' | '\'' | '\\' | '*' | '%' | '[' | ']'))
}

fn check_text(field: &str, value: &str) -> Result<(), ConditionError> {
    let reason = if value.chars().count() > MAX_VALUE_CHARS {
        "longer than 1000 characters"
    } else if value.chars().any(char::is_control) {
        "it holds a control character"
    } else if value.contains(['"', '\'', '\\']) {
        "it holds a quote or backslash, and ConnectWise documents no escape for them"
    } else if value.contains(['*', '%']) {
        "it holds a wildcard character"
    } else if value.contains(['[', ']']) {
        "it holds a square bracket"
    } else {
        return Ok(());
    };
    Err(ConditionError::UnsafeValue {
        field: field.to_owned(),
        reason,
    })
}

fn is_utc_datetime(v: &str) -> bool {
    let b = v.as_bytes();
    let digits = |r: std::ops::Range<usize>| b[r].iter().all(u8::is_ascii_digit);
    b.len() == 20
        && digits(0..4)
        && b[4] == b'-'
        && digits(5..7)
        && b[7] == b'-'
        && digits(8..10)
        && b[10] == b'T'
        && digits(11..13)
        && b[13] == b':'
        && digits(14..16)
        && b[16] == b':'
        && digits(17..19)
        && b[19] == b'Z'
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_of_value_renders_as_the_grammar_says() {
        assert_eq!(
            Condition::int("board/id", Op::Eq, 3).unwrap().as_str(),
            "board/id = 3"
        );
        assert_eq!(
            Condition::boolean("closedFlag", false).unwrap().as_str(),
            "closedFlag = False"
        );
        assert_eq!(
            Condition::datetime("lastUpdated", Op::Gt, "2016-08-20T18:04:26Z")
                .unwrap()
                .as_str(),
            "lastUpdated > [2016-08-20T18:04:26Z]"
        );
        assert_eq!(
            Condition::int_in("board/id", &[3, 2, 4]).unwrap().as_str(),
            "board/id in (3, 2, 4)"
        );
        assert_eq!(
            Condition::text_in("identifier", &["A", "B C"])
                .unwrap()
                .as_str(),
            r#"identifier in ("A", "B C")"#
        );
        assert_eq!(
            Condition::text("name", Op::Contains, "Acme & Sons")
                .unwrap()
                .as_str(),
            r#"name contains "Acme & Sons""#
        );
    }

    #[test]
    fn and_or_keep_their_meaning_with_parentheses() {
        let a = Condition::int("a", Op::Eq, 1).unwrap();
        let b = Condition::int("b", Op::Eq, 2).unwrap();
        let c = Condition::int("c", Op::Eq, 3).unwrap();
        assert_eq!(
            a.clone().or(b.clone()).and(c.clone()).as_str(),
            "(a = 1 or b = 2) and c = 3"
        );
        assert_eq!(a.and(b).or(c).as_str(), "(a = 1 and b = 2) or c = 3");
    }

    #[test]
    fn hostile_values_and_fields_are_refused() {
        for v in [
            r#"x" or company/id=7 or serialNumber=""#,
            "a'b",
            r"a\b",
            "a*",
            "50%",
            "[x]",
            "a\nb",
        ] {
            assert!(
                matches!(
                    Condition::text("serialNumber", Op::Eq, v),
                    Err(ConditionError::UnsafeValue { .. })
                ),
                "{v}"
            );
        }
        for f in ["", "a b", "company/", "/id", "1abc", "name=1 or x", "a//b"] {
            assert!(
                matches!(
                    Condition::int(f, Op::Eq, 1),
                    Err(ConditionError::InvalidField(_))
                ),
                "{f}"
            );
        }
        assert!(Condition::datetime("d", Op::Eq, "2016-08-20 18:04:26").is_err());
        assert!(Condition::datetime("d", Op::Eq, "2016-08-20T18:04:26Z] or [x").is_err());
        assert!(Condition::int_in("id", &[]).is_err());
        assert!(Condition::int("id", Op::Contains, 1).is_err());
        assert!(Condition::text("name", Op::Eq, &"x".repeat(1001)).is_err());
    }
}
