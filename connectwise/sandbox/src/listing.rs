//! List and count endpoints: `conditions`, `fields`, `orderBy`, navigable paging (`page`,
//! `pageSize`, `Link` with first/prev/next/last) and forward-only paging (`pagination-type:
//! forward-only` with `pageId`).

use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use crate::conditions::{self, Expr, lookup};
use crate::errors::ApiError;
use crate::schema;

pub const DEFAULT_PAGE_SIZE: usize = 25;
pub const MAX_PAGE_SIZE: usize = 1000;

#[derive(Debug, Default)]
pub struct ListParams {
    pub conditions: Option<Expr>,
    fields: Option<Vec<Vec<String>>>,
    order_by: Vec<(Vec<String>, bool)>,
    page: usize,
    page_size: usize,
    page_id: i64,
    forward_only: bool,
    /// The query pairs to carry into `Link` URLs (everything but paging).
    carried: Vec<(String, String)>,
}

/// Reads a list call's query string and headers. `schema` names the resource's schema, so that
/// conditions and orderBy on unknown fields are refused as ConnectWise refuses them.
pub fn parse(
    raw_query: Option<&str>,
    headers: &HeaderMap,
    schema: &str,
) -> Result<ListParams, ApiError> {
    let mut p = ListParams {
        page: 1,
        page_size: DEFAULT_PAGE_SIZE,
        ..ListParams::default()
    };
    p.forward_only = headers
        .get("pagination-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("forward-only"));
    for (key, value) in form_urlencoded::parse(raw_query.unwrap_or("").as_bytes()) {
        let number = |what: &str| {
            value
                .trim()
                .parse::<i64>()
                .map_err(|_| ApiError::bad_request(format!("{what} must be a whole number")))
        };
        match key.to_ascii_lowercase().as_str() {
            "conditions" => {
                let expr = conditions::parse(&value)
                    .map_err(|e| ApiError::bad_request(format!("Invalid conditions: {e}")))?;
                check_paths(&expr.paths(), schema)?;
                p.conditions = Some(expr);
                p.carried.push(("conditions".into(), value.into_owned()));
            }
            "fields" => {
                let fields = value
                    .split(',')
                    .map(|f| f.trim().split('/').map(str::to_owned).collect())
                    .collect();
                p.fields = Some(fields);
                p.carried.push(("fields".into(), value.into_owned()));
            }
            "orderby" => {
                for part in value.split(',') {
                    let mut words = part.split_whitespace();
                    let field = words
                        .next()
                        .ok_or_else(|| ApiError::bad_request("orderBy needs a field"))?;
                    let desc = match words.next().map(str::to_ascii_lowercase).as_deref() {
                        None | Some("asc") => false,
                        Some("desc") => true,
                        Some(other) => {
                            return Err(ApiError::bad_request(format!(
                                "orderBy direction {other} is not asc or desc"
                            )));
                        }
                    };
                    let path: Vec<String> = field.split('/').map(str::to_owned).collect();
                    check_paths(&[path.as_slice()], schema)?;
                    p.order_by.push((path, desc));
                }
                p.carried.push(("orderBy".into(), value.into_owned()));
            }
            "page" => {
                p.page = usize::try_from(number("page")?)
                    .ok()
                    .filter(|n| *n >= 1)
                    .ok_or_else(|| ApiError::bad_request("page starts at 1"))?
            }
            "pagesize" => {
                let n = number("pageSize")?;
                if n < 1 {
                    return Err(ApiError::bad_request("pageSize must be at least 1"));
                }
                // ConnectWise serves at most 1,000 per page whatever is asked.
                p.page_size = usize::try_from(n)
                    .unwrap_or(MAX_PAGE_SIZE)
                    .min(MAX_PAGE_SIZE);
            }
            "pageid" => p.page_id = number("pageId")?,
            "childconditions" | "customfieldconditions" => {
                return Err(ApiError::bad_request(format!(
                    "the sandbox does not emulate {key}"
                )));
            }
            _ => {} // ConnectWise ignores parameters it does not know.
        }
    }
    if p.forward_only && !p.order_by.is_empty() {
        return Err(ApiError::bad_request(
            "orderBy is not allowed with forward-only pagination",
        ));
    }
    Ok(p)
}

fn check_paths(paths: &[&[String]], schema: &str) -> Result<(), ApiError> {
    let props = schema::properties(schema);
    for path in paths {
        let first = &path[0];
        if !props.iter().any(|p| p.eq_ignore_ascii_case(first)) {
            return Err(ApiError::bad_request(format!(
                "Unknown field '{}'",
                path.join("/")
            )));
        }
    }
    Ok(())
}

/// Answers a list call over `rows` (all records of the resource, in id order).
pub fn respond<'a>(rows: impl Iterator<Item = &'a Value>, p: &ListParams, url: &str) -> Response {
    let mut matching: Vec<&Value> = rows
        .filter(|r| p.conditions.as_ref().is_none_or(|c| c.matches(r)))
        .collect();
    let (page, links) = if p.forward_only {
        matching.retain(|r| r["id"].as_i64().unwrap_or(0) > p.page_id);
        matching.truncate(p.page_size);
        // The Link header always points at the next pageId: the last id returned.
        let links = matching
            .last()
            .map(|last| vec![("next", link(url, p, &[("pageId", last["id"].to_string())]))])
            .unwrap_or_default();
        (matching, links)
    } else {
        sort(&mut matching, &p.order_by);
        let total = matching.len();
        let last_page = total.div_ceil(p.page_size).max(1);
        let start = (p.page - 1).saturating_mul(p.page_size).min(total);
        let page: Vec<&Value> = matching[start..(start + p.page_size).min(total)].to_vec();
        let at = |n: usize| link(url, p, &[("page", n.to_string())]);
        let mut links = vec![("first", at(1))];
        if p.page > 1 {
            links.push(("prev", at((p.page - 1).min(last_page))));
        }
        if p.page < last_page {
            links.push(("next", at(p.page + 1)));
        }
        links.push(("last", at(last_page)));
        (page, links)
    };
    let body: Vec<Value> = page
        .into_iter()
        .map(|r| project(r, p.fields.as_deref()))
        .collect();
    let mut response = axum::Json(body).into_response();
    let header_value: Vec<String> = links
        .iter()
        .map(|(rel, url)| format!("<{url}>; rel=\"{rel}\""))
        .collect();
    if !header_value.is_empty()
        && let Ok(v) = HeaderValue::from_str(&header_value.join(", "))
    {
        response.headers_mut().insert(header::LINK, v);
    }
    response
}

/// `{"count": n}` for a `/count` call.
pub fn count<'a>(rows: impl Iterator<Item = &'a Value>, p: &ListParams) -> Response {
    let n = rows
        .filter(|r| p.conditions.as_ref().is_none_or(|c| c.matches(r)))
        .count();
    axum::Json(json!({ "count": n })).into_response()
}

/// A single record, shaped by `fields=` when given.
pub fn one(record: &Value, raw_query: Option<&str>) -> Response {
    let fields = form_urlencoded::parse(raw_query.unwrap_or("").as_bytes())
        .find(|(k, _)| k.eq_ignore_ascii_case("fields"))
        .map(|(_, v)| {
            v.split(',')
                .map(|f| f.trim().split('/').map(str::to_owned).collect())
                .collect::<Vec<Vec<String>>>()
        });
    axum::Json(project(record, fields.as_deref())).into_response()
}

fn sort(rows: &mut [&Value], order: &[(Vec<String>, bool)]) {
    if order.is_empty() {
        return; // already in id order
    }
    rows.sort_by(|a, b| {
        for (path, desc) in order {
            let ord = cmp_values(lookup(a, path), lookup(b, path));
            let ord = if *desc { ord.reverse() } else { ord };
            if ord != std::cmp::Ordering::Equal {
                return ord;
            }
        }
        a["id"].as_i64().cmp(&b["id"].as_i64())
    });
}

fn cmp_values(a: &Value, b: &Value) -> std::cmp::Ordering {
    use std::cmp::Ordering;
    match (a, b) {
        (Value::String(x), Value::String(y)) => x.to_lowercase().cmp(&y.to_lowercase()),
        (Value::Number(x), Value::Number(y)) => x
            .as_f64()
            .partial_cmp(&y.as_f64())
            .unwrap_or(Ordering::Equal),
        (Value::Bool(x), Value::Bool(y)) => x.cmp(y),
        (Value::Null, Value::Null) => Ordering::Equal,
        (Value::Null, _) => Ordering::Less,
        (_, Value::Null) => Ordering::Greater,
        _ => Ordering::Equal,
    }
}

/// Keeps only the named fields (nested paths such as `status/id` keep that part of `status`).
fn project(record: &Value, fields: Option<&[Vec<String>]>) -> Value {
    let Some(fields) = fields else {
        return record.clone();
    };
    let mut out = Map::new();
    for path in fields {
        let v = lookup(record, path);
        if v.is_null() {
            continue;
        }
        let keys: Vec<String> = (0..path.len())
            .map(|i| record_key(record, &path[..=i]).unwrap_or_else(|| path[i].clone()))
            .collect();
        insert_path(&mut out, &keys, v.clone());
    }
    Value::Object(out)
}

fn insert_path(out: &mut Map<String, Value>, keys: &[String], value: Value) {
    match keys {
        [] => {}
        [last] => {
            out.insert(last.clone(), value);
        }
        [first, rest @ ..] => {
            if let Value::Object(inner) = out
                .entry(first.clone())
                .or_insert_with(|| Value::Object(Map::new()))
            {
                insert_path(inner, rest, value);
            }
        }
    }
}

/// The record's own spelling of a path's last key (paths match without case).
fn record_key(record: &Value, path: &[String]) -> Option<String> {
    let parent = lookup(record, &path[..path.len() - 1]);
    parent
        .as_object()?
        .keys()
        .find(|k| k.eq_ignore_ascii_case(&path[path.len() - 1]))
        .cloned()
}

fn link(url: &str, p: &ListParams, paging: &[(&str, String)]) -> String {
    let mut s = form_urlencoded::Serializer::new(String::new());
    for (k, v) in &p.carried {
        s.append_pair(k, v);
    }
    s.append_pair("pageSize", &p.page_size.to_string());
    for (k, v) in paging {
        s.append_pair(k, v);
    }
    format!("{url}?{}", s.finish())
}
