//! `ticket-rules`: how tickets live both ways (the reopen window, polling, each board's close
//! rule), shown and changed; `contact-map`: an admin's own login-to-contact mappings.

use bindery_server::integration::{self, CloseRule};
use bindery_server::ops::Ops;
use clap::{Subcommand, ValueEnum};

use super::Context;
use super::integrations::integration_named;
use bindery_server::ids::IntegrationId;

#[derive(Clone, Copy, ValueEnum)]
pub enum Rule {
    Always,
    Untouched,
    Never,
}

impl From<Rule> for CloseRule {
    fn from(r: Rule) -> CloseRule {
        match r {
            Rule::Always => CloseRule::Always,
            Rule::Untouched => CloseRule::Untouched,
            Rule::Never => CloseRule::Never,
        }
    }
}

#[derive(Subcommand)]
pub enum Command {
    /// Show the ticket rules, or change those given (the ConnectWise choices must be saved).
    TicketRules {
        /// The ConnectWise instance (name or id; none: the oldest).
        #[arg(long)]
        integration: Option<String>,
        /// An alert back within this many hours after its ticket closed reopens it (0: never).
        #[arg(long)]
        reopen_within_hours: Option<u32>,
        /// Minutes between ticket status reads when ConnectWise cannot call back.
        #[arg(long)]
        poll_minutes: Option<u32>,
        /// What a resolved alert does to its monitoring ticket.
        #[arg(long, value_enum)]
        monitoring_close_rule: Option<Rule>,
        /// What a resolved help request does to its self-service ticket.
        #[arg(long, value_enum)]
        self_service_close_rule: Option<Rule>,
    },
    /// Map a user's login (DOMAIN\\user, user@domain or user) to a ConnectWise contact id: it
    /// wins over automatic matching. Without CONTACT_ID, removes the mapping. Lists them all
    /// without LOGIN.
    ContactMap {
        /// The ConnectWise instance (name or id; none: the oldest).
        #[arg(long)]
        integration: Option<String>,
        login: Option<String>,
        contact_id: Option<i64>,
    },
}

pub async fn run(cx: &Context<'_>, command: Command) -> Result<(), String> {
    match command {
        Command::TicketRules {
            integration,
            reopen_within_hours,
            poll_minutes,
            monitoring_close_rule,
            self_service_close_rule,
        } => {
            let id = integration_named(cx.store, integration.as_deref()).await?;
            ticket_rules(
                cx,
                id,
                reopen_within_hours,
                poll_minutes,
                monitoring_close_rule,
                self_service_close_rule,
            )
            .await
        }
        Command::ContactMap {
            integration,
            login,
            contact_id,
        } => {
            let id = integration_named(cx.store, integration.as_deref()).await?;
            contact_map(cx, id, login, contact_id).await
        }
    }
}

/// Shows, changes or removes the manual login-to-contact mappings.
async fn contact_map(
    cx: &Context<'_>,
    id: IntegrationId,
    login: Option<String>,
    contact_id: Option<i64>,
) -> Result<(), String> {
    let ops = Ops::new(cx.store, None, None);
    let maps = match login {
        Some(login) => ops
            .map_contact(id, &login, contact_id)
            .await
            .map_err(|e| e.to_string())?,
        None => ops.contact_mappings(id).await,
    };
    for (login, id) in &maps {
        println!("{login}\t{id}");
    }
    Ok(())
}

async fn ticket_rules(
    cx: &Context<'_>,
    id: IntegrationId,
    reopen_within_hours: Option<u32>,
    poll_minutes: Option<u32>,
    monitoring_close_rule: Option<Rule>,
    self_service_close_rule: Option<Rule>,
) -> Result<(), String> {
    let e = |e: integration::IntegrationError| e.to_string();
    let mut c = integration::choices(cx.store, id)
        .await
        .map_err(e)?
        .ok_or("save the ConnectWise choices first")?;
    let changing = reopen_within_hours.is_some()
        || poll_minutes.is_some()
        || monitoring_close_rule.is_some()
        || self_service_close_rule.is_some();
    if changing {
        let mut rules = c.tickets;
        rules.reopen_within_hours = reopen_within_hours.unwrap_or(rules.reopen_within_hours);
        rules.poll_minutes = poll_minutes.unwrap_or(rules.poll_minutes);
        c = Ops::new(cx.store, None, None)
            .set_ticket_rules(
                id,
                rules,
                (
                    monitoring_close_rule.map_or(c.monitoring.close_rule, CloseRule::from),
                    self_service_close_rule.map_or(c.self_service.close_rule, CloseRule::from),
                ),
            )
            .await
            .map_err(|e| e.to_string())?;
    }
    println!(
        "reopen within {} h; poll every {} min; monitoring board: {:?}; self-service board: {:?}",
        c.tickets.reopen_within_hours,
        c.tickets.poll_minutes,
        c.monitoring.close_rule,
        c.self_service.close_rule
    );
    Ok(())
}
