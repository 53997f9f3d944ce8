//! Values that came from outside (a user name, ConnectWise's error text) as logs show them:
//! control characters escaped, so a line break in one cannot forge a log line, and bounded.

/// At most `max` characters of `value`, each control character escaped (`\n`, `\u{1b}`).
pub fn escaped(value: &str, max: usize) -> String {
    let mut out = String::with_capacity(value.len().min(max));
    for c in value.chars().take(max) {
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_breaks_and_escapes_cannot_forge_a_line() {
        let forged = "alice\n2026-12-02T10:00:00Z INFO admin signed in username=root\r\x1b[2J";
        let shown = escaped(forged, 200);
        assert!(!shown.contains('\n') && !shown.contains('\r') && !shown.contains('\x1b'));
        assert!(shown.starts_with("alice\\n2026"), "{shown}");
        assert_eq!(escaped("Ünïcødé ok", 200), "Ünïcødé ok");
        assert_eq!(escaped(&"x".repeat(500), 64).len(), 64);
    }
}
