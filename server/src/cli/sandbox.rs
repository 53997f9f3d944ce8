//! `connect-sandbox`: point the ConnectWise settings at the sandbox, with the demo's choices.

use bindery_server::reconcile::queue;
use bindery_server::reconcile::runner::EngineConfig;
use clap::Subcommand;

use super::Context;

#[derive(Subcommand)]
pub enum Command {
    /// Point the server at the ConnectWise sandbox at URL and make the demo's choices (for one
    /// instance: --integration, its name or id; none: the oldest).
    ConnectSandbox {
        url: String,
        #[arg(long)]
        integration: Option<String>,
    },
}

pub async fn run(cx: &Context<'_>, command: Command) -> Result<(), String> {
    let store = cx.store;
    let e = |e: bindery_server::store::StoreError| e.to_string();
    match command {
        Command::ConnectSandbox { url, integration } => {
            let key = (cx.key)()?;
            let id = super::integrations::integration_named(store, integration.as_deref()).await?;
            bindery_server::demo::connect_integration_to_sandbox(store, &key, id, &url)
                .await
                .map_err(|e| e.to_string())?;
            queue::sync_all(store, EngineConfig::default().cw_requests_per_minute)
                .await
                .map_err(e)?;
            println!("ConnectWise settings point at the sandbox {url}");
        }
    }
    Ok(())
}
