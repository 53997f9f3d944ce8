//! Help requests from machines' users. The agent chooses each request's id, so sending one again
//! (a lost reply, a retry) finds the first, never makes a second ticket.

use sqlx::Row;
use sqlx::any::AnyRow;

use super::conditions::{Arg, Conditions};
use super::tickets::{self, BRIEF_COLUMNS, NewTicket, TicketBrief, brief_from_row};
use super::{NewJob, Result, Store, StoreError, is_unique_violation, now_ms};
use crate::ids::{DeviceId, TicketId};

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct HelpRequest {
    pub id: i64,
    pub device_id: DeviceId,
    pub agent_id: String,
    pub request_id: String,
    pub user_name: Option<String>,
    pub summary: String,
    pub details: Option<String>,
    pub created_ms: i64,
    pub ticket: Option<TicketBrief>,
    pub no_ticket_reason: Option<String>,
}

/// A request as the agent sent it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewHelpRequest {
    pub device_id: DeviceId,
    pub request_id: String,
    pub user_name: Option<String>,
    pub summary: String,
    pub details: Option<String>,
    /// The ticket to open, or why there is none.
    pub ticket: std::result::Result<NewTicket, String>,
}

const COLUMNS: &str = "h.id, h.device_id, d.agent_id, h.request_id, h.user_name, h.summary, h.details, h.created_ms, h.no_ticket_reason";
const FROM: &str = "FROM help_requests h JOIN devices d ON d.id = h.device_id LEFT JOIN tickets t ON t.id = h.ticket_id";

fn from_row(r: &AnyRow) -> std::result::Result<HelpRequest, sqlx::Error> {
    Ok(HelpRequest {
        id: r.try_get("id")?,
        device_id: r.try_get("device_id")?,
        agent_id: r.try_get("agent_id")?,
        request_id: r.try_get("request_id")?,
        user_name: r.try_get("user_name")?,
        summary: r.try_get("summary")?,
        details: r.try_get("details")?,
        created_ms: r.try_get("created_ms")?,
        ticket: brief_from_row(r)?,
        no_ticket_reason: r.try_get("no_ticket_reason")?,
    })
}

impl Store {
    /// Stores a help request and queues its ticket, or returns the one stored under the same
    /// request id.
    pub async fn record_help(
        &self,
        req: &NewHelpRequest,
        job: &(dyn Fn(TicketId) -> NewJob + Sync),
    ) -> Result<HelpRequest> {
        if let Some(known) = self.help_request(req.device_id, &req.request_id).await? {
            return Ok(known);
        }
        let stored = async {
            let mut tx = self.begin_write().await?;
            let (ticket_id, reason) = match &req.ticket {
                Ok(t) => (Some(tickets::insert_ticket(&mut tx, t, job).await?), None),
                Err(reason) => (None, Some(reason.clone())),
            };
            sqlx::query(
                "INSERT INTO help_requests (device_id, request_id, user_name, summary, details, ticket_id, no_ticket_reason, created_ms) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(req.device_id)
            .bind(&req.request_id)
            .bind(&req.user_name)
            .bind(&req.summary)
            .bind(&req.details)
            .bind(ticket_id)
            .bind(reason)
            .bind(now_ms())
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            Ok::<(), StoreError>(())
        }
        .await;
        match stored {
            // The same request sent twice at once: the other one stored it.
            Err(StoreError::Database(e)) if is_unique_violation(&e) => {}
            other => other?,
        }
        self.help_request(req.device_id, &req.request_id)
            .await?
            .ok_or(StoreError::NotFound("help request"))
    }

    pub async fn help_request(
        &self,
        device_id: DeviceId,
        request_id: &str,
    ) -> Result<Option<HelpRequest>> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS}, {BRIEF_COLUMNS} {FROM} WHERE h.device_id = $1 AND h.request_id = $2"
        )))
        .bind(device_id)
        .bind(request_id)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.as_ref().map(from_row).transpose()?)
    }

    /// A device's help requests still open (their ticket neither closed nor asked to close).
    pub async fn open_help_count(&self, device_id: DeviceId) -> Result<i64> {
        let (n,): (i64,) = sqlx::query_as(
            "SELECT COUNT(*) FROM help_requests h JOIN tickets t ON t.id = h.ticket_id \
             WHERE h.device_id = $1 AND t.want_closed = 0 AND t.state IN ('pending', 'open')",
        )
        .bind(device_id)
        .fetch_one(&self.pool)
        .await?;
        Ok(n)
    }

    pub async fn help_request_by_id(&self, id: i64) -> Result<Option<HelpRequest>> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS}, {BRIEF_COLUMNS} {FROM} WHERE h.id = $1"
        )))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.as_ref().map(from_row).transpose()?)
    }

    /// The device's own request whose ticket has this ConnectWise number.
    pub async fn help_request_by_ticket(
        &self,
        device_id: DeviceId,
        number: i64,
    ) -> Result<Option<HelpRequest>> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS}, {BRIEF_COLUMNS} {FROM} WHERE h.device_id = $1 AND t.cw_ticket_id = $2"
        )))
        .bind(device_id)
        .bind(number)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.as_ref().map(from_row).transpose()?)
    }

    /// Asks for a request's ticket to be closed with `note`; a conflict when it has no ticket
    /// or the close was asked for already.
    pub async fn close_help(
        &self,
        id: i64,
        note: &str,
        job: &(dyn Fn(TicketId) -> NewJob + Sync),
    ) -> Result<Option<HelpRequest>> {
        let Some(req) = self.help_request_by_id(id).await? else {
            return Ok(None);
        };
        let Some(ticket) = &req.ticket else {
            return Err(StoreError::Conflict(
                "the request has no ticket to close".into(),
            ));
        };
        let mut tx = self.begin_write().await?;
        let asked = tickets::want_closed(&mut tx, ticket.id, note, job).await?;
        tx.commit().await?;
        if !asked {
            return Err(StoreError::Conflict(
                "the request's ticket is closed or closing already".into(),
            ));
        }
        self.help_request_by_id(id).await
    }

    /// A page of help requests, newest first, and how many match in all: only the filters in
    /// use, and only the page's rows joined.
    pub async fn help_requests(
        &self,
        device_id: Option<DeviceId>,
        open_only: bool,
        limit: i64,
        offset: i64,
    ) -> Result<(Vec<HelpRequest>, i64)> {
        let mut c = Conditions::default();
        if let Some(device) = device_id {
            let n = c.param(Arg::Int(device.into()));
            c.push(format!("h.device_id = {n}"));
        }
        if open_only {
            c.push("h.ticket_id IN (SELECT id FROM tickets WHERE want_closed = 0)");
        }
        let (rows, total) = c
            .newest_page(
                &self.pool,
                ("help_requests", "h"),
                &format!("{COLUMNS}, {BRIEF_COLUMNS}"),
                "JOIN devices d ON d.id = h.device_id LEFT JOIN tickets t ON t.id = h.ticket_id",
                (limit, offset),
            )
            .await?;
        let list = rows
            .iter()
            .map(from_row)
            .collect::<std::result::Result<_, _>>()?;
        Ok((list, total))
    }
}
