//! What the sandbox holds when it starts: the default seed (documented in the README) or a JSON
//! file of the same shape.

use serde::Deserialize;
use serde_json::{Value, json};

use crate::store::{Data, Table};
use crate::{finance_seed, inventory_seed, routing_seed};

/// The API member the sandbox accepts (Bindery's), and the member identifier its changes are
/// recorded under (`_info.updatedBy`, a note's `createdBy`).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Credentials {
    pub company_id: String,
    pub public_key: String,
    pub private_key: String,
    #[serde(default = "api_member")]
    pub member_identifier: String,
}

fn api_member() -> String {
    "BinderyAPI".into()
}

impl Default for Credentials {
    fn default() -> Credentials {
        Credentials {
            company_id: "bindery".into(),
            public_key: "sandbox-public".into(),
            private_key: "sandbox-private".into(),
            member_identifier: api_member(),
        }
    }
}

/// A technician: another member with keys of their own, so tests change tickets "as a person"
/// through the same API (ConnectWise records who made each change).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Person {
    pub member_identifier: String,
    pub public_key: String,
    pub private_key: String,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Seed {
    pub credentials: Credentials,
    pub people: Vec<Person>,
    pub companies: Vec<Value>,
    pub sites: Vec<Value>,
    pub contacts: Vec<Value>,
    pub configuration_types: Vec<Value>,
    pub type_questions: Vec<Value>,
    pub configuration_statuses: Vec<Value>,
    pub boards: Vec<Value>,
    pub board_statuses: Vec<Value>,
    pub configurations: Vec<Value>,
    pub tickets: Vec<Value>,
    pub agreements: Vec<Value>,
    pub additions: Vec<Value>,
    pub catalog: Vec<Value>,
    pub board_types: Vec<Value>,
    pub board_subtypes: Vec<Value>,
    pub board_items: Vec<Value>,
    pub board_associations: Vec<Value>,
    pub priorities: Vec<Value>,
    pub sources: Vec<Value>,
    pub manufacturers: Vec<Value>,
    /// The custom fields configurations carry (id, caption, type, entryMethod).
    pub custom_fields: Vec<Value>,
    /// The values list and option questions allow (`question.id`).
    pub question_values: Vec<Value>,
}

/// A site of `company` (its main one when `primary`).
fn site(id: i64, company: i64, name: &str, city: &str, primary: bool) -> Value {
    json!({
        "id": id, "name": name, "city": city, "company": { "id": company },
        "primaryAddressFlag": primary, "inactiveFlag": false,
    })
}

/// A contact of `company` with one e-mail address (and a security identifier when given).
fn contact(
    id: i64,
    company: i64,
    first: &str,
    last: &str,
    email: &str,
    sid: Option<&str>,
) -> Value {
    let mut c = json!({
        "id": id, "firstName": first, "lastName": last, "inactiveFlag": false,
        "company": { "id": company },
        "communicationItems": [{ "type": { "id": 1, "name": "Email" }, "value": email,
                                 "defaultFlag": true, "communicationType": "Email" }],
    });
    if let Some(sid) = sid {
        c["securityIdentifier"] = json!(sid);
    }
    c
}

impl Seed {
    pub fn from_file(path: &std::path::Path) -> Result<Seed, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        serde_json::from_str(&text)
            .map_err(|e| format!("{} is not a sandbox seed: {e}", path.display()))
    }

    pub fn data(&self) -> Data {
        Data {
            companies: Table::from_rows(&self.companies),
            sites: Table::indexed_on(&["company/id"], &self.sites),
            contacts: Table::from_rows(&self.contacts),
            // The server looks configurations up by device and lists them by company.
            configurations: Table::indexed_on(
                &["deviceIdentifier", "company/id"],
                &self.configurations,
            ),
            configuration_types: Table::from_rows(&self.configuration_types),
            type_questions: Table::from_rows(&self.type_questions),
            configuration_statuses: Table::from_rows(&self.configuration_statuses),
            boards: Table::from_rows(&self.boards),
            board_statuses: Table::from_rows(&self.board_statuses),
            tickets: Table::from_rows(&self.tickets),
            agreements: Table::indexed_on(&["company/id"], &self.agreements),
            additions: Table::indexed_on(&["agreementId"], &self.additions),
            catalog: Table::from_rows(&self.catalog),
            board_types: Table::from_rows(&self.board_types),
            board_subtypes: Table::from_rows(&self.board_subtypes),
            board_items: Table::from_rows(&self.board_items),
            board_associations: Table::from_rows(&self.board_associations),
            priorities: Table::from_rows(&self.priorities),
            sources: Table::from_rows(&self.sources),
            manufacturers: Table::from_rows(&self.manufacturers),
            custom_fields: Table::from_rows(&self.custom_fields),
            question_values: Table::indexed_on(&["question/id"], &self.question_values),
            ..Data::default()
        }
    }

    /// Several client companies (Acme with three sites, Globex with one), three configuration types (one with a required question),
    /// Active/Inactive configuration statuses, and the Monitoring and Self Service boards, each
    /// with New and Closed statuses.
    pub fn default_seed() -> Seed {
        let client = json!([{ "id": 1, "name": "Client" }]);
        let active = json!({ "id": 1, "name": "Active" });
        let company = |id: i64, identifier: &str, name: &str| json!({ "id": id, "identifier": identifier, "name": name, "status": active, "types": client, "deletedFlag": false });
        Seed {
            credentials: Credentials::default(),
            people: vec![Person {
                member_identifier: "jtech".into(),
                public_key: "tech-public".into(),
                private_key: "tech-private".into(),
            }],
            companies: vec![
                json!({ "id": 1, "identifier": "Bindery", "name": "Bindery MSP", "status": active,
                        "types": [{ "id": 2, "name": "Owner" }], "deletedFlag": false }),
                company(2, "Acme", "Acme Corporation"),
                company(3, "Globex", "Globex Inc"),
                company(4, "Initech", "Initech"),
                company(5, "Umbrella", "Umbrella Health"),
                company(6, "Mueller", "Müller & Söhne GmbH"),
            ],
            sites: vec![
                site(1, 2, "Main", "Springfield", true),
                site(2, 2, "Berlin Office", "Berlin", false),
                site(3, 2, "Warehouse", "Shelbyville", false),
                site(4, 3, "Main", "Cypress Creek", true),
            ],
            contacts: vec![
                contact(1, 2, "Jane", "Doe", "jane.doe@acme.example", None),
                contact(2, 2, "Ana", "Lima", "ana@acme.example", Some("ACME\\alima")),
                contact(3, 2, "John", "Smith", "jsmith@acme.example", None),
                contact(4, 2, "Joan", "Smith", "joan@acme.example", None),
                contact(5, 3, "Hank", "Scorpio", "hank@globex.example", None),
            ],
            configuration_types: vec![
                json!({ "id": 1, "name": "Managed Workstation", "inactiveFlag": false, "systemFlag": false }),
                json!({ "id": 2, "name": "Managed Server", "inactiveFlag": false, "systemFlag": false }),
                json!({ "id": 3, "name": "Firewall", "inactiveFlag": false, "systemFlag": false }),
            ],
            type_questions: vec![
                json!({ "id": 1, "configurationType": { "id": 1, "name": "Managed Workstation" },
                        "fieldType": "Text", "entryType": "EntryField", "sequenceNumber": 1.0,
                        "question": "Asset tag", "requiredFlag": false, "inactiveFlag": false }),
                json!({ "id": 2, "configurationType": { "id": 3, "name": "Firewall" },
                        "fieldType": "Text", "entryType": "EntryField", "sequenceNumber": 1.0,
                        "question": "Rack location", "requiredFlag": true, "inactiveFlag": false }),
                inventory_seed::list_question(),
            ],
            configuration_statuses: vec![
                json!({ "id": 1, "description": "Active", "closedFlag": false, "defaultFlag": true }),
                json!({ "id": 2, "description": "Inactive", "closedFlag": true, "defaultFlag": false }),
            ],
            boards: vec![
                json!({ "id": 1, "name": "Monitoring", "inactiveFlag": false }),
                json!({ "id": 2, "name": "Self Service", "inactiveFlag": false }),
            ],
            board_statuses: vec![
                json!({ "id": 1, "name": "New", "board": { "id": 1, "name": "Monitoring" }, "sortOrder": 0,
                        "closedStatus": false, "defaultFlag": true, "inactive": false }),
                json!({ "id": 2, "name": "Closed", "board": { "id": 1, "name": "Monitoring" }, "sortOrder": 1,
                        "closedStatus": true, "defaultFlag": false, "inactive": false }),
                json!({ "id": 3, "name": "New", "board": { "id": 2, "name": "Self Service" }, "sortOrder": 0,
                        "closedStatus": false, "defaultFlag": true, "inactive": false }),
                json!({ "id": 4, "name": "Closed", "board": { "id": 2, "name": "Self Service" }, "sortOrder": 1,
                        "closedStatus": true, "defaultFlag": false, "inactive": false }),
            ],
            configurations: Vec::new(),
            tickets: Vec::new(),
            agreements: finance_seed::agreements(),
            additions: finance_seed::additions(),
            catalog: finance_seed::catalog(),
            board_types: routing_seed::types(),
            board_subtypes: routing_seed::subtypes(),
            board_items: routing_seed::items(),
            board_associations: routing_seed::associations(),
            priorities: routing_seed::priorities(),
            sources: routing_seed::sources(),
            manufacturers: inventory_seed::manufacturers(),
            custom_fields: inventory_seed::custom_fields(),
            question_values: inventory_seed::question_values(),
        }
    }
}
