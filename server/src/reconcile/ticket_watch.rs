//! Watching Bindery's tickets in ConnectWise: a ticket a callback names is re-read before
//! anything is done (a callback's body is only a hint), and every open ticket's status is read
//! by polling, a thousand per request. A ticket closed by a person (not by Bindery's own API
//! member) acknowledges its alert or closes its help request; a ticket gone is recorded as
//! deleted and never recreated.

use connectwise_client::model::Ticket as CwTicket;
use connectwise_client::{Client, Error as CwError, TICKETS_PER_SEARCH};

use super::job_error::JobError;
use crate::ids::{IntegrationId, TicketId};
use crate::store::{Store, Ticket, TicketState};

pub use crate::integration::LAST_TICKET_POLL;

/// Re-reads one ticket and acts on what a person did to it.
pub(super) async fn check(
    store: &Store,
    client: &Client,
    ticket_id: TicketId,
) -> Result<(), JobError> {
    let Some(t) = store.ticket(ticket_id).await? else {
        return Ok(());
    };
    let Some(cw) = t.progress.cw_ticket_id else {
        return Ok(());
    };
    if t.deleted_ms.is_some() || t.closed_by.is_some() {
        return Ok(());
    }
    let current = match client.get_ticket(cw).await {
        Ok(c) => Some(c),
        Err(CwError::NotFound { .. }) => None,
        Err(e) => return Err(e.into()),
    };
    observe(store, &t, current.as_ref()).await
}

/// Acts on a ticket as ConnectWise has it now (`None`: deleted).
async fn observe(store: &Store, t: &Ticket, current: Option<&CwTicket>) -> Result<(), JobError> {
    let Some(c) = current else {
        if store.ticket_deleted_in_connectwise(t.id).await? {
            tracing::info!(ticket = %t.id, "ticket deleted in ConnectWise");
            store
                .record_activity(
                    "ticket.deleted",
                    &t.summary,
                    t.progress.cw_ticket_id,
                    Ok(()),
                )
                .await;
        }
        return Ok(());
    };
    let open_here = matches!(t.progress.state, TicketState::Open | TicketState::Pending);
    if c.closed_flag != Some(true) || !open_here {
        return Ok(());
    }
    // Bindery's own member created the ticket; a close by that member is Bindery's own (its
    // close step records it), never a person's.
    let info = c.info.clone().unwrap_or_default();
    let by_person = match (&info.updated_by, &info.entered_by) {
        (Some(by), Some(bindery)) => !by.eq_ignore_ascii_case(bindery),
        _ => false,
    };
    if !by_person {
        return Ok(());
    }
    let who = info.updated_by.unwrap_or_default();
    if store.ticket_closed_by_person(t.id, &who).await? {
        tracing::info!(ticket = %t.id, member = %crate::logged::escaped(&who, 100), "ticket closed by a person in ConnectWise");
        store
            .record_activity(
                "ticket.closed_in_connectwise",
                &t.summary,
                t.progress.cw_ticket_id,
                Ok(()),
            )
            .await;
    }
    Ok(())
}

/// What one poll did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PollOutcome {
    pub tickets: usize,
    pub requests: usize,
}

/// Reads the status of every ticket Bindery has open in ConnectWise, a thousand per request,
/// and acts on those closed or gone.
pub(super) async fn poll(
    store: &Store,
    client: &Client,
    integration: IntegrationId,
) -> Result<PollOutcome, JobError> {
    let mut out = PollOutcome::default();
    let mut after = 0i64;
    loop {
        let page = store
            .open_cw_tickets(integration, after, TICKETS_PER_SEARCH as i64)
            .await?;
        let Some((last, _)) = page.last() else {
            break;
        };
        after = i64::from(*last);
        let ids: Vec<i64> = page.iter().map(|(_, cw)| *cw).collect();
        let found = client.tickets_by_ids(&ids).await?;
        out.requests += 1;
        out.tickets += page.len();
        for (id, cw) in &page {
            let current = found.iter().find(|c| c.id == *cw);
            if current.is_some_and(|c| c.closed_flag != Some(true)) {
                continue;
            }
            if let Some(t) = store.ticket(*id).await? {
                observe(store, &t, current).await?;
            }
        }
        if page.len() < TICKETS_PER_SEARCH {
            break;
        }
    }
    Ok(out)
}

impl super::Engine {
    /// Queues a poll of each integration's open tickets' statuses when one is due: every
    /// `poll_minutes` without callbacks, hourly (a backstop for lost messages) with them.
    pub(super) async fn schedule_ticket_polls(&self, now: i64) {
        match self.store.integrations().await {
            Ok(all) => {
                for i in all {
                    self.schedule_ticket_poll(i.id, now).await;
                }
            }
            Err(e) => tracing::warn!(error = %e, "cannot list the integrations to poll"),
        }
    }

    async fn schedule_ticket_poll(&self, integration: IntegrationId, now: i64) {
        let last_poll = crate::integration::setting_name(integration, LAST_TICKET_POLL);
        let due = async {
            let Some(choices) = crate::integration::choices(&self.store, integration).await? else {
                return Ok::<bool, JobError>(false);
            };
            let registered = super::callbacks::status(&self.store, integration)
                .await?
                .registered;
            let minutes = if registered {
                60
            } else {
                i64::from(choices.tickets.poll_minutes.max(1))
            };
            let last = self
                .store
                .setting(&last_poll)
                .await?
                .and_then(|v| v.parse::<i64>().ok())
                .unwrap_or(0);
            if now - last < minutes * 60_000 {
                return Ok(false);
            }
            self.store.put_setting(&last_poll, &now.to_string()).await?;
            self.store
                .enqueue(&super::queue::poll_tickets_job(integration))
                .await?;
            Ok(true)
        };
        match due.await {
            Ok(true) => tracing::debug!(%integration, "ticket poll queued"),
            Ok(false) => {}
            Err(e) => {
                tracing::warn!(%integration, error = %e.message(), "cannot queue the ticket poll")
            }
        }
    }
}
