//! `link`, `unlink`, `sites`, `company-suggestions` and `link-suggested`: policies and
//! ConnectWise companies (and their sites), each link previewable with `--dry-run`.

use bindery_server::ops::Ops;
use bindery_server::ops::links::LinkPreview;
use clap::Subcommand;

use super::integrations::integration_named;
use super::{Context, policy_named};
use bindery_server::ids::{CompanyId, ConfigurationId, IntegrationId};

#[derive(Subcommand)]
pub enum Command {
    /// Link a policy to a ConnectWise company (by id); its devices are bound by the server.
    /// With --dry-run, print what the link would do (adopt, create, re-activate, deactivate,
    /// wait for a person) and change nothing. With --site (an id from `sites`), the devices'
    /// configurations and tickets carry that site of the company; linking again changes it.
    Link {
        #[arg(long)]
        policy: String,
        /// The company's ConnectWise instance (name or id; none: the oldest). Linking to a
        /// company of another instance moves the policy there.
        #[arg(long)]
        integration: Option<String>,
        #[arg(long)]
        company: CompanyId,
        #[arg(long)]
        site: Option<i64>,
        #[arg(long)]
        dry_run: bool,
    },
    /// List a ConnectWise company's active sites: id, name, city ("main" for its main one).
    Sites {
        #[arg(long)]
        integration: Option<String>,
        #[arg(long)]
        company: CompanyId,
    },
    /// Unlink a policy: its devices' configurations are set to the inactive status.
    Unlink {
        #[arg(long)]
        policy: String,
    },
    /// List each unlinked policy with the ConnectWise company whose name matches it best:
    /// policy id, policy, company id, company, score (1 = the same name).
    CompanySuggestions {
        #[arg(long)]
        integration: Option<String>,
    },
    /// Link policies to their suggested companies: the named ones, or --all. With --dry-run,
    /// print each link's preview and change nothing.
    LinkSuggested {
        #[arg(
            long = "policy",
            conflicts_with = "all",
            required_unless_present = "all"
        )]
        policies: Vec<String>,
        #[arg(long)]
        all: bool,
        #[arg(long)]
        integration: Option<String>,
        #[arg(long)]
        dry_run: bool,
    },
}

pub async fn run(cx: &Context<'_>, command: Command) -> Result<(), String> {
    let key = (cx.key)()?;
    let ops = Ops::new(cx.store, Some(&key), None);
    let e = |e: bindery_server::ops::OpError| e.to_string();
    match command {
        Command::Link {
            policy,
            integration,
            company,
            site,
            dry_run,
        } => {
            let p = policy_named(cx.store, &policy).await?;
            let i = integration_named(cx.store, integration.as_deref()).await?;
            link(&ops, p.id, (i, company), site, dry_run)
                .await
                .map_err(e)?;
        }
        Command::Sites {
            integration,
            company,
        } => {
            let i = integration_named(cx.store, integration.as_deref()).await?;
            for s in ops.company_sites((i, company)).await.map_err(e)? {
                println!("{}", site_line(&s));
            }
        }
        Command::Unlink { policy } => {
            let p = policy_named(cx.store, &policy).await?;
            let (_, n) = ops.unlink(p.id).await.map_err(e)?;
            println!(
                "{} unlinked; {n} configurations are being deactivated",
                p.name
            );
        }
        Command::CompanySuggestions { integration } => {
            let i = integration_named(cx.store, integration.as_deref()).await?;
            for s in ops.company_suggestions(i).await.map_err(e)? {
                match s.company {
                    Some(c) => println!(
                        "{}\t{}\t{}\t{}\t{:.2}",
                        s.policy_id, s.policy_name, c.id, c.name, c.score
                    ),
                    None => println!(
                        "{}\t{}\t\t(no company matches)\t",
                        s.policy_id, s.policy_name
                    ),
                }
            }
        }
        Command::LinkSuggested {
            policies,
            all,
            integration,
            dry_run,
        } => {
            let i = integration_named(cx.store, integration.as_deref()).await?;
            let suggestions = ops.company_suggestions(i).await.map_err(e)?;
            let chosen: Vec<_> = suggestions
                .into_iter()
                .filter(|s| all || policies.contains(&s.policy_name))
                .collect();
            for name in &policies {
                if !chosen.iter().any(|s| &s.policy_name == name) {
                    return Err(format!("{name:?} is not an unlinked policy"));
                }
            }
            for s in chosen {
                let Some(c) = s.company else {
                    println!("{}: no company matches; link it by hand", s.policy_name);
                    continue;
                };
                if dry_run {
                    let preview = ops.preview_link(s.policy_id, (i, c.id)).await.map_err(e)?;
                    print!("{}", render(&preview));
                } else {
                    ops.link(s.policy_id, (i, c.id)).await.map_err(e)?;
                    println!("{} linked to {} ({})", s.policy_name, c.name, c.id);
                }
            }
        }
    }
    Ok(())
}

/// A preview as people read it: the counts, then what needs a person and what is left alone.
pub fn render(p: &LinkPreview) -> String {
    let plan = &p.plan;
    let mut out = format!(
        "linking {} to {} ({}, in {}) would:\n",
        p.policy_name, p.company_name, plan.company_id, p.integration_name
    );
    let adopted =
        plan.adopt_by_serial + plan.adopt_by_mac + plan.adopt_by_name + plan.adopt_by_person;
    out += &format!(
        "  adopt {adopted} existing configurations ({} by serial, {} by MAC, {} by name, {} chosen by a person)\n",
        plan.adopt_by_serial, plan.adopt_by_mac, plan.adopt_by_name, plan.adopt_by_person
    );
    out += &format!("  create {}\n", plan.create);
    out += &format!("  re-activate {}\n", plan.reactivate);
    out += &format!("  update {}\n", plan.update);
    out += &format!("  deactivate {}\n", plan.deactivate);
    if p.deactivated_elsewhere > 0 {
        out += &format!(
            "  deactivate {} in the instance the policy leaves\n",
            p.deactivated_elsewhere
        );
    }
    out += &format!("  leave {} in line\n", plan.in_line);
    out += &format!("  wait for a person: {}\n", plan.needs_person.len());
    for n in &plan.needs_person {
        let candidates: Vec<String> = n
            .candidates
            .iter()
            .map(ConfigurationId::to_string)
            .collect();
        out += &format!(
            "    device {}: {} (candidates: {})\n",
            n.device_id,
            n.reason,
            candidates.join(", ")
        );
    }
    out += &format!(
        "  leave alone {} configurations no device claims\n",
        plan.unclaimed.len()
    );
    for u in &plan.unclaimed {
        out += &format!(
            "    {}\t{}\n",
            u.configuration_id,
            u.name.as_deref().unwrap_or("")
        );
    }
    out
}

/// `link`: the preview with `dry_run`, else the link itself (at `site` when given).
async fn link(
    ops: &Ops<'_>,
    policy: bindery_server::ids::PolicyId,
    company: (IntegrationId, CompanyId),
    site: Option<i64>,
    dry_run: bool,
) -> Result<(), bindery_server::ops::OpError> {
    if dry_run {
        print!("{}", render(&ops.preview_link(policy, company).await?));
        return Ok(());
    }
    let linked = ops.link_at_site(policy, company, site).await?;
    let at = linked
        .cw_site
        .map(|s| format!(" (site {})", s.name))
        .unwrap_or_default();
    println!(
        "{} linked to {}{at}; its devices are being bound",
        linked.name,
        linked.cw_company_name.unwrap_or_default()
    );
    Ok(())
}

/// A site as `sites` prints it: id, name, city, and `main` for the company's main address.
fn site_line(s: &connectwise_client::model::CompanySite) -> String {
    let main = if s.primary_address_flag == Some(true) {
        "\tmain"
    } else {
        ""
    };
    format!(
        "{}\t{}\t{}{main}",
        s.id,
        s.name,
        s.city.as_deref().unwrap_or_default()
    )
}
