//! Validation of request bodies against the public OpenAPI schemas (`schemas.json`, copied from
//! the 2025.8 document): types, enumerations, nullability and the "Max length: N;" each string
//! field declares.

use std::collections::HashMap;
use std::sync::OnceLock;

use serde_json::Value;

use crate::errors::FieldProblem;

static SCHEMAS: OnceLock<HashMap<String, Value>> = OnceLock::new();

/// Every schema by name (`Company.Configuration`, `Ticket`, …).
pub fn schemas() -> &'static HashMap<String, Value> {
    SCHEMAS.get_or_init(|| {
        let all: HashMap<String, Value> =
            serde_json::from_str(include_str!("../schemas.json")).unwrap_or_default();
        all.into_iter()
            .filter(|(k, _)| !k.starts_with('_'))
            .collect()
    })
}

/// The property names of a schema.
pub fn properties(schema: &str) -> Vec<&'static str> {
    schemas()
        .get(schema)
        .and_then(|s| s["properties"].as_object())
        .map(|p| p.keys().map(String::as_str).collect())
        .unwrap_or_default()
}

/// The declared maximum length of a string property, if any.
pub fn max_length(property: &Value) -> Option<usize> {
    // Newer schemas (callbacks, contacts) declare it as `maxLength`.
    if let Some(max) = property["maxLength"].as_u64() {
        return usize::try_from(max).ok();
    }
    let desc = property["description"].as_str()?;
    let rest = &desc[desc.find("Max length:")? + "Max length:".len()..];
    rest.trim_start()
        .split(|c: char| !c.is_ascii_digit())
        .next()?
        .parse()
        .ok()
}

/// UTF-16 length, as .NET counts it.
pub fn utf16_len(s: &str) -> usize {
    s.chars().map(char::len_utf16).sum()
}

/// Problems with `value` as an instance of `schema` (its properties only; required fields are
/// checked by the caller, which knows whether this is a create or an update).
pub fn check(schema: &str, value: &Value, resource: &str) -> Vec<FieldProblem> {
    let mut problems = Vec::new();
    let Some(def) = schemas().get(schema) else {
        return problems;
    };
    check_against(def, value, resource, "", &mut problems);
    problems
}

fn check_against(
    def: &Value,
    value: &Value,
    resource: &str,
    at: &str,
    out: &mut Vec<FieldProblem>,
) {
    if let Some(r) = def["$ref"].as_str() {
        let name = r.rsplit('/').next().unwrap_or(r);
        return match schemas().get(name) {
            Some(target) => check_against(target, value, resource, at, out),
            // Schemas not in the excerpt are references: any object will do.
            None if value.is_object() || value.is_null() => {}
            None => out.push(FieldProblem::new(
                "InvalidField",
                resource,
                at,
                "must be an object",
            )),
        };
    }
    if value.is_null() {
        return; // .NET accepts null for every optional field; required ones are checked apart.
    }
    let ty = def["type"].as_str().unwrap_or("object");
    // .NET's `object` (no properties declared) is any JSON value: a question's answer, a patch
    // operation's value.
    if ty == "object"
        && def.get("properties").is_none()
        && def.get("additionalProperties").is_none()
    {
        return;
    }
    let ok = match ty {
        "string" => value.is_string(),
        "integer" => value
            .as_i64()
            .is_some_and(|n| def["format"] != "int32" || i32::try_from(n).is_ok()),
        "number" => value.is_number(),
        "boolean" => value.is_boolean(),
        "array" => value.is_array(),
        _ => value.is_object(),
    };
    if !ok {
        out.push(FieldProblem::new(
            "InvalidField",
            resource,
            at,
            &format!("must be of type {ty}"),
        ));
        return;
    }
    if let (Some(allowed), Some(s)) = (def["enum"].as_array(), value.as_str())
        && !allowed.iter().any(|a| a == s)
    {
        out.push(FieldProblem::new(
            "InvalidField",
            resource,
            at,
            "is not one of the allowed values",
        ));
    }
    if let (Some(max), Some(s)) = (max_length(def), value.as_str())
        && utf16_len(s) > max
    {
        out.push(FieldProblem::new(
            "MaxLength",
            resource,
            at,
            &format!("may not be longer than {max} characters"),
        ));
    }
    match (ty, value) {
        ("array", Value::Array(items)) => {
            for (i, item) in items.iter().enumerate() {
                check_against(&def["items"], item, resource, &format!("{at}[{i}]"), out);
            }
        }
        (_, Value::Object(map)) => {
            if let Some(props) = def["properties"].as_object() {
                for (k, v) in map {
                    if let Some(p) = props.get(k) {
                        let path = if at.is_empty() {
                            k.clone()
                        } else {
                            format!("{at}/{k}")
                        };
                        check_against(p, v, resource, &path, out);
                    }
                }
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn lengths_types_and_enums_come_from_the_schemas() {
        assert!(schemas().len() > 15);
        let name = &schemas()["Company.Configuration"]["properties"]["name"];
        assert_eq!(max_length(name), Some(100));
        assert!(
            check(
                "Company.Configuration",
                &json!({"name": "x".repeat(100)}),
                "configuration"
            )
            .is_empty()
        );
        let p = check(
            "Company.Configuration",
            &json!({"name": "x".repeat(101), "company": 5}),
            "configuration",
        );
        assert_eq!(p.len(), 2, "{p:?}");
        assert_eq!(p[0].field, "company");
        assert_eq!(p[1].field, "name");
        let p = check(
            "ConfigurationTypeQuestion",
            &json!({"fieldType": "Banana"}),
            "question",
        );
        assert_eq!(p.len(), 1);
        // 50 emoji are 100 UTF-16 units: too long for a 50-character field.
        assert_eq!(
            check(
                "ConfigurationType",
                &json!({"name": "😀".repeat(26)}),
                "type"
            )
            .len(),
            1
        );
    }
}
