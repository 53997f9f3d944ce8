//! Agreements, additions, covered configurations and the catalog: what billing by device count
//! reads and writes, refused where the real API refuses (or where refusing is the safe side of
//! what nothing public settles).

use super::*;

impl Api {
    /// Asks agreement `agreement` to cover `config`.
    async fn cover(
        &self,
        agreement: i64,
        config: &Value,
    ) -> (StatusCode, reqwest::header::HeaderMap, Value) {
        let path = format!("finance/agreements/{agreement}/configurations");
        self.call(Method::POST, &path, Some(json!({"id": config["id"]})))
            .await
    }
}

#[tokio::test]
async fn agreements_and_products_are_listed_with_conditions() {
    let api = Api::new().await;
    let (s, acme) = api
        .get("finance/agreements?conditions=company%2Fid%3D2%20and%20cancelledFlag%3Dfalse")
        .await;
    assert_eq!(s, StatusCode::OK, "{acme}");
    let names: Vec<&str> = acme
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Acme Managed Services", "Acme Berlin Office"]);
    assert_eq!(acme[1]["parentAgreement"]["id"], 1, "a child agreement");
    let (_, product) = api
        .get("procurement/catalog?conditions=identifier%3D%22MANAGED-SRV%22")
        .await;
    assert_eq!(product[0]["id"], 2, "{product}");
    let (_, existing) = api.get("finance/agreements/1/additions").await;
    assert_eq!(existing[0]["quantity"], 10.0, "{existing}");
    let (s, _) = api.get("finance/agreements/99/additions").await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    // Agreement 4's additions are not agreement 1's.
    let (s, _) = api.get("finance/agreements/4/additions/1").await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    api.sb.stop().await;
}

#[tokio::test]
async fn an_addition_needs_an_active_product_and_a_billing_choice_and_leaves_billed_alone() {
    let api = Api::new().await;
    let add = |body: Value| api.call(Method::POST, "finance/agreements/1/additions", Some(body));
    let good = json!({"product": {"id": 2}, "billCustomer": "Billable", "quantity": 3});
    for (field, change) in [
        ("product", json!({"product": null})),
        ("billCustomer", json!({"billCustomer": null})),
        ("billCustomer", json!({"billCustomer": "Sometimes"})),
        ("product", json!({"product": {"id": 99}})),
        ("product", json!({"product": {"id": 3}})),
        ("billedQuantity", json!({"billedQuantity": 3})),
        ("agreementId", json!({"agreementId": 4})),
        ("quantity", json!({"quantity": "three"})),
    ] {
        let mut body = good.clone();
        for (k, v) in change.as_object().unwrap() {
            body[k] = v.clone();
        }
        let (s, _, b) = add(body).await;
        assert_rejects_field(s, &b, field);
    }
    // A cancelled agreement takes nothing.
    let (s, _, b) = api
        .call(
            Method::POST,
            "finance/agreements/3/additions",
            Some(good.clone()),
        )
        .await;
    assert_rejects_field(s, &b, "agreementId");

    let (s, _, made) = add(json!({"product": {"identifier": "MANAGED-SRV"}, "billCustomer": "Billable", "quantity": 3})).await;
    assert_eq!(s, StatusCode::CREATED, "{made}");
    assert_eq!(
        (
            &made["product"]["id"],
            &made["agreementId"],
            &made["billedQuantity"]
        ),
        (&json!(2), &json!(1), &json!(0))
    );
    let id = made["id"].as_i64().unwrap();
    let path = format!("finance/agreements/1/additions/{id}");
    let set = |q: Value| json!([{"op": "replace", "path": "quantity", "value": q}]);
    let (s, _, changed) = api.call(Method::PATCH, &path, Some(set(json!(5)))).await;
    assert_eq!((s, &changed["quantity"]), (StatusCode::OK, &json!(5)));
    let billed = json!([{"op": "replace", "path": "billedQuantity", "value": 5}]);
    let (s, _, b) = api.call(Method::PATCH, &path, Some(billed)).await;
    assert_rejects_field(s, &b, "billedQuantity");
    let (_, kept) = api.get(&path).await;
    assert_eq!(kept["quantity"], 5, "a refused patch changes nothing");
    let (_, count) = api.get("finance/agreements/1/additions/count").await;
    assert_eq!(count["count"], 2);
    let (s, _, _) = api.call(Method::DELETE, &path, None).await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (s, _) = api.get(&path).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    api.sb.stop().await;
}

#[tokio::test]
async fn an_agreement_covers_configurations_of_its_own_company_once() {
    let api = Api::new().await;
    let (_, _, acme) = api
        .call(
            Method::POST,
            "company/configurations",
            Some(configuration()),
        )
        .await;
    let mut globex = configuration();
    globex["company"] = json!({"id": 3});
    globex["deviceIdentifier"] = json!("agent-2");
    let (_, _, globex) = api
        .call(Method::POST, "company/configurations", Some(globex))
        .await;
    let (s, _, b) = api.cover(1, &globex).await;
    assert_rejects_field(s, &b, "id");
    let (s, _, b) = api.cover(1, &json!({"id": 999})).await;
    assert_rejects_field(s, &b, "id");
    let (s, _, _) = api.cover(1, &acme).await;
    assert_eq!(s, StatusCode::CREATED);
    let (s, _, b) = api.cover(1, &acme).await;
    assert_rejects_field(s, &b, "id");
    let (_, covered) = api.get("finance/agreements/1/configurations").await;
    assert_eq!(covered.as_array().unwrap().len(), 1, "{covered}");
    let id = acme["id"].as_i64().unwrap();
    let path = format!("finance/agreements/1/configurations/{id}");
    let (s, _, _) = api.call(Method::DELETE, &path, None).await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (s, _, _) = api.call(Method::DELETE, &path, None).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    api.sb.stop().await;
}
