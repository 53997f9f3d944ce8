//! `maintenance`: a policy's maintenance windows, shown or replaced (the console's line form).

use bindery_server::monitoring::held;
use bindery_server::monitoring::maintenance::Maintenance;
use bindery_server::store::now_ms;
use clap::Subcommand;

use super::{Context, policy_named};

#[derive(Subcommand)]
pub enum Command {
    /// Show a policy's maintenance windows, or replace them with those given. Alerts raised in a
    /// window open no ticket until it ends.
    Maintenance {
        #[arg(long)]
        policy: String,
        /// The zone the windows' times are in (an IANA name like Europe/Berlin; default UTC).
        #[arg(long)]
        time_zone: Option<String>,
        /// One window: `sat,sun 22:00-02:00`, `daily 03:00-03:30`, or
        /// `2026-12-24 18:00 - 2026-12-27 08:00 Office move`. Repeat for several; replaces all.
        #[arg(long = "window", value_name = "WINDOW")]
        windows: Vec<String>,
        /// Remove every window.
        #[arg(long, conflicts_with_all = ["windows", "time_zone"])]
        clear: bool,
    },
}

pub async fn run(cx: &Context<'_>, command: Command) -> Result<(), String> {
    let Command::Maintenance {
        policy,
        time_zone,
        windows,
        clear,
    } = command;
    let store = cx.store;
    let p = policy_named(store, &policy).await?;
    let current = held::schedule(store, Some(p.id)).await;
    let wanted = if clear {
        Some(Maintenance::default())
    } else if time_zone.is_some() || !windows.is_empty() {
        let zone = time_zone.unwrap_or_else(|| current.time_zone.clone());
        let lines = if windows.is_empty() {
            current.to_lines()
        } else {
            windows.join("\n")
        };
        Some(Maintenance::parse_lines(&zone, &lines)?)
    } else {
        None
    };
    let shown = match wanted {
        Some(w) => {
            bindery_server::ops::Ops::new(store, None, None)
                .set_maintenance(p.id, &w)
                .await
                .map_err(|e| e.to_string())?;
            w
        }
        None => current,
    };
    let zone = if shown.time_zone.is_empty() {
        "UTC"
    } else {
        &shown.time_zone
    };
    println!("time zone: {zone}");
    if shown.is_empty() {
        println!("no windows");
    } else {
        println!("{}", shown.to_lines());
    }
    let now = now_ms();
    match (shown.held_until(now), shown.next_start(now)) {
        (Some(u), _) => println!("in a window until {}", shown.local_text(u)),
        (None, Some(n)) => println!("next window: {}", shown.local_text(n)),
        (None, None) => {}
    }
    Ok(())
}
