//! `token-create`, `token-list` and `token-revoke`: enrollment tokens.

use bindery_server::ops::Ops;
use clap::Subcommand;

use super::{Context, policy_named};

#[derive(Subcommand)]
pub enum Command {
    /// Create an enrollment token for a policy and print it (it is shown only once); with
    /// --server-url, print the install commands for Linux, macOS and Windows with it filled in.
    #[command(name = "token-create")]
    Create {
        #[arg(long)]
        policy: String,
        #[arg(long, default_value = "")]
        label: String,
        /// Days until the token stops working (default: never).
        #[arg(long)]
        expires_in_days: Option<u32>,
        /// Machines that may enroll with it in all (default: any number).
        #[arg(long)]
        max_uses: Option<u32>,
        /// The server's address as machines reach it (https://bindery.example.com).
        #[arg(long, env = "BINDERY_PUBLIC_URL", value_name = "URL")]
        server_url: Option<String>,
    },
    /// List a policy's enrollment tokens (the tokens themselves are never stored).
    #[command(name = "token-list")]
    List {
        #[arg(long)]
        policy: String,
    },
    /// Revoke an enrollment token by its id (from token-list).
    #[command(name = "token-revoke")]
    Revoke { id: i64 },
}

pub async fn run(cx: &Context<'_>, command: Command) -> Result<(), String> {
    let store = cx.store;
    match command {
        Command::Create {
            policy,
            label,
            expires_in_days,
            max_uses,
            server_url,
        } => {
            let p = policy_named(store, &policy).await?;
            let (_, token) = bindery_server::ops::Ops::new(store, None, None)
                .create_token(p.id, &label, expires_in_days, max_uses)
                .await
                .map_err(|e| e.to_string())?;
            match server_url {
                None => println!("{token}"),
                Some(url) => {
                    let c = bindery_server::downloads::install_commands(&url, &token);
                    println!(
                        "Token for {}: {token}\n\nLinux and macOS (as root):\n  {}\n\nWindows (PowerShell as Administrator):\n  {}\n\nWindows through the MSI (PowerShell as Administrator; GPO, Intune or an RMM run the msiexec part):\n  {}",
                        p.name, c.unix, c.windows, c.msi
                    );
                }
            }
        }
        Command::List { policy } => {
            let p = policy_named(store, &policy).await?;
            let now = bindery_server::store::now_ms();
            for t in store.tokens(p.id).await.map_err(|e| e.to_string())? {
                let state = match (t.revoked_ms, t.is_usable(now)) {
                    (Some(_), _) => "revoked",
                    (None, false) => "expired",
                    (None, true) => "usable",
                };
                println!("{}\t{state}\t{} uses\t{}", t.id, t.uses, t.label);
            }
        }
        Command::Revoke { id } => Ops::new(store, None, None)
            .revoke_token(id)
            .await
            .map_err(|e| e.to_string())?,
    }
    Ok(())
}
