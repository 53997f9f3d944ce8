//! `admin-create` and `admin-password`: the accounts that sign in to the console and the admin API.

use clap::Subcommand;

use super::Context;

#[derive(Subcommand)]
pub enum Command {
    /// Create an admin account for the console and the admin API. The password comes from
    /// BINDERY_ADMIN_PASSWORD (or BINDERY_ADMIN_PASSWORD_FILE), or a strong one is made and printed.
    #[command(name = "admin-create", alias = "create")]
    AccountCreate { username: String },
    /// Set an admin's password (from BINDERY_ADMIN_PASSWORD, or made and printed); it ends their
    /// sessions.
    #[command(name = "admin-password")]
    AccountPassword { username: String },
}

pub async fn run(cx: &Context<'_>, command: Command) -> Result<(), String> {
    let ops = bindery_server::ops::Ops::new(cx.store, None, None);
    let e = |e: bindery_server::ops::OpError| e.to_string();
    match command {
        Command::AccountCreate { username } => {
            let (password, made) = admin_password()?;
            ops.create_admin(&username, &password).await.map_err(e)?;
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
