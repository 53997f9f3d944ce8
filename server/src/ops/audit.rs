//! The audit trail, paged and filtered, and as CSV: everyone may read it (changes are not
//! secrets, and their records carry none).

use super::{OpError, Ops};
use crate::store::{AuditEntry, AuditFilter};

impl Ops<'_> {
    pub async fn audit(&self, filter: &AuditFilter) -> Result<Vec<AuditEntry>, OpError> {
        Ok(self.store.audit(filter).await?)
    }
}

/// The entries as CSV (RFC 4180: every field quoted, quotes doubled), times in UTC. A field
/// that a spreadsheet would run as a formula (`=`, `+`, `-`, `@` first) is prefixed with `'`.
pub fn csv(entries: &[AuditEntry]) -> String {
    let field = |s: &str| {
        let safe = if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
            format!("'{s}")
        } else {
            s.to_owned()
        };
        format!("\"{}\"", safe.replace('"', "\"\""))
    };
    let mut out = String::from("id,at,actor,via,address,action,object,detail\r\n");
    for e in entries {
        let row = [
            e.id.to_string(),
            bindery_shared::time::utc_text(e.at_ms),
            e.actor.clone(),
            e.via.clone(),
            e.address.clone().unwrap_or_default(),
            e.action.clone(),
            e.object.clone(),
            e.detail.clone().unwrap_or_default(),
        ];
        let line: Vec<String> = row.iter().map(|f| field(f)).collect();
        out.push_str(&line.join(","));
        out.push_str("\r\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_quotes_every_field_and_defuses_formulas() {
        let e = AuditEntry {
            id: 7,
            at_ms: 1_795_310_405_000,
            actor: "ana".into(),
            via: "session".into(),
            address: Some("192.0.2.9".into()),
            action: "policy.rename".into(),
            object: "policy 3".into(),
            detail: Some("=HYPERLINK(\"x\") \"quoted\"".into()),
        };
        assert_eq!(
            csv(&[e]),
            "id,at,actor,via,address,action,object,detail\r\n\
             \"7\",\"2026-11-22 01:20:05 UTC\",\"ana\",\"session\",\"192.0.2.9\",\
             \"policy.rename\",\"policy 3\",\"'=HYPERLINK(\"\"x\"\") \"\"quoted\"\"\"\r\n"
        );
    }
}
