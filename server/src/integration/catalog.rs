//! The connection test: connect with the given settings and read what the admin chooses from
//! (boards and their statuses, configuration statuses, types and their required questions).

use connectwise_client::{Client, Error as CwError};
use serde::Serialize;

/// What a successful connection test found, for the admin to choose from.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Catalog {
    pub version: Option<String>,
    pub boards: Vec<BoardChoice>,
    pub configuration_statuses: Vec<Named>,
    pub configuration_types: Vec<TypeChoice>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Named {
    pub id: i64,
    pub name: String,
    /// A closed status (board statuses) or an inactive one (configuration statuses).
    pub closed: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BoardChoice {
    pub id: i64,
    pub name: String,
    pub statuses: Vec<Named>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TypeChoice {
    pub id: i64,
    pub name: String,
    /// Active questions that must be answered: a type with any cannot be chosen, since Bindery
    /// has no answers to give.
    pub required_questions: Vec<String>,
}

impl TypeChoice {
    /// Why this type cannot be chosen, if it cannot.
    pub fn refusal(&self) -> Option<String> {
        (!self.required_questions.is_empty()).then(|| {
            format!(
                "the configuration type {:?} has required questions ({}): Bindery cannot answer them, so choose another type",
                self.name,
                self.required_questions.join(", ")
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
    let mut configuration_types = Vec::new();
    for t in client
        .configuration_types()
        .await?
        .into_iter()
        .filter(|t| t.inactive_flag != Some(true))
    {
        let required_questions = client
            .configuration_type_questions(t.id)
            .await?
            .into_iter()
            .filter(|q| q.required_flag == Some(true) && q.inactive_flag != Some(true))
            .map(|q| q.question)
            .collect();
        configuration_types.push(TypeChoice {
            id: t.id,
            name: t.name,
            required_questions,
        });
    }
    Ok(Catalog {
        version: info.version,
        boards,
        configuration_statuses,
        configuration_types,
    })
}
