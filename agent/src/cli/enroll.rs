//! `bindery-agent enroll`: this machine joins a Bindery server with a policy's enrollment
//! token, which comes from the environment or a file, never from the command line when an
//! installer runs it.

use std::io::Read;
use std::path::{Path, PathBuf};

use bindery_shared::protocol::EnrollRequest;

use super::VERSION;
use crate::facts;
use crate::server::{Reach, ServerClient, ServerError};
use crate::state::{Enrolled, StateDir};

/// What `enroll` was given besides the server.
pub(super) struct Given {
    /// The token itself (`--token`, or `BINDERY_ENROLL_TOKEN`).
    pub token: Option<String>,
    /// A file holding it (`--token-file`), deleted once enrolled.
    pub token_file: Option<PathBuf>,
    pub allow_http: bool,
    pub ca_cert: Option<PathBuf>,
    pub proxy: ProxyGiven,
}

/// Where the proxy to reach the server through may come from. An empty value is none (an
/// MSI property left unset arrives as "").
pub(super) struct ProxyGiven {
    /// `--proxy`: on the command line, so never with a password.
    pub argument: Option<String>,
    /// `--proxy-file`: a file holding it, deleted once enrolled.
    pub file: Option<PathBuf>,
    /// BINDERY_PROXY.
    pub environment: Option<String>,
}

impl ProxyGiven {
    /// The proxy to keep with the enrollment (checked), and the file to delete once enrolled.
    fn resolve(self) -> Result<(Option<String>, Option<PathBuf>), String> {
        let given = |v: &Option<String>| v.as_deref().is_some_and(|p| !p.trim().is_empty());
        let file = self.file.filter(|f| !f.as_os_str().is_empty());
        if given(&self.argument) && file.is_some() {
            return Err("give the proxy once: --proxy URL or --proxy-file FILE".into());
        }
        let raw = if given(&self.argument) {
            let argument = self.argument.unwrap_or_default();
            if has_credentials(&argument) {
                return Err(
                    "a proxy's user and password do not go on the command line, which \
                     other users of this machine can read: give the proxy in BINDERY_PROXY or \
                     --proxy-file FILE"
                        .into(),
                );
            }
            Some(argument)
        } else if let Some(path) = &file {
            Some(read_small_file(path, "proxy")?)
        } else if given(&self.environment) {
            self.environment
        } else {
            None
        };
        let proxy = raw.map(|p| crate::server::proxy_setting(&p)).transpose()?;
        Ok((proxy, file))
    }
}

/// Whether a proxy URL carries a user or a password.
fn has_credentials(proxy: &str) -> bool {
    reqwest::Url::parse(proxy.trim())
        .map(|u| !u.username().is_empty() || u.password().is_some())
        .unwrap_or(proxy.contains('@'))
}

/// Tokens are short; a file longer than this is not one.
const TOKEN_FILE_MAX_BYTES: u64 = 4096;

/// The one line `file` holds (a token, a proxy): its text without surrounding space (editors
/// and `echo` add a newline; PowerShell's `Set-Content` a BOM).
fn read_small_file(file: &Path, what: &str) -> Result<String, String> {
    let mut text = String::new();
    std::fs::File::open(file)
        .and_then(|f| f.take(TOKEN_FILE_MAX_BYTES + 1).read_to_string(&mut text))
        .map_err(|e| format!("cannot read the {what} file {}: {e}", file.display()))?;
    token_in(&text).ok_or_else(|| {
        format!(
            "the {what} file {} holds no {what} (one line, at most {TOKEN_FILE_MAX_BYTES} bytes)",
            file.display()
        )
    })
}

/// The token a token file's text holds, if it holds one.
fn token_in(text: &str) -> Option<String> {
    let token = text.trim_start_matches('\u{feff}').trim();
    let one_line = !token.is_empty() && !token.contains(['\r', '\n']);
    (one_line && token.len() as u64 <= TOKEN_FILE_MAX_BYTES).then(|| token.to_owned())
}

/// Enrolls with `server` and keeps the credential in the state folder; the token file, if the
/// token came in one, is deleted once enrolled.
pub(super) async fn enroll(
    server: &str,
    given: Given,
    state_dir: Option<PathBuf>,
) -> Result<(), String> {
    let Given {
        token,
        token_file,
        allow_http,
        ca_cert,
        proxy,
    } = given;
    let (proxy, proxy_file) = proxy.resolve()?;
    let token = match (token, &token_file) {
        (Some(token), _) => token,
        (None, Some(file)) => read_small_file(file, "token")?,
        (None, None) => return Err("give the enrollment token: --token-file FILE".into()),
    };
    let ca_cert = match ca_cert {
        Some(path) => Some(
            std::fs::read_to_string(&path)
                .map_err(|e| format!("cannot read the CA certificate {}: {e}", path.display()))?,
        ),
        None => None,
    };
    let state = StateDir::resolve(state_dir)?;
    let agent_id = state.agent_id()?;
    let client = ServerClient::new(
        server,
        Reach {
            allow_http,
            ca_cert: ca_cert.as_deref(),
            proxy: proxy.as_deref(),
        },
    )?;
    let facts = facts::collect(&facts::Source::default(), Ok(agent_id.clone()))?;
    let request = EnrollRequest {
        token,
        agent_id: agent_id.clone(),
        agent_version: VERSION.into(),
        facts,
    };
    // Enrolling again with the state kept: the current credential proves this is the same
    // device. It goes only to the server that issued it.
    let proof = state
        .enrollment()
        .ok()
        .flatten()
        .filter(|e| e.agent_id == agent_id && e.server == client.url())
        .map(|e| e.credential());
    let reply = client
        .enroll(&request, proof.as_ref())
        .await
        .map_err(|e| match e {
            ServerError::Unauthorized(m) => format!("enrollment refused: {m}"),
            other if other.to_string().contains("certificate") => format!(
                "{other} (for a server whose certificate comes from its own CA, give that CA's \
             certificate with --ca-cert FILE)"
            ),
            other => other.to_string(),
        })?;
    if reply.agent_id != agent_id {
        // The server knew this machine (by its serial) under its earlier id: keep that one.
        state.adopt_agent_id(&reply.agent_id)?;
    }
    state.save_enrollment(&Enrolled {
        server: client.url().to_owned(),
        agent_id: reply.agent_id.clone(),
        secret: reply.device_secret,
        allow_http,
        ca_cert,
        proxy,
    })?;
    println!("enrolled with {} as agent {}", client.url(), reply.agent_id);
    for (what, file) in [("token", token_file), ("proxy", proxy_file)] {
        if let Some(file) = file
            && let Err(e) = std::fs::remove_file(&file)
        {
            crate::log::warning(&format!(
                "enrolled, but cannot delete the {what} file {}: {e}; delete it by hand",
                file.display()
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_file_holds_one_line_with_any_newline_or_bom_around_it() {
        assert_eq!(token_in("bdy_enr_x\n").as_deref(), Some("bdy_enr_x"));
        assert_eq!(
            token_in("\u{feff}bdy_enr_x\r\n").as_deref(),
            Some("bdy_enr_x")
        );
        assert_eq!(token_in("  bdy_enr_x  ").as_deref(), Some("bdy_enr_x"));
        assert_eq!(token_in(""), None);
        assert_eq!(token_in("\n \n"), None);
        assert_eq!(token_in("bdy_enr_x\nsomething else"), None);
        assert_eq!(token_in(&"x".repeat(5000)), None);
    }

    #[test]
    fn a_missing_or_oversized_token_file_is_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        let missing = read_small_file(&dir.path().join("none"), "token").unwrap_err();
        assert!(missing.contains("cannot read the token file"), "{missing}");
        let big = dir.path().join("big");
        std::fs::write(&big, "y".repeat(10_000)).unwrap();
        let err = read_small_file(&big, "token").unwrap_err();
        assert!(err.contains("holds no token"), "{err}");
        let good = dir.path().join("good");
        std::fs::write(&good, "bdy_enr_abc\n").unwrap();
        assert_eq!(read_small_file(&good, "token").unwrap(), "bdy_enr_abc");
    }

    fn proxy(argument: Option<&str>, file: Option<PathBuf>, env: Option<&str>) -> ProxyGiven {
        ProxyGiven {
            argument: argument.map(str::to_owned),
            file,
            environment: env.map(str::to_owned),
        }
    }

    #[test]
    fn a_proxy_password_is_taken_from_a_file_or_the_environment_never_the_command_line() {
        let with_password = "http://u:s3cret@127.0.0.1:3128";
        let refused = proxy(Some(with_password), None, None)
            .resolve()
            .unwrap_err();
        assert!(refused.contains("BINDERY_PROXY"), "{refused}");
        assert!(
            !refused.contains("s3cret"),
            "the password is not repeated: {refused}"
        );
        let (p, _) = proxy(Some("http://127.0.0.1:3128"), None, Some(with_password))
            .resolve()
            .unwrap();
        assert_eq!(
            p.as_deref(),
            Some("http://127.0.0.1:3128"),
            "the argument wins"
        );
        let (p, _) = proxy(None, None, Some(with_password)).resolve().unwrap();
        assert_eq!(p.as_deref(), Some(with_password));
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("proxy");
        std::fs::write(&file, format!("\u{feff}{with_password}\r\n")).unwrap();
        let (p, delete) = proxy(None, Some(file.clone()), None).resolve().unwrap();
        assert_eq!(p.as_deref(), Some(with_password));
        assert_eq!(delete, Some(file));
        // The MSI's unset properties arrive empty: no proxy at all.
        let (p, delete) = proxy(Some(""), Some(PathBuf::new()), Some(" "))
            .resolve()
            .unwrap();
        assert_eq!((p, delete), (None, None));
        let both = proxy(
            Some("http://127.0.0.1:3128"),
            Some(dir.path().join("p")),
            None,
        );
        assert!(both.resolve().unwrap_err().contains("once"));
    }
}
