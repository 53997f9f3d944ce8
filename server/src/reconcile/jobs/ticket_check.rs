//! `cw.ticket_check`: re-read one ticket that ConnectWise said changed, and act on what a person
//! did (`ticket_watch.rs`).

use serde::{Deserialize, Serialize};

use super::JobKind;
use crate::ids::TicketId;
use crate::reconcile::job_error::JobError;
use crate::reconcile::{Engine, ticket_watch};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TicketCheck {
    pub ticket_id: TicketId,
}

impl JobKind for TicketCheck {
    const KIND: &'static str = "cw.ticket_check";

    fn dedupe_key(&self) -> String {
        format!("ticket-check:{}", self.ticket_id)
    }

    async fn process(self, engine: &Engine, _attempts: i64) -> Result<(), JobError> {
        let Some(ticket) = engine.store.ticket(self.ticket_id).await? else {
            return Ok(());
        };
        let client = engine.shared_client(ticket.integration_id).await?;
        ticket_watch::check(&engine.store, &client, self.ticket_id).await
    }
}
