//! `integrations`, `integration-add`, `integration-rename`, `integration-budget`,
//! `integration-remove`: the
//! ConnectWise instances. Other commands name one with `--integration` (its name or id; none:
//! the oldest).

use bindery_server::ids::IntegrationId;
use bindery_server::ops::Ops;
use bindery_server::store::Store;
use clap::Subcommand;

use super::Context;

#[derive(Subcommand)]
pub enum Command {
    /// List the ConnectWise instances: id, name, policies linked to their companies.
    Integrations,
    /// Add a ConnectWise instance (set it up with `connect-sandbox --integration` or the
    /// console's ConnectWise page).
    IntegrationAdd {
        #[arg(long)]
        name: String,
    },
    /// Rename an instance.
    IntegrationRename {
        #[arg(long)]
        integration: String,
        #[arg(long)]
        name: String,
    },
    /// Give an instance its own ConnectWise request budget a minute (0: the server's).
    IntegrationBudget {
        #[arg(long)]
        integration: String,
        #[arg(long)]
        requests_per_minute: u32,
    },
    /// Remove an instance and its settings (refused while policies link to its companies).
    IntegrationRemove {
        #[arg(long)]
        integration: String,
    },
}

/// The instance named by `name_or_id` (its name, or its id), or the oldest when none is named.
pub async fn integration_named(
    store: &Store,
    name_or_id: Option<&str>,
) -> Result<IntegrationId, String> {
    let all = store.integrations().await.map_err(|e| e.to_string())?;
    let Some(wanted) = name_or_id.map(str::trim) else {
        return all
            .first()
            .map(|i| i.id)
            .ok_or_else(|| "there is no ConnectWise integration: add one first".to_owned());
    };
    all.iter()
        .find(|i| i.name == wanted || i.id.to_string() == wanted)
        .map(|i| i.id)
        .ok_or_else(|| format!("no integration named {wanted:?}"))
}

pub async fn run(cx: &Context<'_>, command: Command) -> Result<(), String> {
    let ops = Ops::new(cx.store, None, None);
    let e = |e: bindery_server::ops::OpError| e.to_string();
    match command {
        Command::Integrations => {
            for i in ops.integrations().await.map_err(e)? {
                let budget = i
                    .requests_per_minute
                    .map_or("server's budget".to_owned(), |n| format!("{n}/min"));
                println!("{}\t{}\t{}\t{budget}", i.id, i.name, i.linked_policies);
            }
        }
        Command::IntegrationAdd { name } => {
            let i = ops.add_integration(&name).await.map_err(e)?;
            println!("integration {} added: {}", i.id, i.name);
        }
        Command::IntegrationRename { integration, name } => {
            let id = integration_named(cx.store, Some(&integration)).await?;
            let i = ops.rename_integration(id, &name).await.map_err(e)?;
            println!("integration {} is now {}", i.id, i.name);
        }
        Command::IntegrationBudget {
            integration,
            requests_per_minute,
        } => {
            let id = integration_named(cx.store, Some(&integration)).await?;
            let i = ops
                .set_integration_budget(id, Some(requests_per_minute))
                .await
                .map_err(e)?;
            match i.requests_per_minute {
                Some(n) => println!("{} may send {n} requests a minute", i.name),
                None => println!("{} uses the server's request budget", i.name),
            }
        }
        Command::IntegrationRemove { integration } => {
            let id = integration_named(cx.store, Some(&integration)).await?;
            ops.remove_integration(id).await.map_err(e)?;
            println!("integration {id} removed");
        }
    }
    Ok(())
}
