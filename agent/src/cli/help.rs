//! `bindery-agent help`: the machine's user asks for help (a ticket), lists their requests or
//! closes one.

use std::path::PathBuf;
use std::time::Duration;

use bindery_shared::protocol::{HelpClose, HelpReply, HelpRequest, HelpState};

use crate::server::{ServerClient, ServerError};
use crate::state::StateDir;

/// The person asking for help: the user who ran the command (through sudo, the one who ran
/// sudo).
fn invoking_user() -> Option<String> {
    ["SUDO_USER", "USER", "USERNAME", "LOGNAME"]
        .iter()
        .filter_map(|k| std::env::var(k).ok())
        .map(|v| v.trim().to_owned())
        .find(|v| !v.is_empty() && v != "root")
}

/// The enrolled server's client and this device's credential, for the help commands.
fn enrolled_client(
    state_dir: Option<PathBuf>,
) -> Result<(ServerClient, bindery_shared::protocol::DeviceCredential), String> {
    let state = StateDir::resolve(state_dir)?;
    let enrolled = state.enrollment().map_err(|e| {
        format!("{e} (asking for help needs the agent's credential: run this as an administrator)")
    })?;
    let enrolled = enrolled.ok_or("this machine is not enrolled with a Bindery server")?;
    Ok((ServerClient::of(&enrolled)?, enrolled.credential()))
}

/// A one-line summary (at most 100 characters) and details holding whatever did not fit.
fn split_summary(text: &str, details: Option<String>) -> (String, Option<String>) {
    let text = bindery_shared::normalize::clean_text(text);
    if text.chars().count() <= bindery_shared::protocol::MAX_SUMMARY_CHARS {
        return (text, details);
    }
    let short: String = text.chars().take(97).collect();
    let details = match details {
        Some(d) => format!("{text}\n\n{d}"),
        None => text.clone(),
    };
    (format!("{}...", short.trim_end()), Some(details))
}

/// Sends a help request and waits up to `wait_secs` for its ticket number.
pub(super) async fn ask(
    state_dir: Option<PathBuf>,
    summary: String,
    details: Option<String>,
    wait_secs: u64,
) -> Result<(), String> {
    if summary.trim().is_empty() {
        return Err(
            "say what you need help with: bindery-agent help \"The printer is jammed\"".into(),
        );
    }
    let (client, cred) = enrolled_client(state_dir)?;
    let (summary, details) = split_summary(&summary, details);
    let details = details.map(|d| {
        d.chars()
            .take(bindery_shared::protocol::MAX_DETAIL_CHARS)
            .collect()
    });
    let request = HelpRequest {
        request_id: uuid::Uuid::new_v4().to_string(),
        user: invoking_user().map(|u| u.chars().take(100).collect()),
        summary,
        details,
    };
    // The same request id is sent again after a failure: the server never opens two tickets.
    let mut reply = None;
    for attempt in 0..3 {
        match client.help(&cred, &request).await {
            Ok(r) => {
                reply = Some(r);
                break;
            }
            Err(ServerError::Unavailable(why)) if attempt < 2 => {
                eprintln!("bindery-agent: the server is unavailable ({why}); trying again");
                tokio::time::sleep(Duration::from_secs(2)).await;
            }
            Err(e) => return Err(format!("your request was not sent: {e}")),
        }
    }
    let mut reply = reply.ok_or("your request was not sent: the server is unavailable")?;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(wait_secs);
    while reply.state == HelpState::Pending && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(500)).await;
        if let Ok(r) = client.help_status(&cred, &request.request_id).await {
            reply = r;
        }
    }
    print_help_reply(&reply, &request.summary)
}

fn print_help_reply(reply: &HelpReply, summary: &str) -> Result<(), String> {
    match (reply.state, reply.ticket_number) {
        (HelpState::Open, Some(n)) => {
            println!("Ticket #{n} is open: {summary}");
            println!("Your IT team has it. To close it yourself: bindery-agent help --close {n}");
            Ok(())
        }
        (HelpState::Closed, Some(n)) => {
            println!("Ticket #{n} is closed.");
            Ok(())
        }
        (HelpState::Failed, _) => Err(format!(
            "your request was received but no ticket could be opened: {}",
            reply.message.as_deref().unwrap_or("no reason given")
        )),
        _ => {
            println!(
                "Your request was received (id {}); its ticket is not open yet{}.",
                reply.request_id,
                reply
                    .message
                    .as_deref()
                    .map(|m| format!(": {m}"))
                    .unwrap_or_default()
            );
            Ok(())
        }
    }
}

/// `help --list`: one line per request, newest first.
pub(super) async fn list(state_dir: Option<PathBuf>) -> Result<(), String> {
    let (client, cred) = enrolled_client(state_dir)?;
    let list = client
        .help_list(&cred)
        .await
        .map_err(|e| format!("cannot reach the server: {e}"))?;
    if list.requests.is_empty() {
        println!("You have asked for no help from this machine yet.");
    }
    for r in &list.requests {
        println!("{}", help_line(r));
    }
    Ok(())
}

/// `#123  open  The printer is jammed` (the state says who closed it when the helpdesk did).
fn help_line(r: &HelpReply) -> String {
    let number = r
        .ticket_number
        .map(|n| format!("#{n}"))
        .unwrap_or_else(|| "-".into());
    let state = match r.state {
        HelpState::Pending => "pending",
        HelpState::Open => "open",
        HelpState::Closed => "closed",
        HelpState::Failed => "not sent",
        HelpState::Unsupported => "unknown",
    };
    let why = r
        .message
        .as_deref()
        .map(|m| format!(" ({m})"))
        .unwrap_or_default();
    format!(
        "{number}\t{state}{why}\t{}",
        r.summary.as_deref().unwrap_or("")
    )
}

/// `help --close N`: closes the user's own request.
pub(super) async fn close(state_dir: Option<PathBuf>, ticket_number: u64) -> Result<(), String> {
    let (client, cred) = enrolled_client(state_dir)?;
    let reply = client
        .help_close(&cred, &HelpClose { ticket_number })
        .await
        .map_err(|e| format!("ticket #{ticket_number} was not closed: {e}"))?;
    match reply.state {
        HelpState::Closed => println!("Ticket #{ticket_number} is closed."),
        _ => println!("Ticket #{ticket_number} is being closed."),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_help_line_says_number_state_who_and_what() {
        let reply = HelpReply {
            request_id: "r".into(),
            state: HelpState::Closed,
            ticket_number: Some(42),
            message: Some("the helpdesk closed the ticket".into()),
            summary: Some("The printer is jammed".into()),
        };
        assert_eq!(
            help_line(&reply),
            "#42\tclosed (the helpdesk closed the ticket)\tThe printer is jammed"
        );
        let pending = HelpReply {
            state: HelpState::Pending,
            ticket_number: None,
            message: None,
            ..reply
        };
        assert_eq!(help_line(&pending), "-\tpending\tThe printer is jammed");
    }
}
