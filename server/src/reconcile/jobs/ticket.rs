//! `cw.ticket`: bring one ticket in line with what Bindery wants of it (open, attached,
//! closed); `tickets.rs` carries it out. Urgent: a person waits for a ticket, while bindings
//! are bulk work that a few seconds' delay does not hurt.

use serde::{Deserialize, Serialize};

use super::JobKind;
use crate::ids::TicketId;
use crate::integration;
use crate::reconcile::job_error::JobError;
use crate::reconcile::{Engine, tickets};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TicketWork {
    pub ticket_id: TicketId,
}

impl JobKind for TicketWork {
    const KIND: &'static str = "cw.ticket";
    const URGENT: bool = true;

    fn dedupe_key(&self) -> String {
        format!("ticket:{}", self.ticket_id)
    }

    async fn process(self, engine: &Engine, _attempts: i64) -> Result<(), JobError> {
        let Some(ticket) = engine.store.ticket(self.ticket_id).await? else {
            return Ok(()); // removed (its device was deleted): nothing to do
        };
        let instance = engine.instance(ticket.integration_id).await;
        let contacts = instance.as_ref().map(|i| i.contacts.clone()).ok();
        let connection = async {
            let choices = integration::choices(&engine.store, ticket.integration_id)
                .await?
                .ok_or_else(|| {
                    JobError::Permanent(
                        "choose the ticket boards and statuses in the ConnectWise settings first"
                            .into(),
                    )
                })?;
            Ok((instance?.client, choices))
        }
        .await;
        let contacts = contacts.unwrap_or_default();
        tickets::work(&engine.store, connection, self.ticket_id, &contacts).await
    }
}
