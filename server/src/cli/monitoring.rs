//! `monitors-show`, `monitors-set`, `alerts` and `alert-close`: what agents watch, and the alerts they raise.

use std::path::PathBuf;

use bindery_server::monitoring::settings::MonitorSettings;
use bindery_server::store::{AlertFilter, AlertState};
use clap::Subcommand;

use super::{Context, policy_named};
use bindery_server::ids::AlertId;

#[derive(Subcommand)]
pub enum Command {
    /// Show a policy's monitor settings (JSON, as `monitors-set` takes them).
    MonitorsShow {
        #[arg(long)]
        policy: String,
    },
    /// Replace a policy's monitor settings with the JSON in FILE (`-`: standard input), or go
    /// back to the defaults with --default.
    MonitorsSet {
        #[arg(long)]
        policy: String,
        #[arg(required_unless_present = "default")]
        file: Option<PathBuf>,
        #[arg(long, conflicts_with = "file")]
        default: bool,
    },
    /// List alerts, newest first: id, device, monitor, subject, state, ticket state and number.
    Alerts {
        /// open, resolved or closed.
        #[arg(long)]
        state: Option<String>,
        #[arg(long, default_value_t = 50)]
        limit: i64,
    },
    /// Close an open alert (its ticket gets the closed status and a note).
    AlertClose { id: AlertId },
}

pub async fn run(cx: &Context<'_>, command: Command) -> Result<(), String> {
    let store = cx.store;
    match command {
        Command::MonitorsShow { policy } => {
            let p = policy_named(store, &policy).await?;
            let stored = store.policy_monitors(p.id).await.map_err(text)?;
            let settings = MonitorSettings::from_stored(stored.as_deref());
            let json = serde_json::to_string_pretty(&settings).map_err(|e| e.to_string())?;
            println!("{json}");
            Ok(())
        }
        Command::MonitorsSet {
            policy,
            file,
            default,
        } => set_monitors(cx, &policy, file, default).await,
        Command::Alerts { state, limit } => list_alerts(cx, state.as_deref(), limit).await,
        Command::AlertClose { id } => {
            let who = std::env::var("USER").unwrap_or_else(|_| "an administrator".into());
            match bindery_server::ops::Ops::new(store, None, None)
                .close_alert(id, &format!("{who} (command line)"))
                .await
                .map_err(|e| e.to_string())?
            {
                Some(a) => println!("alert {} closed", a.id),
                None => return Err(format!("no alert {id}")),
            }
            Ok(())
        }
    }
}

fn text(e: bindery_server::store::StoreError) -> String {
    e.to_string()
}

async fn set_monitors(
    cx: &Context<'_>,
    policy: &str,
    file: Option<PathBuf>,
    default: bool,
) -> Result<(), String> {
    let store = cx.store;
    let p = policy_named(store, policy).await?;
    let ops = bindery_server::ops::Ops::new(store, None, None);
    if default {
        ops.set_monitors(p.id, None)
            .await
            .map_err(|e| e.to_string())?;
        println!("{}: the default monitors", p.name);
        return Ok(());
    }
    let json_text = match file.as_deref() {
        Some(f) if f.as_os_str() != "-" => std::fs::read_to_string(f)
            .map_err(|err| format!("cannot read {}: {err}", f.display()))?,
        _ => std::io::read_to_string(std::io::stdin())
            .map_err(|err| format!("cannot read standard input: {err}"))?,
    };
    let settings: MonitorSettings = serde_json::from_str(&json_text)
        .map_err(|err| format!("the monitor settings do not read: {err}"))?;
    ops.set_monitors(p.id, Some(&settings))
        .await
        .map_err(|e| e.to_string())?;
    println!(
        "{}: {} monitors; offline after {} min",
        p.name,
        settings.monitors.len(),
        settings.offline_after_mins
    );
    Ok(())
}

async fn list_alerts(cx: &Context<'_>, state: Option<&str>, limit: i64) -> Result<(), String> {
    let state = match state {
        None => None,
        Some("open") => Some(AlertState::Open),
        Some("resolved") => Some(AlertState::Resolved),
        Some("closed") => Some(AlertState::Closed),
        Some(other) => {
            return Err(format!("{other:?} is not open, resolved or closed"));
        }
    };
    let (alerts, _) = cx
        .store
        .alerts(&AlertFilter {
            state,
            limit,
            ..AlertFilter::default()
        })
        .await
        .map_err(text)?;
    for a in alerts {
        let ticket = match &a.ticket {
            Some(t) => format!(
                "{}\t{}",
                t.state.as_str(),
                t.number.map(|n| n.to_string()).unwrap_or_default()
            ),
            None => "none\t".into(),
        };
        println!(
            "{}\t{}\t{}\t{}\t{}\t{ticket}\t{}",
            a.id,
            a.agent_id,
            a.monitor_id,
            a.subject,
            a.state.as_str(),
            a.summary
        );
    }
    Ok(())
}
