//! The later steps of a ticket's life in ConnectWise: closing it when the device resolves its
//! alert (as the board's close rule says), reopening it when the alert comes back within the
//! window, and the hourly "still failing" note. Each note is looked for before it is added, so
//! a retry after a lost reply adds none twice.

use connectwise_client::{Client, Error as CwError};

use super::job_error::JobError;
use super::ticket_steps::{Flow, gone, log};
use crate::integration::{BoardUse, CloseRule};
use crate::store::{Store, Ticket, TicketState, now_ms};

/// What the close note says when the ticket stays open.
const LEFT_OPEN_TOUCHED: &str = "Bindery left the ticket open because a person has worked it.";
const LEFT_OPEN_NEVER: &str = "Bindery does not close tickets on this board.";

/// Closes the ticket with its note, or adds the note and leaves it open: always closed under
/// `Always`, never under `Never`, and under `Untouched` only when no person has worked it.
/// The ticket and its notes are read once, when the rule or an earlier try needs them.
pub(super) async fn close(
    store: &Store,
    client: &Client,
    board: &BoardUse,
    t: &mut Ticket,
    look_first: bool,
) -> Result<Flow, JobError> {
    let cw = t.progress.cw_ticket_id.unwrap_or_default();
    let note = t
        .close_note
        .clone()
        .unwrap_or_else(|| "Closed by Bindery.".into());
    if !look_first {
        t.progress.close_started_ms = Some(now_ms());
        store.record_ticket(t.id, &t.progress).await?;
    }
    let read = if look_first || board.close_rule == CloseRule::Untouched {
        match read_ticket(client, cw, board.close_rule == CloseRule::Untouched).await {
            Ok(r) => Some(r),
            Err(CwError::NotFound { .. }) => return gone(store, t).await,
            Err(e) => return Err(e.into()),
        }
    } else {
        None
    };
    if let Some(r) = &read
        && r.ticket.closed_flag == Some(true)
        && r.ticket.status.as_ref().and_then(|s| s.id) == Some(board.closed_status_id)
        && !r.person_worked
    {
        // An earlier try closed it (its reply was lost).
        return closed(store, t).await;
    }
    let keep_open = match board.close_rule {
        CloseRule::Always => None,
        CloseRule::Never => Some(LEFT_OPEN_NEVER),
        CloseRule::Untouched => read
            .as_ref()
            .is_some_and(|r| r.person_worked)
            .then_some(LEFT_OPEN_TOUCHED),
    };
    let text = match keep_open {
        Some(why) => format!("{} {why}", note.trim_end_matches(" Closed by Bindery.")),
        None => note,
    };
    let there = read.as_ref().is_some_and(|r| r.has_note(&text));
    if !there && let Some(flow) = add_note_once(store, client, t, &text, false, false).await? {
        return Ok(flow);
    }
    if keep_open.is_some() {
        t.progress.closed_ms = Some(now_ms());
        t.progress.left_open = true;
        t.progress.error = None;
        store.record_ticket(t.id, &t.progress).await?;
        tracing::info!(ticket = %t.id, cw_ticket = cw, "ticket left open with a note");
        return Ok(Flow::Continue);
    }
    let set = client.set_ticket_status(cw, board.closed_status_id).await;
    log(store, "ticket.close", t, Some(cw), &set).await;
    match set {
        Ok(_) => {}
        Err(CwError::NotFound { .. }) => return gone(store, t).await,
        Err(e) => return Err(e.into()),
    }
    tracing::info!(ticket = %t.id, cw_ticket = cw, "ticket closed");
    closed(store, t).await
}

/// A ticket as read before closing it: itself, its notes' texts, and whether a person (anyone
/// but the member who created it, Bindery's) changed it, wrote a note or logged time on it.
struct ReadTicket {
    ticket: connectwise_client::model::Ticket,
    notes: Vec<String>,
    person_worked: bool,
}

impl ReadTicket {
    fn has_note(&self, text: &str) -> bool {
        self.notes.iter().any(|n| n.trim() == text.trim())
    }
}

async fn read_ticket(client: &Client, cw: i64, with_time: bool) -> Result<ReadTicket, CwError> {
    let ticket = client.get_ticket(cw).await?;
    let notes = client.ticket_notes(cw).await?;
    let info = ticket.info.clone().unwrap_or_default();
    // Who made it is unknown: treat it as worked, the safe side (it stays open).
    let bindery = info.entered_by.clone().unwrap_or_default();
    let other = |who: Option<&str>| who.is_some_and(|w| !w.eq_ignore_ascii_case(&bindery));
    let mut person_worked = bindery.is_empty()
        || other(info.updated_by.as_deref())
        || notes.iter().any(|n| other(n.created_by.as_deref()));
    if with_time && !person_worked {
        person_worked = client
            .ticket_time_entries(cw)
            .await?
            .iter()
            .any(|e| other(e.member.as_ref().and_then(|m| m.identifier.as_deref())));
    }
    Ok(ReadTicket {
        ticket,
        notes: notes.into_iter().map(|n| n.text).collect(),
        person_worked,
    })
}

/// Recorded as closed by Bindery (the next step finds nothing more to do).
async fn closed(store: &Store, t: &mut Ticket) -> Result<Flow, JobError> {
    t.progress.state = TicketState::Closed;
    t.progress.closed_ms = Some(now_ms());
    t.progress.left_open = false;
    t.progress.error = None;
    store.record_ticket(t.id, &t.progress).await?;
    Ok(Flow::Continue)
}

/// Adds a note; with `look`, only if no note with the same text is there already (an earlier
/// try may have added it). `Some(flow)` when the ticket turned out to be deleted.
async fn add_note_once(
    store: &Store,
    client: &Client,
    t: &mut Ticket,
    text: &str,
    internal: bool,
    look: bool,
) -> Result<Option<Flow>, JobError> {
    let cw = t.progress.cw_ticket_id.unwrap_or_default();
    let there = match look {
        false => false,
        true => match client.ticket_notes(cw).await {
            Ok(notes) => notes.iter().any(|n| n.text.trim() == text.trim()),
            Err(CwError::NotFound { .. }) => return gone(store, t).await.map(Some),
            Err(e) => return Err(e.into()),
        },
    };
    if there {
        return Ok(None);
    }
    let added = client.add_ticket_note(cw, text, internal).await;
    log(store, "ticket.note", t, Some(cw), &added).await;
    match added {
        Ok(_) => Ok(None),
        Err(CwError::NotFound { .. }) => gone(store, t).await.map(Some),
        Err(e) => Err(e.into()),
    }
}

/// Opens the ticket again (its board's open status, unless the close rule had left it open)
/// with the reopen note.
pub(super) async fn reopen(
    store: &Store,
    client: &Client,
    board: &BoardUse,
    t: &mut Ticket,
) -> Result<Flow, JobError> {
    let cw = t.progress.cw_ticket_id.unwrap_or_default();
    let note = t.reopen_note.clone().unwrap_or_default();
    if t.progress.state == TicketState::Closed {
        let set = client.set_ticket_status(cw, board.open_status_id).await;
        log(store, "ticket.reopen", t, Some(cw), &set).await;
        match set {
            Ok(_) => {}
            Err(CwError::NotFound { .. }) => return gone(store, t).await,
            Err(e) => return Err(e.into()),
        }
    }
    if let Some(flow) = add_note_once(store, client, t, &note, false, true).await? {
        return Ok(flow);
    }
    store.ticket_reopened(t.id, &note).await?;
    t.reopen_note = None;
    t.progress.state = TicketState::Open;
    t.progress.closed_ms = None;
    t.progress.left_open = false;
    t.progress.close_started_ms = None;
    t.progress.error = None;
    tracing::info!(ticket = %t.id, cw_ticket = cw, "ticket reopened");
    Ok(Flow::Continue)
}

/// Adds the "still failing" note to the ticket's internal analysis, with notifications off.
pub(super) async fn repeat_note(
    store: &Store,
    client: &Client,
    t: &mut Ticket,
) -> Result<Flow, JobError> {
    let note = t.repeat_note.clone().unwrap_or_default();
    if let Some(flow) = add_note_once(store, client, t, &note, true, true).await? {
        return Ok(flow);
    }
    store.repeat_note_added(t.id, &note).await?;
    t.repeat_note = None;
    Ok(Flow::Continue)
}
