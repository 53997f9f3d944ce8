//! `ticket-rules`: how tickets live both ways (the reopen window, polling, each board's close
//! rule), shown and changed.

use bindery_server::integration::{self, CloseRule};
use clap::{Subcommand, ValueEnum};

use super::Context;

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
}

pub async fn run(cx: &Context<'_>, command: Command) -> Result<(), String> {
    let Command::TicketRules {
        reopen_within_hours,
        poll_minutes,
        monitoring_close_rule,
        self_service_close_rule,
    } = command;
    let e = |e: integration::IntegrationError| e.to_string();
    let mut c = integration::choices(cx.store)
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
        c = integration::save_ticket_rules(
            cx.store,
            rules,
            monitoring_close_rule.map_or(c.monitoring.close_rule, CloseRule::from),
            self_service_close_rule.map_or(c.self_service.close_rule, CloseRule::from),
        )
        .await
        .map_err(e)?;
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
