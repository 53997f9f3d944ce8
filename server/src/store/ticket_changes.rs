//! What people do to Bindery's tickets in ConnectWise, as callbacks and polling report it: a
//! ticket closed by a person acknowledges its alert (or closes its help request); a ticket
//! deleted is recorded and never recreated. Also the callback messages already taken, so a
//! message sent twice acts once.

use super::{Result, Store, is_unique_violation, now_ms};
use crate::ids::{IntegrationId, TicketId};

/// How long a taken callback's message id is remembered (ConnectWise's redeliveries come
/// within minutes; a day is ample).
const MESSAGE_MEMORY_MS: i64 = 86_400_000;

impl Store {
    /// Bindery's ticket with this ConnectWise id in this instance.
    pub async fn ticket_by_cw_id(
        &self,
        integration: IntegrationId,
        cw_ticket_id: i64,
    ) -> Result<Option<TicketId>> {
        let row: Option<(TicketId,)> = sqlx::query_as(
            "SELECT id FROM tickets WHERE cw_ticket_id = $1 AND integration_id = $2 ORDER BY id LIMIT 1",
        )
        .bind(cw_ticket_id)
        .bind(integration)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|(id,)| id))
    }

    /// A page of the tickets open in an instance (by Bindery's id, after `after`): (Bindery's
    /// id, ConnectWise's id). What polling reads.
    pub async fn open_cw_tickets(
        &self,
        integration: IntegrationId,
        after: i64,
        limit: i64,
    ) -> Result<Vec<(TicketId, i64)>> {
        Ok(sqlx::query_as(
            "SELECT id, cw_ticket_id FROM tickets WHERE state = 'open' AND cw_ticket_id IS NOT NULL \
             AND deleted_ms IS NULL AND integration_id = $3 AND id > $1 ORDER BY id LIMIT $2",
        )
        .bind(after)
        .bind(limit)
        .bind(integration)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Takes a callback message once: false when its id was taken already (a redelivery).
    pub async fn take_callback_message(&self, message_id: &str) -> Result<bool> {
        let now = now_ms();
        let taken =
            sqlx::query("INSERT INTO callback_messages (message_id, received_ms) VALUES ($1, $2)")
                .bind(message_id)
                .bind(now)
                .execute(&self.pool)
                .await;
        match taken {
            Ok(_) => Ok(true),
            Err(e) if is_unique_violation(&e) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    /// Forgets callback message ids older than a day; returns how many.
    pub async fn purge_callback_messages(&self) -> Result<u64> {
        Ok(
            sqlx::query("DELETE FROM callback_messages WHERE received_ms < $1")
                .bind(now_ms() - MESSAGE_MEMORY_MS)
                .execute(&self.pool)
                .await?
                .rows_affected(),
        )
    }

    /// A person closed the ticket in ConnectWise: recorded as closed by them, with nothing
    /// left for Bindery to write; its open alert becomes acknowledged (a help request's ticket
    /// closing closes the request). False when it was not open (already known, or Bindery's).
    pub async fn ticket_closed_by_person(&self, id: TicketId, member: &str) -> Result<bool> {
        let mut tx = self.begin_write().await?;
        let now = now_ms();
        let changed = sqlx::query(
            "UPDATE tickets SET state = 'closed', closed_by = $1, closed_ms = $2, want_closed = 1, \
             repeat_note = NULL, reopen_note = NULL, error = NULL, updated_ms = $2 \
             WHERE id = $3 AND state IN ('pending', 'open') AND closed_by IS NULL",
        )
        .bind(member)
        .bind(now)
        .bind(id)
        .execute(&mut *tx)
        .await?;
        if changed.rows_affected() == 0 {
            return Ok(false);
        }
        sqlx::query(
            "UPDATE alerts SET state = 'acknowledged', end_note = $1, updated_ms = $2 \
             WHERE ticket_id = $3 AND state = 'open'",
        )
        .bind(format!(
            "Acknowledged: {member} closed the ticket in ConnectWise."
        ))
        .bind(now)
        .bind(id)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(true)
    }

    /// The ticket was deleted in ConnectWise: recorded, never recreated. False when known.
    pub async fn ticket_deleted_in_connectwise(&self, id: TicketId) -> Result<bool> {
        let now = now_ms();
        let changed = sqlx::query(
            "UPDATE tickets SET state = 'closed', deleted_ms = $1, want_closed = 1, repeat_note = NULL, \
             reopen_note = NULL, error = 'the ticket was deleted in ConnectWise', updated_ms = $1 \
             WHERE id = $2 AND deleted_ms IS NULL",
        )
        .bind(now)
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(changed.rows_affected() > 0)
    }

    /// The repeat note was added: cleared unless a newer one was asked meanwhile.
    pub async fn repeat_note_added(&self, id: TicketId, note: &str) -> Result<()> {
        sqlx::query("UPDATE tickets SET repeat_note = NULL WHERE id = $1 AND repeat_note = $2")
            .bind(id)
            .bind(note)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// The ticket was reopened: open again, with its close forgotten.
    pub async fn ticket_reopened(&self, id: TicketId, note: &str) -> Result<()> {
        sqlx::query(
            "UPDATE tickets SET state = 'open', reopen_note = NULL, closed_ms = NULL, left_open = 0, \
             close_started_ms = NULL, error = NULL, updated_ms = $1 WHERE id = $2 AND reopen_note = $3",
        )
        .bind(now_ms())
        .bind(id)
        .bind(note)
        .execute(&self.pool)
        .await?;
        Ok(())
    }
}
