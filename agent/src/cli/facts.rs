//! `bindery-agent facts`: this machine's device facts, as the server would get them.

use std::io::Write;
use std::path::PathBuf;

use crate::facts;
use crate::state::StateDir;

/// `facts`: the table, or DeviceFacts JSON with `--json`.
pub(super) fn print(
    json: bool,
    state_dir: Option<PathBuf>,
    root: Option<PathBuf>,
) -> Result<(), String> {
    let agent_id = StateDir::resolve(state_dir).and_then(|s| s.agent_id());
    let facts = facts::collect(&facts::Source { root }, agent_id)?;
    let text = if json {
        let mut text = serde_json::to_string_pretty(&facts).map_err(|e| e.to_string())?;
        text.push('\n');
        text
    } else {
        facts::table(&facts)
    };
    std::io::stdout()
        .lock()
        .write_all(text.as_bytes())
        .map_err(|e| format!("cannot write: {e}"))
}
