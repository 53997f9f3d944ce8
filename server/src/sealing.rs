//! Secrets at rest (the ConnectWise private key): sealed with ChaCha20-Poly1305 under the server
//! key, a 32-byte random key kept in the data dir (mode 0600) or given as a file (what several
//! servers sharing one PostgreSQL must do: they need the same key). Each sealed value has its own
//! random nonce and is bound to its purpose (the setting's name), so a value cannot be moved to
//! another setting, and a wrong key is a clear error, never garbage.

use std::path::Path;

use base64::Engine;
use ring::aead::{Aad, CHACHA20_POLY1305, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};

const PREFIX: &str = "sealed-v1:";

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SealError {
    #[error("the server key file {0}")]
    KeyFile(String),
    #[error("the stored secret cannot be opened with this server key (was the key file replaced?)")]
    WrongKey,
    #[error("the stored secret is damaged")]
    Damaged,
    #[error("no randomness available")]
    Randomness,
}

/// The server key. Never printed.
pub struct ServerKey {
    key: LessSafeKey,
}

impl std::fmt::Debug for ServerKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ServerKey(<redacted>)")
    }
}

impl ServerKey {
    pub fn from_bytes(bytes: &[u8]) -> Result<ServerKey, SealError> {
        let unbound = UnboundKey::new(&CHACHA20_POLY1305, bytes)
            .map_err(|_| SealError::KeyFile("must hold exactly 32 bytes".into()))?;
        Ok(ServerKey {
            key: LessSafeKey::new(unbound),
        })
    }

    /// Reads the key from `path`, creating it (32 random bytes, mode 0600) when it does not exist.
    /// A key that group or others may read is used, with a warning naming the file.
    pub fn load_or_create(path: &Path) -> Result<ServerKey, SealError> {
        #[cfg(unix)]
        if let Ok(meta) = std::fs::metadata(path) {
            let mode = std::os::unix::fs::PermissionsExt::mode(&meta.permissions());
            if too_open(mode) {
                tracing::warn!(
                    file = %path.display(),
                    mode = format!("{:o}", mode & 0o777),
                    "the server key is readable by group or others; chmod 600 it (and keep it out of database backups)"
                );
            }
        }
        match std::fs::read(path) {
            Ok(bytes) => ServerKey::from_bytes(&bytes).map_err(|_| {
                SealError::KeyFile(format!("{} must hold exactly 32 bytes", path.display()))
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => create_key_file(path),
            Err(e) => Err(SealError::KeyFile(format!(
                "{} cannot be read: {e}",
                path.display()
            ))),
        }
    }

    /// Seals `plaintext` for the purpose `purpose` (e.g. the setting's name).
    pub fn seal(&self, purpose: &str, plaintext: &str) -> Result<String, SealError> {
        let mut nonce = [0u8; NONCE_LEN];
        getrandom::fill(&mut nonce).map_err(|_| SealError::Randomness)?;
        let mut data = plaintext.as_bytes().to_vec();
        self.key
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(purpose.as_bytes()),
                &mut data,
            )
            .map_err(|_| SealError::Damaged)?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&data);
        Ok(format!(
            "{PREFIX}{}",
            base64::engine::general_purpose::STANDARD_NO_PAD.encode(out)
        ))
    }

    /// Opens a value sealed for `purpose`.
    pub fn open(&self, purpose: &str, sealed: &str) -> Result<String, SealError> {
        let raw = sealed
            .strip_prefix(PREFIX)
            .and_then(|b64| {
                base64::engine::general_purpose::STANDARD_NO_PAD
                    .decode(b64)
                    .ok()
            })
            .filter(|raw| raw.len() >= NONCE_LEN + CHACHA20_POLY1305.tag_len())
            .ok_or(SealError::Damaged)?;
        let (nonce, data) = raw.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| SealError::Damaged)?;
        let mut data = data.to_vec();
        let plain = self
            .key
            .open_in_place(nonce, Aad::from(purpose.as_bytes()), &mut data)
            .map_err(|_| SealError::WrongKey)?;
        String::from_utf8(plain.to_vec()).map_err(|_| SealError::Damaged)
    }
}

/// True when a key file's mode lets group or others read or write it.
pub fn too_open(mode: u32) -> bool {
    mode & 0o077 != 0
}

/// A new random key written to `path` (mode 0600; the file must not exist yet).
pub fn create_key_file(path: &Path) -> Result<ServerKey, SealError> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|_| SealError::Randomness)?;
    write_private(path, &bytes)
        .map_err(|e| SealError::KeyFile(format!("{} cannot be written: {e}", path.display())))?;
    ServerKey::from_bytes(&bytes)
}

fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut f = options.open(path)?;
    f.write_all(bytes)?;
    f.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_secret_opens_only_with_its_key_and_purpose() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("server.key");
        let key = ServerKey::load_or_create(&path).unwrap();
        let sealed = key.seal("cw.private_key", "very-secret-key").unwrap();
        assert!(sealed.starts_with(PREFIX) && !sealed.contains("very-secret"));
        assert_ne!(
            sealed,
            key.seal("cw.private_key", "very-secret-key").unwrap(),
            "a fresh nonce each time"
        );
        assert_eq!(
            key.open("cw.private_key", &sealed).unwrap(),
            "very-secret-key"
        );
        assert_eq!(
            key.open("cw.public_key", &sealed),
            Err(SealError::WrongKey),
            "bound to its purpose"
        );

        let again = ServerKey::load_or_create(&path).unwrap();
        assert_eq!(
            again.open("cw.private_key", &sealed).unwrap(),
            "very-secret-key",
            "the key file is reused"
        );
        let other = ServerKey::from_bytes(&[7u8; 32]).unwrap();
        assert_eq!(
            other.open("cw.private_key", &sealed),
            Err(SealError::WrongKey)
        );
        for damaged in [
            "",
            "sealed-v1:",
            "sealed-v1:!!!",
            "plain text",
            &sealed[..sealed.len() - 4],
        ] {
            assert!(key.open("cw.private_key", damaged).is_err(), "{damaged}");
        }
        assert!(!format!("{key:?}").contains('['));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(
                std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
                0o600
            );
        }
        std::fs::write(dir.path().join("short.key"), [1u8; 5]).unwrap();
        assert!(matches!(
            ServerKey::load_or_create(&dir.path().join("short.key")),
            Err(SealError::KeyFile(_))
        ));
    }
}
