//! Inventory on configurations: a manufacturer of ConnectWise's list only (a write never makes
//! one), custom fields that exist and hold values of their type, a PATCH of `customFields`
//! that replaces the whole array (a field left out is cleared), and answers a list question
//! allows.

use super::*;

#[tokio::test]
async fn a_configuration_names_a_listed_manufacturer_only() {
    let api = Api::new().await;
    let (s, list) = api
        .get("procurement/manufacturers?conditions=name%3D%22LENOVO%22")
        .await;
    assert_eq!(s, StatusCode::OK, "{list}");
    assert_eq!(list[0]["id"], 3, "{list}");
    let (_, count) = api.get("procurement/manufacturers/count").await;
    assert_eq!(count["count"], 6);
    let mut body = configuration();
    body["manufacturer"] = json!({"id": 99});
    let (s, _, b) = api
        .call(Method::POST, "company/configurations", Some(body.clone()))
        .await;
    assert_rejects_field(s, &b, "manufacturer");
    let (_, count) = api.get("procurement/manufacturers/count").await;
    assert_eq!(count["count"], 6, "a write never makes a manufacturer");
    body["manufacturer"] = json!({"id": 3});
    body["modelNumber"] = json!("x".repeat(51));
    let (s, _, b) = api
        .call(Method::POST, "company/configurations", Some(body.clone()))
        .await;
    assert_rejects_field(s, &b, "modelNumber");
    body["modelNumber"] = json!("ThinkPad X1 Carbon 6th");
    let (s, _, made) = api
        .call(Method::POST, "company/configurations", Some(body))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{made}");
    assert_eq!(made["manufacturer"], json!({"id": 3, "name": "LENOVO"}));
    api.sb.stop().await;
}

#[tokio::test]
async fn custom_fields_exist_hold_their_type_and_a_patch_sends_them_all() {
    let api = Api::new().await;
    for (field, bad) in [
        (json!(99), json!("x")),             // no such field
        (json!(1), json!("next year")),      // Warranty Expires: a date-time
        (json!(3), json!("yes")),            // Backed Up: a checkbox
        (json!(2), json!("b".repeat(1001))), // BIOS Version: text up to 1,000
    ] {
        let mut body = configuration();
        body["customFields"] = json!([{"id": field, "value": bad}]);
        let (s, _, b) = api
            .call(Method::POST, "company/configurations", Some(body))
            .await;
        assert_rejects_field(s, &b, "customFields");
    }
    let mut body = configuration();
    body["customFields"] = json!([
        {"id": 1, "value": "2027-01-31T00:00:00Z"},
        {"id": 3, "value": true},
    ]);
    let (s, _, made) = api
        .call(Method::POST, "company/configurations", Some(body))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{made}");
    // Every defined field is listed, with its caption and type; unset ones hold null.
    let fields = made["customFields"].as_array().unwrap();
    assert_eq!(fields.len(), 4, "{made}");
    assert_eq!(fields[1]["caption"], "BIOS Version");
    assert_eq!(fields[1]["value"], Value::Null);
    assert_eq!(fields[2]["value"], true);
    // A PATCH of one field alone clears the others: ConnectWise wants the whole array.
    let id = made["id"].as_i64().unwrap();
    let one =
        json!([{"op": "replace", "path": "customFields", "value": [{"id": 2, "value": "1.18.0"}]}]);
    let (s, _, after) = api
        .call(
            Method::PATCH,
            &format!("company/configurations/{id}"),
            Some(one),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{after}");
    let values: Vec<&Value> = after["customFields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| &f["value"])
        .collect();
    assert_eq!(
        values,
        [&Value::Null, &json!("1.18.0"), &Value::Null, &Value::Null]
    );
    api.sb.stop().await;
}

#[tokio::test]
async fn a_list_question_takes_one_of_its_active_values() {
    let api = Api::new().await;
    let (s, values) = api
        .get("company/configurations/types/1/questions/3/values")
        .await;
    assert_eq!(s, StatusCode::OK, "{values}");
    assert_eq!(values.as_array().unwrap().len(), 4);
    // Question 3 is Managed Workstation's: not under another type.
    let (s, _) = api
        .get("company/configurations/types/2/questions/3/values")
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    for answer in ["Marketing", "Legacy"] {
        let mut body = configuration();
        body["questions"] = json!([{"questionId": 3, "answer": answer}]);
        let (s, _, b) = api
            .call(Method::POST, "company/configurations", Some(body))
            .await;
        assert_rejects_field(s, &b, "questions");
    }
    let mut body = configuration();
    body["questions"] = json!([{"questionId": 3, "answer": "Finance"}]);
    let (s, _, made) = api
        .call(Method::POST, "company/configurations", Some(body))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{made}");
    api.sb.stop().await;
}
