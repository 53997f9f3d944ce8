//! How one alert event changes the store: a raise opens an alert and its ticket (or reopens
//! the ticket of the same alert, recently closed), or counts a repeat on the active one with at
//! most one note an hour on its ticket; a resolve ends the active alert and asks for its ticket
//! to close. Called inside the transaction of the device's batch.

use super::tickets;
use super::tickets::NewTicket;
use super::{NewJob, Result, now_ms};
use crate::ids::{AlertId, DeviceId, TicketId};

/// One raise or resolve to record.
#[derive(Clone, Debug, PartialEq)]
pub struct AlertInput {
    /// The agent's sequence number; `None` for the server's own alerts ("offline").
    pub seq: Option<i64>,
    pub monitor_id: String,
    pub subject: String,
    pub raised: bool,
    pub at_ms: i64,
    pub summary: String,
    pub detail: Option<String>,
    pub value: Option<f64>,
    /// For a raise: the ticket to open, or why there is none.
    pub ticket: std::result::Result<NewTicket, String>,
    /// For a resolve: the note the ticket closes with.
    pub note: String,
    /// For a raise: reopen the ticket of the same alert if Bindery closed it less than this
    /// long ago (0: never), with this note.
    pub reopen_within_ms: i64,
    pub reopen_note: String,
    /// A raise of a monitor the device's policy does not run: its sequence number is taken,
    /// nothing else.
    pub refused: bool,
    /// For a raise inside a maintenance window: when it ends. The alert opens no ticket until
    /// then (nor reopens one); released then if still raised.
    pub held_until_ms: Option<i64>,
}

/// At most one "still failing" note an hour on a ticket.
pub const REPEAT_NOTE_EVERY_MS: i64 = 3_600_000;

/// The internal note a repeat asks for.
fn still_failing_note(raised_ms: i64, times: i64, value: Option<f64>) -> String {
    let last = value
        .map(|v| format!(", last value {v:.1}"))
        .unwrap_or_default();
    format!(
        "Still failing since {}: raised {times} times{last}. (Bindery)",
        bindery_shared::time::utc_text(raised_ms)
    )
}

/// One alert event: a raise opens an alert (and its ticket, or reopens the ticket of the same
/// alert recently closed) or counts a repeat of the active one (with at most one note an hour
/// on its ticket); a resolve ends the active one and asks for its ticket to close.
pub(super) async fn apply_event(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    device_id: DeviceId,
    e: &AlertInput,
    job: &(dyn Fn(TicketId) -> NewJob + Sync),
) -> Result<()> {
    if e.refused {
        return Ok(());
    }
    let active: Option<(AlertId, Option<TicketId>, String, i64, i64)> = sqlx::query_as(
        "SELECT id, ticket_id, state, raised_ms, repeats FROM alerts \
         WHERE device_id = $1 AND monitor_id = $2 AND subject = $3 AND state IN ('open', 'acknowledged')",
    )
    .bind(device_id)
    .bind(&e.monitor_id)
    .bind(&e.subject)
    .fetch_optional(&mut **tx)
    .await?;
    let now = now_ms();
    match (e.raised, active) {
        (true, Some((id, ticket_id, state, raised_ms, repeats))) => {
            sqlx::query(
                "UPDATE alerts SET repeats = repeats + 1, value = $1, detail = COALESCE($2, detail), updated_ms = $3 WHERE id = $4",
            )
            .bind(e.value)
            .bind(&e.detail)
            .bind(now)
            .bind(id)
            .execute(&mut **tx)
            .await?;
            // Acknowledged by a person: repeats are counted, nothing more.
            if let (Some(t), "open") = (ticket_id, state.as_str()) {
                let note = still_failing_note(raised_ms, repeats + 2, e.value);
                ask_repeat_note(tx, t, &note, now, job).await?;
            }
        }
        (true, None) => {
            let reopened = match (&e.ticket, e.held_until_ms) {
                (Ok(_), None) => reopen_recent(tx, device_id, e, now, job).await?,
                _ => None,
            };
            let (ticket_id, reason) = match (&e.ticket, reopened) {
                _ if e.held_until_ms.is_some() => (None, None),
                (_, Some(t)) => (Some(t), None),
                (Ok(t), None) => (Some(tickets::insert_ticket(tx, t, job).await?), None),
                (Err(reason), None) => (None, Some(reason.clone())),
            };
            sqlx::query(
                "INSERT INTO alerts (device_id, monitor_id, subject, state, summary, detail, value, raised_ms, \
                 ticket_id, no_ticket_reason, created_ms, updated_ms, held_until_ms, held_ms) \
                 VALUES ($1, $2, $3, 'open', $4, $5, $6, $7, $8, $9, $10, $10, $11, $12)",
            )
            .bind(device_id)
            .bind(&e.monitor_id)
            .bind(&e.subject)
            .bind(&e.summary)
            .bind(&e.detail)
            .bind(e.value)
            .bind(e.at_ms)
            .bind(ticket_id)
            .bind(reason)
            .bind(now)
            .bind(e.held_until_ms)
            .bind(e.held_until_ms.map(|_| now))
            .execute(&mut **tx)
            .await?;
        }
        (false, Some((id, ticket_id, _, _, _))) => {
            sqlx::query(
                "UPDATE alerts SET state = 'resolved', ended_ms = $1, end_note = $2, value = COALESCE($3, value), updated_ms = $4 WHERE id = $5",
            )
            .bind(e.at_ms)
            .bind(&e.note)
            .bind(e.value)
            .bind(now)
            .bind(id)
            .execute(&mut **tx)
            .await?;
            if let Some(t) = ticket_id {
                tickets::want_closed(tx, t, &e.note, job).await?;
            }
        }
        // Resolving what is not active (it was closed by a person meanwhile): nothing to do.
        (false, None) => {}
    }
    Ok(())
}

/// Asks for a "still failing" note on an open ticket, unless one was asked within the hour.
async fn ask_repeat_note(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    ticket_id: TicketId,
    note: &str,
    now: i64,
    job: &(dyn Fn(TicketId) -> NewJob + Sync),
) -> Result<()> {
    let asked = sqlx::query(
        "UPDATE tickets SET repeat_note = $1, repeat_noted_ms = $2, updated_ms = $2 \
         WHERE id = $3 AND state IN ('pending', 'open') AND want_closed = 0 AND deleted_ms IS NULL \
         AND (repeat_noted_ms IS NULL OR repeat_noted_ms <= $4)",
    )
    .bind(note)
    .bind(now)
    .bind(ticket_id)
    .bind(now - REPEAT_NOTE_EVERY_MS)
    .execute(&mut **tx)
    .await?;
    if asked.rows_affected() > 0 {
        super::jobs::enqueue_in(tx, &job(ticket_id)).await?;
    }
    Ok(())
}

/// The ticket of the same alert (device, monitor, subject) that Bindery closed, or left open
/// with a note, within the reopen window: asked to reopen with the input's note. Never one a
/// person closed or deleted in ConnectWise.
async fn reopen_recent(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    device_id: DeviceId,
    e: &AlertInput,
    now: i64,
    job: &(dyn Fn(TicketId) -> NewJob + Sync),
) -> Result<Option<TicketId>> {
    if e.reopen_within_ms <= 0 {
        return Ok(None);
    }
    let recent: Option<(TicketId,)> = sqlx::query_as(
        "SELECT t.id FROM alerts a JOIN tickets t ON t.id = a.ticket_id \
         WHERE a.device_id = $1 AND a.monitor_id = $2 AND a.subject = $3 AND a.state = 'resolved' \
         AND t.closed_ms >= $4 AND t.closed_by IS NULL AND t.deleted_ms IS NULL AND t.want_closed = 1 \
         ORDER BY a.id DESC LIMIT 1",
    )
    .bind(device_id)
    .bind(&e.monitor_id)
    .bind(&e.subject)
    .bind(now - e.reopen_within_ms)
    .fetch_optional(&mut **tx)
    .await?;
    let Some((ticket_id,)) = recent else {
        return Ok(None);
    };
    sqlx::query(
        "UPDATE tickets SET want_closed = 0, close_note = NULL, reopen_note = $1, repeat_note = NULL, \
         repeat_noted_ms = NULL, updated_ms = $2 WHERE id = $3",
    )
    .bind(&e.reopen_note)
    .bind(now)
    .bind(ticket_id)
    .execute(&mut **tx)
    .await?;
    super::jobs::enqueue_in(tx, &job(ticket_id)).await?;
    Ok(Some(ticket_id))
}
