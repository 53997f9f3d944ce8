//! The connection test: connect with the given settings and read what the admin chooses from
//! (boards and their statuses, configuration statuses, types and their required questions).

use connectwise_client::{Client, Error as CwError};
use serde::Serialize;

/// What a successful connection test found, for the admin to choose from.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Catalog {
    pub version: Option<String>,
    pub boards: Vec<BoardChoice>,
    pub configuration_statuses: Vec<Named>,
    pub configuration_types: Vec<TypeChoice>,
    /// Each security area Bindery's features need, probed with one cheap read.
    pub access: Vec<AreaAccess>,
}

/// Whether the API member may read one security area, and what to grant when it may not.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AreaAccess {
    pub area: &'static str,
    /// What it is for.
    pub needed_for: &'static str,
    pub granted: bool,
    /// The security role setting to grant (when not granted).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub grant: Option<&'static str>,
}

/// (area, probe path, what it is for, what to grant in the API member's security role).
const AREAS: [(&str, &str, &str, &str); 8] = [
    (
        "Companies",
        "company/companies/count",
        "linking policies to companies",
        "Companies > Company Maintenance: Inquire",
    ),
    (
        "Contacts",
        "company/contacts/count",
        "naming the user's contact on configurations and tickets",
        "Companies > Contacts: Inquire",
    ),
    (
        "Configurations",
        "company/configurations/count",
        "creating and updating configurations",
        "Companies > Configurations: Add, Edit, Inquire",
    ),
    (
        "Service tickets",
        "service/tickets/count",
        "alert and help-request tickets",
        "Service Desk > Service Tickets: Add, Edit, Inquire; Close Service Tickets",
    ),
    (
        "Ticket notes",
        "service/tickets/1/notes",
        "notes on tickets (repeats, resolutions)",
        "Service Desk > Service Tickets: Add, Edit, Inquire (notes)",
    ),
    (
        "Boards",
        "service/boards/count",
        "choosing boards and their statuses",
        "System > Table Setup: Inquire",
    ),
    (
        "Time entries",
        "time/entries/count",
        "telling whether a person worked a ticket before closing it",
        "Time & Expense > Time Entry: Inquire (all)",
    ),
    (
        "Callbacks",
        "system/callbacks/count",
        "hearing at once when a person closes a ticket (else Bindery polls)",
        "System > Callbacks: Add, Delete, Inquire",
    ),
];

/// Probes every area (one read each).
pub async fn probe_access(client: &Client) -> Result<Vec<AreaAccess>, CwError> {
    let mut out = Vec::new();
    for (area, path, needed_for, grant) in AREAS {
        let granted = client.can_read(path).await?;
        out.push(AreaAccess {
            area,
            needed_for,
            granted,
            grant: (!granted).then_some(grant),
        });
    }
    Ok(out)
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Named {
    pub id: i64,
    pub name: String,
    /// A closed status (board statuses) or an inactive one (configuration statuses).
    pub closed: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BoardChoice {
    pub id: i64,
    pub name: String,
    pub statuses: Vec<Named>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TypeChoice {
    pub id: i64,
    pub name: String,
    /// Active questions that must be answered: a type with any can be chosen only once the
    /// choices answer each (`Choices::answers`).
    pub required_questions: Vec<String>,
    /// The same questions with their ids, which answers name.
    pub questions: Vec<RequiredQuestion>,
}

/// A configuration type's required question.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RequiredQuestion {
    pub id: i64,
    pub question: String,
    /// A list or option question: the active values it allows (its answer must be one of
    /// them). Empty: any text.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub values: Vec<String>,
}

impl RequiredQuestion {
    /// Why `answer` cannot answer this question, if it cannot: a list question takes one of
    /// its values, as a fixed text (a fact could report anything).
    fn wrong_answer(&self, answer: &super::QuestionAnswer) -> Option<String> {
        if self.values.is_empty() {
            return None;
        }
        let listed = format!("({})", self.values.join(", "));
        if answer.fact().is_some() {
            return Some(format!(
                "{:?} (id {}) takes one of its values {listed}, not a fact",
                self.question, self.id
            ));
        }
        let given = answer.answer.trim();
        (!self.values.iter().any(|v| v == given)).then(|| {
            format!(
                "{:?} (id {}) takes one of its values {listed}, not {given:?}",
                self.question, self.id
            )
        })
    }
}

impl TypeChoice {
    /// Why this type cannot be chosen with these answers, if it cannot: a required question
    /// without one, or a list question answered with something it does not allow.
    pub fn refusal(&self, answers: &[super::QuestionAnswer]) -> Option<String> {
        let wrong: Vec<String> = self
            .questions
            .iter()
            .flat_map(|q| {
                answers
                    .iter()
                    .filter(|a| a.type_id == self.id && a.question_id == q.id)
                    .filter_map(|a| q.wrong_answer(a))
            })
            .collect();
        if !wrong.is_empty() {
            return Some(format!(
                "the configuration type {:?} has a question answered with a value it does not \
                 allow: {}",
                self.name,
                wrong.join("; ")
            ));
        }
        let missing: Vec<String> = self
            .questions
            .iter()
            .filter(|q| {
                !answers
                    .iter()
                    .any(|a| a.type_id == self.id && a.question_id == q.id)
            })
            .map(|q| format!("{:?} (id {})", q.question, q.id))
            .collect();
        (!missing.is_empty()).then(|| {
            format!(
                "the configuration type {:?} has required questions without an answer ({}): \
                 answer each (a fixed text, or a fact such as {{serialNumber}}), or choose another \
                 type",
                self.name,
                missing.join(", ")
            )
        })
    }
}

/// Connects with `client` and reads what the admin will choose from. The error says precisely
/// what failed: the host, the codebase (site or company id), the keys (401), or a missing
/// permission (403, naming its area).
pub async fn test_connection(client: &Client) -> Result<Catalog, CwError> {
    client.company_info().await?;
    let info = client.system_info().await?;
    let access = probe_access(client).await?;
    let mut boards = Vec::new();
    for b in client
        .boards()
        .await?
        .into_iter()
        .filter(|b| b.inactive_flag != Some(true))
    {
        let statuses = client
            .board_statuses(b.id)
            .await?
            .into_iter()
            .filter(|s| s.inactive != Some(true))
            .map(|s| Named {
                id: s.id,
                name: s.name,
                closed: s.closed_status == Some(true),
            })
            .collect();
        boards.push(BoardChoice {
            id: b.id,
            name: b.name,
            statuses,
        });
    }
    let configuration_statuses = client
        .configuration_statuses()
        .await?
        .into_iter()
        .map(|s| Named {
            id: s.id,
            name: s.description,
            closed: s.closed_flag == Some(true),
        })
        .collect();
    let configuration_types = configuration_types(client).await?;
    Ok(Catalog {
        access,
        version: info.version,
        boards,
        configuration_statuses,
        configuration_types,
    })
}

/// The active configuration types, each with its required questions (and a list question's
/// values).
async fn configuration_types(client: &Client) -> Result<Vec<TypeChoice>, CwError> {
    let mut out = Vec::new();
    for t in client
        .configuration_types()
        .await?
        .into_iter()
        .filter(|t| t.inactive_flag != Some(true))
    {
        let mut questions = Vec::new();
        for q in client
            .configuration_type_questions(t.id)
            .await?
            .into_iter()
            .filter(|q| q.required_flag == Some(true) && q.inactive_flag != Some(true))
        {
            // One read per list question, the only ones with values.
            let listed = matches!(q.entry_type.as_deref(), Some("List" | "Option"));
            let values = if listed {
                client
                    .configuration_type_question_values(t.id, q.id)
                    .await?
                    .into_iter()
                    .filter(|v| v.inactive_flag != Some(true))
                    .map(|v| v.value)
                    .collect()
            } else {
                Vec::new()
            };
            questions.push(RequiredQuestion {
                id: q.id,
                question: q.question,
                values,
            });
        }
        out.push(TypeChoice {
            id: t.id,
            name: t.name,
            required_questions: questions.iter().map(|q| q.question.clone()).collect(),
            questions,
        });
    }
    Ok(out)
}
