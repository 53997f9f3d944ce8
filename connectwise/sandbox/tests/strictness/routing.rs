//! Ticket routing: each board's types, subtypes and items and the combinations it allows, and
//! the priorities and sources; a ticket naming another board's, or a combination its board does
//! not list, is refused.

use super::*;

#[tokio::test]
async fn a_board_lists_its_own_types_subtypes_items_and_combinations() {
    let api = Api::new().await;
    let names = |v: &Value| -> Vec<String> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|r| r["name"].as_str().unwrap().to_owned())
            .collect()
    };
    let (s, types) = api.get("service/boards/1/types").await;
    assert_eq!(
        (s, names(&types)),
        (StatusCode::OK, vec!["Alert".into(), "Maintenance".into()])
    );
    let (_, subtypes) = api.get("service/boards/2/subtypes").await;
    assert_eq!(names(&subtypes), ["Hardware", "Software"]);
    let (_, items) = api.get("service/boards/1/items").await;
    assert_eq!(names(&items), ["Server", "Workstation"]);
    let (_, allowed) = api
        .get("service/boards/2/typeSubTypeItemAssociations")
        .await;
    assert_eq!(allowed.as_array().unwrap().len(), 3, "{allowed}");
    let (_, priorities) = api.get("service/priorities").await;
    assert_eq!(priorities.as_array().unwrap().len(), 4);
    let (_, sources) = api
        .get("service/sources?conditions=name%3D%22Monitoring%22")
        .await;
    assert_eq!(names(&sources), ["Monitoring"]);
    let (s, _) = api.get("service/boards/9/types").await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    api.sb.stop().await;
}

#[tokio::test]
async fn a_ticket_names_only_its_board_s_routing_and_an_allowed_combination() {
    let api = Api::new().await;
    let ticket = |extra: Value| {
        let mut t = json!({"summary": "Disk / 4% free", "company": {"id": 2}, "board": {"id": 1}});
        for (k, v) in extra.as_object().unwrap() {
            t[k] = v.clone();
        }
        t
    };
    for (field, extra) in [
        // Help is Self Service's type; Hardware its subtype.
        ("type", json!({"type": {"id": 3}})),
        ("subType", json!({"type": {"id": 1}, "subType": {"id": 4}})),
        ("item", json!({"type": {"id": 1}, "item": {"id": 99}})),
        // Memory has no item on this board.
        (
            "type",
            json!({"type": {"id": 1}, "subType": {"id": 2}, "item": {"id": 1}}),
        ),
        ("type", json!({"subType": {"id": 1}})),
        ("priority", json!({"priority": {"id": 9}})),
        ("source", json!({"source": {"id": 9}})),
        ("severity", json!({"severity": "Urgent"})),
    ] {
        let (s, _, b) = api
            .call(Method::POST, "service/tickets", Some(ticket(extra)))
            .await;
        assert_rejects_field(s, &b, field);
    }
    let routed = json!({"type": {"id": 1}, "subType": {"id": 1}, "item": {"id": 1},
        "priority": {"id": 2}, "source": {"id": 3}, "severity": "High", "impact": "Medium"});
    let (s, _, made) = api
        .call(Method::POST, "service/tickets", Some(ticket(routed)))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{made}");
    assert_eq!(
        (
            &made["type"]["name"],
            &made["subType"]["name"],
            &made["item"]["name"]
        ),
        (&json!("Alert"), &json!("Disk"), &json!("Server"))
    );
    assert_eq!(made["priority"]["name"], "Priority 2 - High");
    // Moved to Self Service with Monitoring's type: refused, and nothing changes.
    let id = made["id"].as_i64().unwrap();
    let moved = json!([{"op": "replace", "path": "board", "value": {"id": 2}},
        {"op": "replace", "path": "status", "value": {"id": 3}}]);
    let (s, _, b) = api
        .call(Method::PATCH, &format!("service/tickets/{id}"), Some(moved))
        .await;
    assert_rejects_field(s, &b, "type");
    let (_, kept) = api.get(&format!("service/tickets/{id}")).await;
    assert_eq!(kept["board"]["id"], 1);
    api.sb.stop().await;
}
