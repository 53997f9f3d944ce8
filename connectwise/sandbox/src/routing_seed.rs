//! The default seed's ticket routing lookups: each board's types, subtypes and items, the
//! combinations the board allows, and the priorities and sources every ticket may name.

use serde_json::{Value, json};

fn on_board(id: i64, name: &str, board: i64) -> Value {
    json!({ "id": id, "name": name, "inactiveFlag": false, "board": { "id": board } })
}

/// Monitoring (1): Alert and Maintenance; Self Service (2): Help.
pub fn types() -> Vec<Value> {
    vec![
        on_board(1, "Alert", 1),
        on_board(2, "Maintenance", 1),
        on_board(3, "Help", 2),
    ]
}

pub fn subtypes() -> Vec<Value> {
    vec![
        on_board(1, "Disk", 1),
        on_board(2, "Memory", 1),
        on_board(3, "Offline", 1),
        on_board(4, "Hardware", 2),
        on_board(5, "Software", 2),
    ]
}

pub fn items() -> Vec<Value> {
    vec![
        on_board(1, "Server", 1),
        on_board(2, "Workstation", 1),
        on_board(3, "Printer", 2),
    ]
}

fn allows(id: i64, board: i64, kind: i64, sub: Option<i64>, item: Option<i64>) -> Value {
    let mut a = json!({ "id": id, "board": { "id": board }, "type": { "id": kind } });
    if let Some(s) = sub {
        a["subType"] = json!({ "id": s });
    }
    if let Some(i) = item {
        a["item"] = json!({ "id": i });
    }
    a
}

/// What each board allows: a type alone, or with a subtype, or with a subtype and an item.
pub fn associations() -> Vec<Value> {
    vec![
        allows(1, 1, 1, None, None),
        allows(2, 1, 1, Some(1), None),
        allows(3, 1, 1, Some(1), Some(1)),
        allows(4, 1, 1, Some(1), Some(2)),
        allows(5, 1, 1, Some(2), None),
        allows(6, 1, 1, Some(3), Some(1)),
        allows(7, 1, 1, Some(3), Some(2)),
        allows(8, 1, 2, None, None),
        allows(9, 2, 3, None, None),
        allows(10, 2, 3, Some(4), Some(3)),
        allows(11, 2, 3, Some(5), None),
    ]
}

pub fn priorities() -> Vec<Value> {
    let p = |id: i64, name: &str, color: &str, default: bool| json!({ "id": id, "name": name, "color": color, "sortOrder": id, "defaultFlag": default });
    vec![
        p(1, "Priority 1 - Critical", "red", false),
        p(2, "Priority 2 - High", "orange", false),
        p(3, "Priority 3 - Normal Response", "green", true),
        p(4, "Priority 4 - Schedule Maintenance", "blue", false),
    ]
}

pub fn sources() -> Vec<Value> {
    let s = |id: i64, name: &str, default: bool| json!({ "id": id, "name": name, "defaultFlag": default });
    vec![
        s(1, "Email", false),
        s(2, "Phone", true),
        s(3, "Monitoring", false),
    ]
}
