//! What the sandbox refuses in a request: authentication, bodies, limits, references, patches, conditions.

use super::*;

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
