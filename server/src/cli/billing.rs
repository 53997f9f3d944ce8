//! `agreements`, `billing-set`, `billing-clear`, `billing`, `billing-approve` and
//! `billing-choose`: billing a policy's devices to an agreement by device count. The server's
//! engine writes the quantities; what waits for a person is answered here.

use bindery_server::ids::{CompanyId, IntegrationId};
use bindery_server::ops::billing::BillingRequest;
use bindery_server::ops::{OpError, Ops};
use bindery_server::reconcile::billing::Counting;
use clap::Subcommand;

use super::integrations::integration_named;
use super::{Context, policy_named};

#[derive(Subcommand)]
pub enum Command {
    /// List a company's agreements in force: id, name, type, parent agreement.
    Agreements {
        /// The ConnectWise instance (name or id; none: the oldest).
        #[arg(long)]
        integration: Option<String>,
        #[arg(long)]
        company: CompanyId,
    },
    /// Bill a policy's bound devices to an agreement of its company: workstations and servers
    /// each as a catalog product (by identifier). The first quantity waits for `billing-approve`.
    BillingSet {
        #[arg(long)]
        policy: String,
        #[arg(long)]
        agreement: i64,
        #[arg(long, value_name = "IDENTIFIER")]
        workstation_product: Option<String>,
        #[arg(long, value_name = "IDENTIFIER")]
        server_product: Option<String>,
        /// Billable, DoNotBill or NoCharge (for an addition Bindery creates).
        #[arg(long, default_value = "Billable")]
        bill_customer: String,
        /// Also cover each bound configuration with the agreement (uncovered when its device
        /// leaves).
        #[arg(long)]
        cover_configurations: bool,
    },
    /// Stop billing a policy's devices.
    BillingClear {
        #[arg(long)]
        policy: String,
    },
    /// Every addition Bindery keeps: agreement, product, addition, quantity, devices now, and
    /// what waits for a person.
    Billing,
    /// Approve the quantity that waits for an addition (the first one, or a steep drop).
    BillingApprove {
        /// The ConnectWise instance (name or id; none: the oldest).
        #[arg(long)]
        integration: Option<String>,
        #[arg(long)]
        agreement: i64,
        #[arg(long)]
        product: i64,
    },
    /// Show how quantities follow the count, or change it: live or the month's highest count
    /// (`month-high`), and the drop in percent that waits for a person.
    BillingRules {
        #[arg(long, value_parser = ["live", "month-high"])]
        counting: Option<String>,
        #[arg(long, value_name = "PERCENT")]
        max_drop_percent: Option<u32>,
    },
    /// Of several additions of a product on an agreement, keep this one.
    BillingChoose {
        /// The ConnectWise instance (name or id; none: the oldest).
        #[arg(long)]
        integration: Option<String>,
        #[arg(long)]
        agreement: i64,
        #[arg(long)]
        product: i64,
        #[arg(long)]
        addition: i64,
    },
}

pub async fn run(cx: &Context<'_>, command: Command) -> Result<(), String> {
    let key = (cx.key)()?;
    let ops = Ops::new(cx.store, Some(&key), None);
    let e = |e: bindery_server::ops::OpError| e.to_string();
    match command {
        Command::Agreements {
            integration,
            company,
        } => {
            let i = integration_named(cx.store, integration.as_deref()).await?;
            for a in ops.company_agreements(i, company).await.map_err(e)? {
                let kind = a.kind.and_then(|k| k.name).unwrap_or_default();
                let parent = a.parent_agreement.and_then(|p| p.id);
                let parent = parent
                    .map(|p| format!("\tchild of {p}"))
                    .unwrap_or_default();
                println!("{}\t{}\t{kind}{parent}", a.id, a.name);
            }
        }
        Command::BillingSet {
            policy,
            agreement,
            workstation_product,
            server_product,
            bill_customer,
            cover_configurations,
        } => {
            let p = policy_named(cx.store, &policy).await?;
            let request = BillingRequest {
                agreement_id: agreement,
                workstation_product: workstation_product.as_deref(),
                server_product: server_product.as_deref(),
                bill_customer: &bill_customer,
                cover_configurations,
            };
            let b = ops.set_billing(p.id, &request).await.map_err(e)?;
            println!(
                "{} bills to {}; the first quantities wait for `billing-approve`",
                p.name, b.agreement_name
            );
        }
        Command::BillingClear { policy } => {
            let p = policy_named(cx.store, &policy).await?;
            ops.clear_billing(p.id).await.map_err(e)?;
            println!("{} is no longer billed", p.name);
        }
        Command::Billing => print_lines(&ops).await.map_err(e)?,
        Command::BillingRules {
            counting,
            max_drop_percent,
        } => rules(&ops, counting.as_deref(), max_drop_percent)
            .await
            .map_err(e)?,
        Command::BillingApprove {
            integration,
            agreement,
            product,
        } => {
            let i = integration_named(cx.store, integration.as_deref()).await?;
            answer(&ops, (i, agreement), product, None)
                .await
                .map_err(e)?;
        }
        Command::BillingChoose {
            integration,
            agreement,
            product,
            addition,
        } => {
            let i = integration_named(cx.store, integration.as_deref()).await?;
            answer(&ops, (i, agreement), product, Some(addition))
                .await
                .map_err(e)?;
        }
    }
    Ok(())
}

/// `billing-approve` (no addition) or `billing-choose`: a person's answer to what waits.
async fn answer(
    ops: &Ops<'_>,
    (integration, agreement): (IntegrationId, i64),
    product: i64,
    addition: Option<i64>,
) -> Result<(), OpError> {
    let key = (integration, agreement);
    match addition {
        None => {
            let a = ops.approve_billing(key, product).await?;
            let q = a.approved_quantity.unwrap_or_default();
            println!(
                "approved: {} on agreement {agreement} becomes {q}",
                a.product
            );
        }
        Some(addition) => {
            let a = ops.choose_addition(key, product, addition).await?;
            println!(
                "{} on agreement {agreement} is addition {addition}",
                a.product
            );
        }
    }
    Ok(())
}

/// `billing`: one line per addition Bindery keeps.
async fn print_lines(ops: &Ops<'_>) -> Result<(), OpError> {
    for l in ops.billing_lines().await? {
        let a = l.addition;
        let show = |v: Option<i64>| v.map_or("-".into(), |v| v.to_string());
        let waits = match a.held_reason {
            Some(why) => format!("\twaits: {why}"),
            None => String::new(),
        };
        println!(
            "{}\t{} ({})\taddition {}\tquantity {}\tdevices {}{waits}",
            a.agreement_id,
            a.product,
            a.product_id,
            show(a.addition_id),
            show(a.quantity),
            l.devices
        );
    }
    Ok(())
}

/// `billing-rules`: changes what is given, then shows the rules.
async fn rules(
    ops: &Ops<'_>,
    counting: Option<&str>,
    max_drop_percent: Option<u32>,
) -> Result<(), OpError> {
    let mut rules = ops.billing_rules().await?;
    if let Some(c) = counting {
        rules.counting = if c == "month-high" {
            Counting::MonthHigh
        } else {
            Counting::Live
        };
    }
    if let Some(p) = max_drop_percent {
        rules.max_drop_percent = p;
    }
    if counting.is_some() || max_drop_percent.is_some() {
        ops.set_billing_rules(&rules).await?;
    }
    let shown = match rules.counting {
        Counting::Live => "live",
        Counting::MonthHigh => "month-high",
    };
    println!(
        "counting {shown}\ta drop of more than {} % waits",
        rules.max_drop_percent
    );
    Ok(())
}
