//! Windows: one PowerShell run of `INVENTORY_SCRIPT` (CIM and the registry), parsed by
//! `windows_parse`.

use std::os::windows::process::CommandExt;
use std::process::Command;

use bindery_shared::{DeviceFacts, FactField};

use super::windows_parse::{INVENTORY_SCRIPT, facts_from_inventory};

/// Keeps PowerShell from flashing a console window when the agent runs in a user session.
const CREATE_NO_WINDOW: u32 = 0x0800_0000;

pub fn collect() -> DeviceFacts {
    let output = Command::new("powershell.exe")
        .args([
            "-NoProfile",
            "-NonInteractive",
            "-ExecutionPolicy",
            "Bypass",
            "-Command",
        ])
        .arg(INVENTORY_SCRIPT)
        .creation_flags(CREATE_NO_WINDOW)
        .output();
    match output {
        Ok(out) => facts_from_inventory(&String::from_utf8_lossy(&out.stdout)),
        Err(e) => {
            let mut facts = DeviceFacts::default();
            for field in FactField::ALL {
                facts.set_absent(field, format!("cannot run PowerShell: {e}"));
            }
            facts
        }
    }
}
