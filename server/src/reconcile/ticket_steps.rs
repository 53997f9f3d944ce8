//! What every ticket step shares (`tickets` and `ticket_close`): whether a step left more to
//! do, its line in the activity log, and what a ticket deleted in ConnectWise becomes.

use connectwise_client::Error as CwError;

use super::job_error::JobError;
use crate::store::{Store, Ticket, TicketState, now_ms};

/// Whether a step left more to do, or ended the ticket's work (deleted in ConnectWise).
pub(super) enum Flow {
    Continue,
    Finished,
}

/// Records a ticket write in the activity log.
pub(super) async fn log<T>(
    store: &Store,
    action: &str,
    t: &Ticket,
    cw_id: Option<i64>,
    result: &Result<T, CwError>,
) {
    let message = result.as_ref().err().map(ToString::to_string);
    store
        .record_activity(
            action,
            &t.summary,
            cw_id,
            message.as_deref().map_or(Ok(()), Err),
        )
        .await;
}

/// The ticket was deleted in ConnectWise: recorded (closed, with why), never recreated.
pub(super) async fn gone(store: &Store, t: &mut Ticket) -> Result<Flow, JobError> {
    if store.ticket_deleted_in_connectwise(t.id).await? {
        store
            .record_activity(
                "ticket.deleted",
                &t.summary,
                t.progress.cw_ticket_id,
                Ok(()),
            )
            .await;
    }
    t.deleted_ms = Some(now_ms());
    t.progress.state = TicketState::Closed;
    Ok(Flow::Finished)
}
