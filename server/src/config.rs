//! Layered configuration for `serve` and `admin`, lowest first: the defaults, the TOML file given
//! with `--config FILE` (or `BINDERY_CONFIG`), the `BINDERY_*` environment variables, then the
//! flags. clap does the layering: each key of the file becomes the default of the option of the
//! same name, so clap's own parsers check the file's values as they check flags, and the file's
//! keys are exactly the options `serve` takes (any other key is refused by name). Nothing is
//! written to the process environment.
//!
//! A secret can be kept out of the file, the environment and the process list: `database_url_file`
//! (`BINDERY_DATABASE_URL_FILE`) names a file holding the database URL, and
//! `BINDERY_ADMIN_PASSWORD_FILE` one holding a new admin's password (`read_secret`).
//! packaging/bindery-server.toml documents every key.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

/// The subcommands that take `--config`, and so read the file.
const READERS: &[&str] = &["serve", "admin"];
/// The subcommand whose options are the file's keys.
const KEYS_FROM: &str = "serve";
/// Options that are not settings of the server.
const NOT_KEYS: &[&str] = &["config", "help", "version"];

/// `cmd` with the config file's values as the defaults of its options, when `args` (or
/// `BINDERY_CONFIG`) name a file. A file that cannot be read, is not TOML, holds an unknown key
/// or a value that is not a string, number or true/false is an error naming it.
pub fn with_file_defaults(cmd: clap::Command, args: &[OsString]) -> Result<clap::Command, String> {
    let Some(path) = config_path(&cmd, args) else {
        return Ok(cmd);
    };
    let text = std::fs::read_to_string(&path)
        .map_err(|e| format!("cannot read the config file {}: {e}", path.display()))?;
    let values =
        file_values(&cmd, &text).map_err(|e| format!("the config file {}: {e}", path.display()))?;
    Ok(apply(cmd, &values))
}

/// The `--config` a command line names, or `BINDERY_CONFIG` (clap reads both).
fn config_path(cmd: &clap::Command, args: &[OsString]) -> Option<PathBuf> {
    // A first, forgiving parse only to learn the file's name; the real parse comes after.
    let matches = cmd
        .clone()
        .ignore_errors(true)
        .try_get_matches_from(args)
        .ok()?;
    let (_, sub) = matches.subcommand()?;
    let mut raw = sub.try_get_raw("config").ok().flatten()?;
    raw.next().map(PathBuf::from)
}

/// The file's keys, checked against the options of `serve`, with their values as text.
fn file_values(cmd: &clap::Command, text: &str) -> Result<Vec<(String, String)>, String> {
    let table: toml::Table = text.parse().map_err(|e| format!("{e}"))?;
    let keys = keys(cmd);
    let mut out = Vec::new();
    for (key, value) in table {
        if !keys.contains(&key) {
            return Err(format!(
                "unknown key {key:?}; the keys are {}",
                keys.join(", ")
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
        out.push((key, value));
    }
    Ok(out)
}

/// The keys a config file may hold: the ids of `serve`'s options (`tls_cert`, `workers`, …).
pub fn keys(cmd: &clap::Command) -> Vec<String> {
    let mut keys: Vec<String> = cmd
        .find_subcommand(KEYS_FROM)
        .into_iter()
        .flat_map(|s| s.get_arguments())
        .filter(|a| !a.is_positional())
        .map(|a| a.get_id().to_string())
        .filter(|id| !NOT_KEYS.contains(&id.as_str()))
        .collect();
    keys.sort();
    keys
}

/// Each value as the default of the option it names, in every subcommand that has the option.
fn apply(mut cmd: clap::Command, values: &[(String, String)]) -> clap::Command {
    for reader in READERS {
        let Some(sub) = cmd.find_subcommand(reader) else {
            continue;
        };
        let present: Vec<String> = sub
            .get_arguments()
            .map(|a| a.get_id().to_string())
            .collect();
        for (key, value) in values {
            if present.contains(key) {
                let value = value.clone();
                cmd = cmd.mut_subcommand(reader, |s| {
                    s.mut_arg(key.as_str(), |a| a.default_value(value))
                });
            }
        }
    }
    cmd
}

/// A secret given directly, else read from the file its `_file` option names (without the
/// final newline).
pub fn read_secret(
    name: &str,
    given: Option<String>,
    file: Option<&Path>,
) -> Result<Option<String>, String> {
    if given.is_some() {
        return Ok(given);
    }
    let Some(file) = file else {
        return Ok(None);
    };
    let text = std::fs::read_to_string(file)
        .map_err(|e| format!("{name}: cannot read {}: {e}", file.display()))?;
    Ok(Some(text.trim_end_matches(['\n', '\r']).to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::{Arg, ArgAction, Command};

    /// A command shaped as bindery-server's: `serve` and `admin` both read the file.
    fn cli() -> Command {
        let config = || Arg::new("config").long("config").env("TEST_CONFIG_UNSET");
        Command::new("t")
            .subcommand(
                Command::new("serve")
                    .arg(config())
                    .arg(
                        Arg::new("listen")
                            .long("listen")
                            .default_value("127.0.0.1:8700"),
                    )
                    .arg(
                        Arg::new("workers")
                            .long("workers")
                            .default_value("16")
                            .value_parser(clap::value_parser!(u32).range(1..=256)),
                    )
                    .arg(
                        Arg::new("log_json")
                            .long("log-json")
                            .action(ArgAction::SetTrue),
                    )
                    .arg(Arg::new("data_dir").long("data-dir")),
            )
            .subcommand(
                Command::new("admin")
                    .arg(config())
                    .arg(Arg::new("data_dir").long("data-dir")),
            )
    }

    fn args(a: &[&str]) -> Vec<OsString> {
        a.iter().map(OsString::from).collect()
    }

    fn parse(file: &str, argv: &[&str]) -> Result<clap::ArgMatches, String> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.toml");
        std::fs::write(&path, file).unwrap();
        let mut argv = args(argv);
        argv.extend(args(&["--config", path.to_str().unwrap()]));
        let cmd = with_file_defaults(cli(), &argv)?;
        cmd.try_get_matches_from(argv).map_err(|e| e.to_string())
    }

    #[test]
    fn the_file_fills_in_what_flags_do_not_give() {
        let text = "listen = \"0.0.0.0:8700\"\nworkers = 30\nlog_json = true\ndata_dir = \"/f\"\n";
        let m = parse(text, &["t", "serve", "--data-dir", "/flag"]).unwrap();
        let (_, s) = m.subcommand().unwrap();
        assert_eq!(s.get_one::<String>("listen").unwrap(), "0.0.0.0:8700");
        assert_eq!(*s.get_one::<u32>("workers").unwrap(), 30);
        assert!(s.get_flag("log_json"));
        assert_eq!(
            s.get_one::<String>("data_dir").unwrap(),
            "/flag",
            "flags win"
        );
        // admin takes the keys it has, and ignores the rest.
        let m = parse(text, &["t", "admin"]).unwrap();
        let (_, a) = m.subcommand().unwrap();
        assert_eq!(a.get_one::<String>("data_dir").unwrap(), "/f");
    }

    #[test]
    fn unknown_keys_and_bad_values_are_named() {
        let e = parse("lisen = \"x\"", &["t", "serve"]).unwrap_err();
        assert!(e.contains("lisen") && e.contains("listen"), "{e}");
        let e = parse("workers = [1, 2]", &["t", "serve"]).unwrap_err();
        assert!(e.contains("workers"), "{e}");
        // clap checks the file's values as it checks flags.
        let e = parse("workers = 9000", &["t", "serve"]).unwrap_err();
        assert!(e.contains("9000") && e.contains("workers"), "{e}");
        assert!(parse("listen = ", &["t", "serve"]).is_err());
        assert!(parse("config = \"/x\"", &["t", "serve"]).is_err());
    }

    #[test]
    fn no_file_no_change_and_help_still_works() {
        let cmd = with_file_defaults(cli(), &args(&["t", "serve", "--help"])).unwrap();
        assert!(cmd.try_get_matches_from(args(&["t", "serve"])).is_ok());
        let e = with_file_defaults(cli(), &args(&["t", "serve", "--config", "/no/such"]));
        assert!(e.unwrap_err().contains("/no/such"));
    }

    #[test]
    fn secrets_come_from_files_unless_given_directly() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("db");
        std::fs::write(&file, "postgres://u:secret@db/bindery\n").unwrap();
        let got = read_secret("database_url_file", None, Some(&file)).unwrap();
        assert_eq!(got.as_deref(), Some("postgres://u:secret@db/bindery"));
        let got = read_secret("database_url_file", Some("direct".into()), Some(&file)).unwrap();
        assert_eq!(got.as_deref(), Some("direct"));
        assert_eq!(read_secret("x", None, None).unwrap(), None);
        let e = read_secret("database_url_file", None, Some(Path::new("/no/such"))).unwrap_err();
        assert!(
            e.contains("database_url_file") && e.contains("/no/such"),
            "{e}"
        );
    }
}
