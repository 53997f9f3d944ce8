//! Windows: a folder chain nobody but SYSTEM and Administrators could swap. The agent's state
//! (`%ProgramData%\Bindery\Agent`) and the program a service runs are only as safe as every
//! folder above them: whoever owns `Bindery`, or any folder of `C:\Program Files\Bindery`, may
//! rename what is inside and put their own in its place; and a junction (a reparse point)
//! anywhere sends the path somewhere else entirely.
//!
//! The rule is pure (tested on Linux with recorded owners); the Windows part only reads each
//! folder's owner and attributes.
#![cfg_attr(not(windows), allow(dead_code))]

/// One entry of a path, as read on the machine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    pub path: String,
    /// The owner's string SID.
    pub owner_sid: String,
    /// A junction, symlink or other reparse point.
    pub reparse_point: bool,
}

/// Why a path whose entries are `chain` (any order) must not hold the agent's state or the
/// program a service runs, or `None`: every entry owned by SYSTEM, Administrators,
/// TrustedInstaller or the administrator running the agent (`admin_self`), and none a reparse
/// point.
pub fn judge_chain(chain: &[Link], admin_self: Option<&str>) -> Option<String> {
    chain.iter().find_map(|link| {
        if link.reparse_point {
            return Some(format!(
                "{} is a junction or link (a reparse point): it could lead anywhere. Use a real \
                 folder there",
                link.path
            ));
        }
        super::windows_acl::foreign_owner(&link.owner_sid, admin_self)
            .map(|why| format!("{}: {why}", link.path))
    })
}

#[cfg(windows)]
pub use raw::{program_chain, state_chain};

#[cfg(windows)]
mod raw {
    use std::os::windows::fs::MetadataExt;
    use std::path::Path;

    use super::Link;
    use crate::state::windows_acl::{administrator_self, owner};

    /// FILE_ATTRIBUTE_REPARSE_POINT.
    const REPARSE_POINT: u32 = 0x400;

    /// `paths`, each read as it is (links not followed).
    fn read(paths: &[&Path]) -> Result<Vec<Link>, String> {
        paths
            .iter()
            .map(|path| {
                let meta = std::fs::symlink_metadata(path)
                    .map_err(|e| format!("cannot check {}: {e}", path.display()))?;
                Ok(Link {
                    path: path.display().to_string(),
                    owner_sid: owner(path)?,
                    reparse_point: meta.file_attributes() & REPARSE_POINT != 0,
                })
            })
            .collect()
    }

    fn judged(paths: &[&Path], what: &str) -> Result<(), String> {
        match super::judge_chain(&read(paths)?, administrator_self().as_deref()) {
            Some(why) => Err(format!("refusing {what}: {why}")),
            None => Ok(()),
        }
    }

    /// The state folder and the folder holding it (`Bindery`), where they exist.
    pub fn state_chain(state: &Path) -> Result<(), String> {
        let paths: Vec<&Path> = [Some(state), state.parent()]
            .into_iter()
            .flatten()
            .filter(|p| p.exists())
            .collect();
        judged(&paths, "the state folder")
    }

    /// The program a service would run and every folder above it, to the drive's root.
    pub fn program_chain(program: &Path) -> Result<(), String> {
        let paths: Vec<&Path> = program.ancestors().collect();
        judged(&paths, "to make a service of this program")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn link(path: &str, owner_sid: &str, reparse_point: bool) -> Link {
        Link {
            path: path.into(),
            owner_sid: owner_sid.into(),
            reparse_point,
        }
    }

    /// TrustedInstaller, who owns C:\ and Program Files on current Windows.
    const INSTALLER: &str = "S-1-5-80-956008885-3418522649-1831038044-1853292631-2271478464";

    #[test]
    fn a_chain_of_system_administrators_and_the_installer_is_kept() {
        let program = [
            link(
                r"C:\Program Files\Bindery\bindery-agent.exe",
                "S-1-5-32-544",
                false,
            ),
            link(r"C:\Program Files\Bindery", "S-1-5-18", false),
            link(r"C:\Program Files", INSTALLER, false),
            link(r"C:\", INSTALLER, false),
        ];
        assert_eq!(judge_chain(&program, None), None);
    }

    #[test]
    fn a_user_owned_bindery_folder_or_a_junction_anywhere_is_refused() {
        let user = "S-1-5-21-1004336348-1177238915-682003330-1001";
        let state = [
            link(r"C:\ProgramData\Bindery\Agent", "S-1-5-18", false),
            link(r"C:\ProgramData\Bindery", user, false),
        ];
        let why = judge_chain(&state, None).unwrap();
        assert!(
            why.starts_with(r"C:\ProgramData\Bindery: it is owned by S-1-5-21"),
            "{why}"
        );
        // The same user running the install as an administrator made it: theirs to keep.
        assert_eq!(judge_chain(&state, Some(user)), None);
        let junction = [
            link(r"C:\ProgramData\Bindery\Agent", "S-1-5-18", false),
            link(r"C:\ProgramData\Bindery", "S-1-5-32-544", true),
        ];
        let why = judge_chain(&junction, None).unwrap();
        assert!(why.contains("reparse point"), "{why}");
    }
}
