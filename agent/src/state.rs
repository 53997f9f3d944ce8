//! The agent's state directory and the agent id kept in it.
//!
//! The agent id identifies the machine, not a user, so it lives in a machine-wide place when the
//! agent runs as a service, and it survives restarts, reinstalls and upgrades.

use std::io::Write;
use std::path::{Path, PathBuf};

use bindery_shared::normalize::is_safe_identifier;

const AGENT_ID_FILE: &str = "agent-id";

#[derive(Clone, Debug)]
pub struct StateDir {
    path: PathBuf,
}

impl StateDir {
    /// The state dir: `--state-dir`, else `BINDERY_AGENT_STATE_DIR`, else the one systemd gives the
    /// service (`STATE_DIRECTORY`), else the system location when running as root
    /// (/var/lib/bindery-agent; /Library/Application Support/Bindery Agent on macOS;
    /// %ProgramData%\Bindery\Agent on Windows), else the user's data dir (`directories`).
    pub fn resolve(explicit: Option<PathBuf>) -> Result<StateDir, String> {
        let from_env = |name: &str| {
            std::env::var_os(name).filter(|v| !v.is_empty()).map(|v| {
                // systemd may list several dirs separated by ':'; ours is the first.
                let v = v.to_string_lossy().into_owned();
                PathBuf::from(v.split(':').next().unwrap_or(&v))
            })
        };
        let path = explicit
            .or_else(|| from_env("BINDERY_AGENT_STATE_DIR"))
            .or_else(|| from_env("STATE_DIRECTORY"))
            .or_else(system_dir)
            .or_else(|| {
                directories::ProjectDirs::from("", "", "bindery-agent")
                    .map(|d| d.data_local_dir().to_path_buf())
            })
            .ok_or("no state directory: give --state-dir")?;
        Ok(StateDir { path })
    }

    /// The agent id, created (a random UUID) the first time and the same ever after.
    pub fn agent_id(&self) -> Result<String, String> {
        let file = self.path.join(AGENT_ID_FILE);
        match std::fs::read_to_string(&file) {
            Ok(text) => return parse_agent_id(&text, &file),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(format!("cannot read {}: {e}", file.display())),
        }
        self.create_dir()?;
        let id = uuid::Uuid::new_v4().to_string();
        // Written whole to a temporary file, then linked into place: a crash leaves either no id
        // or a complete one, and of two agents starting at once both end up with the same id.
        let tmp = self
            .path
            .join(format!(".{AGENT_ID_FILE}.{}", std::process::id()));
        let written = (|| {
            let mut f = std::fs::File::create(&tmp)?;
            f.write_all(format!("{id}\n").as_bytes())?;
            f.sync_all()?;
            match std::fs::hard_link(&tmp, &file) {
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
                other => other,
            }
        })();
        let _ = std::fs::remove_file(&tmp);
        written.map_err(|e| format!("cannot store the agent id in {}: {e}", file.display()))?;
        let text = std::fs::read_to_string(&file)
            .map_err(|e| format!("cannot read {}: {e}", file.display()))?;
        parse_agent_id(&text, &file)
    }

    fn create_dir(&self) -> Result<(), String> {
        let mut builder = std::fs::DirBuilder::new();
        builder.recursive(true);
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
        builder
            .create(&self.path)
            .map_err(|e| format!("cannot create state dir {}: {e}", self.path.display()))
    }
}

fn parse_agent_id(text: &str, file: &Path) -> Result<String, String> {
    let id = text.trim();
    if is_safe_identifier(id) {
        Ok(id.to_owned())
    } else {
        Err(format!(
            "{} is damaged: it must hold one agent id; restore it or remove it",
            file.display()
        ))
    }
}

#[cfg(unix)]
fn system_dir() -> Option<PathBuf> {
    // SAFETY: geteuid has no preconditions and cannot fail.
    let root = unsafe { libc::geteuid() } == 0;
    if !root {
        return None;
    }
    Some(PathBuf::from(if cfg!(target_os = "macos") {
        "/Library/Application Support/Bindery Agent"
    } else {
        "/var/lib/bindery-agent"
    }))
}

#[cfg(windows)]
fn system_dir() -> Option<PathBuf> {
    // One id per machine whoever runs the agent: ProgramData is machine-wide.
    std::env::var_os("ProgramData").map(|p| PathBuf::from(p).join("Bindery").join("Agent"))
}

#[cfg(not(any(unix, windows)))]
fn system_dir() -> Option<PathBuf> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_agent_id_is_created_once_and_kept() {
        let dir = tempfile::tempdir().unwrap();
        let state = StateDir::resolve(Some(dir.path().join("state"))).unwrap();
        let first = state.agent_id().unwrap();
        assert!(uuid::Uuid::parse_str(&first).is_ok());
        assert_eq!(state.agent_id().unwrap(), first);
        let again = StateDir::resolve(Some(dir.path().join("state"))).unwrap();
        assert_eq!(again.agent_id().unwrap(), first);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join("state"))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o700);
        }
    }

    #[test]
    fn a_damaged_id_file_is_reported_not_replaced() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(AGENT_ID_FILE), "x\" or 1=1").unwrap();
        let state = StateDir::resolve(Some(dir.path().to_path_buf())).unwrap();
        assert!(state.agent_id().unwrap_err().contains("damaged"));
        assert_eq!(
            std::fs::read_to_string(dir.path().join(AGENT_ID_FILE)).unwrap(),
            "x\" or 1=1"
        );
    }
}
