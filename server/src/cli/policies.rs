//! `policy-*`, `bindings`, `retry-pending` and `sync-now`: policies and how their devices are bound.

use bindery_server::ops::Ops;
use clap::Subcommand;

use super::{Context, policy_named};
use bindery_server::ids::ConfigurationId;

#[derive(Subcommand)]
pub enum Command {
    /// Create a policy.
    PolicyCreate { name: String },
    /// List policies.
    PolicyList,
    /// Rename a policy.
    PolicyRename { name: String, new_name: String },
    /// Delete a policy (its devices stay, without a policy; its tokens go).
    PolicyDelete { name: String },
    /// Show each device's binding state in a policy, with the policy's icon colour.
    Bindings {
        #[arg(long)]
        policy: String,
    },
    /// Try every unbound device of a policy again now.
    RetryPending {
        #[arg(long)]
        policy: String,
    },
    /// Re-sync every linked company now.
    SyncNow,
}

pub async fn run(cx: &Context<'_>, command: Command) -> Result<(), String> {
    let store = cx.store;
    let e = |e: bindery_server::store::StoreError| e.to_string();
    match command {
        Command::PolicyCreate { name } => {
            let p = Ops::new(store, None, None)
                .create_policy(&name)
                .await
                .map_err(|e| e.to_string())?;
            println!("{}\t{}", p.id, p.name);
        }
        Command::PolicyList => {
            for p in store.policies().await.map_err(|e| e.to_string())? {
                let link = p.cw_company_name.as_deref().unwrap_or("not linked");
                println!("{}\t{}\t{link}", p.id, p.name);
            }
        }
        Command::PolicyRename { name, new_name } => {
            let p = policy_named(store, &name).await?;
            let p = Ops::new(store, None, None)
                .rename_policy(p.id, &new_name)
                .await
                .map_err(|e| e.to_string())?;
            println!("{}\t{}", p.id, p.name);
        }
        Command::PolicyDelete { name } => {
            let p = policy_named(store, &name).await?;
            Ops::new(store, None, None)
                .delete_policy(p.id)
                .await
                .map_err(|e| e.to_string())?;
        }
        Command::Bindings { policy } => {
            let p = policy_named(store, &policy).await?;
            let s = store.policy_bindings(p.id).await.map_err(e)?;
            println!(
                "{}\t{:?}\t{} devices, {} bound, {} pending, {} failed, {} need a person, {} inactive",
                p.name, s.link, s.devices, s.bound, s.pending, s.failed, s.needs_person, s.inactive
            );
            for t in store.policy_targets(p.id).await.map_err(e)? {
                let (state, config, error) = match &t.binding {
                    Some(b) => (
                        b.state.as_str(),
                        b.configuration_id
                            .map(|c| c.to_string())
                            .unwrap_or_else(|| {
                                // Waiting for a person: the configurations it could be.
                                let c: Vec<String> = b
                                    .candidates
                                    .iter()
                                    .map(ConfigurationId::to_string)
                                    .collect();
                                c.join(",")
                            }),
                        b.error.clone().unwrap_or_default(),
                    ),
                    // Never bound: pending where it should be bound, else bound nowhere.
                    None if t.company_id.is_some() => ("pending", String::new(), String::new()),
                    None => ("none", String::new(), String::new()),
                };
                println!(
                    "{}\t{}\t{state}\t{config}\t{error}",
                    t.device_id, t.agent_id
                );
            }
        }
        Command::RetryPending { policy } => {
            let p = policy_named(store, &policy).await?;
            let n = Ops::new(store, None, None)
                .retry_pending(p.id)
                .await
                .map_err(|e| e.to_string())?;
            println!("{n} devices queued again");
        }
        Command::SyncNow => {
            let n = Ops::new(store, None, None)
                .sync_now()
                .await
                .map_err(|e| e.to_string())?;
            println!("re-sync of {n} companies queued");
        }
    }
    Ok(())
}
