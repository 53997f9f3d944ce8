//! How the sandbox answers: lists, tickets, schemas, and the client id rule.

use super::*;

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
        ("company/companies/2/sites", "Company.Site"),
        ("finance/agreements", "Agreement"),
        ("finance/agreements/1/additions", "Addition"),
        ("procurement/catalog", "CatalogItem"),
        ("service/boards/1/types", "BoardType"),
        ("service/boards/1/subtypes", "BoardSubType"),
        ("service/boards/1/items", "BoardItem"),
        (
            "service/boards/1/typeSubTypeItemAssociations",
            "BoardTypeSubTypeItemAssociation",
        ),
        ("service/priorities", "Priority"),
        ("service/sources", "Source"),
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
