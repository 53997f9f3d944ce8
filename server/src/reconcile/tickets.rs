//! Ticket jobs: bring one ticket in ConnectWise in line with what Bindery wants of it. A ticket
//! is created (open status of its board, with Bindery's key in `externalXRef`), gets its
//! device's configuration attached once the device is bound, gets a "still failing" note when
//! its alert repeats (at most hourly), and, once its alert resolves, is closed or noted as its
//! board's close rule says (`ticket_close`); an alert back soon after reopens it. A ticket a
//! person closed or deleted in ConnectWise is left alone.
//!
//! Each step is recorded before the next, and a step whose write may have landed without its
//! reply (a timeout, a crash) looks first: a ticket is found by its key before a second create,
//! and the closing note is looked for before it is added again.

use connectwise_client::model::{NewTicket as CwNewTicket, Reference};
use connectwise_client::{Client, Error as CwError};

use super::contact_lookup::ContactCache;
use super::job_error::JobError;
use super::ticket_close;
use super::ticket_steps::{Flow, gone, log};
use crate::ids::{ConfigurationId, TicketId};
use crate::integration::{BoardUse, Choices};
use crate::store::{BindingState, Store, Ticket, TicketBoard, TicketState, now_ms};

/// The next thing a ticket needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    /// Create it; `look_first` when an earlier create may have landed.
    Create {
        look_first: bool,
    },
    /// Attach the configuration; `look_first` when an earlier attach may have landed.
    Attach {
        configuration_id: ConfigurationId,
        look_first: bool,
    },
    /// Add the closing note and set the closed status (or leave it open with a note, as the
    /// board's close rule says); `look_first` when an earlier try may have done part of it.
    Close {
        look_first: bool,
    },
    /// Open it again (the alert came back soon after Bindery closed it), with a note.
    Reopen,
    /// Add the "still failing" note.
    RepeatNote,
    Done,
}

/// Decides the next step from what is recorded and the device's configuration (if bound).
pub fn next_step(t: &Ticket, configuration_id: Option<ConfigurationId>) -> Step {
    let p = &t.progress;
    // What people did in ConnectWise wins: Bindery writes nothing more to it.
    if t.deleted_ms.is_some() || t.closed_by.is_some() {
        return Step::Done;
    }
    if p.state == TicketState::Closed {
        return match (&t.reopen_note, p.cw_ticket_id) {
            (Some(_), Some(_)) => Step::Reopen,
            _ => Step::Done,
        };
    }
    if p.cw_ticket_id.is_none() {
        return Step::Create {
            look_first: p.create_started_ms.is_some(),
        };
    }
    if p.attached_configuration_id.is_none()
        && let Some(configuration_id) = configuration_id
    {
        return Step::Attach {
            configuration_id,
            look_first: p.attach_started_ms.is_some(),
        };
    }
    if t.reopen_note.is_some() {
        return Step::Reopen;
    }
    if t.want_closed && p.closed_ms.is_none() {
        return Step::Close {
            look_first: p.close_started_ms.is_some(),
        };
    }
    if !t.want_closed && t.repeat_note.is_some() {
        return Step::RepeatNote;
    }
    Step::Done
}

/// Bindery's key for a ticket in ConnectWise's `externalXRef` (at most 100 characters; letters,
/// digits and '-' so that it goes into a condition unchanged). The creation time keeps two
/// Bindery installations on one ConnectWise apart.
pub fn external_ref(t: &Ticket) -> String {
    format!("bindery-{}-{}", t.created_ms, t.id)
}

/// The board a ticket lives on, with its statuses: its route's when a routing rule sent it
/// somewhere (the kind's close rule still applies), else its kind's from the choices.
pub(super) fn board_of(choices: &Choices, t: &Ticket) -> BoardUse {
    let kind = match t.board {
        TicketBoard::Monitoring => choices.monitoring,
        TicketBoard::SelfService => choices.self_service,
    };
    match &t.route {
        Some(r) => BoardUse {
            board_id: r.board_id,
            open_status_id: r.open_status_id,
            closed_status_id: r.closed_status_id,
            close_rule: kind.close_rule,
        },
        None => kind,
    }
}

/// Carries a ticket job out. Failures are recorded on the ticket (pending with the error when
/// it will be retried, failed when it waits for a person) and returned for the job's backoff.
/// `connection` is the client and the chosen boards, or why there are none.
pub(super) async fn work(
    store: &Store,
    connection: Result<(Client, Choices), JobError>,
    ticket_id: TicketId,
    contacts: &ContactCache,
) -> Result<(), JobError> {
    let Some(mut t) = store.ticket(ticket_id).await? else {
        return Ok(()); // deleted with its device
    };
    let result = match connection {
        Ok((client, choices)) => steps(store, &client, &choices, &mut t, contacts).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(()) => Ok(()),
        Err(e) => {
            if e.is_failure() {
                t.progress.state = TicketState::Failed;
            }
            t.progress.error = Some(e.message().to_owned());
            store.record_ticket(t.id, &t.progress).await?;
            Err(e)
        }
    }
}

async fn steps(
    store: &Store,
    client: &Client,
    choices: &Choices,
    t: &mut Ticket,
    contacts: &ContactCache,
) -> Result<(), JobError> {
    let board = &board_of(choices, t);
    let configuration_id = match t.device_id {
        Some(d) => store
            .device_target(d)
            .await?
            .and_then(|target| target.binding)
            .filter(|b| b.state == BindingState::Bound)
            .and_then(|b| b.configuration_id),
        None => None,
    };
    // A handful of steps at most: create, attach, reopen, note, close.
    for _ in 0..8 {
        let flow = match next_step(t, configuration_id) {
            Step::Done => return settle(store, t).await,
            Step::Create { look_first } => {
                create(store, client, board, t, look_first, contacts).await?;
                Flow::Continue
            }
            Step::Attach {
                configuration_id,
                look_first,
            } => attach(store, client, t, configuration_id, look_first).await?,
            Step::Close { look_first } => {
                ticket_close::close(store, client, board, t, look_first).await?
            }
            Step::Reopen => ticket_close::reopen(store, client, board, t).await?,
            Step::RepeatNote => ticket_close::repeat_note(store, client, t).await?,
        };
        if let Flow::Finished = flow {
            return Ok(());
        }
    }
    Err(JobError::Permanent(
        "the ticket keeps changing under Bindery; look at it in ConnectWise".into(),
    ))
}

/// Nothing left to write: a re-run after a failure that needed nothing more clears it.
async fn settle(store: &Store, t: &mut Ticket) -> Result<(), JobError> {
    if t.progress.state == TicketState::Failed || t.progress.error.is_some() {
        t.progress.state = if t.progress.cw_ticket_id.is_some() {
            TicketState::Open
        } else {
            TicketState::Pending
        };
        t.progress.error = None;
        store.record_ticket(t.id, &t.progress).await?;
    }
    Ok(())
}

/// Opens the ticket on its board, unless an earlier attempt whose outcome is unknown did.
async fn create(
    store: &Store,
    client: &Client,
    board: &BoardUse,
    t: &mut Ticket,
    look_first: bool,
    contacts: &ContactCache,
) -> Result<(), JobError> {
    let key = external_ref(t);
    let found = if look_first {
        client
            .find_tickets_by_external_ref(&key)
            .await?
            .into_iter()
            .min_by_key(|c| c.id)
    } else {
        None
    };
    let made = match found {
        Some(existing) => existing,
        None => {
            // The user's own contact on their help request, when exactly one fits.
            let contact = match (t.board, &t.contact_name) {
                (TicketBoard::SelfService, Some(login)) => {
                    contacts
                        .contact_for(store, client, (t.integration_id, t.company_id.0), login)
                        .await
                }
                _ => None,
            };
            t.progress.create_started_ms = Some(now_ms());
            store.record_ticket(t.id, &t.progress).await?;
            let route = t.route.as_ref();
            let made = client
                .create_ticket(&CwNewTicket {
                    summary: t.summary.clone(),
                    company: Reference::id(t.company_id.0),
                    board: Reference::id(board.board_id),
                    status: Some(Reference::id(board.open_status_id)),
                    initial_description: Some(t.description.clone()),
                    external_x_ref: Some(key),
                    contact_name: t.contact_name.clone(),
                    contact: contact.map(Reference::id),
                    site: t.site_id.map(Reference::id),
                    kind: route.and_then(|r| r.type_id).map(Reference::id),
                    sub_type: route.and_then(|r| r.subtype_id).map(Reference::id),
                    item: route.and_then(|r| r.item_id).map(Reference::id),
                    priority: route.and_then(|r| r.priority_id).map(Reference::id),
                    source: route.and_then(|r| r.source_id).map(Reference::id),
                    severity: route.and_then(|r| r.severity.clone()),
                    impact: route.and_then(|r| r.impact.clone()),
                })
                .await;
            log(
                store,
                "ticket.create",
                t,
                made.as_ref().ok().map(|m| m.id),
                &made,
            )
            .await;
            made?
        }
    };
    t.progress.cw_ticket_id = Some(made.id);
    t.progress.state = if made.closed_flag == Some(true) {
        TicketState::Closed
    } else {
        TicketState::Open
    };
    t.progress.error = None;
    store.record_ticket(t.id, &t.progress).await?;
    tracing::info!(
        ticket = %t.id,
        cw_ticket = made.id,
        board = t.board.as_str(),
        "ticket opened"
    );
    Ok(())
}

/// Attaches the device's configuration to the ticket.
async fn attach(
    store: &Store,
    client: &Client,
    t: &mut Ticket,
    configuration_id: ConfigurationId,
    look_first: bool,
) -> Result<Flow, JobError> {
    let cw = t.progress.cw_ticket_id.unwrap_or_default();
    // An earlier attach whose outcome is unknown (its reply lost, a crash): list first, and
    // write only if it did not land.
    let there = if look_first {
        match attached(client, cw, configuration_id).await {
            // Deleted in ConnectWise by a person: nothing left to keep in line.
            Err(CwError::NotFound { .. }) => return gone(store, t).await,
            other => other?,
        }
    } else {
        false
    };
    if !there {
        t.progress.attach_started_ms = Some(now_ms());
        store.record_ticket(t.id, &t.progress).await?;
        let attached_now = client.attach_configuration(cw, configuration_id.0).await;
        log(store, "ticket.attach", t, Some(cw), &attached_now).await;
        match attached_now {
            Ok(_) => {}
            Err(CwError::NotFound { .. }) => return gone(store, t).await,
            // Attached already (by someone else meanwhile).
            Err(CwError::Validation { .. }) | Err(CwError::Conflict { .. })
                if attached(client, cw, configuration_id).await? => {}
            Err(e) => return Err(e.into()),
        }
    }
    t.progress.attached_configuration_id = Some(configuration_id);
    store.record_ticket(t.id, &t.progress).await?;
    Ok(Flow::Continue)
}

/// True when the configuration is attached to the ticket already.
async fn attached(
    client: &Client,
    ticket: i64,
    configuration_id: ConfigurationId,
) -> Result<bool, CwError> {
    Ok(client
        .ticket_configurations(ticket)
        .await?
        .iter()
        .any(|c| c.id == Some(configuration_id.0)))
}

#[cfg(test)]
#[path = "tickets_tests.rs"]
mod tests;
