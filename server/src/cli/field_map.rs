//! `field-map`, `field-map-set`, `field-map-custom-fields` and `field-map-preview`: an instance's
//! configuration field map, as the JSON document the admin API takes (docs/server.md).

use bindery_server::ids::DeviceId;
use bindery_server::integration::FieldMap;
use bindery_server::ops::Ops;
use clap::Subcommand;

use super::Context;
use super::integrations::integration_named;

#[derive(Subcommand)]
pub enum Command {
    /// Print an instance's configuration field map (JSON).
    #[command(name = "field-map")]
    Show {
        #[arg(long)]
        integration: Option<String>,
    },
    /// Replace an instance's field map with the one in FILE (JSON: {"rules": [...]}); refused,
    /// with each problem and its rule, when a template names an unknown fact or a custom field
    /// is not a text field ConnectWise lists.
    #[command(name = "field-map-set")]
    Set {
        #[arg(long)]
        integration: Option<String>,
        #[arg(long)]
        file: std::path::PathBuf,
    },
    /// The custom fields configurations carry in ConnectWise (id, caption, type).
    #[command(name = "field-map-custom-fields")]
    CustomFields {
        #[arg(long)]
        integration: Option<String>,
    },
    /// What a device's configuration would get from each rule (nothing is written).
    #[command(name = "field-map-preview")]
    Preview {
        #[arg(long)]
        device: DeviceId,
    },
}

pub async fn run(cx: &Context<'_>, command: Command) -> Result<(), String> {
    let key = (cx.key)()?;
    let ops = Ops::new(cx.store, Some(&key), None);
    let e = |e: bindery_server::ops::OpError| e.to_string();
    match command {
        Command::Show { integration } => {
            let id = integration_named(cx.store, integration.as_deref()).await?;
            println!("{}", pretty(&ops.field_map(id).await.map_err(e)?));
        }
        Command::Set { integration, file } => {
            let id = integration_named(cx.store, integration.as_deref()).await?;
            let text = std::fs::read_to_string(&file)
                .map_err(|err| format!("cannot read {}: {err}", file.display()))?;
            let map: FieldMap = serde_json::from_str(&text)
                .map_err(|err| format!("{} is not a field map: {err}", file.display()))?;
            ops.save_field_map(id, &map).await.map_err(e)?;
            println!(
                "{} rules saved; the server syncs the instance's companies so configurations follow",
                map.rules.len()
            );
        }
        Command::CustomFields { integration } => {
            let id = integration_named(cx.store, integration.as_deref()).await?;
            for f in ops.configuration_custom_fields(id).await.map_err(e)? {
                let fill = if f.fillable {
                    ""
                } else {
                    " (not fillable from facts)"
                };
                println!("{:>6}  {}  [{}]{fill}", f.id, f.caption, f.kind);
            }
        }
        Command::Preview { device } => {
            for p in ops.field_map_preview(device).await.map_err(e)? {
                let value = p.value.as_deref().unwrap_or("-");
                let owned = if p.owned { "owned" } else { "until edited" };
                let note = p.note.map(|n| format!("  ({n})")).unwrap_or_default();
                println!("{:<18} {value}  [{owned}]{note}", p.field);
            }
        }
    }
    Ok(())
}

fn pretty(v: &impl serde::Serialize) -> String {
    serde_json::to_string_pretty(v).unwrap_or_default()
}
