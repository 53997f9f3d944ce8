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
        let connection = async {
            let choices = integration::choices(&engine.store).await?.ok_or_else(|| {
                JobError::Permanent(
                    "choose the ticket boards and statuses in the ConnectWise settings first"
                        .into(),
                )
            })?;
            Ok((engine.shared_client().await?, choices))
        }
        .await;
        tickets::work(&engine.store, connection, self.ticket_id, &engine.contacts).await
    }
}
