//! A company's sites: listed and counted under their company only, and a configuration or a
//! ticket may name a site of its own company only.

use super::*;

#[tokio::test]
async fn sites_are_listed_under_their_company_only() {
    let api = Api::new().await;
    let (s, acme) = api.get("company/companies/2/sites").await;
    assert_eq!(s, StatusCode::OK, "{acme}");
    let names: Vec<&str> = acme
        .as_array()
        .unwrap()
        .iter()
        .map(|site| site["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Main", "Berlin Office", "Warehouse"]);
    let (_, count) = api.get("company/companies/2/sites/count").await;
    assert_eq!(count["count"], 3);
    let (_, found) = api
        .get("company/companies/2/sites?conditions=name%20like%20%22Berlin%25%22")
        .await;
    assert_eq!(found.as_array().unwrap().len(), 1, "{found}");
    let (s, site) = api.get("company/companies/2/sites/2").await;
    assert_eq!(
        (s, site["name"].as_str()),
        (StatusCode::OK, Some("Berlin Office"))
    );
    // Globex's main site is not Acme's; no company 999 has sites.
    let (s, _) = api.get("company/companies/2/sites/4").await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, _) = api.get("company/companies/999/sites").await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    api.sb.stop().await;
}

#[tokio::test]
async fn configurations_and_tickets_name_a_site_of_their_own_company_only() {
    let api = Api::new().await;
    // Site 4 is Globex's; site 99 does not exist.
    for site in [json!({"id": 4}), json!({"id": 99})] {
        let mut body = configuration();
        body["site"] = site.clone();
        let (s, _, b) = api
            .call(Method::POST, "company/configurations", Some(body))
            .await;
        assert_rejects_field(s, &b, "site");
        let ticket = json!({"summary": "x", "company": {"id": 2}, "site": site});
        let (s, _, b) = api
            .call(Method::POST, "service/tickets", Some(ticket))
            .await;
        assert_rejects_field(s, &b, "site");
    }
    let mut body = configuration();
    body["site"] = json!({"id": 2});
    let (s, _, made) = api
        .call(Method::POST, "company/configurations", Some(body))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{made}");
    assert_eq!(made["site"], json!({"id": 2, "name": "Berlin Office"}));
    let id = made["id"].as_i64().unwrap();
    // Moving the configuration to Globex while it keeps Acme's site is refused, and changes
    // nothing.
    let moved = json!([{"op": "replace", "path": "company", "value": {"id": 3}}]);
    let (s, _, b) = api
        .call(
            Method::PATCH,
            &format!("company/configurations/{id}"),
            Some(moved),
        )
        .await;
    assert_rejects_field(s, &b, "site");
    let (_, kept) = api.get(&format!("company/configurations/{id}")).await;
    assert_eq!(kept["company"]["id"], 2);
    let ticket = json!({"summary": "x", "company": {"id": 2}, "site": {"id": 3}});
    let (s, _, t) = api
        .call(Method::POST, "service/tickets", Some(ticket))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{t}");
    assert_eq!(t["site"], json!({"id": 3, "name": "Warehouse"}));
    api.sb.stop().await;
}
