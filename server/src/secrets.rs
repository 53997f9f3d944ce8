//! Random secrets (enrollment tokens, device secrets) and how they are kept: only a SHA-256 hash
//! is stored. These secrets are 256 random bits, so a fast hash is enough; passwords, which people
//! choose, get argon2 elsewhere.

use base64::Engine;
use sha2::{Digest, Sha256};

/// A new random secret: `prefix` followed by 43 URL-safe characters (256 bits).
pub fn random_secret(prefix: &str) -> Result<String, getrandom::Error> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)?;
    Ok(format!(
        "{prefix}{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    ))
}

/// The stored form of a secret: lowercase hex SHA-256.
pub fn hash_secret(secret: &str) -> String {
    Sha256::digest(secret.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Compares a presented secret with a stored hash in time independent of where they differ.
pub fn verify_secret(secret: &str, stored_hash: &str) -> bool {
    let presented = hash_secret(secret);
    presented.len() == stored_hash.len()
        && presented
            .bytes()
            .zip(stored_hash.bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_random_and_only_their_hash_verifies() {
        let a = random_secret("bdy_enr_").unwrap();
        let b = random_secret("bdy_enr_").unwrap();
        assert_ne!(a, b);
        assert_eq!(a.len(), "bdy_enr_".len() + 43);
        assert!(
            a.bytes()
                .all(|c| c.is_ascii_alphanumeric() || c == b'_' || c == b'-')
        );
        let h = hash_secret(&a);
        assert_eq!(h.len(), 64);
        assert!(verify_secret(&a, &h));
        assert!(!verify_secret(&b, &h));
        assert!(!verify_secret(&a, "short"));
    }
}

/// An argon2id hash of a password (PHC string, salted).
pub fn hash_password(password: &str) -> Result<String, String> {
    use argon2::password_hash::PasswordHasher;
    argon2::Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| format!("cannot hash the password: {e}"))
}

/// True when `password` matches the stored argon2 hash (false for a damaged hash).
pub fn verify_password(password: &str, stored: &str) -> bool {
    use argon2::password_hash::PasswordVerifier;
    use argon2::password_hash::phc::PasswordHash;
    PasswordHash::new(stored)
        .map(|h| {
            argon2::Argon2::default()
                .verify_password(password.as_bytes(), &h)
                .is_ok()
        })
        .unwrap_or(false)
}

#[cfg(test)]
mod password_tests {
    use super::*;

    #[test]
    fn passwords_verify_only_against_their_own_salted_hash() {
        let a = hash_password("correct horse").unwrap();
        let b = hash_password("correct horse").unwrap();
        assert!(a.starts_with("$argon2id$"));
        assert_ne!(a, b, "salted");
        assert!(verify_password("correct horse", &a));
        assert!(!verify_password("correct hors", &a));
        assert!(!verify_password("correct horse", "not a hash"));
    }
}
