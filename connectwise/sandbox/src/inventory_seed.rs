//! The default seed's inventory lookups: ConnectWise's manufacturer list, the custom fields
//! configurations carry, and the values a list question allows.

use serde_json::{Value, json};

/// A few makers, as an MSP's list holds them (one retired).
pub fn manufacturers() -> Vec<Value> {
    [
        (1, "Dell Inc.", false),
        (2, "HP", false),
        (3, "LENOVO", false),
        (4, "Apple Inc.", false),
        (5, "Microsoft Corporation", false),
        (6, "Compaq", true),
    ]
    .into_iter()
    .map(|(id, name, inactive)| json!({ "id": id, "name": name, "inactiveFlag": inactive }))
    .collect()
}

/// The custom fields every configuration has (`Setup Tables > User Defined Fields`).
pub fn custom_fields() -> Vec<Value> {
    let field = |id: i64, caption: &str, kind: &str, entry: &str| {
        json!({ "id": id, "caption": caption, "type": kind, "entryMethod": entry,
                "numberOfDecimals": 0 })
    };
    vec![
        field(1, "Warranty Expires", "Date", "Date"),
        field(2, "BIOS Version", "Text", "EntryField"),
        field(3, "Backed Up", "Checkbox", "EntryField"),
        field(4, "OS Installed", "Text", "EntryField"),
    ]
}

/// Question 3 (Managed Workstation, "Department"): a list question that is not required.
pub fn list_question() -> Value {
    json!({ "id": 3, "configurationType": { "id": 1, "name": "Managed Workstation" },
            "fieldType": "Text", "entryType": "List", "sequenceNumber": 2.0,
            "question": "Department", "requiredFlag": false, "inactiveFlag": false })
}

/// The values question 3 allows (one retired).
pub fn question_values() -> Vec<Value> {
    [
        (1, "Finance", false),
        (2, "Engineering", false),
        (3, "Sales", false),
        (4, "Legacy", true),
    ]
    .into_iter()
    .map(|(id, value, inactive)| {
        json!({ "id": id, "value": value, "defaultFlag": false, "inactiveFlag": inactive,
                "configurationType": { "id": 1 }, "question": { "id": 3 } })
    })
    .collect()
}
