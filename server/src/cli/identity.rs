//! `device-configuration`, `device-reinstall` and `identity-settings`: a person's answers where
//! Bindery will not decide a device's identity alone.

use bindery_server::ops::Ops;
use bindery_server::ops::identity::{self, ReinstallAnswer};
use bindery_server::reconcile::plan::PersonChoice;
use clap::Subcommand;

use super::Context;
use bindery_server::ids::{ConfigurationId, DeviceId};

#[derive(Subcommand)]
pub enum Command {
    /// Say which configuration a device is: --adopt ID (any configuration of its company that
    /// no other device owns; a bound device is re-pointed to it), --create-new, or --auto to
    /// let Bindery decide again.
    DeviceConfiguration {
        device: DeviceId,
        #[arg(long, conflicts_with_all = ["create_new", "auto"], required_unless_present_any = ["create_new", "auto"])]
        adopt: Option<ConfigurationId>,
        #[arg(long, conflicts_with = "auto")]
        create_new: bool,
        #[arg(long)]
        auto: bool,
    },
    /// Answer for a device waiting as a possible reinstall: --same-machine merges it into the
    /// device it may be (that device keeps its agent id, configuration and history), or
    /// --keep-separate makes it a device of its own.
    DeviceReinstall {
        device: DeviceId,
        #[arg(
            long,
            conflicts_with = "keep_separate",
            required_unless_present = "keep_separate"
        )]
        same_machine: bool,
        #[arg(long)]
        keep_separate: bool,
    },
    /// Show, or set, the auto-approval of reinstalls: a machine with the serial or MAC of a
    /// device silent for DAYS, enrolling with a token of its policy, takes its record back
    /// without a person. Off by default.
    IdentitySettings {
        #[arg(long, conflicts_with = "auto_approve_off")]
        auto_approve_days: Option<u32>,
        #[arg(long)]
        auto_approve_off: bool,
    },
}

pub async fn run(cx: &Context<'_>, command: Command) -> Result<(), String> {
    let ops = Ops::new(cx.store, None, None);
    let e = |e: bindery_server::ops::OpError| e.to_string();
    match command {
        Command::DeviceConfiguration {
            device,
            adopt,
            create_new,
            auto: _,
        } => {
            let choice = match (adopt, create_new) {
                (Some(id), _) => PersonChoice::Adopt(id),
                (None, true) => PersonChoice::CreateNew,
                (None, false) => PersonChoice::Auto,
            };
            let d = ops.choose_configuration(device, choice).await.map_err(e)?;
            println!(
                "device {} ({}): {choice:?}; binding again",
                d.id, d.agent_id
            );
        }
        Command::DeviceReinstall {
            device,
            same_machine,
            keep_separate: _,
        } => {
            let answer = if same_machine {
                ReinstallAnswer::SameMachine
            } else {
                ReinstallAnswer::KeepSeparate
            };
            let d = ops.answer_reinstall(device, answer).await.map_err(e)?;
            match answer {
                ReinstallAnswer::SameMachine => println!(
                    "device {device} merged into device {} ({}); its agent takes that id at its next check-in",
                    d.id, d.agent_id
                ),
                ReinstallAnswer::KeepSeparate => {
                    println!("device {} ({}) is a device of its own", d.id, d.agent_id)
                }
            }
        }
        Command::IdentitySettings {
            auto_approve_days,
            auto_approve_off,
        } => {
            if auto_approve_off || auto_approve_days.is_some() {
                ops.set_auto_approve_days(auto_approve_days)
                    .await
                    .map_err(e)?;
            }
            match identity::auto_approve_days(cx.store)
                .await
                .map_err(|e| e.to_string())?
            {
                Some(d) => println!("auto-approve reinstalls after {d} days of silence"),
                None => println!("auto-approve reinstalls: off"),
            }
        }
    }
    Ok(())
}
