//! Windows: who may open the state folder (%ProgramData%\Bindery\Agent), which holds the device
//! secret. ProgramData's own ACL lets every local user read what is below it, so the agent gives
//! the folder an explicit one: SYSTEM and Administrators, full control, inherited by everything in
//! it, nothing inherited from above. A folder that is already there and owned by anyone else (a
//! local user who made it first, to read or plant the agent's files) is refused.
//!
//! The rules are pure and work on SDDL text, so they are tested on Linux; the thin Windows part
//! applies the descriptor and reads the folder's back for `status`.
#![cfg_attr(not(windows), allow(dead_code))]

/// The descriptor the agent gives its state folder: owner Administrators; a protected DACL (`P`:
/// nothing inherited from ProgramData) granting full access (`FA`) to SYSTEM (`SY`) and
/// Administrators (`BA`), inherited by files and subfolders (`OICI`).
pub const STATE_DIR_SDDL: &str = "O:BAD:P(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)";

/// The owners a state folder may already have: SYSTEM (the service made it) and Administrators
/// (an elevated installer made it).
/// TrustedInstaller owns C:\ and Program Files on current Windows.
const TRUSTED_OWNERS: [(&str, &str); 3] = [
    ("S-1-5-18", "SYSTEM"),
    ("S-1-5-32-544", "Administrators"),
    (
        "S-1-5-80-956008885-3418522649-1831038044-1853292631-2271478464",
        "TrustedInstaller",
    ),
];

/// The SIDs SDDL abbreviates that a state folder's ACL may name.
fn sid_alias(sid: &str) -> &str {
    match sid {
        "S-1-5-18" => "SY",
        "S-1-5-32-544" => "BA",
        other => other,
    }
}

/// Why a folder owned by `owner_sid` (string form) must not be the agent's state folder, or
/// `None` when SYSTEM, Administrators, or the administrator running the agent (`admin_self`:
/// their own installer made it) own it.
pub fn foreign_owner(owner_sid: &str, admin_self: Option<&str>) -> Option<String> {
    if TRUSTED_OWNERS.iter().any(|(sid, _)| *sid == owner_sid) || admin_self == Some(owner_sid) {
        return None;
    }
    Some(format!(
        "it is owned by {owner_sid}, not by SYSTEM or Administrators, so someone else could have \
         made it to read or plant the agent's files: check it, remove it, and install again"
    ))
}

/// What a folder's DACL (read back as SDDL) allows, in words for `status`, and whether it is the
/// agent's: `Ok` when only SYSTEM and Administrators have access and nothing is inherited,
/// otherwise `Err` with who else may get in.
pub fn judge_dacl(sddl: &str) -> Result<&'static str, String> {
    let Some(dacl) = sddl.split_once("D:").map(|(_, d)| d) else {
        return Err("it has no access list: anyone may open it".into());
    };
    // The DACL's flags come before its first ACE; an SACL ("S:") may follow its ACEs.
    let (flags, aces) = dacl.split_once('(').unwrap_or((dacl, ""));
    let aces = aces.split("S:").next().unwrap_or(aces);
    let mut others = Vec::new();
    for ace in format!("({aces}")
        .split(['(', ')'])
        .filter(|a| !a.is_empty())
    {
        let fields: Vec<&str> = ace.split(';').collect();
        let (kind, trustee) = match fields.as_slice() {
            [kind, _, _, _, _, trustee, ..] => (*kind, sid_alias(trustee)),
            _ => return Err(format!("its access list cannot be read ({ace:?})")),
        };
        if kind == "A" && !matches!(trustee, "SY" | "BA") {
            others.push(trustee.to_owned());
        }
    }
    if !flags.contains('P') {
        others.push("whoever may open the folder above it (inherited)".into());
    }
    if others.is_empty() {
        Ok("SYSTEM and Administrators only")
    } else {
        Err(format!("also open to {}", others.join(", ")))
    }
}

#[cfg(windows)]
pub use raw::{administrator_self, built_sddl, owner, read_sddl, secure};

#[cfg(windows)]
mod raw {
    use std::os::windows::ffi::OsStrExt;
    use std::path::Path;

    use windows_sys::Win32::Foundation::{CloseHandle, ERROR_SUCCESS, HANDLE, LocalFree};
    use windows_sys::Win32::Security::Authorization::{
        ConvertSecurityDescriptorToStringSecurityDescriptorW, ConvertSidToStringSidW,
        ConvertStringSecurityDescriptorToSecurityDescriptorW, GetNamedSecurityInfoW,
        SDDL_REVISION_1, SE_FILE_OBJECT, SetNamedSecurityInfoW,
    };
    use windows_sys::Win32::Security::{
        ACL, CheckTokenMembership, CreateWellKnownSid, DACL_SECURITY_INFORMATION,
        GetSecurityDescriptorDacl, GetSecurityDescriptorOwner, GetTokenInformation,
        OBJECT_SECURITY_INFORMATION, OWNER_SECURITY_INFORMATION,
        PROTECTED_DACL_SECURITY_INFORMATION, PSECURITY_DESCRIPTOR, PSID, SECURITY_MAX_SID_SIZE,
        TOKEN_QUERY, TOKEN_USER, TokenUser, WinBuiltinAdministratorsSid,
    };
    use windows_sys::Win32::System::Threading::{GetCurrentProcess, OpenProcessToken};

    fn wide(path: &Path) -> Vec<u16> {
        path.as_os_str().encode_wide().chain(Some(0)).collect()
    }

    /// Reads a wide, NUL-terminated string Windows allocated, then frees it.
    ///
    /// SAFETY: `p` is null or a LocalAlloc'd NUL-terminated UTF-16 string.
    unsafe fn take_wide(p: *mut u16) -> String {
        if p.is_null() {
            return String::new();
        }
        let mut len = 0;
        // SAFETY: the string is NUL-terminated (the caller's promise).
        while unsafe { *p.add(len) } != 0 {
            len += 1;
        }
        // SAFETY: `len` u16s were just read.
        let text = String::from_utf16_lossy(unsafe { std::slice::from_raw_parts(p, len) });
        // SAFETY: allocated by Windows with LocalAlloc (the caller's promise).
        unsafe { LocalFree(p.cast()) };
        text
    }

    /// The folder's security descriptor with the parts `info` names (freed with LocalFree), and
    /// its owner SID (pointing into it).
    fn descriptor(
        path: &Path,
        info: OBJECT_SECURITY_INFORMATION,
    ) -> Result<(PSECURITY_DESCRIPTOR, PSID), String> {
        let name = wide(path);
        let (mut sd, mut owner): (PSECURITY_DESCRIPTOR, PSID) =
            (std::ptr::null_mut(), std::ptr::null_mut());
        // SAFETY: `name` is NUL-terminated; the out-pointers are valid; the caller frees `sd`.
        let err = unsafe {
            GetNamedSecurityInfoW(
                name.as_ptr(),
                SE_FILE_OBJECT,
                info,
                &mut owner,
                std::ptr::null_mut(),
                std::ptr::null_mut(),
                std::ptr::null_mut(),
                &mut sd,
            )
        };
        if err != ERROR_SUCCESS {
            return Err(format!(
                "cannot read who owns and may open {}: Windows error {err}",
                path.display()
            ));
        }
        Ok((sd, owner))
    }

    /// The folder's owner and DACL as SDDL (`O:…D:…`).
    pub fn read_sddl(path: &Path) -> Result<String, String> {
        let (sd, _) = descriptor(path, OWNER_SECURITY_INFORMATION | DACL_SECURITY_INFORMATION)?;
        // SAFETY: `sd` is the descriptor Windows just returned.
        let sddl = unsafe { to_sddl(sd) };
        // SAFETY: LocalAlloc'd by GetNamedSecurityInfoW.
        unsafe { LocalFree(sd) };
        sddl.ok_or_else(|| format!("cannot describe who may open {}", path.display()))
    }

    /// A descriptor's owner and DACL as SDDL.
    ///
    /// SAFETY: `sd` is a valid security descriptor.
    unsafe fn to_sddl(sd: PSECURITY_DESCRIPTOR) -> Option<String> {
        let mut text: *mut u16 = std::ptr::null_mut();
        // SAFETY: `sd` is valid (the caller's promise); `text` is freed by take_wide.
        let ok = unsafe {
            ConvertSecurityDescriptorToStringSecurityDescriptorW(
                sd,
                SDDL_REVISION_1,
                OWNER_SECURITY_INFORMATION | DACL_SECURITY_INFORMATION,
                &mut text,
                std::ptr::null_mut(),
            )
        };
        // SAFETY: `text` is null or LocalAlloc'd.
        let sddl = unsafe { take_wide(text) };
        (ok != 0).then_some(sddl)
    }

    /// The descriptor the agent applies, as Windows builds it from [`super::STATE_DIR_SDDL`] and
    /// describes it back: what `secure` gives the folder, whatever a file system keeps of it.
    pub fn built_sddl() -> Result<String, String> {
        let sd = build()?;
        // SAFETY: `sd` was just built; freed right after.
        let sddl = unsafe { to_sddl(sd) };
        // SAFETY: LocalAlloc'd by ConvertStringSecurityDescriptorToSecurityDescriptorW.
        unsafe { LocalFree(sd) };
        sddl.ok_or_else(|| "cannot describe the state folder's access list".into())
    }

    /// The agent's descriptor, built by Windows (freed with LocalFree).
    fn build() -> Result<PSECURITY_DESCRIPTOR, String> {
        let sddl: Vec<u16> = super::STATE_DIR_SDDL
            .encode_utf16()
            .chain(Some(0))
            .collect();
        let mut sd: PSECURITY_DESCRIPTOR = std::ptr::null_mut();
        // SAFETY: `sddl` is NUL-terminated; `sd` is the caller's to free.
        let ok = unsafe {
            ConvertStringSecurityDescriptorToSecurityDescriptorW(
                sddl.as_ptr(),
                SDDL_REVISION_1,
                &mut sd,
                std::ptr::null_mut(),
            )
        };
        if ok == 0 {
            return Err("cannot build the state folder's access list".into());
        }
        Ok(sd)
    }

    /// This process's user as a string SID, when it is an administrator: a folder that user
    /// made (an installer run by them) is not someone else's.
    pub fn administrator_self() -> Option<String> {
        let mut admins = [0u64; (SECURITY_MAX_SID_SIZE as usize).div_ceil(8)];
        let mut size = SECURITY_MAX_SID_SIZE;
        let (mut member, mut token): (i32, HANDLE) = (0, std::ptr::null_mut());
        // SAFETY: `admins` holds SECURITY_MAX_SID_SIZE bytes; the token is closed below.
        unsafe {
            if CreateWellKnownSid(
                WinBuiltinAdministratorsSid,
                std::ptr::null_mut(),
                admins.as_mut_ptr().cast(),
                &mut size,
            ) == 0
                || CheckTokenMembership(
                    std::ptr::null_mut(),
                    admins.as_mut_ptr().cast(),
                    &mut member,
                ) == 0
                || member == 0
                || OpenProcessToken(GetCurrentProcess(), TOKEN_QUERY, &mut token) == 0
            {
                return None;
            }
        }
        // TOKEN_USER and the SID after it, 8-byte aligned.
        let mut user = [0u64; 64];
        let mut len = 0;
        // SAFETY: `user` is writable for its size; `token` is open and closed right after.
        let ok = unsafe {
            let ok = GetTokenInformation(
                token,
                TokenUser,
                user.as_mut_ptr().cast(),
                std::mem::size_of_val(&user) as u32,
                &mut len,
            );
            CloseHandle(token);
            ok
        };
        if ok == 0 {
            return None;
        }
        // SAFETY: GetTokenInformation filled a TOKEN_USER at the start of the aligned buffer.
        let sid = unsafe { (*(user.as_ptr().cast::<TOKEN_USER>())).User.Sid };
        let mut text: *mut u16 = std::ptr::null_mut();
        // SAFETY: `sid` points into `user`, alive here.
        let ok = unsafe { ConvertSidToStringSidW(sid, &mut text) };
        // SAFETY: LocalAlloc'd by ConvertSidToStringSidW (or null).
        let sid = unsafe { take_wide(text) };
        (ok != 0).then_some(sid)
    }

    /// The string SID of the file's or folder's owner.
    pub fn owner(path: &Path) -> Result<String, String> {
        let (sd, owner) = descriptor(path, OWNER_SECURITY_INFORMATION)?;
        let mut text: *mut u16 = std::ptr::null_mut();
        // SAFETY: `owner` is a valid SID inside `sd`, freed only after this.
        let ok = unsafe { ConvertSidToStringSidW(owner, &mut text) };
        // SAFETY: LocalAlloc'd by Windows (or null); then `sd`, by GetNamedSecurityInfoW.
        let sid = unsafe { take_wide(text) };
        unsafe { LocalFree(sd) };
        if ok == 0 {
            return Err(format!("cannot read the owner of {}", path.display()));
        }
        Ok(sid)
    }

    /// Refuses a folder that was there already under a foreign owner, then gives it the agent's
    /// descriptor ([`super::STATE_DIR_SDDL`]).
    pub fn secure(path: &Path, existed: bool) -> Result<(), String> {
        if existed {
            let owner = owner(path)?;
            if let Some(why) = super::foreign_owner(&owner, administrator_self().as_deref()) {
                return Err(format!(
                    "refusing the state folder {}: {why}",
                    path.display()
                ));
            }
        }
        let sd = build()?;
        let (mut owner, mut dacl): (PSID, *mut ACL) = (std::ptr::null_mut(), std::ptr::null_mut());
        let (mut present, mut defaulted) = (0, 0);
        // SAFETY: `sd` is a valid descriptor; the pointers it yields live as long as it.
        unsafe {
            GetSecurityDescriptorOwner(sd, &mut owner, &mut defaulted);
            GetSecurityDescriptorDacl(sd, &mut present, &mut dacl, &mut defaulted);
        }
        let name = wide(path);
        let info = DACL_SECURITY_INFORMATION | PROTECTED_DACL_SECURITY_INFORMATION;
        // SAFETY: `name` is NUL-terminated; `dacl` and `owner` point into `sd`, alive here.
        let mut err = unsafe {
            SetNamedSecurityInfoW(
                name.as_ptr(),
                SE_FILE_OBJECT,
                info | OWNER_SECURITY_INFORMATION,
                owner,
                std::ptr::null_mut(),
                dacl,
                std::ptr::null(),
            )
        };
        if err != ERROR_SUCCESS {
            // Not every administrator may hand the folder to Administrators; the access list is
            // what keeps others out, so set that alone.
            // SAFETY: as above.
            err = unsafe {
                SetNamedSecurityInfoW(
                    name.as_ptr(),
                    SE_FILE_OBJECT,
                    info,
                    std::ptr::null_mut(),
                    std::ptr::null_mut(),
                    dacl,
                    std::ptr::null(),
                )
            };
        }
        // SAFETY: LocalAlloc'd by ConvertStringSecurityDescriptorToSecurityDescriptorW.
        unsafe { LocalFree(sd) };
        if err != ERROR_SUCCESS {
            return Err(format!(
                "cannot restrict the state folder {} to SYSTEM and Administrators: Windows error \
                 {err} (run as an Administrator)",
                path.display()
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_built_descriptor_admits_only_system_and_administrators() {
        assert_eq!(
            judge_dacl(STATE_DIR_SDDL),
            Ok("SYSTEM and Administrators only")
        );
        // Read back, Windows may spell the SIDs out and add the inherited-ACE flags.
        assert_eq!(
            judge_dacl("O:S-1-5-32-544D:PAI(A;OICI;FA;;;S-1-5-18)(A;OICI;FA;;;S-1-5-32-544)"),
            Ok("SYSTEM and Administrators only")
        );
    }

    #[test]
    fn programdatas_inherited_acl_is_seen_as_open_to_users() {
        // ProgramData's default, which a folder made below it inherits.
        let inherited = "O:BAD:AI(A;OICIID;FA;;;SY)(A;OICIID;FA;;;BA)(A;OICIIOID;GA;;;CO)\
                         (A;OICIID;0x1200a9;;;BU)(A;CIID;DCLCRPCR;;;BU)";
        let open = judge_dacl(inherited).unwrap_err();
        assert!(open.contains("BU") && open.contains("CO"), "{open}");
        assert!(open.contains("inherited"), "{open}");
        assert!(judge_dacl("O:BA").unwrap_err().contains("no access list"));
        assert!(
            judge_dacl("O:BAD:P(A;OICI;FA;;;SY)(A;OICI;FA;;;S-1-5-21-1-2-3-1001)")
                .unwrap_err()
                .contains("S-1-5-21-1-2-3-1001")
        );
    }

    #[test]
    fn a_folder_someone_else_made_first_is_refused() {
        let user = "S-1-5-21-1004336348-1177238915-682003330-1001";
        assert_eq!(foreign_owner("S-1-5-18", None), None);
        assert_eq!(foreign_owner("S-1-5-32-544", None), None);
        // An administrator's own folder (their installer made it) is theirs to use.
        assert_eq!(foreign_owner(user, Some(user)), None);
        assert!(
            foreign_owner(user, Some("S-1-5-21-1004336348-1177238915-682003330-500")).is_some()
        );
        let refused = foreign_owner(user, None).unwrap();
        assert!(
            refused.contains("not by SYSTEM or Administrators"),
            "{refused}"
        );
    }
}
