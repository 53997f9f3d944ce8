//! The default seed's agreements and products: Acme has a managed-services agreement with a
//! child agreement for its Berlin office and a cancelled one, Globex one agreement; the catalog
//! has a product per device class and an inactive one. Acme's agreement already bills ten
//! workstations (an addition someone made by hand, for billing to adopt).

use serde_json::{Value, json};

fn agreement(id: i64, company: i64, name: &str, parent: Option<i64>, cancelled: bool) -> Value {
    let mut a = json!({
        "id": id, "name": name,
        "type": { "id": 1, "name": "Managed Services" },
        "company": { "id": company },
        "contact": { "id": if company == 2 { 1 } else { 5 } },
        "startDate": "2026-01-01T00:00:00Z", "noEndingDateFlag": true,
        "cancelledFlag": cancelled,
        "agreementStatus": if cancelled { "Cancelled" } else { "Active" },
        "billingCycle": { "id": 1, "name": "Monthly" },
        "prorateFlag": false,
    });
    if let Some(p) = parent {
        a["parentAgreement"] = json!({ "id": p });
    }
    a
}

pub fn agreements() -> Vec<Value> {
    vec![
        agreement(1, 2, "Acme Managed Services", None, false),
        agreement(2, 2, "Acme Berlin Office", Some(1), false),
        agreement(3, 2, "Acme Legacy Support", None, true),
        agreement(4, 3, "Globex Managed Services", None, false),
    ]
}

pub fn additions() -> Vec<Value> {
    vec![json!({
        "id": 1, "agreementId": 1,
        "product": { "id": 1, "identifier": "MANAGED-WS" },
        "quantity": 10.0, "billedQuantity": 10.0, "billCustomer": "Billable",
        "unitPrice": 45.0, "effectiveDate": "2026-01-01T00:00:00Z", "agreementStatus": "Active",
    })]
}

fn product(id: i64, identifier: &str, description: &str, inactive: bool) -> Value {
    json!({
        "id": id, "identifier": identifier, "description": description,
        "customerDescription": description, "inactiveFlag": inactive,
        "subcategory": { "id": 1, "name": "Managed Services" },
        "type": { "id": 1, "name": "Service" },
        "recurringFlag": true, "price": 45.0, "cost": 0.0,
    })
}

pub fn catalog() -> Vec<Value> {
    vec![
        product(1, "MANAGED-WS", "Managed workstation", false),
        product(2, "MANAGED-SRV", "Managed server", false),
        product(3, "MANAGED-LEGACY", "Managed device (old)", true),
    ]
}
