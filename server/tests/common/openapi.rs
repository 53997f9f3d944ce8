//! The admin API's OpenAPI document as a checker of real answers: each answer must match the
//! schema documented for its route and status, strictly (a property the document does not name
//! is a mismatch), so the document cannot drift from the handlers unnoticed.

use serde_json::Value;

pub struct Documented {
    doc: Value,
}

impl Documented {
    pub fn load() -> Documented {
        Documented {
            doc: serde_json::from_str(bindery_server::api::admin::openapi_document()).unwrap(),
        }
    }

    /// Every documented operation, as `METHOD /template`.
    pub fn operations(&self) -> Vec<String> {
        let mut out = Vec::new();
        for (path, methods) in self.doc["paths"].as_object().unwrap() {
            for method in methods.as_object().unwrap().keys() {
                if ["get", "post", "put", "patch", "delete"].contains(&method.as_str()) {
                    out.push(format!("{} {path}", method.to_uppercase()));
                }
            }
        }
        out.sort();
        out
    }

    /// The documented template a concrete path matches (`/policies/7/link` → `/policies/{id}/link`).
    pub fn template(&self, method: &str, path: &str) -> Option<String> {
        let path = path.split('?').next().unwrap_or(path);
        let parts: Vec<&str> = path.split('/').collect();
        let paths = self.doc["paths"].as_object()?;
        // Literal segments win over parameters (`/policies/links` before `/policies/{id}`).
        let mut best: Option<(usize, &String)> = None;
        for (template, methods) in paths {
            if methods.get(method.to_lowercase()).is_none() {
                continue;
            }
            let t: Vec<&str> = template.split('/').collect();
            if t.len() != parts.len() {
                continue;
            }
            let fits = t
                .iter()
                .zip(&parts)
                .all(|(a, b)| a == b || (a.starts_with('{') && !b.is_empty()));
            let literal = t.iter().zip(&parts).filter(|(a, b)| a == b).count();
            if fits && best.is_none_or(|(n, _)| literal > n) {
                best = Some((literal, template));
            }
        }
        best.map(|(_, t)| t.clone())
    }

    /// Checks one answer; returns its operation (`METHOD /template`), or every mismatch.
    pub fn check(
        &self,
        method: &str,
        path: &str,
        status: u16,
        body: &Value,
    ) -> Result<String, String> {
        let template = self
            .template(method, path)
            .ok_or_else(|| format!("{method} {path} is not documented"))?;
        let operation = format!("{method} {template}");
        let op = &self.doc["paths"][&template][method.to_lowercase()];
        let answer = &op["responses"][status.to_string()];
        if answer.is_null() {
            return Err(format!("{operation}: status {status} is not documented"));
        }
        let Some(schema) = answer.pointer("/content/application~1json/schema") else {
            return if body.is_null() {
                Ok(operation)
            } else {
                Err(format!(
                    "{operation} {status}: a body where none is documented"
                ))
            };
        };
        let mut problems = Vec::new();
        self.validate(schema, body, "body", &mut problems);
        if problems.is_empty() {
            Ok(operation)
        } else {
            Err(format!(
                "{operation} {status}:\n  {}",
                problems.join("\n  ")
            ))
        }
    }

    fn resolve<'a>(&'a self, schema: &'a Value) -> &'a Value {
        match schema["$ref"].as_str() {
            Some(r) => self
                .doc
                .pointer(r.trim_start_matches('#'))
                .unwrap_or_else(|| panic!("the document refers to {r}, which it lacks")),
            None => schema,
        }
    }

    /// `allOf` (a type with flattened parts) as one closed object: the parts' properties and
    /// required names together, so a property of one part is no stranger to another.
    fn merged(&self, parts: &[Value]) -> Value {
        let mut properties = serde_json::Map::new();
        let mut required = Vec::new();
        for part in parts {
            let part = match part["allOf"].as_array() {
                Some(inner) => self.merged(inner),
                None => self.resolve(part).clone(),
            };
            if let Some(p) = part["properties"].as_object() {
                properties.extend(p.clone());
            }
            required.extend(part["required"].as_array().cloned().unwrap_or_default());
        }
        serde_json::json!({"type": "object", "properties": properties, "required": required})
    }

    fn validate(&self, schema: &Value, value: &Value, at: &str, out: &mut Vec<String>) {
        let schema = self.resolve(schema);
        if let Some(parts) = schema["allOf"].as_array() {
            return self.validate(&self.merged(parts), value, at, out);
        }
        if let Some(options) = schema["oneOf"].as_array() {
            let misfits: Vec<Vec<String>> = options
                .iter()
                .map(|o| {
                    let mut p = Vec::new();
                    self.validate(o, value, at, &mut p);
                    p
                })
                .collect();
            let fitting = misfits.iter().filter(|p| p.is_empty()).count();
            if fitting != 1 {
                out.push(format!(
                    "{at}: fits {fitting} of the oneOf schemas: {value}"
                ));
            }
            // Fitting none: what kept each one out.
            if fitting == 0 {
                out.extend(misfits.into_iter().flatten());
            }
            return;
        }
        if let Some(allowed) = schema["enum"].as_array()
            && !allowed.contains(value)
        {
            out.push(format!("{at}: {value} is not one of {allowed:?}"));
        }
        let types: Vec<&str> = match &schema["type"] {
            Value::String(t) => vec![t.as_str()],
            Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
            _ => Vec::new(),
        };
        if !types.is_empty() && !types.iter().any(|t| is_type(t, value)) {
            out.push(format!("{at}: {value} is not {}", types.join(" or ")));
            return;
        }
        match value {
            Value::Object(map) => self.validate_object(schema, map, at, out),
            Value::Array(items) => {
                if let Some(item) = schema.get("items") {
                    for (i, v) in items.iter().enumerate() {
                        self.validate(item, v, &format!("{at}[{i}]"), out);
                    }
                }
            }
            Value::Number(n) => {
                let n = n.as_f64().unwrap_or_default();
                if schema["minimum"].as_f64().is_some_and(|m| n < m)
                    || schema["maximum"].as_f64().is_some_and(|m| n > m)
                {
                    out.push(format!("{at}: {n} is out of its documented range"));
                }
            }
            Value::String(s)
                if schema["maxLength"]
                    .as_u64()
                    .is_some_and(|m| s.chars().count() as u64 > m) =>
            {
                out.push(format!("{at}: longer than its documented maxLength"));
            }
            _ => {}
        }
    }

    fn validate_object(
        &self,
        schema: &Value,
        map: &serde_json::Map<String, Value>,
        at: &str,
        out: &mut Vec<String>,
    ) {
        for name in schema["required"].as_array().into_iter().flatten() {
            let name = name.as_str().unwrap_or_default();
            if !map.contains_key(name) {
                out.push(format!("{at}: lacks the required {name:?}"));
            }
        }
        let properties = schema["properties"].as_object();
        if let Some(names) = schema.get("propertyNames") {
            for name in map.keys() {
                self.validate(
                    names,
                    &Value::from(name.as_str()),
                    &format!("{at} key"),
                    out,
                );
            }
        }
        for (name, v) in map {
            let here = format!("{at}.{name}");
            match (
                properties.and_then(|p| p.get(name)),
                &schema["additionalProperties"],
            ) {
                (Some(s), _) => self.validate(s, v, &here, out),
                (None, Value::Bool(false)) => out.push(format!("{here}: not documented")),
                (None, extra @ Value::Object(_)) => self.validate(extra, v, &here, out),
                // An object documented with its properties is closed; one documented without
                // any (free-form, such as the facts) takes anything.
                (None, _) if properties.is_some() => out.push(format!("{here}: not documented")),
                (None, _) => {}
            }
        }
    }
}

fn is_type(t: &str, v: &Value) -> bool {
    match t {
        "object" => v.is_object(),
        "array" => v.is_array(),
        "string" => v.is_string(),
        "integer" => v.is_i64() || v.is_u64(),
        "number" => v.is_number(),
        "boolean" => v.is_boolean(),
        "null" => v.is_null(),
        _ => true,
    }
}
