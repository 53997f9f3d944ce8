//! The words of the tickets Bindery opens: a summary that says what and where in ConnectWise's
//! 100 characters, and a description with the details and the device's facts. Everything that
//! came from a device is cleaned first (control and invisible characters, length).

use bindery_shared::normalize::{clean_text, truncate_to_limit};
use bindery_shared::time::utc_text;
use bindery_shared::{DeviceFacts, FactField};

use crate::ids::{CompanyId, DeviceId, IntegrationId};
use crate::store::{NewTicket, TicketBoard};

/// ConnectWise's limits: `Ticket.summary` 100, `Ticket.contactName` 62.
const SUMMARY_MAX: usize = 100;
const CONTACT_MAX: usize = 62;
/// Bounds the description (ConnectWise notes take far more; people read far less).
const DETAIL_MAX: usize = 4000;

/// The device a ticket is about.
pub struct DeviceContext<'a> {
    pub device_id: DeviceId,
    /// The instance of its policy's company.
    pub integration_id: IntegrationId,
    pub company_id: CompanyId,
    /// The site of the device's policy, if it names one.
    pub site_id: Option<i64>,
    pub agent_id: &'a str,
    pub facts: &'a DeviceFacts,
}

impl DeviceContext<'_> {
    /// Its name as tickets say it: the cleaned name fact, else its agent id.
    pub fn name(&self) -> String {
        self.facts
            .get(FactField::Name)
            .map(clean_text)
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| self.agent_id.to_owned())
    }

    fn facts_block(&self) -> String {
        let mut out = String::from("Device facts (Bindery):\n");
        for field in FactField::ALL {
            if let Some(v) = self.facts.get(field) {
                out.push_str(&format!("  {}: {}\n", field.label(), clean_text(v)));
            }
        }
        out
    }
}

/// `text` cleaned and cut to `max` characters (UTF-16 units, as ConnectWise counts), with an
/// ellipsis when something was cut.
fn bounded(text: &str, max: usize) -> String {
    let clean = clean_text(text);
    if bindery_shared::normalize::utf16_len(&clean) <= max {
        return clean;
    }
    format!("{}…", truncate_to_limit(&clean, max - 1))
}

/// What an alert's ticket says.
pub struct AlertFacts<'a> {
    pub monitor_id: &'a str,
    pub subject: &'a str,
    pub summary: &'a str,
    pub detail: Option<&'a str>,
    pub value: Option<f64>,
    pub at_ms: i64,
}

pub fn alert_ticket(device: &DeviceContext<'_>, alert: &AlertFacts<'_>) -> NewTicket {
    let name = device.name();
    // The device's name is kept whole where it can be: it says where.
    let what = bounded(alert.summary, SUMMARY_MAX);
    let summary = bounded(&format!("{what} on {name}"), SUMMARY_MAX);
    let mut description = format!(
        "{}\n\nRaised on {name} at {} by Bindery's {:?} monitor",
        clean_text(alert.summary),
        utc_text(alert.at_ms),
        alert.monitor_id,
    );
    if !alert.subject.is_empty() {
        description.push_str(&format!(" (watching {})", clean_text(alert.subject)));
    }
    if let Some(v) = alert.value {
        description.push_str(&format!("; measured {v:.1}"));
    }
    description.push_str(".\n");
    if let Some(detail) = alert.detail.filter(|d| !d.trim().is_empty()) {
        description.push_str(&format!("\n{}\n", bounded(detail, DETAIL_MAX)));
    }
    description.push('\n');
    description.push_str(&device.facts_block());
    NewTicket {
        device_id: device.device_id,
        board: TicketBoard::Monitoring,
        integration_id: device.integration_id,
        company_id: device.company_id,
        site_id: device.site_id,
        summary,
        description,
        contact_name: None,
        route: None,
    }
}

pub fn help_ticket(
    device: &DeviceContext<'_>,
    user: Option<&str>,
    summary: &str,
    details: Option<&str>,
) -> NewTicket {
    let name = device.name();
    let user = user.map(clean_text).filter(|u| !u.is_empty());
    let mut description = String::new();
    if let Some(d) = details.filter(|d| !d.trim().is_empty()) {
        description.push_str(&bounded(d, DETAIL_MAX));
        description.push_str("\n\n");
    }
    description.push_str(&format!(
        "Requested by {} on {name} with bindery-agent help.\n\n",
        user.as_deref().unwrap_or("an unknown user")
    ));
    description.push_str(&device.facts_block());
    NewTicket {
        device_id: device.device_id,
        board: TicketBoard::SelfService,
        integration_id: device.integration_id,
        company_id: device.company_id,
        site_id: device.site_id,
        summary: bounded(summary, SUMMARY_MAX),
        description,
        contact_name: user.map(|u| bounded(&u, CONTACT_MAX)),
        route: None,
    }
}

/// The note a ticket closes with when its alert resolved on the device.
pub fn resolved_note(at_ms: i64, value: Option<f64>) -> String {
    let measured = value
        .map(|v| format!(" (measured {v:.1})"))
        .unwrap_or_default();
    format!(
        "Resolved: the condition cleared on the device at {}{measured}. Closed by Bindery.",
        utc_text(at_ms)
    )
}

/// The note on a ticket reopened because its alert came back.
pub fn reopen_note(at_ms: i64, summary: &str) -> String {
    format!(
        "Reopened: the alert came back on the device at {} ({}). Reopened by Bindery.",
        utc_text(at_ms),
        bounded(summary, 200)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(name: &str) -> DeviceFacts {
        let mut f = DeviceFacts::default();
        f.set(FactField::Name, name);
        f.set(FactField::SerialNumber, "SN-1234");
        f
    }

    #[test]
    fn an_alert_ticket_says_what_and_where_within_100_characters() {
        let f = facts("WS-ACCOUNTING-07");
        let device = DeviceContext {
            integration_id: IntegrationId::FIRST,
            device_id: DeviceId(4),
            company_id: CompanyId(2),
            site_id: None,
            agent_id: "a-1",
            facts: &f,
        };
        let alert = AlertFacts {
            monitor_id: "disk-free",
            subject: "/var",
            summary: "Disk /var has 4.2% free",
            detail: Some("below 10% for 5 minutes\u{202e}"),
            value: Some(4.2),
            at_ms: 1_795_310_405_000,
        };
        let t = alert_ticket(&device, &alert);
        assert_eq!(t.summary, "Disk /var has 4.2% free on WS-ACCOUNTING-07");
        assert_eq!(t.board, TicketBoard::Monitoring);
        assert!(t.description.contains("2026-11-22 01:20:05 UTC"));
        assert!(t.description.contains("Serial number: SN-1234"));
        assert!(t.description.contains("(watching /var)"));
        assert!(!t.description.contains('\u{202e}'));

        let long = "x".repeat(300);
        let t = alert_ticket(
            &device,
            &AlertFacts {
                summary: &long,
                ..alert
            },
        );
        assert_eq!(t.summary.chars().count(), 100);
        assert!(t.summary.ends_with('…'));
    }

    #[test]
    fn a_help_ticket_names_the_user_as_contact_and_in_the_description() {
        let f = facts("MAC-RECEPTION");
        let device = DeviceContext {
            integration_id: IntegrationId::FIRST,
            device_id: DeviceId(4),
            company_id: CompanyId(2),
            site_id: None,
            agent_id: "a-1",
            facts: &f,
        };
        let t = help_ticket(
            &device,
            Some("jane.doe"),
            "Printer\tis jammed",
            Some("Second floor"),
        );
        assert_eq!(t.summary, "Printer is jammed");
        assert_eq!(t.contact_name.as_deref(), Some("jane.doe"));
        assert_eq!(t.board, TicketBoard::SelfService);
        assert!(t.description.starts_with("Second floor"));
        assert!(
            t.description
                .contains("Requested by jane.doe on MAC-RECEPTION")
        );
        let t = help_ticket(&device, Some(&"j".repeat(90)), "help", None);
        assert_eq!(t.contact_name.map(|c| c.chars().count()), Some(62));
    }
}
