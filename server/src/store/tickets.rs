//! Tickets Bindery opens in ConnectWise for alerts and help requests, as the job runner last
//! recorded them. What Bindery wants (`want_closed`) is set by alerts and people; what
//! ConnectWise holds (`state`, the ticket id, the attached configuration) only by the runner.

use sqlx::Row;
use sqlx::any::AnyRow;

use super::{NewJob, Result, Store, now_ms};
use crate::ids::{CompanyId, ConfigurationId, DeviceId, IntegrationId, TicketId};

/// Which of the two chosen boards a ticket goes on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub enum TicketBoard {
    Monitoring,
    SelfService,
}

impl TicketBoard {
    pub fn as_str(self) -> &'static str {
        match self {
            TicketBoard::Monitoring => "monitoring",
            TicketBoard::SelfService => "self_service",
        }
    }

    fn parse(s: &str) -> TicketBoard {
        if s == "self_service" {
            TicketBoard::SelfService
        } else {
            TicketBoard::Monitoring
        }
    }
}

/// Where a ticket stands in ConnectWise.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub enum TicketState {
    /// Not created yet (queued, or retrying after a transient error: see `error`).
    Pending,
    Open,
    Closed,
    /// ConnectWise refused it; it waits for a person or a settings change.
    Failed,
}

impl TicketState {
    pub fn as_str(self) -> &'static str {
        match self {
            TicketState::Pending => "pending",
            TicketState::Open => "open",
            TicketState::Closed => "closed",
            TicketState::Failed => "failed",
        }
    }

    pub(crate) fn parse(s: &str) -> TicketState {
        match s {
            "open" => TicketState::Open,
            "closed" => TicketState::Closed,
            "failed" => TicketState::Failed,
            _ => TicketState::Pending,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Ticket {
    pub id: TicketId,
    pub device_id: Option<DeviceId>,
    pub board: TicketBoard,
    /// The ConnectWise instance it is opened in (its policy's when it was opened).
    pub integration_id: IntegrationId,
    pub company_id: CompanyId,
    /// The company's site the ticket carries (the device's policy's, when it was opened).
    pub site_id: Option<i64>,
    pub summary: String,
    pub description: String,
    pub contact_name: Option<String>,
    /// Where its routing rule sent it (none: the kind's board from the choices).
    pub route: Option<TicketRoute>,
    pub want_closed: bool,
    pub close_note: Option<String>,
    /// A "still failing" note to add (asked at most once an hour).
    pub repeat_note: Option<String>,
    /// The alert came back after the ticket was closed: reopen it with this note.
    pub reopen_note: Option<String>,
    /// What people did in ConnectWise: closed it (their member identifier), or deleted it.
    pub closed_by: Option<String>,
    pub deleted_ms: Option<i64>,
    pub progress: TicketProgress,
    pub created_ms: i64,
}

/// What the runner records as it goes: each step is saved before the next is tried, so a
/// retry picks up where the last attempt stopped.
#[derive(Clone, Debug, PartialEq)]
pub struct TicketProgress {
    pub state: TicketState,
    pub error: Option<String>,
    pub cw_ticket_id: Option<i64>,
    pub attached_configuration_id: Option<ConfigurationId>,
    /// When a create was first sent: a retry looks for the ticket before sending another.
    pub create_started_ms: Option<i64>,
    /// When the configuration's attach was first sent: a retry lists the ticket's
    /// configurations before sending another.
    pub attach_started_ms: Option<i64>,
    /// When the closing note was first sent: a retry looks for the note before adding another.
    pub close_started_ms: Option<i64>,
    /// When Bindery finished closing it, and whether the board's close rule left it open with
    /// a note instead (a person had worked it).
    pub closed_ms: Option<i64>,
    pub left_open: bool,
}

/// Where a routing rule sent a ticket, as it was opened: a rule changed later leaves it alone.
#[derive(
    Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "camelCase")]
pub struct TicketRoute {
    /// The rule's name.
    pub rule: String,
    pub board_id: i64,
    pub open_status_id: i64,
    pub closed_status_id: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub type_id: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subtype_id: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub item_id: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority_id: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_id: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub severity: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub impact: Option<String>,
}

/// A ticket to open.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewTicket {
    pub device_id: DeviceId,
    pub board: TicketBoard,
    pub integration_id: IntegrationId,
    pub company_id: CompanyId,
    pub site_id: Option<i64>,
    pub summary: String,
    pub description: String,
    pub contact_name: Option<String>,
    /// The routing rule's route; none: the kind's board from the choices.
    pub route: Option<TicketRoute>,
}

/// The part of a ticket lists show next to an alert or a help request.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TicketBrief {
    pub id: TicketId,
    pub state: TicketState,
    /// The ConnectWise ticket number, once created.
    pub number: Option<i64>,
    pub error: Option<String>,
    pub want_closed: bool,
    /// Closed in ConnectWise by this person (not by Bindery).
    pub closed_by: Option<String>,
    /// Deleted in ConnectWise (when Bindery learnt it).
    pub deleted_ms: Option<i64>,
    /// Its alert resolved, and the board's close rule left it open (with a note) for a person.
    pub left_open: bool,
}

const COLUMNS: &str = "id, device_id, board, integration_id, company_id, site_id, summary, description, contact_name, want_closed, close_note, \
     state, error, cw_ticket_id, attached_configuration_id, create_started_ms, attach_started_ms, close_started_ms, created_ms, \
     repeat_note, reopen_note, closed_by, deleted_ms, closed_ms, left_open, route_json";

/// The columns a joined list selects (`t` is the tickets table) for [`brief_from_row`].
pub(crate) const BRIEF_COLUMNS: &str = "t.id AS t_id, t.state AS t_state, t.cw_ticket_id AS t_number, t.error AS t_error, \
     t.want_closed AS t_want_closed, t.closed_by AS t_closed_by, t.deleted_ms AS t_deleted_ms, \
     t.left_open AS t_left_open";

pub(crate) fn brief_from_row(r: &AnyRow) -> std::result::Result<Option<TicketBrief>, sqlx::Error> {
    let Some(id) = r.try_get::<Option<TicketId>, _>("t_id")? else {
        return Ok(None);
    };
    Ok(Some(TicketBrief {
        id,
        state: TicketState::parse(&r.try_get::<String, _>("t_state")?),
        number: r.try_get("t_number")?,
        error: r.try_get("t_error")?,
        want_closed: r.try_get::<i64, _>("t_want_closed")? != 0,
        closed_by: r.try_get("t_closed_by")?,
        deleted_ms: r.try_get("t_deleted_ms")?,
        left_open: r.try_get::<i64, _>("t_left_open")? != 0,
    }))
}

fn from_row(r: &AnyRow) -> std::result::Result<Ticket, sqlx::Error> {
    Ok(Ticket {
        id: r.try_get("id")?,
        device_id: r.try_get("device_id")?,
        board: TicketBoard::parse(&r.try_get::<String, _>("board")?),
        integration_id: r.try_get("integration_id")?,
        company_id: r.try_get("company_id")?,
        site_id: r.try_get("site_id")?,
        summary: r.try_get("summary")?,
        description: r.try_get("description")?,
        contact_name: r.try_get("contact_name")?,
        route: r
            .try_get::<Option<String>, _>("route_json")?
            .and_then(|j| serde_json::from_str(&j).ok()),
        want_closed: r.try_get::<i64, _>("want_closed")? != 0,
        close_note: r.try_get("close_note")?,
        repeat_note: r.try_get("repeat_note")?,
        reopen_note: r.try_get("reopen_note")?,
        closed_by: r.try_get("closed_by")?,
        deleted_ms: r.try_get("deleted_ms")?,
        progress: TicketProgress {
            state: TicketState::parse(&r.try_get::<String, _>("state")?),
            error: r.try_get("error")?,
            cw_ticket_id: r.try_get("cw_ticket_id")?,
            attached_configuration_id: r.try_get("attached_configuration_id")?,
            create_started_ms: r.try_get("create_started_ms")?,
            attach_started_ms: r.try_get("attach_started_ms")?,
            close_started_ms: r.try_get("close_started_ms")?,
            closed_ms: r.try_get("closed_ms")?,
            left_open: r.try_get::<i64, _>("left_open")? != 0,
        },
        created_ms: r.try_get("created_ms")?,
    })
}

/// Inserts a ticket to open and queues its job, inside the caller's transaction.
pub(crate) async fn insert_ticket(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    t: &NewTicket,
    job: &(dyn Fn(TicketId) -> NewJob + Sync),
) -> Result<TicketId> {
    let now = now_ms();
    let (id,): (TicketId,) = sqlx::query_as(
        "INSERT INTO tickets (device_id, board, company_id, site_id, summary, description, contact_name, state, \
         created_ms, updated_ms, integration_id, route_json) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, 'pending', $8, $8, $9, $10) RETURNING id",
    )
    .bind(t.device_id)
    .bind(t.board.as_str())
    .bind(t.company_id)
    .bind(t.site_id)
    .bind(&t.summary)
    .bind(&t.description)
    .bind(&t.contact_name)
    .bind(now)
    .bind(t.integration_id)
    .bind(
        t.route
            .as_ref()
            .and_then(|r| serde_json::to_string(r).ok()),
    )
    .fetch_one(&mut **tx)
    .await?;
    super::jobs::enqueue_in(tx, &job(id)).await?;
    Ok(id)
}

/// Asks for a ticket to be closed with `note` (once: a later ask keeps the first note), and
/// queues its job, inside the caller's transaction. False when it is closed or asked already.
pub(crate) async fn want_closed(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    ticket_id: TicketId,
    note: &str,
    job: &(dyn Fn(TicketId) -> NewJob + Sync),
) -> Result<bool> {
    let changed = sqlx::query(
        "UPDATE tickets SET want_closed = 1, close_note = $1, updated_ms = $2 WHERE id = $3 AND want_closed = 0",
    )
    .bind(note)
    .bind(now_ms())
    .bind(ticket_id)
    .execute(&mut **tx)
    .await?;
    if changed.rows_affected() == 0 {
        return Ok(false);
    }
    super::jobs::enqueue_in(tx, &job(ticket_id)).await?;
    Ok(true)
}

impl Store {
    pub async fn ticket(&self, id: TicketId) -> Result<Option<Ticket>> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM tickets WHERE id = $1"
        )))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.as_ref().map(from_row).transpose()?)
    }

    /// Records the runner's progress on a ticket (never what Bindery wants of it).
    pub async fn record_ticket(&self, id: TicketId, p: &TicketProgress) -> Result<()> {
        let error = p
            .error
            .as_ref()
            .map(|e| e.chars().take(2000).collect::<String>());
        sqlx::query(
            "UPDATE tickets SET state = $1, error = $2, cw_ticket_id = $3, attached_configuration_id = $4, \
             create_started_ms = $5, close_started_ms = $6, updated_ms = $7, attach_started_ms = $9, \
             closed_ms = $10, left_open = $11 WHERE id = $8",
        )
        .bind(p.state.as_str())
        .bind(error)
        .bind(p.cw_ticket_id)
        .bind(p.attached_configuration_id)
        .bind(p.create_started_ms)
        .bind(p.close_started_ms)
        .bind(now_ms())
        .bind(id)
        .bind(p.attach_started_ms)
        .bind(p.closed_ms)
        .bind(i64::from(p.left_open))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// A device's tickets that exist in ConnectWise without its configuration attached (the
    /// device was not bound yet when they opened).
    pub async fn tickets_to_attach(&self, device_id: DeviceId) -> Result<Vec<TicketId>> {
        let rows: Vec<(TicketId,)> = sqlx::query_as(
            "SELECT id FROM tickets WHERE device_id = $1 AND attached_configuration_id IS NULL \
             AND state IN ('pending', 'open') ORDER BY id",
        )
        .bind(device_id)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(|(id,)| id).collect())
    }

    /// Tickets ConnectWise refused (to try again after the settings change).
    pub async fn failed_tickets(&self) -> Result<Vec<TicketId>> {
        let rows: Vec<(TicketId,)> =
            sqlx::query_as("SELECT id FROM tickets WHERE state = 'failed' ORDER BY id")
                .fetch_all(&self.pool)
                .await?;
        Ok(rows.into_iter().map(|(id,)| id).collect())
    }

    /// How many tickets are in each state (for tests and the console).
    pub async fn ticket_counts(&self) -> Result<Vec<(String, i64)>> {
        Ok(
            sqlx::query_as("SELECT state, COUNT(*) FROM tickets GROUP BY state ORDER BY state")
                .fetch_all(&self.pool)
                .await?,
        )
    }
}
