//! The ticket steps' unit tests: which write comes next for a ticket in each state.

use super::*;
use crate::ids::{CompanyId, ConfigurationId, DeviceId, TicketId};
use crate::store::TicketProgress;

fn ticket() -> Ticket {
    Ticket {
        route: None,
        id: TicketId(7),
        device_id: Some(DeviceId(3)),
        board: TicketBoard::Monitoring,
        integration_id: crate::ids::IntegrationId::FIRST,
        company_id: CompanyId(2),
        site_id: None,
        summary: "Disk / has 4% free on WS-1".into(),
        description: String::new(),
        contact_name: None,
        want_closed: false,
        close_note: None,
        repeat_note: None,
        reopen_note: None,
        closed_by: None,
        deleted_ms: None,
        progress: TicketProgress {
            state: TicketState::Pending,
            error: None,
            cw_ticket_id: None,
            attached_configuration_id: None,
            create_started_ms: None,
            attach_started_ms: None,
            close_started_ms: None,
            closed_ms: None,
            left_open: false,
        },
        created_ms: 1_795_310_405_000,
    }
}

#[test]
fn a_ticket_is_created_then_attached_then_closed_and_retries_look_first() {
    let mut t = ticket();
    assert_eq!(next_step(&t, None), Step::Create { look_first: false });
    t.progress.create_started_ms = Some(1);
    assert_eq!(
        next_step(&t, Some(ConfigurationId(9))),
        Step::Create { look_first: true }
    );
    t.progress.cw_ticket_id = Some(100);
    t.progress.state = TicketState::Open;
    // Not bound yet: nothing to attach, nothing else to do until it is.
    assert_eq!(next_step(&t, None), Step::Done);
    assert_eq!(
        next_step(&t, Some(ConfigurationId(9))),
        Step::Attach {
            configuration_id: ConfigurationId(9),
            look_first: false
        }
    );
    t.progress.attach_started_ms = Some(3);
    assert_eq!(
        next_step(&t, Some(ConfigurationId(9))),
        Step::Attach {
            configuration_id: ConfigurationId(9),
            look_first: true
        }
    );
    t.progress.attached_configuration_id = Some(ConfigurationId(9));
    assert_eq!(next_step(&t, Some(ConfigurationId(9))), Step::Done);
    t.want_closed = true;
    assert_eq!(
        next_step(&t, Some(ConfigurationId(9))),
        Step::Close { look_first: false }
    );
    t.progress.close_started_ms = Some(2);
    assert_eq!(
        next_step(&t, Some(ConfigurationId(9))),
        Step::Close { look_first: true }
    );
    t.progress.state = TicketState::Closed;
    assert_eq!(next_step(&t, Some(ConfigurationId(9))), Step::Done);
}

#[test]
fn a_ticket_resolved_before_it_was_created_is_still_created_then_closed() {
    let mut t = ticket();
    t.want_closed = true;
    assert_eq!(next_step(&t, None), Step::Create { look_first: false });
    t.progress.cw_ticket_id = Some(100);
    t.progress.state = TicketState::Open;
    assert_eq!(next_step(&t, None), Step::Close { look_first: false });
}

#[test]
fn the_key_fits_externalxref_and_a_condition() {
    let key = external_ref(&ticket());
    assert!(key.len() <= 100);
    assert!(bindery_shared::normalize::is_safe_identifier(&key));
}

#[test]
fn people_win_then_reopening_then_notes_then_closing() {
    let mut t = ticket();
    t.progress.cw_ticket_id = Some(100);
    t.progress.state = TicketState::Open;
    t.repeat_note = Some("Still failing".into());
    assert_eq!(next_step(&t, None), Step::RepeatNote);
    // Closing comes before a repeat note (the alert resolved meanwhile).
    t.want_closed = true;
    assert_eq!(next_step(&t, None), Step::Close { look_first: false });
    // Left open by the close rule: nothing more.
    t.progress.closed_ms = Some(5);
    t.progress.left_open = true;
    assert_eq!(next_step(&t, None), Step::Done);
    // The alert came back: reopen, whether it was closed or left open.
    t.reopen_note = Some("Reopened".into());
    assert_eq!(next_step(&t, None), Step::Reopen);
    t.progress.state = TicketState::Closed;
    assert_eq!(next_step(&t, None), Step::Reopen);
    // A person closed or deleted it in ConnectWise: Bindery writes nothing more.
    t.closed_by = Some("jtech".into());
    assert_eq!(next_step(&t, None), Step::Done);
    t.closed_by = None;
    t.deleted_ms = Some(9);
    assert_eq!(next_step(&t, None), Step::Done);
}
