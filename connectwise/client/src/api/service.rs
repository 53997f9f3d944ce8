use reqwest::Method;

use crate::conditions::{Condition, Op};
use crate::http::{Call, Client};
use crate::model::{
    Board, BoardStatus, ConfigurationReference, NewTicket, PatchOp, ServiceNote, Ticket, TimeEntry,
};
use crate::{Error, ListQuery};

const TICKET_FIELDS: &str = "id,summary,board,status,company,closedFlag,externalXRef,_info";
/// Ids per search: the `id in (…)` of a thousand tickets goes in a body, not a URL.
pub const TICKETS_PER_SEARCH: usize = 1000;

impl Client {
    pub async fn boards(&self) -> Result<Vec<Board>, Error> {
        self.all("service/boards", "name asc").await
    }

    pub async fn board_statuses(&self, board_id: i64) -> Result<Vec<BoardStatus>, Error> {
        self.all(
            &format!("service/boards/{board_id}/statuses"),
            "sortOrder asc",
        )
        .await
    }

    pub async fn create_ticket(&self, ticket: &NewTicket) -> Result<Ticket, Error> {
        self.send(&Call::with_body(Method::POST, "service/tickets", ticket)?)
            .await?
            .json()
    }

    pub async fn get_ticket(&self, id: i64) -> Result<Ticket, Error> {
        let path = format!("service/tickets/{id}");
        let mut call = Call::get(&path);
        call.query = vec![("fields", TICKET_FIELDS.to_owned())];
        self.get(call).await
    }

    /// Tickets carrying Bindery's key in `externalXRef` (how a retry finds a ticket whose
    /// creation reply was lost). The key must be a safe identifier.
    pub async fn find_tickets_by_external_ref(&self, key: &str) -> Result<Vec<Ticket>, Error> {
        let query =
            ListQuery::filter(Condition::text("externalXRef", Op::Eq, key)?).fields(TICKET_FIELDS);
        let mut call = Call::get("service/tickets");
        call.query = query.pairs(false);
        self.get(call).await
    }

    pub async fn patch_ticket(&self, id: i64, ops: &[PatchOp]) -> Result<Ticket, Error> {
        let path = format!("service/tickets/{id}");
        self.send(&Call::with_body(Method::PATCH, &path, &ops)?)
            .await?
            .json()
    }

    /// Moves a ticket to a board status; a status with `closedStatus` closes the ticket.
    pub async fn set_ticket_status(&self, id: i64, status_id: i64) -> Result<Ticket, Error> {
        self.patch_ticket(id, &[PatchOp::replace_reference("status", status_id)])
            .await
    }

    /// Adds a note to the ticket's discussion (or its internal analysis).
    pub async fn add_ticket_note(
        &self,
        ticket_id: i64,
        text: &str,
        internal: bool,
    ) -> Result<ServiceNote, Error> {
        let note = ServiceNote {
            id: None,
            text: text.to_owned(),
            detail_description_flag: Some(!internal),
            internal_analysis_flag: Some(internal),
            // Bindery's internal notes (a repeat count) mail nobody.
            process_notifications: internal.then_some(false),
            created_by: None,
        };
        let path = format!("service/tickets/{ticket_id}/notes");
        self.send(&Call::with_body(Method::POST, &path, &note)?)
            .await?
            .json()
    }

    /// The tickets among `ids` that still exist (at most [`TICKETS_PER_SEARCH`] ids: one
    /// request), through `POST /service/tickets/search`.
    pub async fn tickets_by_ids(&self, ids: &[i64]) -> Result<Vec<Ticket>, Error> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        if ids.len() > TICKETS_PER_SEARCH {
            return Err(Error::Unexpected {
                message: format!("at most {TICKETS_PER_SEARCH} tickets per search"),
            });
        }
        let body = serde_json::json!({ "conditions": Condition::int_in("id", ids)?.as_str() });
        let mut call = Call::with_body(Method::POST, "service/tickets/search", &body)?;
        call.query = vec![
            ("fields", TICKET_FIELDS.to_owned()),
            ("pageSize", TICKETS_PER_SEARCH.to_string()),
        ];
        self.send(&call).await?.json()
    }

    /// Time logged on a ticket (by anyone).
    pub async fn ticket_time_entries(&self, ticket_id: i64) -> Result<Vec<TimeEntry>, Error> {
        let query = ListQuery::filter(
            Condition::int("chargeToId", Op::Eq, ticket_id)?.and(Condition::text(
                "chargeToType",
                Op::Eq,
                "ServiceTicket",
            )?),
        )
        .fields("id,member");
        let mut call = Call::get("time/entries");
        call.query = query.pairs(false);
        self.get(call).await
    }

    pub async fn ticket_notes(&self, ticket_id: i64) -> Result<Vec<ServiceNote>, Error> {
        self.all(&format!("service/tickets/{ticket_id}/notes"), "id asc")
            .await
    }

    /// Attaches a configuration to a ticket.
    pub async fn attach_configuration(
        &self,
        ticket_id: i64,
        configuration_id: i64,
    ) -> Result<ConfigurationReference, Error> {
        let body = ConfigurationReference {
            id: Some(configuration_id),
            device_identifier: None,
        };
        let path = format!("service/tickets/{ticket_id}/configurations");
        self.send(&Call::with_body(Method::POST, &path, &body)?)
            .await?
            .json()
    }

    pub async fn ticket_configurations(
        &self,
        ticket_id: i64,
    ) -> Result<Vec<ConfigurationReference>, Error> {
        let path = format!("service/tickets/{ticket_id}/configurations");
        let mut call = Call::get(&path);
        call.query = vec![("pageSize", "1000".to_owned())];
        self.get(call).await
    }
}
