//! `rekey`: the server key rotated. Every sealed value is re-sealed under a new key, then the new
//! key takes the old one's place, the old one kept beside it as `.old`. A crash at any point
//! leaves either the old key with the old values, or the new key waiting in `.new` with values
//! that open under it; running `rekey` again finishes the job.

use std::path::Path;

use bindery_server::sealing::{ServerKey, create_key_file};
use clap::Subcommand;

use super::Context;

#[derive(Subcommand)]
pub enum Command {
    /// Re-seal every secret under a new server key, which then replaces the old one (kept as
    /// FILE.old until you delete it). Servers sharing a database need the new file too.
    Rekey,
}

pub async fn run(cx: &Context<'_>, command: Command) -> Result<(), String> {
    match command {
        Command::Rekey => rekey(cx).await,
    }
}

async fn rekey(cx: &Context<'_>) -> Result<(), String> {
    let path = (cx.key_path)()?;
    if !path.exists() {
        return Err(format!("there is no server key at {}", path.display()));
    }
    let old = ServerKey::load_or_create(&path).map_err(|e| e.to_string())?;
    let next = sibling(&path, "new");
    let new = if next.exists() {
        // A rekey that was interrupted: finish it with the key it had made.
        ServerKey::load_or_create(&next)
    } else {
        create_key_file(&next)
    }
    .map_err(|e| e.to_string())?;
    let changed = bindery_server::integration::reseal(cx.store, &old, &new)
        .await
        .map_err(|e| format!("nothing was changed in place of the old key: {e}"))?;
    let kept = sibling(&path, "old");
    std::fs::copy(&path, &kept)
        .map_err(|e| format!("cannot keep the old key as {}: {e}", kept.display()))?;
    std::fs::rename(&next, &path)
        .map_err(|e| format!("cannot put the new key in place of {}: {e}", path.display()))?;
    if let Some(dir) = path.parent()
        && let Ok(d) = std::fs::File::open(dir)
    {
        let _ = d.sync_all();
    }
    println!(
        "re-sealed {changed} secret(s) under a new key, now in {}; the old key is {} (delete it once no server uses it)",
        path.display(),
        kept.display()
    );
    Ok(())
}

/// `server.key` → `server.key.new`.
fn sibling(path: &Path, suffix: &str) -> std::path::PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".");
    name.push(suffix);
    name.into()
}
