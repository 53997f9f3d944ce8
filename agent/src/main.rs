//! `bindery-agent`: the Bindery agent (the command line is in `cli/`, one file per command).

mod cli;
mod facts;
mod log;
mod monitors;
mod server;
mod server_trust;
mod service;
mod spool;
mod state;
mod system_proxy;

fn main() -> std::process::ExitCode {
    cli::main()
}
