//! `device-list`, `device-move` and `device-retire`.

use bindery_server::ops::Ops;
use clap::Subcommand;

use super::{Context, policy_named};
use bindery_server::ids::DeviceId;

#[derive(Subcommand)]
pub enum Command {
    /// List devices, of one policy or all.
    #[command(name = "device-list")]
    List {
        #[arg(long)]
        policy: Option<String>,
    },
    /// Move a device (by id) to another policy, or out of every policy.
    #[command(name = "device-move")]
    Move {
        device: DeviceId,
        #[arg(long, conflicts_with = "none")]
        policy: Option<String>,
        #[arg(long)]
        none: bool,
    },
    /// Retire a device: it can no longer report; its configuration is deactivated.
    #[command(name = "device-retire")]
    Retire { device: DeviceId },
}

pub async fn run(cx: &Context<'_>, command: Command) -> Result<(), String> {
    let store = cx.store;
    match command {
        Command::List { policy } => {
            let policy_id = match policy {
                Some(name) => Some(policy_named(store, &name).await?.id),
                None => None,
            };
            for d in store.devices(policy_id).await.map_err(|e| e.to_string())? {
                let name = d.facts.name.clone().unwrap_or_default();
                let policy = d
                    .policy_id
                    .map(|p| p.to_string())
                    .unwrap_or_else(|| "-".into());
                let mut notes = String::new();
                if let Some(into) = d.merged_into {
                    notes += &format!("\tmerged into {into}");
                } else if d.retired_ms.is_some() {
                    notes += "\tretired";
                }
                if let Some(of) = d.reinstall_of {
                    notes += &format!("\tpossible reinstall of {of}");
                }
                println!("{}\t{}\t{name}\tpolicy {policy}{notes}", d.id, d.agent_id);
            }
        }
        Command::Move {
            device,
            policy,
            none: _,
        } => {
            let target = match policy {
                Some(name) => Some(policy_named(store, &name).await?.id),
                None => None,
            };
            Ops::new(store, None, None)
                .move_device(device, target)
                .await
                .map_err(|e| e.to_string())?;
        }
        Command::Retire { device } => {
            Ops::new(store, None, None)
                .retire_device(device)
                .await
                .map_err(|e| e.to_string())?;
        }
    }
    Ok(())
}
