//! `routing`, `routing-set` and `routing-dry-run`: an instance's ticket routing rules, as the
//! JSON document the admin API takes (docs/server.md describes it).

use bindery_server::ids::DeviceId;
use bindery_server::monitoring::routing::Routing;
use bindery_server::ops::Ops;
use bindery_server::ops::routing::DryRunRequest;
use clap::Subcommand;

use super::Context;
use super::integrations::integration_named;

#[derive(Subcommand)]
pub enum Command {
    /// Print an instance's ticket routing rules (JSON).
    Routing {
        #[arg(long)]
        integration: Option<String>,
    },
    /// Replace an instance's rules with those in FILE (JSON: {"rules": [...]}); refused, with
    /// each problem and its rule, unless ConnectWise allows every choice in them.
    RoutingSet {
        #[arg(long)]
        integration: Option<String>,
        #[arg(long)]
        file: std::path::PathBuf,
    },
    /// Which rule a device's alert (--monitor) or help request (without it) would hit, and the
    /// ticket it would make.
    RoutingDryRun {
        #[arg(long)]
        device: DeviceId,
        #[arg(long)]
        monitor: Option<String>,
        #[arg(long)]
        value: Option<f64>,
    },
}

pub async fn run(cx: &Context<'_>, command: Command) -> Result<(), String> {
    let key = (cx.key)()?;
    let ops = Ops::new(cx.store, Some(&key), None);
    let e = |e: bindery_server::ops::OpError| e.to_string();
    match command {
        Command::Routing { integration } => {
            let id = integration_named(cx.store, integration.as_deref()).await?;
            println!("{}", pretty(&ops.routing(id).await.map_err(e)?));
        }
        Command::RoutingSet { integration, file } => {
            let id = integration_named(cx.store, integration.as_deref()).await?;
            let text = std::fs::read_to_string(&file)
                .map_err(|err| format!("cannot read {}: {err}", file.display()))?;
            let rules: Routing = serde_json::from_str(&text)
                .map_err(|err| format!("{} is not a rule document: {err}", file.display()))?;
            ops.save_routing(id, &rules).await.map_err(e)?;
            println!("{} rules saved; new tickets follow them", rules.rules.len());
        }
        Command::RoutingDryRun {
            device,
            monitor,
            value,
        } => {
            let req = DryRunRequest {
                device_id: device,
                monitor_id: monitor,
                value,
            };
            println!("{}", pretty(&ops.routing_dry_run(&req).await.map_err(e)?));
        }
    }
    Ok(())
}

fn pretty(v: &impl serde::Serialize) -> String {
    serde_json::to_string_pretty(v).unwrap_or_default()
}
