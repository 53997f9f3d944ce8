//! Configuration from a file and the environment, for `serve`. In order of precedence:
//! command-line flags, then `BINDERY_*` environment variables, then the TOML file given with
//! `--config FILE` (or `BINDERY_CONFIG`), then the defaults. A secret can be kept out of the
//! environment and the process list: `BINDERY_X_FILE` (or `x_file` in the file) names a file
//! holding `BINDERY_X`. packaging/bindery-server.toml documents every key.
//!
//! The functions here are pure: they say which variables to set; `main` sets them before any
//! thread starts.

/// The keys a config file may hold, as `serve`'s flags name them (with `_` for `-`).
pub const KEYS: &[&str] = &[
    "data_dir",
    "database_url",
    "server_key_file",
    "listen",
    "metrics_listen",
    "checkin_interval",
    "enroll_per_minute",
    "resync_hours",
    "workers",
    "cw_requests_per_minute",
    "cw_concurrency",
    "log_json",
    "tls_cert",
    "tls_key",
    "downloads_dir",
];

fn env_name(key: &str) -> String {
    format!("BINDERY_{}", key.to_ascii_uppercase())
}

/// The variables a config file's text sets: `(BINDERY_KEY, value)` for each key whose variable is
/// not set already (`is_set`). Unknown keys and values that are not strings, integers or
/// booleans are errors naming them.
pub fn from_toml(
    text: &str,
    is_set: impl Fn(&str) -> bool,
) -> Result<Vec<(String, String)>, String> {
    let table: toml::Table = text.parse().map_err(|e| format!("{e}"))?;
    let mut out = Vec::new();
    for (key, value) in table {
        let base = key.strip_suffix("_file").unwrap_or(&key);
        // `server_key_file` is a key of its own, not a secret's file.
        if !KEYS.contains(&key.as_str()) && !KEYS.contains(&base) {
            return Err(format!(
                "unknown key {key:?}; the keys are {} (and KEY_file for a file holding KEY)",
                KEYS.join(", ")
            ));
        }
        let value = match value {
            toml::Value::String(s) => s,
            toml::Value::Integer(i) => i.to_string(),
            toml::Value::Boolean(b) => b.to_string(),
            other => {
                return Err(format!(
                    "{key} must be a string, a number or true/false, not {}",
                    other.type_str()
                ));
            }
        };
        let var = env_name(&key);
        if !is_set(&var) {
            out.push((var, value));
        }
    }
    Ok(out)
}

/// The variables that `BINDERY_X_FILE` variables stand for: `(BINDERY_X, the file's text
/// without its final newline)`, unless `BINDERY_X` is set itself.
pub fn from_files(
    vars: &[(String, String)],
    is_set: impl Fn(&str) -> bool,
    read: impl Fn(&str) -> std::io::Result<String>,
) -> Result<Vec<(String, String)>, String> {
    let mut out = Vec::new();
    for (name, path) in vars {
        let Some(base) = name.strip_suffix("_FILE") else {
            continue;
        };
        // BINDERY_SERVER_KEY_FILE is the key file's path, read by the server itself.
        if !base.starts_with("BINDERY_") || name == "BINDERY_SERVER_KEY_FILE" || is_set(base) {
            continue;
        }
        let text = read(path).map_err(|e| format!("{name}: cannot read {path}: {e}"))?;
        out.push((
            base.to_owned(),
            text.trim_end_matches(['\n', '\r']).to_owned(),
        ));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_fills_in_what_the_environment_does_not_give() {
        let text = "listen = \"0.0.0.0:8700\"\ncheckin_interval = 30\nlog_json = true\ndata_dir = \"/var/lib/bindery\"\n";
        let set = from_toml(text, |v| v == "BINDERY_DATA_DIR").unwrap();
        let mut set: Vec<_> = set.iter().map(|(k, v)| format!("{k}={v}")).collect();
        set.sort();
        assert_eq!(
            set,
            [
                "BINDERY_CHECKIN_INTERVAL=30",
                "BINDERY_LISTEN=0.0.0.0:8700",
                "BINDERY_LOG_JSON=true",
            ]
        );
    }

    #[test]
    fn unknown_keys_and_odd_values_are_named() {
        let e = from_toml("lisen = \"x\"", |_| false).unwrap_err();
        assert!(e.contains("lisen") && e.contains("listen"), "{e}");
        let e = from_toml("workers = [1, 2]", |_| false).unwrap_err();
        assert!(e.contains("workers"), "{e}");
        assert!(from_toml("listen = ", |_| false).is_err());
        // A secret's file is a key too.
        let set = from_toml("database_url_file = \"/run/secrets/db\"", |_| false).unwrap();
        assert_eq!(
            set,
            [(
                "BINDERY_DATABASE_URL_FILE".to_owned(),
                "/run/secrets/db".to_owned()
            )]
        );
    }

    #[test]
    fn secrets_come_from_files_unless_given_directly() {
        let vars = vec![
            ("BINDERY_DATABASE_URL_FILE".to_owned(), "/s/db".to_owned()),
            ("BINDERY_ADMIN_PASSWORD_FILE".to_owned(), "/s/pw".to_owned()),
            ("BINDERY_SERVER_KEY_FILE".to_owned(), "/s/key".to_owned()),
            ("OTHER_FILE".to_owned(), "/s/other".to_owned()),
        ];
        let read = |p: &str| match p {
            "/s/db" => Ok("postgres://u:secret@db/bindery\n".to_owned()),
            _ => Err(std::io::Error::other("no such file")),
        };
        let set = from_files(&vars, |v| v == "BINDERY_ADMIN_PASSWORD", read).unwrap();
        assert_eq!(
            set,
            [(
                "BINDERY_DATABASE_URL".to_owned(),
                "postgres://u:secret@db/bindery".to_owned()
            )]
        );
        let e = from_files(&vars, |_| false, read).unwrap_err();
        assert!(e.contains("BINDERY_ADMIN_PASSWORD_FILE"), "{e}");
    }
}
