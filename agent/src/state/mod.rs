//! The agent's state directory and the agent id kept in it.
//!
//! The agent id identifies the machine, not a user, so it lives in a machine-wide place when the
//! agent runs as a service, and it survives restarts, reinstalls and upgrades.

use std::io::Write;
use std::path::{Path, PathBuf};

use bindery_shared::normalize::is_safe_identifier;
use bindery_shared::protocol::DeviceCredential;
use serde::{Deserialize, Serialize};

const AGENT_ID_FILE: &str = "agent-id";
const ENROLLMENT_FILE: &str = "enrollment.json";
const STATUS_FILE: &str = "status.json";

/// What enrollment gave this machine: the server and its credential. Kept in a file only its
/// owner can read; the secret never prints.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Enrolled {
    pub server: String,
    pub agent_id: String,
    pub secret: String,
    #[serde(default)]
    pub allow_http: bool,
    /// A CA certificate (PEM) trusted for this server besides the system's roots: the server's
    /// own CA, given to `enroll --ca-cert`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_cert: Option<String>,
    /// The HTTP proxy the server is reached through (`enroll --proxy` or BINDERY_PROXY), with
    /// its basic-authentication user and password if it has them: kept here, readable by root
    /// (SYSTEM and Administrators on Windows) only, like the secret.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proxy: Option<String>,
}

impl Enrolled {
    pub fn credential(&self) -> DeviceCredential {
        DeviceCredential {
            agent_id: self.agent_id.clone(),
            secret: self.secret.clone(),
        }
    }
}

impl std::fmt::Debug for Enrolled {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Enrolled")
            .field("server", &self.server)
            .field("agent_id", &self.agent_id)
            .field("secret", &"<redacted>")
            .field(
                "proxy",
                &self.proxy.as_deref().map(crate::server::proxy_shown),
            )
            .finish()
    }
}

/// The last check-in, for `bindery-agent status`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Status {
    pub last_attempt_ms: u64,
    pub last_success_ms: Option<u64>,
    pub last_result: String,
    pub next_checkin_secs: u32,
}

mod windows_acl;
pub mod windows_chain;

#[derive(Clone, Debug)]
pub struct StateDir {
    path: PathBuf,
    /// The machine-wide location (not `--state-dir` or the user's own): on Windows it gets the
    /// explicit access list of [`windows_acl`], once per process.
    #[cfg_attr(not(windows), allow(dead_code))]
    system: bool,
    #[cfg_attr(not(windows), allow(dead_code))]
    secured: std::sync::Arc<std::sync::OnceLock<()>>,
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
        let chosen = explicit
            .or_else(|| from_env("BINDERY_AGENT_STATE_DIR"))
            .or_else(|| from_env("STATE_DIRECTORY"));
        let system = chosen.is_none().then(system_dir).flatten();
        let path = chosen
            .or_else(|| system.clone())
            .or_else(|| {
                directories::ProjectDirs::from("", "", "bindery-agent")
                    .map(|d| d.data_local_dir().to_path_buf())
            })
            .ok_or("no state directory: give --state-dir")?;
        Ok(StateDir {
            path,
            system: system.is_some(),
            secured: Default::default(),
        })
    }

    /// Who may open the state folder, in words (`status`): on Windows, read back from the
    /// folder itself; elsewhere its mode, which `create_dir` sets.
    pub fn access(&self) -> Result<String, String> {
        #[cfg(windows)]
        {
            // What the agent applies, and what the folder says it has: they differ where a file
            // system keeps no access lists (Wine keeps only Unix modes).
            let words = |sddl: &str| match windows_acl::judge_dacl(sddl) {
                Ok(only) => only.to_owned(),
                Err(open) => open,
            };
            let built = windows_acl::built_sddl()?;
            let read = windows_acl::read_sddl(&self.path)?;
            Ok(format!(
                "applies: {} ({built}); the folder reports: {} ({read})",
                words(&built),
                words(&read)
            ))
        }
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let meta = std::fs::metadata(&self.path)
                .map_err(|e| format!("cannot read {}: {e}", self.path.display()))?;
            Ok(format!("mode {:o}", meta.permissions().mode() & 0o777))
        }
        #[cfg(not(any(unix, windows)))]
        Ok(String::new())
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

    /// Replaces the agent id with the one the server knows this machine by (its state had been
    /// wiped and the server recognised it by its serial).
    pub fn adopt_agent_id(&self, id: &str) -> Result<(), String> {
        if !is_safe_identifier(id) {
            return Err(format!("the server sent an unusable agent id {id:?}"));
        }
        self.write_atomic(AGENT_ID_FILE, format!("{id}\n").as_bytes(), 0o644)
    }

    pub fn save_enrollment(&self, enrolled: &Enrolled) -> Result<(), String> {
        let json = serde_json::to_vec_pretty(enrolled).map_err(|e| e.to_string())?;
        self.write_atomic(ENROLLMENT_FILE, &json, 0o600)
    }

    /// The enrollment, or `None` before the first `enroll`.
    pub fn enrollment(&self) -> Result<Option<Enrolled>, String> {
        let file = self.path.join(ENROLLMENT_FILE);
        match std::fs::read(&file) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map(Some)
                .map_err(|e| format!("{} is damaged ({e}): enroll again", file.display())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(format!("cannot read {}: {e}", file.display())),
        }
    }

    pub fn save_status(&self, status: &Status) -> Result<(), String> {
        let json = serde_json::to_vec_pretty(status).map_err(|e| e.to_string())?;
        self.write_atomic(STATUS_FILE, &json, 0o644)
    }

    pub fn status(&self) -> Option<Status> {
        serde_json::from_slice(&std::fs::read(self.path.join(STATUS_FILE)).ok()?).ok()
    }

    /// Writes a whole file in the state dir, or nothing (see [`write_file_atomic`]).
    fn write_atomic(&self, name: &str, bytes: &[u8], mode: u32) -> Result<(), String> {
        self.create_dir()?;
        write_file_atomic(&self.path.join(name), bytes, mode)
    }

    /// Where the state is (whether or not it exists yet).
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The state dir itself, created when missing (for the alert spool).
    pub fn dir(&self) -> Result<&Path, String> {
        self.create_dir()?;
        Ok(&self.path)
    }

    fn create_dir(&self) -> Result<(), String> {
        #[cfg(windows)]
        let (existed, parent_existed) = (
            self.path.exists(),
            self.path.parent().is_none_or(Path::exists),
        );
        let mut builder = std::fs::DirBuilder::new();
        builder.recursive(true);
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
        builder
            .create(&self.path)
            .map_err(|e| format!("cannot create state dir {}: {e}", self.path.display()))?;
        #[cfg(windows)]
        if self.system && self.secured.get().is_none() {
            // `Bindery` above it too: its owner could swap `Agent` for a folder of their own.
            // Made here, it gets the same access list; found, its owner is judged.
            if !parent_existed && let Some(parent) = self.path.parent() {
                windows_acl::secure(parent, false)?;
            }
            windows_chain::state_chain(&self.path)?;
            windows_acl::secure(&self.path, existed)?;
            let _ = self.secured.set(());
        }
        Ok(())
    }
}

/// Writes a whole file or nothing: a temporary file beside it (created with its final mode, so a
/// secret is never readable by others even for a moment), synced, then renamed into place.
pub fn write_file_atomic(target: &Path, bytes: &[u8], mode: u32) -> Result<(), String> {
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = target.with_file_name(format!(".{name}.{}", std::process::id()));
    let written = (|| {
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, mode);
        #[cfg(not(unix))]
        let _ = mode;
        let mut f = options.open(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, target)
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    written.map_err(|e| format!("cannot write {}: {e}", target.display()))
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
    // One id per machine whoever runs the agent: ProgramData is machine-wide. Asked of Windows,
    // not the environment: a service's may lack %ProgramData% (Wine's services do).
    program_data()
        .or_else(|| std::env::var_os("ProgramData").map(PathBuf::from))
        .map(|p| p.join("Bindery").join("Agent"))
}

/// The ProgramData folder (FOLDERID_ProgramData), as Windows knows it.
#[cfg(windows)]
fn program_data() -> Option<PathBuf> {
    use std::os::windows::ffi::OsStringExt;
    use windows_sys::Win32::System::Com::CoTaskMemFree;
    use windows_sys::Win32::UI::Shell::{
        FOLDERID_ProgramData, KF_FLAG_DEFAULT, SHGetKnownFolderPath,
    };
    let mut path: *mut u16 = std::ptr::null_mut();
    // SAFETY: the GUID is a static; `path` is freed with CoTaskMemFree below, as documented.
    let hr = unsafe {
        SHGetKnownFolderPath(
            &FOLDERID_ProgramData,
            KF_FLAG_DEFAULT as u32,
            std::ptr::null_mut(),
            &mut path,
        )
    };
    let found = (hr >= 0 && !path.is_null()).then(|| {
        let mut len = 0;
        // SAFETY: Windows returned a NUL-terminated string.
        while unsafe { *path.add(len) } != 0 {
            len += 1;
        }
        // SAFETY: `len` u16s were just read.
        PathBuf::from(std::ffi::OsString::from_wide(unsafe {
            std::slice::from_raw_parts(path, len)
        }))
    });
    // SAFETY: allocated by SHGetKnownFolderPath (null is allowed).
    unsafe { CoTaskMemFree(path.cast()) };
    found
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
    fn the_enrollment_is_private_and_never_prints_its_secret() {
        let dir = tempfile::tempdir().unwrap();
        let state = StateDir::resolve(Some(dir.path().join("s"))).unwrap();
        assert_eq!(state.enrollment().unwrap(), None);
        let e = Enrolled {
            server: "https://b".into(),
            agent_id: "a-1".into(),
            secret: "s3cret".into(),
            allow_http: false,
            ca_cert: None,
            proxy: Some("http://proxyuser:pr0xy-pass@10.0.0.1:3128".into()),
        };
        state.save_enrollment(&e).unwrap();
        assert!(!format!("{e:?}").contains("pr0xy-pass"));
        assert_eq!(state.enrollment().unwrap(), Some(e.clone()));
        assert!(!format!("{e:?}").contains("s3cret"));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join("s").join(ENROLLMENT_FILE))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        state.adopt_agent_id("a-0").unwrap();
        assert_eq!(state.agent_id().unwrap(), "a-0");
        assert!(state.adopt_agent_id("bad id").is_err());
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
