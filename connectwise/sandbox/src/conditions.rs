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

use serde_json::Value;

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

#[derive(Clone, Debug, PartialEq)]
enum Token {
    Word(String),
    Str(String),
    Num(f64),
    DateTime(String),
    Op(CmpOp),
    LParen,
    RParen,
    Comma,
}

/// Most nesting accepted, so hostile input cannot exhaust the stack.
const MAX_DEPTH: usize = 64;
/// Longest condition accepted (the developer guide warns about URLs past a few thousand characters).
pub const MAX_LEN: usize = 10_000;

/// Parses a conditions string; the error says what is wrong and where.
pub fn parse(input: &str) -> Result<Expr, String> {
    if input.len() > MAX_LEN {
        return Err(format!("conditions longer than {MAX_LEN} characters"));
    }
    let tokens = tokenize(input)?;
    let mut p = Parser {
        tokens,
        pos: 0,
        depth: 0,
    };
    let expr = p.expr()?;
    if p.pos != p.tokens.len() {
        return Err(format!(
            "unexpected {:?} after a complete condition",
            p.tokens[p.pos]
        ));
    }
    Ok(expr)
}

fn tokenize(input: &str) -> Result<Vec<Token>, String> {
    let chars: Vec<char> = input.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            c if c.is_whitespace() => i += 1,
            '(' => {
                out.push(Token::LParen);
                i += 1;
            }
            ')' => {
                out.push(Token::RParen);
                i += 1;
            }
            ',' => {
                out.push(Token::Comma);
                i += 1;
            }
            '"' | '\'' => {
                let end = chars[i + 1..].iter().position(|&x| x == c).ok_or_else(|| {
                    format!("unterminated string starting at character {}", i + 1)
                })?;
                out.push(Token::Str(chars[i + 1..i + 1 + end].iter().collect()));
                i += end + 2;
            }
            '[' => {
                let end = chars[i + 1..]
                    .iter()
                    .position(|&x| x == ']')
                    .ok_or_else(|| {
                        format!("unterminated datetime starting at character {}", i + 1)
                    })?;
                let text: String = chars[i + 1..i + 1 + end].iter().collect();
                if !is_datetime(&text) {
                    return Err(format!("[{text}] is not a datetime"));
                }
                out.push(Token::DateTime(text));
                i += end + 2;
            }
            '=' => {
                out.push(Token::Op(CmpOp::Eq));
                i += 1;
            }
            '!' if chars.get(i + 1) == Some(&'=') => {
                out.push(Token::Op(CmpOp::Ne));
                i += 2;
            }
            '<' | '>' => {
                let eq = chars.get(i + 1) == Some(&'=');
                let op = match (c, eq) {
                    ('<', true) => CmpOp::Le,
                    ('<', false) => CmpOp::Lt,
                    (_, true) => CmpOp::Ge,
                    (_, false) => CmpOp::Gt,
                };
                out.push(Token::Op(op));
                i += if eq { 2 } else { 1 };
            }
            c if c.is_ascii_digit()
                || (c == '-' && chars.get(i + 1).is_some_and(char::is_ascii_digit)) =>
            {
                let start = i;
                i += 1;
                while i < chars.len() && (chars[i].is_ascii_digit() || chars[i] == '.') {
                    i += 1;
                }
                let text: String = chars[start..i].iter().collect();
                let n = text
                    .parse::<f64>()
                    .map_err(|_| format!("{text} is not a number"))?;
                out.push(Token::Num(n));
            }
            c if c.is_ascii_alphabetic() || c == '_' => {
                let start = i;
                while i < chars.len()
                    && (chars[i].is_ascii_alphanumeric() || matches!(chars[i], '_' | '/'))
                {
                    i += 1;
                }
                out.push(Token::Word(chars[start..i].iter().collect()));
            }
            other => return Err(format!("unexpected character {other:?} at {}", i + 1)),
        }
    }
    Ok(out)
}

fn is_datetime(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() >= 10
        && b[..4].iter().all(u8::is_ascii_digit)
        && b[4] == b'-'
        && b[7] == b'-'
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | ':' | '.' | '+'))
}

struct Parser {
    tokens: Vec<Token>,
    pos: usize,
    depth: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.pos)
    }

    fn next(&mut self) -> Option<Token> {
        let t = self.tokens.get(self.pos).cloned();
        self.pos += 1;
        t
    }

    fn keyword(&self, word: &str) -> bool {
        matches!(self.peek(), Some(Token::Word(w)) if w.eq_ignore_ascii_case(word))
    }

    fn expr(&mut self) -> Result<Expr, String> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err("conditions nested too deeply".into());
        }
        let mut left = self.term()?;
        while self.keyword("or") {
            self.pos += 1;
            left = Expr::Or(Box::new(left), Box::new(self.term()?));
        }
        self.depth -= 1;
        Ok(left)
    }

    fn term(&mut self) -> Result<Expr, String> {
        let mut left = self.factor()?;
        while self.keyword("and") {
            self.pos += 1;
            left = Expr::And(Box::new(left), Box::new(self.factor()?));
        }
        Ok(left)
    }

    fn factor(&mut self) -> Result<Expr, String> {
        match self.next() {
            Some(Token::LParen) => {
                let e = self.expr()?;
                match self.next() {
                    Some(Token::RParen) => Ok(e),
                    _ => Err("missing closing parenthesis".into()),
                }
            }
            Some(Token::Word(w)) if !is_keyword(&w) => self.comparison(w),
            Some(t) => Err(format!("expected a field name, found {t:?}")),
            None => Err("the condition ends where a field name was expected".into()),
        }
    }

    fn comparison(&mut self, field: String) -> Result<Expr, String> {
        let path: Vec<String> = field.split('/').map(str::to_owned).collect();
        if path.iter().any(String::is_empty) {
            return Err(format!("{field} is not a field path"));
        }
        let negated = self.keyword("not");
        if negated {
            self.pos += 1;
        }
        let op = match self.next() {
            Some(Token::Op(op)) if !negated => op,
            Some(Token::Word(w)) if w.eq_ignore_ascii_case("contains") => CmpOp::Contains,
            Some(Token::Word(w)) if w.eq_ignore_ascii_case("like") => CmpOp::Like,
            Some(Token::Word(w)) if w.eq_ignore_ascii_case("in") => {
                return self.in_list(path, negated);
            }
            other => {
                return Err(format!(
                    "expected an operator after {field}, found {other:?}"
                ));
            }
        };
        let value = self.literal()?;
        if matches!(op, CmpOp::Contains | CmpOp::Like) && !matches!(value, Literal::Str(_)) {
            return Err(format!("{field}: contains and like need a quoted string"));
        }
        Ok(Expr::Compare {
            path,
            op,
            negated,
            value,
        })
    }

    fn in_list(&mut self, path: Vec<String>, negated: bool) -> Result<Expr, String> {
        if self.next() != Some(Token::LParen) {
            return Err("in needs a parenthesised list".into());
        }
        let mut values = vec![self.literal()?];
        loop {
            match self.next() {
                Some(Token::Comma) => values.push(self.literal()?),
                Some(Token::RParen) => {
                    return Ok(Expr::In {
                        path,
                        negated,
                        values,
                    });
                }
                other => return Err(format!("expected , or ) in a list, found {other:?}")),
            }
        }
    }

    fn literal(&mut self) -> Result<Literal, String> {
        match self.next() {
            Some(Token::Str(s)) => Ok(Literal::Str(s)),
            Some(Token::Num(n)) => Ok(Literal::Num(n)),
            Some(Token::DateTime(d)) => Ok(Literal::DateTime(d)),
            Some(Token::Word(w)) if w.eq_ignore_ascii_case("true") => Ok(Literal::Bool(true)),
            Some(Token::Word(w)) if w.eq_ignore_ascii_case("false") => Ok(Literal::Bool(false)),
            Some(Token::Word(w)) if w.eq_ignore_ascii_case("null") => Ok(Literal::Null),
            other => Err(format!(
                "expected a value, found {other:?} (strings need quotes)"
            )),
        }
    }
}

fn is_keyword(w: &str) -> bool {
    ["and", "or", "not", "contains", "like", "in"]
        .iter()
        .any(|k| k.eq_ignore_ascii_case(w))
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
