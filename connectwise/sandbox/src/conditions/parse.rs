//! Reading a conditions string: its tokens, then a recursive-descent parser over them (the
//! grammar is in the module above), bounded in depth.

use super::{CmpOp, Expr, Literal};

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
