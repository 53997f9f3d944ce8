//! The sandbox refuses what the real API refuses: each rule is a bad request sent over real HTTP
//! and the rejection it must get, in ConnectWise's error shape. And every object it returns is a
//! valid instance of the public schema, with no field the schema does not declare.
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use connectwise_sandbox::{Running, Seed, schema};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

const AUTH: (&str, &str) = ("bindery+sandbox-public", "sandbox-private");

struct Api {
    sb: Running,
    http: reqwest::Client,
}

impl Api {
    async fn new() -> Api {
        let sb =
            connectwise_sandbox::spawn("127.0.0.1:0".parse().unwrap(), Seed::default_seed(), true)
                .await
                .unwrap();
        Api {
            sb,
            http: http_client(),
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}/v4_6_release/apis/3.0/{path}", self.sb.url())
    }

    /// An authenticated call with a clientId; returns status, headers and JSON body.
    async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, reqwest::header::HeaderMap, Value) {
        let mut req = self
            .http
            .request(method, self.url(path))
            .basic_auth(AUTH.0, Some(AUTH.1))
            .header("clientId", "tests");
        if let Some(b) = body {
            req = req
                .header("content-type", "application/json")
                .body(b.to_string());
        }
        let resp = req.send().await.unwrap();
        let (status, headers) = (resp.status(), resp.headers().clone());
        let text = resp.text().await.unwrap();
        (
            status,
            headers,
            serde_json::from_str(&text).unwrap_or(Value::Null),
        )
    }

    async fn get(&self, path: &str) -> (StatusCode, Value) {
        let (s, _, b) = self.call(Method::GET, path, None).await;
        (s, b)
    }
}

/// A 400 in ConnectWise's shape, naming `field` among its errors.
fn assert_rejects_field(status: StatusCode, body: &Value, field: &str) {
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(
        body["code"].is_string() && body["message"].is_string(),
        "{body}"
    );
    let fields: Vec<&str> = body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert!(fields.contains(&field), "{field} not in {fields:?}");
    for e in body["errors"].as_array().unwrap() {
        for key in ["code", "message", "resource", "field"] {
            assert!(e[key].is_string(), "{key} missing in {e}");
        }
    }
}

fn configuration() -> Value {
    json!({ "name": "web-01", "type": {"id": 1}, "company": {"id": 2}, "deviceIdentifier": "agent-1" })
}

#[tokio::test]
async fn authentication_and_client_id_are_required() {
    let api = Api::new().await;
    let url = api.url("system/info");
    let no_auth = api
        .http
        .get(&url)
        .header("clientId", "x")
        .send()
        .await
        .unwrap();
    assert_eq!(no_auth.status(), StatusCode::UNAUTHORIZED);
    let body: Value = no_auth
        .text()
        .await
        .map(|t| serde_json::from_str(&t).unwrap())
        .unwrap();
    assert!(body["code"].is_string() && body["message"].is_string());
    for (user, key) in [
        ("bindery+sandbox-public", "nope"),
        ("bindery+other", "sandbox-private"),
        ("bindery", "sandbox-private"),
        ("other+sandbox-public", "sandbox-private"),
    ] {
        let r = api
            .http
            .get(&url)
            .basic_auth(user, Some(key))
            .header("clientId", "x")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "{user}");
    }
    let r = api
        .http
        .get(&url)
        .header("authorization", "Basic !!!notbase64")
        .header("clientId", "x")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let r = api
        .http
        .get(&url)
        .basic_auth(AUTH.0, Some(AUTH.1))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST, "no clientId");
    let r = api
        .http
        .get(&url)
        .basic_auth("BINDERY+sandbox-public", Some(AUTH.1))
        .header("clientId", "x")
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        StatusCode::OK,
        "company ids are not case-sensitive"
    );
    api.sb.stop().await;
}

#[tokio::test]
async fn bodies_must_be_json_objects_of_the_right_types() {
    let api = Api::new().await;
    let r = api
        .http
        .post(api.url("company/configurations"))
        .basic_auth(AUTH.0, Some(AUTH.1))
        .header("clientId", "x")
        .header("content-type", "text/plain")
        .body(configuration().to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let r = api
        .http
        .post(api.url("company/configurations"))
        .basic_auth(AUTH.0, Some(AUTH.1))
        .header("clientId", "x")
        .header("content-type", "application/json")
        .body("{\"name\": \"trunc")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let (s, _, b) = api
        .call(
            Method::POST,
            "company/configurations",
            Some(json!([configuration()])),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{b}");
    for (field, bad) in [
        ("name", json!(5)),
        ("billFlag", json!("yes")),
        ("company", json!("Acme")),
        ("locationId", json!(1.5)),
        ("questions", json!({})),
    ] {
        let mut body = configuration();
        body[field] = bad;
        let (s, _, b) = api
            .call(Method::POST, "company/configurations", Some(body))
            .await;
        assert_rejects_field(s, &b, field);
    }
    let (s, _, b) = api.call(Method::POST, "company/configurations", Some(json!({"name": "x", "type": {"id": 1}, "company": {"id": 2}, "locationId": 3_000_000_000_i64}))).await;
    assert_rejects_field(s, &b, "locationId"); // int32
    assert!(
        api.sb.sandbox.data().configurations.is_empty(),
        "nothing stored"
    );
    api.sb.stop().await;
}

#[tokio::test]
async fn every_field_limit_of_a_configuration_is_enforced() {
    let api = Api::new().await;
    let limits = [
        ("name", 100),
        ("deviceIdentifier", 100),
        ("serialNumber", 250),
        ("macAddress", 25),
        ("ipAddress", 50),
        ("osType", 250),
        ("osInfo", 250),
        ("cpuSpeed", 100),
        ("ram", 25),
        ("lastLoginName", 100),
    ];
    for (field, max) in limits {
        let mut body = configuration();
        body[field] = json!("x".repeat(max));
        let (s, _, b) = api
            .call(Method::POST, "company/configurations", Some(body.clone()))
            .await;
        assert_eq!(s, StatusCode::CREATED, "{field} at its limit: {b}");
        // One character past the limit, counted in UTF-16 units: 😀 is two.
        body[field] = json!(format!("{}😀", "x".repeat(max - 1)));
        let (s, _, b) = api
            .call(Method::POST, "company/configurations", Some(body))
            .await;
        assert_rejects_field(s, &b, field);
    }
    let mut ticket = json!({"summary": "s".repeat(101), "company": {"id": 2}});
    let (s, _, b) = api
        .call(Method::POST, "service/tickets", Some(ticket.clone()))
        .await;
    assert_rejects_field(s, &b, "summary");
    ticket["summary"] = json!("ok");
    ticket["externalXRef"] = json!("k".repeat(101));
    let (s, _, b) = api
        .call(Method::POST, "service/tickets", Some(ticket))
        .await;
    assert_rejects_field(s, &b, "externalXRef");
    api.sb.stop().await;
}

#[tokio::test]
async fn required_fields_references_and_questions_are_enforced() {
    let api = Api::new().await;
    for field in ["name", "type", "company"] {
        let mut body = configuration();
        body.as_object_mut().unwrap().remove(field);
        let (s, _, b) = api
            .call(Method::POST, "company/configurations", Some(body))
            .await;
        assert_rejects_field(s, &b, field);
    }
    let mut body = configuration();
    body["name"] = json!("   ");
    let (s, _, b) = api
        .call(Method::POST, "company/configurations", Some(body))
        .await;
    assert_rejects_field(s, &b, "name");
    for (field, reference) in [
        ("company", json!({"id": 999})),
        ("type", json!({"id": 999})),
        ("status", json!({"id": 999})),
        ("company", json!({"identifier": "nobody"})),
        ("contact", json!({"id": 999})),
        // Hank Scorpio is Globex's contact, not this company's.
        ("contact", json!({"id": 5})),
    ] {
        let mut body = configuration();
        body[field] = reference;
        let (s, _, b) = api
            .call(Method::POST, "company/configurations", Some(body))
            .await;
        assert_rejects_field(s, &b, field);
    }
    // The Firewall type has a required question.
    let mut body = configuration();
    body["type"] = json!({"name": "Firewall"});
    let (s, _, b) = api
        .call(Method::POST, "company/configurations", Some(body.clone()))
        .await;
    assert_rejects_field(s, &b, "questions");
    assert!(
        b["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("Rack location")
    );
    body["questions"] = json!([{"questionId": 2, "answer": "  "}]);
    let (s, _, b) = api
        .call(Method::POST, "company/configurations", Some(body.clone()))
        .await;
    assert_rejects_field(s, &b, "questions");
    body["questions"] = json!([{"questionId": 2, "answer": "Rack 4, U12"}]);
    let (s, _, _) = api
        .call(Method::POST, "company/configurations", Some(body))
        .await;
    assert_eq!(s, StatusCode::CREATED);

    for missing in ["summary", "company"] {
        let mut t = json!({"summary": "Printer jam", "company": {"id": 2}});
        t.as_object_mut().unwrap().remove(missing);
        let (s, _, b) = api.call(Method::POST, "service/tickets", Some(t)).await;
        assert_rejects_field(s, &b, missing);
    }
    let (s, _, b) = api.call(Method::POST, "service/tickets", Some(json!({"summary": "x", "company": {"id": 2}, "board": {"id": 1}, "status": {"id": 3}}))).await;
    assert_rejects_field(s, &b, "status"); // status 3 belongs to the Self Service board
    api.sb.stop().await;
}

#[tokio::test]
async fn patches_must_be_json_patch_arrays_of_whole_fields() {
    let api = Api::new().await;
    let (_, _, created) = api
        .call(
            Method::POST,
            "company/configurations",
            Some(configuration()),
        )
        .await;
    let path = format!("company/configurations/{}", created["id"]);
    let bad_bodies = [
        json!({"op": "replace", "path": "name", "value": "x"}),
        json!([]),
        json!(["replace name"]),
        json!([{"op": "move", "path": "name", "value": "x"}]),
        json!([{"op": "replace", "value": "x"}]),
    ];
    for body in bad_bodies {
        let (s, _, b) = api.call(Method::PATCH, &path, Some(body.clone())).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{body} → {b}");
    }
    let rejected = [
        ("company/identifier", json!("Globex")), // a path into a reference
        ("Name", json!("x")),                    // paths are case-sensitive
        ("noSuchField", json!("x")),
        ("id", json!(5)),
        ("name", json!("x".repeat(101))),
        ("status", json!({"id": 77})),
    ];
    for (field, value) in rejected {
        let (s, _, b) = api
            .call(
                Method::PATCH,
                &path,
                Some(json!([{"op": "replace", "path": field, "value": value}])),
            )
            .await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{field}: {b}");
    }
    let stored = api
        .sb
        .sandbox
        .data()
        .configurations
        .values()
        .next()
        .unwrap()
        .clone();
    assert_eq!(stored["name"], "web-01", "a refused patch changes nothing");
    assert_eq!(stored["company"]["id"], 2);
    let (s, _, b) = api.call(Method::PATCH, &path, Some(json!([{"op": "replace", "path": "company", "value": {"identifier": "Globex"}}, {"op": "replace", "path": "/name", "value": "web-02"}]))).await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert_eq!(
        (b["company"]["id"].as_i64(), b["name"].as_str()),
        (Some(3), Some("web-02"))
    );
    let (s, _, _) = api
        .call(
            Method::PATCH,
            "company/configurations/999",
            Some(json!([{"op": "replace", "path": "name", "value": "x"}])),
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    api.sb.stop().await;
}

#[tokio::test]
async fn conditions_are_parsed_strictly() {
    let api = Api::new().await;
    let enc = |c: &str| {
        c.replace('%', "%25")
            .replace(' ', "%20")
            .replace('"', "%22")
            .replace('&', "%26")
            .replace('+', "%2B")
    };
    for bad in [
        "name = ",
        "name = Acme",
        "(name = \"Acme\"",
        "name == \"Acme\"",
        "nosuchfield = 1",
        "name = \"Acme\" and",
        "id in ()",
    ] {
        let (s, b) = api
            .get(&format!("company/companies?conditions={}", enc(bad)))
            .await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{bad} → {b}");
    }
    let (s, b) = api
        .get(&format!(
            "company/companies?conditions={}",
            enc("(identifier = \"acme\" or identifier = \"Globex\") and status/name = \"Active\"")
        ))
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(b.as_array().unwrap().len(), 2);
    let (_, b) = api
        .get(&format!(
            "company/companies?conditions={}",
            enc("id in (2, 4) or name like \"Umb*\"")
        ))
        .await;
    assert_eq!(
        b.as_array()
            .unwrap()
            .iter()
            .map(|c| c["id"].as_i64().unwrap())
            .collect::<Vec<_>>(),
        [2, 4, 5]
    );
    let (_, b) = api
        .get(&format!(
            "company/companies/count?conditions={}",
            enc("name not contains \"e\"")
        ))
        .await;
    assert_eq!(b, json!({"count": 0}));
    let (s, _) = api.get("company/companies?childConditions=x").await;
    assert_eq!(
        s,
        StatusCode::BAD_REQUEST,
        "not emulated: refused rather than ignored"
    );
    api.sb.stop().await;
}

#[tokio::test]
async fn lists_page_shape_and_order_as_documented() {
    let api = Api::new().await;
    {
        let mut data = api.sb.sandbox.data();
        for i in 0..1030 {
            data.configurations.insert(json!({"name": format!("pc-{i:04}"), "type": {"id": 1, "name": "Managed Workstation"}, "company": {"id": 2}}));
        }
    }
    let (_, headers, b) = api.call(Method::GET, "company/configurations", None).await;
    assert_eq!(b.as_array().unwrap().len(), 25, "default page size");
    let link = headers["link"].to_str().unwrap();
    assert!(
        link.contains("rel=\"next\"")
            && link.contains("page=2")
            && link.contains("rel=\"last\"")
            && !link.contains("rel=\"prev\""),
        "{link}"
    );
    let (_, headers, b) = api
        .call(
            Method::GET,
            "company/configurations?pageSize=5000&page=2",
            None,
        )
        .await;
    assert_eq!(b.as_array().unwrap().len(), 30, "capped at 1,000 a page");
    let link = headers["link"].to_str().unwrap();
    assert!(
        link.contains("rel=\"prev\"") && !link.contains("rel=\"next\""),
        "{link}"
    );
    let (s, _) = api.get("company/configurations?pageSize=0").await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let (s, _) = api.get("company/configurations?page=x").await;
    assert_eq!(s, StatusCode::BAD_REQUEST);

    let (_, b) = api
        .get("company/configurations?fields=id,name,company/id&orderBy=name%20desc&pageSize=2")
        .await;
    assert_eq!(
        b,
        json!([{"id": 1030, "name": "pc-1029", "company": {"id": 2}}, {"id": 1029, "name": "pc-1028", "company": {"id": 2}}])
    );
    let (s, _) = api.get("company/configurations?orderBy=nosuch%20asc").await;
    assert_eq!(s, StatusCode::BAD_REQUEST);

    // Forward-only: ids after pageId, in id order, Link pointing at the last id returned.
    let forward = |page_id: i64| {
        api.http
            .get(api.url(&format!(
                "company/configurations?pageSize=1000&pageId={page_id}&fields=id"
            )))
            .basic_auth(AUTH.0, Some(AUTH.1))
            .header("clientId", "x")
            .header("pagination-type", "forward-only")
            .send()
    };
    let r = forward(0).await.unwrap();
    let link = r.headers()["link"].to_str().unwrap().to_owned();
    assert!(link.contains("pageId=1000"), "{link}");
    let page: Vec<Value> = r
        .text()
        .await
        .map(|t| serde_json::from_str(&t).unwrap())
        .unwrap();
    assert_eq!((page.len(), page[0]["id"].as_i64()), (1000, Some(1)));
    let page: Vec<Value> = forward(1000)
        .await
        .unwrap()
        .text()
        .await
        .map(|t| serde_json::from_str(&t).unwrap())
        .unwrap();
    assert_eq!((page.len(), page[0]["id"].as_i64()), (30, Some(1001)));
    let r = api
        .http
        .get(api.url("company/configurations?orderBy=name"))
        .basic_auth(AUTH.0, Some(AUTH.1))
        .header("clientId", "x")
        .header("pagination-type", "forward-only")
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        StatusCode::BAD_REQUEST,
        "orderBy is not allowed with forward-only paging"
    );
    let (_, b) = api.get("company/configurations/count").await;
    assert_eq!(b, json!({"count": 1030}));
    api.sb.stop().await;
}

#[tokio::test]
async fn tickets_close_by_status_and_keep_notes_and_links() {
    let api = Api::new().await;
    let (_, _, config) = api
        .call(
            Method::POST,
            "company/configurations",
            Some(configuration()),
        )
        .await;
    let (s, _, t) = api.call(Method::POST, "service/tickets", Some(json!({"summary": "Help", "company": {"id": 2}, "board": {"name": "Self Service"}, "initialDescription": "details"}))).await;
    assert_eq!(s, StatusCode::CREATED);
    assert_eq!(
        (t["status"]["name"].as_str(), t["closedFlag"].as_bool()),
        (Some("New"), Some(false))
    );
    assert!(
        t.get("initialDescription").is_none(),
        "POST-only, never returned"
    );
    let id = t["id"].as_i64().unwrap();
    let (s, _, _) = api
        .call(
            Method::POST,
            &format!("service/tickets/{id}/notes"),
            Some(json!({"text": "no flag"})),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "a note needs one of its flags");
    let (s, _, _) = api
        .call(
            Method::POST,
            &format!("service/tickets/{id}/notes"),
            Some(json!({"detailDescriptionFlag": true})),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "a note needs text");
    let (s, _, _) = api
        .call(
            Method::POST,
            &format!("service/tickets/{id}/configurations"),
            Some(json!({"id": config["id"]})),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED);
    let (s, _, _) = api
        .call(
            Method::POST,
            &format!("service/tickets/{id}/configurations"),
            Some(json!({"id": 999})),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let (s, _, t) = api
        .call(
            Method::PATCH,
            &format!("service/tickets/{id}"),
            Some(json!([{"op": "replace", "path": "status", "value": {"id": 4}}])),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(t["closedFlag"], true);
    assert!(t["closedDate"].is_string());
    let (s, _, _) = api
        .call(
            Method::PATCH,
            &format!("service/tickets/{id}"),
            Some(json!([{"op": "replace", "path": "status", "value": {"id": 2}}])),
        )
        .await;
    assert_eq!(
        s,
        StatusCode::BAD_REQUEST,
        "a Monitoring status on a Self Service ticket"
    );
    api.sb.stop().await;
}

/// Every object the sandbox returns validates against the public schema and holds only fields
/// the schema declares.
#[tokio::test]
async fn every_returned_object_matches_its_schema() {
    let api = Api::new().await;
    let (_, _, config) = api
        .call(
            Method::POST,
            "company/configurations",
            Some(configuration()),
        )
        .await;
    let (_, _, ticket) = api
        .call(
            Method::POST,
            "service/tickets",
            Some(json!({"summary": "x", "company": {"id": 2}, "initialDescription": "d"})),
        )
        .await;
    let tid = ticket["id"].as_i64().unwrap();
    api.call(
        Method::POST,
        &format!("service/tickets/{tid}/notes"),
        Some(json!({"text": "n", "internalAnalysisFlag": true})),
    )
    .await;
    api.call(
        Method::POST,
        &format!("service/tickets/{tid}/configurations"),
        Some(json!({"id": config["id"]})),
    )
    .await;
    api.call(
        Method::PATCH,
        &format!("service/tickets/{tid}"),
        Some(json!([{"op": "replace", "path": "status", "value": {"id": 2}}])),
    )
    .await;
    let lists = [
        ("company/companies", "Company"),
        ("company/configurations", "Company.Configuration"),
        ("company/configurations/types", "ConfigurationType"),
        (
            "company/configurations/types/3/questions",
            "ConfigurationTypeQuestion",
        ),
        ("company/configurations/statuses", "ConfigurationStatus"),
        ("service/boards", "Board"),
        ("service/boards/1/statuses", "BoardStatus"),
        ("service/tickets", "Ticket"),
        (&format!("service/tickets/{tid}/notes"), "ServiceNote"),
        (
            &format!("service/tickets/{tid}/configurations"),
            "ConfigurationReference",
        ),
    ];
    let mut checked = 0;
    for (path, schema_name) in lists {
        let (s, body) = api.get(path).await;
        assert_eq!(s, StatusCode::OK, "{path}");
        let items = body.as_array().unwrap();
        assert!(!items.is_empty(), "{path} returned nothing to check");
        let declared = schema::properties(schema_name);
        for item in items {
            let problems = schema::check(schema_name, item, schema_name);
            assert!(problems.is_empty(), "{path}: {problems:?} in {item}");
            for key in item.as_object().unwrap().keys() {
                assert!(
                    declared.contains(&key.as_str()),
                    "{path}: {key} is not in {schema_name}"
                );
            }
            checked += 1;
        }
    }
    for (path, schema_name) in [
        ("company/companies/2", "Company"),
        (&format!("service/tickets/{tid}") as &str, "Ticket"),
        ("company/configurations/types/1", "ConfigurationType"),
    ] {
        let (_, item) = api.get(path).await;
        assert!(schema::check(schema_name, &item, schema_name).is_empty());
        checked += 1;
    }
    let (_, count) = api.get("company/configurations/count").await;
    assert!(schema::check("Count", &count, "count").is_empty() && count["count"] == 1);
    assert!(checked >= 18, "{checked}");
    api.sb.stop().await;
}

#[tokio::test]
async fn the_client_id_rule_can_be_switched_off() {
    let sb =
        connectwise_sandbox::spawn("127.0.0.1:0".parse().unwrap(), Seed::default_seed(), false)
            .await
            .unwrap();
    let r = http_client()
        .get(format!("{}/v4_6_release/apis/3.0/system/info", sb.url()))
        .basic_auth(AUTH.0, Some(AUTH.1))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    sb.stop().await;
}

/// A plain HTTP client (rustls needs its ring provider installed before any client is built).
fn http_client() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::new()
}
