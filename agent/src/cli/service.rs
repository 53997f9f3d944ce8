//! `bindery-agent service install|uninstall [--purge]`: the agent as a system service.

use super::ServiceAction;
use crate::service;
use crate::state::StateDir;

/// Installs or removes the service; what was done, for the person running it.
pub(super) fn act(action: ServiceAction) -> Result<String, String> {
    match action {
        ServiceAction::Install => service::install(),
        ServiceAction::Uninstall { purge } => service::uninstall().and_then(|done| {
            if purge {
                purge_state().map(|gone| format!("{done}\n{gone}"))
            } else {
                Ok(done)
            }
        }),
    }
}

/// Deletes the machine-wide state (`service uninstall --purge`, the MSI's PURGE=1).
fn purge_state() -> Result<String, String> {
    let state = StateDir::resolve(None)?;
    let path = state.path();
    match std::fs::remove_dir_all(path) {
        Ok(()) => Ok(format!("deleted the agent's state in {}", path.display())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            Ok(format!("no agent state in {}", path.display()))
        }
        Err(e) => Err(format!("cannot delete {}: {e}", path.display())),
    }
}
