//! `cw-sandbox`: the ConnectWise sandbox as a program of its own.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use connectwise_sandbox::Seed;

#[derive(Parser)]
#[command(
    name = "cw-sandbox",
    version,
    about = "A strict local emulator of the ConnectWise Manage API endpoints Bindery uses"
)]
struct Args {
    /// Address to listen on (keep it on loopback).
    #[arg(long, default_value = "127.0.0.1:8701")]
    listen: SocketAddr,
    /// A JSON seed instead of the default one (see the README for its shape).
    #[arg(long, value_name = "FILE")]
    seed: Option<PathBuf>,
    /// Accept requests without a clientId header (the real API's behaviour then is unknown).
    #[arg(long)]
    allow_missing_client_id: bool,
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    let seed = match args.seed.as_deref().map(Seed::from_file).transpose() {
        Ok(seed) => seed.unwrap_or_else(Seed::default_seed),
        Err(e) => {
            eprintln!("cw-sandbox: {e}");
            return ExitCode::FAILURE;
        }
    };
    let company = seed.credentials.company_id.clone();
    let public = seed.credentials.public_key.clone();
    let running =
        match connectwise_sandbox::spawn(args.listen, seed, !args.allow_missing_client_id).await {
            Ok(r) => r,
            Err(e) => {
                eprintln!("cw-sandbox: cannot listen on {}: {e}", args.listen);
                return ExitCode::FAILURE;
            }
        };
    // The private key is not printed: it is in the seed (or the README for the default seed).
    println!(
        "cw-sandbox listening on {} (company id {company}, public key {public})",
        running.url()
    );
    let _ = tokio::signal::ctrl_c().await;
    running.stop().await;
    ExitCode::SUCCESS
}
