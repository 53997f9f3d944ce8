//! `cw.poll_tickets`: read the status of every ticket Bindery has open in ConnectWise (1,000
//! per request), where callbacks cannot reach this server (`ticket_watch.rs`).

use serde::{Deserialize, Serialize};

use super::JobKind;
use crate::ids::IntegrationId;
use crate::reconcile::job_error::JobError;
use crate::reconcile::{Engine, ticket_watch};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PollTickets {
    /// The instance whose tickets are read (payloads from before there were several: the first).
    #[serde(default = "IntegrationId::first")]
    pub integration: IntegrationId,
}

impl JobKind for PollTickets {
    const KIND: &'static str = "cw.poll_tickets";

    fn dedupe_key(&self) -> String {
        if self.integration == IntegrationId::FIRST {
            "poll-tickets".into()
        } else {
            format!("poll-tickets:{}", self.integration)
        }
    }

    async fn process(self, engine: &Engine, _attempts: i64) -> Result<(), JobError> {
        let client = engine.shared_client(self.integration).await?;
        let done = ticket_watch::poll(&engine.store, &client, self.integration).await?;
        tracing::info!(
            integration = %self.integration,
            tickets = done.tickets,
            requests = done.requests,
            "ticket statuses polled"
        );
        Ok(())
    }
}
