//! `admin-create`, `admin-password`, `admin-role`, `admins` and `audit`: the accounts that sign
//! in to the console and the admin API, their roles, and the trail of what they changed.

use bindery_server::access::Role;
use bindery_server::store::AuditFilter;
use clap::Subcommand;

use super::Context;

fn role(s: &str) -> Result<Role, String> {
    Role::parse(s).ok_or_else(|| format!("{s:?} is not a role: viewer, technician, admin or owner"))
}

#[derive(Subcommand)]
pub enum Command {
    /// Create an admin account for the console and the admin API. The password comes from
    /// BINDERY_ADMIN_PASSWORD (or BINDERY_ADMIN_PASSWORD_FILE), or a strong one is made and printed.
    #[command(name = "admin-create", alias = "create")]
    AccountCreate {
        username: String,
        /// viewer, technician, admin or owner.
        #[arg(long, default_value = "owner", value_parser = role)]
        role: Role,
    },
    /// Give an account another role (viewer, technician, admin, owner); the last owner stays one.
    #[command(name = "admin-role")]
    AccountRole {
        username: String,
        #[arg(value_parser = role)]
        role: Role,
    },
    /// List the accounts and their roles.
    #[command(name = "admins")]
    Accounts,
    /// The audit trail, newest first: who changed what, when, how and from where.
    Audit {
        #[arg(long)]
        actor: Option<String>,
        /// An action (`policy.link`), or a prefix ending in a dot (`policy.`).
        #[arg(long)]
        action: Option<String>,
        #[arg(long, default_value_t = 50)]
        limit: i64,
        /// JSON lines instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Set an admin's password (from BINDERY_ADMIN_PASSWORD, or made and printed); it ends their
    /// sessions.
    #[command(name = "admin-password")]
    AccountPassword { username: String },
}

pub async fn run(cx: &Context<'_>, command: Command) -> Result<(), String> {
    let ops = bindery_server::ops::Ops::new(cx.store, None, None);
    let e = |e: bindery_server::ops::OpError| e.to_string();
    match command {
        Command::AccountCreate { username, role } => {
            let (password, made) = admin_password()?;
            ops.create_admin(&username, &password, role)
                .await
                .map_err(e)?;
            if made {
                println!("{username}\t{password}");
            }
        }
        Command::AccountPassword { username } => {
            let (password, made) = admin_password()?;
            ops.set_admin_password(&username, &password)
                .await
                .map_err(e)?;
            if made {
                println!("{username}\t{password}");
            }
        }
        Command::AccountRole { username, role } => {
            ops.set_admin_role(&username, role).await.map_err(e)?;
            println!("{username} is now {role}");
        }
        Command::Accounts => {
            for (name, role) in ops.accounts().await.map_err(e)? {
                println!("{name}\t{role}");
            }
        }
        Command::Audit {
            actor,
            action,
            limit,
            json,
        } => {
            let filter = AuditFilter {
                actor,
                action,
                limit,
                ..AuditFilter::default()
            };
            for a in ops.audit(&filter).await.map_err(e)? {
                if json {
                    println!("{}", serde_json::to_string(&a).unwrap_or_default());
                } else {
                    let when = bindery_shared::time::utc_text(a.at_ms);
                    let from = a.address.as_deref().unwrap_or("-");
                    let detail = a.detail.as_deref().unwrap_or("");
                    println!(
                        "{when}\t{}\t{}\t{from}\t{}\t{}\t{detail}",
                        a.actor, a.via, a.action, a.object
                    );
                }
            }
        }
    }
    Ok(())
}

/// The password to set: BINDERY_ADMIN_PASSWORD (or the file BINDERY_ADMIN_PASSWORD_FILE names),
/// or a new random one (true: print it). How long it must be is the accounts op's rule.
fn admin_password() -> Result<(String, bool), String> {
    let file = std::env::var_os("BINDERY_ADMIN_PASSWORD_FILE").map(std::path::PathBuf::from);
    let given = bindery_server::config::read_secret(
        "BINDERY_ADMIN_PASSWORD_FILE",
        std::env::var("BINDERY_ADMIN_PASSWORD").ok(),
        file.as_deref(),
    )?;
    match given {
        Some(p) => Ok((p, false)),
        None => bindery_server::secrets::random_secret("")
            .map(|p| (p.chars().take(20).collect(), true))
            .map_err(|e| e.to_string()),
    }
}
