//! Putting agents on machines: the install scripts (`/install.sh`, `/install.ps1`), the agent
//! builds and the Windows MSI they download (`/downloads/…`, from `serve --downloads-dir`), and
//! the one-line install commands the console and `token-create` show with a token filled in.

use std::path::PathBuf;

use axum::Router;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use tokio::io::AsyncReadExt;

use crate::state::Shared;

/// For Linux and macOS (POSIX sh).
pub const INSTALL_SH: &str = include_str!("../../packaging/install.sh");
/// For Windows (PowerShell).
pub const INSTALL_PS1: &str = include_str!("../../packaging/install.ps1");

pub fn router() -> Router<Shared> {
    Router::new()
        .route(
            "/install.sh",
            get(|| script(INSTALL_SH, "text/x-shellscript")),
        )
        .route("/install.ps1", get(|| script(INSTALL_PS1, "text/plain")))
        .route("/downloads/{file}", get(download))
}

async fn script(text: &'static str, content_type: &'static str) -> Response {
    (
        [
            (
                header::CONTENT_TYPE,
                format!("{content_type}; charset=utf-8"),
            ),
            (header::CACHE_CONTROL, "no-cache".to_owned()),
        ],
        text,
    )
        .into_response()
}

/// The install commands for one enrollment token, as an admin pastes them on a machine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstallCommands {
    /// Linux and macOS, in a shell of an admin (sudo).
    pub unix: String,
    /// Windows, in PowerShell as Administrator.
    pub windows: String,
    /// Windows through the MSI, as deployment tools (GPO, Intune, an RMM) run it, as
    /// Administrator.
    pub msi: String,
}

/// The Windows installer package's name under /downloads/.
pub const MSI: &str = "bindery-agent-x86_64.msi";

/// The commands for `server` (as agents reach it: `https://bindery.example.com`) and `token`.
/// Plain http gets the scripts' test-only flags, so what is shown works as shown.
///
/// The token never becomes a program's argument, so neither `ps` nor sudo's log shows it: the
/// Unix command writes it with the shell's own `printf` to a file only its owner reads, which the
/// script reads and removes; PowerShell sets it in its own environment for the script it runs.
/// The MSI command checks the download against the server's SHA-256 before it installs, and
/// hands the token over in a file in the admin's own temp folder (`ENROLL_TOKEN_FILE`), which
/// the agent deletes once enrolled: neither msiexec's nor the agent's command line holds it.
pub fn install_commands(server: &str, token: &str) -> InstallCommands {
    let server = server.trim_end_matches('/');
    let http = server.starts_with("http://");
    let (sh_flag, ps_flag, msi_flag) = if http {
        (" --allow-http", " -AllowHttp", " ALLOW_HTTP=1")
    } else {
        ("", "", "")
    };
    InstallCommands {
        unix: format!(
            "(umask 077; printf '%s' '{token}' > \"$HOME/.bindery-enroll-token\") && curl -fsSL {server}/install.sh | sudo sh -s -- --server {server} --token-file \"$HOME/.bindery-enroll-token\"{sh_flag}"
        ),
        windows: format!(
            "$env:BINDERY_ENROLL_TOKEN = '{token}'; & ([scriptblock]::Create((irm {server}/install.ps1))) -Server {server}{ps_flag}"
        ),
        // Start-Process -Wait: msiexec alone returns at once, before the install has run. One
        // argument string with the paths quoted: Start-Process does not quote a list's items,
        // and %TEMP% often holds a space (C:\Users\Jane Doe\…). PowerShell's `-ne` compares
        // without case (Get-FileHash prints upper case, the server lower).
        msi: format!(
            "$msi = \"$env:TEMP\\{MSI}\"; $tok = \"$env:TEMP\\bindery-enroll-token\"; curl.exe -fsSLo $msi {server}/downloads/{MSI}; if ((Get-FileHash $msi -Algorithm SHA256).Hash -ne (curl.exe -fsSL {server}/downloads/{MSI}.sha256).Split(' ')[0]) {{ throw 'the download does not match the server''s SHA-256' }}; Set-Content -NoNewline -Path $tok -Value '{token}'; Start-Process msiexec -Wait -ArgumentList \"/i `\"$msi`\" /qn SERVER_URL={server} ENROLL_TOKEN_FILE=`\"$tok`\"{msi_flag}\"; Remove-Item $tok -ErrorAction SilentlyContinue"
        ),
    }
}

/// Whether `name` is an agent build's name: `bindery-agent-{linux,macos,windows}-{x86_64,aarch64}`
/// (`.exe` for Windows), or the Windows MSI ([`MSI`]). Nothing else is ever looked up on disk.
pub fn is_agent_build(name: &str) -> bool {
    if name == MSI {
        return true;
    }
    let Some(rest) = name.strip_prefix("bindery-agent-") else {
        return false;
    };
    let (os, arch) = match rest.split_once('-') {
        Some(pair) => pair,
        None => return false,
    };
    let arch = match (os, arch.strip_suffix(".exe")) {
        ("windows", Some(arch)) => arch,
        ("linux" | "macos", None) => arch,
        _ => return false,
    };
    matches!(arch, "x86_64" | "aarch64")
}

async fn download(State(state): State<Shared>, Path(file): Path<String>) -> Response {
    let not_here = |why: String| (StatusCode::NOT_FOUND, why).into_response();
    if let Some(build) = file.strip_suffix(".sha256")
        && is_agent_build(build)
    {
        return checksum(&state, build).await;
    }
    if !is_agent_build(&file) {
        return not_here(format!(
            "{file:?} is not an agent build (bindery-agent-OS-ARCH, OS linux, macos or windows)"
        ));
    }
    let Some(dir) = &state.agents.downloads_dir else {
        return not_here(
            "this server hosts no agent builds: start it with --downloads-dir (downloads_dir)"
                .into(),
        );
    };
    let path: PathBuf = dir.join(&file);
    let opened = match tokio::fs::File::open(&path).await {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return not_here(format!("no {file} on this server"));
        }
        Err(e) => {
            tracing::warn!(path = %path.display(), error = %e, "cannot open an agent build");
            return (
                StatusCode::INTERNAL_SERVER_ERROR,
                "cannot read the agent build",
            )
                .into_response();
        }
    };
    let length = opened.metadata().await.map(|m| m.len()).ok();
    // Streamed in pieces: many machines installing at once do not each hold a whole build.
    let chunks = futures_util::stream::unfold(Some(opened), |file| async move {
        let mut file = file?;
        let mut buf = vec![0u8; 64 * 1024];
        match file.read(&mut buf).await {
            Ok(0) => None,
            Ok(n) => {
                buf.truncate(n);
                Some((Ok(buf), Some(file)))
            }
            Err(e) => Some((Err(e), None)),
        }
    });
    let mut response = Response::new(Body::from_stream(chunks));
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("application/octet-stream"),
    );
    if let Some(len) = length {
        headers.insert(header::CONTENT_LENGTH, len.into());
    }
    response
}

/// `<sha-256>  <name>` of an agent build (as `sha256sum` prints it), which the install scripts
/// check their download against.
async fn checksum(state: &Shared, build: &str) -> Response {
    let Some(dir) = &state.agents.downloads_dir else {
        return (StatusCode::NOT_FOUND, "this server hosts no agent builds").into_response();
    };
    match sha256_of(&dir.join(build)).await {
        Ok((hex, _)) => (
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            format!("{hex}  {build}\n"),
        )
            .into_response(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            (StatusCode::NOT_FOUND, format!("no {build} on this server")).into_response()
        }
        Err(e) => {
            tracing::warn!(build, error = %e, "cannot read an agent build");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "cannot read the agent build",
            )
                .into_response()
        }
    }
}

/// A build's identity for the checksum cache: replacing the file changes its length or time.
type Stamp = (std::time::SystemTime, u64);

/// Each build's SHA-256 as last hashed, with the stamp it was hashed at. Held while hashing, so
/// a thousand machines asking at once cost one pass over the file, not a thousand.
static CHECKSUMS: tokio::sync::Mutex<Vec<(PathBuf, Stamp, String)>> =
    tokio::sync::Mutex::const_new(Vec::new());

/// The file's SHA-256 (hex), hashed only when it is new or changed since the last time; the
/// flag says whether it was hashed now.
async fn sha256_of(path: &std::path::Path) -> std::io::Result<(String, bool)> {
    use sha2::{Digest, Sha256};
    let mut known = CHECKSUMS.lock().await;
    let mut file = tokio::fs::File::open(path).await?;
    let meta = file.metadata().await?;
    let stamp = (meta.modified()?, meta.len());
    if let Some((_, _, hex)) = known.iter().find(|(p, s, _)| p == path && *s == stamp) {
        return Ok((hex.clone(), false));
    }
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        match file.read(&mut buf).await? {
            0 => break,
            n => hasher.update(&buf[..n]),
        }
    }
    let hex: String = hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    known.retain(|(p, _, _)| p != path);
    known.push((path.to_owned(), stamp, hex.clone()));
    Ok((hex, true))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_build_is_hashed_once_until_it_changes() {
        let dir = tempfile::tempdir().unwrap();
        let build = dir.path().join("bindery-agent-linux-x86_64");
        std::fs::write(&build, b"abc").unwrap();
        let abc = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
        assert_eq!(sha256_of(&build).await.unwrap(), (abc.to_owned(), true));
        assert_eq!(sha256_of(&build).await.unwrap(), (abc.to_owned(), false));
        // A new build in its place (another length) is hashed again.
        std::fs::write(&build, b"abcd").unwrap();
        let (hex, fresh) = sha256_of(&build).await.unwrap();
        assert!(fresh && hex != abc);
        let missing = sha256_of(&dir.path().join("none")).await.unwrap_err();
        assert_eq!(missing.kind(), std::io::ErrorKind::NotFound);
    }

    #[test]
    fn only_agent_build_names_are_served() {
        for ok in [
            "bindery-agent-linux-x86_64",
            "bindery-agent-macos-aarch64",
            "bindery-agent-windows-x86_64.exe",
            "bindery-agent-x86_64.msi",
        ] {
            assert!(is_agent_build(ok), "{ok}");
        }
        for bad in [
            "../server.key",
            "bindery-agent-linux-x86_64/../../etc/passwd",
            "bindery-agent-linux-x86_64.exe",
            "bindery-agent-windows-x86_64",
            "bindery-agent-windows-x86_64.msi",
            "bindery-agent-x86_64.msi/..",
            "bindery-agent-solaris-sparc",
            "bindery-agent-linux-",
            "server.key",
        ] {
            assert!(!is_agent_build(bad), "{bad}");
        }
    }

    #[test]
    fn commands_carry_the_server_and_token_and_http_gets_the_test_flag() {
        let c = install_commands("https://bindery.example.com/", "bdy_enr_T");
        assert_eq!(
            c.unix,
            "(umask 077; printf '%s' 'bdy_enr_T' > \"$HOME/.bindery-enroll-token\") && curl -fsSL https://bindery.example.com/install.sh | sudo sh -s -- --server https://bindery.example.com --token-file \"$HOME/.bindery-enroll-token\""
        );
        assert!(
            c.windows
                .contains("irm https://bindery.example.com/install.ps1")
        );
        assert!(
            c.windows
                .starts_with("$env:BINDERY_ENROLL_TOKEN = 'bdy_enr_T';")
        );
        // Only the shell and PowerShell themselves ever hold the token: no argument carries it.
        assert!(!c.unix.contains("--token bdy") && !c.windows.contains("-Token"));
        assert_eq!(
            c.msi,
            "$msi = \"$env:TEMP\\bindery-agent-x86_64.msi\"; $tok = \"$env:TEMP\\bindery-enroll-token\"; curl.exe -fsSLo $msi https://bindery.example.com/downloads/bindery-agent-x86_64.msi; if ((Get-FileHash $msi -Algorithm SHA256).Hash -ne (curl.exe -fsSL https://bindery.example.com/downloads/bindery-agent-x86_64.msi.sha256).Split(' ')[0]) { throw 'the download does not match the server''s SHA-256' }; Set-Content -NoNewline -Path $tok -Value 'bdy_enr_T'; Start-Process msiexec -Wait -ArgumentList \"/i `\"$msi`\" /qn SERVER_URL=https://bindery.example.com ENROLL_TOKEN_FILE=`\"$tok`\"\"; Remove-Item $tok -ErrorAction SilentlyContinue"
        );
        // msiexec's arguments hold the token's file, not the token.
        let args = c.msi.split("-ArgumentList").nth(1).unwrap();
        assert!(!args.split(';').next().unwrap().contains("bdy_enr_T"));
        let plain = install_commands("http://10.0.0.5:8700", "t");
        assert!(plain.unix.ends_with("--allow-http"));
        assert!(plain.windows.ends_with("-AllowHttp"));
        assert!(plain.msi.contains(" ALLOW_HTTP=1\";"));
    }
}
