//! Devices: one per managed machine, found again when the machine enrolls again.

use bindery_shared::DeviceFacts;
use sqlx::Row;
use sqlx::any::AnyRow;

use super::{Result, Store, StoreError, now_ms};
use crate::ids::{DeviceId, PolicyId};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Device {
    pub id: DeviceId,
    pub agent_id: String,
    pub policy_id: Option<PolicyId>,
    /// The clean (non-placeholder) serial, used to recognise the machine after its agent state
    /// was wiped.
    pub serial: Option<String>,
    /// Decoded once, by `stored_facts`.
    pub facts: DeviceFacts,
    pub facts_hash: String,
    pub agent_version: String,
    pub enrolled_ms: i64,
    pub last_seen_ms: i64,
    pub retired_ms: Option<i64>,
    /// Alert events its agent dropped from a full spool, as reported in check-ins.
    pub alert_events_dropped: i64,
    /// The canonical MAC, used like the serial.
    pub mac: Option<String>,
    /// The device this one may be a reinstall of; it waits for a person.
    pub reinstall_of: Option<DeviceId>,
    /// The device a person merged this one into (this record is then retired).
    pub merged_into: Option<DeviceId>,
}

pub(super) const COLUMNS: &str = "id, agent_id, policy_id, serial, facts_json, facts_hash, agent_version, enrolled_ms, last_seen_ms, retired_ms, alert_events_dropped, mac, reinstall_of, merged_into";

/// The facts as the server keeps them: normalised, with the authenticated agent id as the
/// device identifier whatever the agent said, and their hash (a check-in whose hash matches the
/// stored one writes nothing).
pub fn facts_for_storage(
    facts: DeviceFacts,
    agent_id: &str,
) -> serde_json::Result<(String, String)> {
    let mut facts = facts.normalized();
    facts.set(bindery_shared::FactField::DeviceIdentifier, agent_id);
    let json = serde_json::to_string(&facts)?;
    let hash = crate::secrets::hash_secret(&json);
    Ok((json, hash))
}

/// What the device list's search looks in: the facts people look devices up by, lower-case.
pub(crate) fn search_text(facts_json: &str) -> String {
    let facts: DeviceFacts = serde_json::from_str(facts_json).unwrap_or_default();
    [
        facts.name,
        facts.serial_number,
        facts.mac_address,
        facts.ip_address,
        facts.last_login_name,
        facts.os_type,
        facts.os_info,
    ]
    .into_iter()
    .flatten()
    .collect::<Vec<_>>()
    .join(" ")
    .to_lowercase()
}

/// The one rule for stored facts, used by every read of a device: decoded here, once. Every
/// fact set the agent API accepts reads back (tested as a property), so a row that does not
/// decode was damaged outside the server: it reads as `None` (and says so in the log), and the
/// device alone shows it, rather than one row failing a whole list or a company's sync.
pub(crate) fn decode_facts(device_id: DeviceId, json: &str) -> Option<DeviceFacts> {
    serde_json::from_str(json)
        .inspect_err(|e| {
            tracing::warn!(device = %device_id, error = %e, "the stored facts of a device are damaged; it reads as having none until its next check-in");
        })
        .ok()
}

/// The stored facts, or none when they are damaged (see `decode_facts`).
pub(crate) fn stored_facts(device_id: DeviceId, json: &str) -> DeviceFacts {
    decode_facts(device_id, json).unwrap_or_default()
}

pub(super) fn from_row(r: &AnyRow) -> std::result::Result<Device, sqlx::Error> {
    let id: DeviceId = r.try_get("id")?;
    Ok(Device {
        id,
        agent_id: r.try_get("agent_id")?,
        policy_id: r.try_get("policy_id")?,
        serial: r.try_get("serial")?,
        facts: stored_facts(id, r.try_get("facts_json")?),
        facts_hash: r.try_get("facts_hash")?,
        agent_version: r.try_get("agent_version")?,
        enrolled_ms: r.try_get("enrolled_ms")?,
        last_seen_ms: r.try_get("last_seen_ms")?,
        retired_ms: r.try_get("retired_ms")?,
        alert_events_dropped: r.try_get("alert_events_dropped")?,
        mac: r.try_get("mac")?,
        reinstall_of: r.try_get("reinstall_of")?,
        merged_into: r.try_get("merged_into")?,
    })
}

/// A reporting device as a check-in sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeviceAuth {
    pub id: DeviceId,
    /// The device's agent id; another than the one that authenticated when that record was
    /// merged into this device (the agent is told to use this one).
    pub agent_id: String,
    pub secret_hash: String,
    pub facts_hash: String,
    pub agent_version: String,
    pub policy_id: Option<PolicyId>,
    /// The policy's monitor settings (`None`: the defaults).
    pub monitors_json: Option<String>,
}

impl Store {
    pub async fn device(&self, id: DeviceId) -> Result<Device> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM devices WHERE id = $1"
        )))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?
        .ok_or(StoreError::NotFound("device"))?;
        Ok(from_row(&row)?)
    }

    /// What a check-in needs to know about a reporting device, in one read: its id, the hash of
    /// its secret (to check the credential) and of its stored facts (to skip unchanged ones).
    /// Retired devices have none; a record merged into another answers for that one.
    pub async fn device_auth(&self, agent_id: &str) -> Result<Option<DeviceAuth>> {
        type AuthRow = (
            DeviceId,
            String,
            String,
            String,
            String,
            Option<PolicyId>,
            Option<String>,
        );
        let row: Option<AuthRow> = sqlx::query_as(
            "SELECT d.id, d.agent_id, a.secret_hash, d.facts_hash, d.agent_version, d.policy_id, p.monitors_json \
             FROM devices a JOIN devices d ON d.id = COALESCE(a.merged_into, a.id) \
             LEFT JOIN policies p ON p.id = d.policy_id WHERE a.agent_id = $1 AND d.retired_ms IS NULL \
             AND (a.merged_into IS NOT NULL OR a.retired_ms IS NULL)",
        )
        .bind(agent_id)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(
            |(id, canonical, secret_hash, facts_hash, agent_version, policy_id, monitors_json)| {
                DeviceAuth {
                    id,
                    agent_id: canonical,
                    secret_hash,
                    facts_hash,
                    agent_version,
                    policy_id,
                    monitors_json,
                }
            },
        ))
    }

    /// Devices of one policy (`Some`), or all of them (`None`), by id.
    pub async fn devices(&self, policy_id: Option<PolicyId>) -> Result<Vec<Device>> {
        let rows = match policy_id {
            Some(p) => {
                sqlx::query(sqlx::AssertSqlSafe(format!(
                    "SELECT {COLUMNS} FROM devices WHERE policy_id = $1 ORDER BY id"
                )))
                .bind(p)
                .fetch_all(&self.pool)
                .await?
            }
            None => {
                sqlx::query(sqlx::AssertSqlSafe(format!(
                    "SELECT {COLUMNS} FROM devices ORDER BY id"
                )))
                .fetch_all(&self.pool)
                .await?
            }
        };
        Ok(rows
            .iter()
            .map(from_row)
            .collect::<std::result::Result<_, _>>()?)
    }

    /// Stores new facts only when they differ from the stored ones; true when they did.
    pub async fn record_facts(
        &self,
        device_id: DeviceId,
        facts_json: &str,
        facts_hash: &str,
        agent_version: &str,
    ) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE devices SET facts_json = $1, facts_hash = $2, agent_version = $3, search_text = $5 \
             WHERE id = $4 AND (facts_hash <> $2 OR agent_version <> $3)",
        )
        .bind(facts_json)
        .bind(facts_hash)
        .bind(agent_version)
        .bind(device_id)
        .bind(search_text(facts_json))
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() > 0)
    }

    /// Makes the device's next check-in write its facts again, whatever they are: its stored
    /// ones could not be read. True when the device exists.
    pub async fn forget_facts_hash(&self, device_id: DeviceId) -> Result<bool> {
        let done = sqlx::query("UPDATE devices SET facts_hash = '' WHERE id = $1")
            .bind(device_id)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    /// Adds to the count of alert events a device's agent dropped from its full spool.
    pub async fn add_alert_events_dropped(&self, id: DeviceId, n: i64) -> Result<()> {
        sqlx::query(
            "UPDATE devices SET alert_events_dropped = alert_events_dropped + $1 WHERE id = $2",
        )
        .bind(n)
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Records when devices were last seen (batched by the caller; never moves a time back).
    pub async fn touch_seen(&self, seen: &[(DeviceId, i64)]) -> Result<()> {
        // 200 to a statement and a transaction: 100,000 devices send thousands of check-ins
        // between two flushes. One statement each was a round trip each (PostgreSQL's CPU),
        // and one transaction for all held SQLite's write lock ~50 ms, which a check-in with
        // changed facts then waited out.
        for chunk in seen.chunks(200) {
            let rows: Vec<String> = (0..chunk.len())
                .map(|i| format!("(${}, ${})", 2 * i + 1, 2 * i + 2))
                .collect();
            let sql = format!(
                "UPDATE devices SET last_seen_ms = v.at \
                 FROM (SELECT column1 AS id, column2 AS at FROM (VALUES {}) AS pairs) AS v \
                 WHERE devices.id = v.id AND devices.last_seen_ms < v.at",
                rows.join(", ")
            );
            let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
            for (id, at) in chunk {
                query = query.bind(*id).bind(*at);
            }
            let mut tx = self.begin_write().await?;
            query.execute(&mut *tx).await?;
            tx.commit().await?;
        }
        Ok(())
    }

    /// Moves a device to another policy, or out of every policy (`None`).
    pub async fn move_device(
        &self,
        device_id: DeviceId,
        policy_id: Option<PolicyId>,
    ) -> Result<Device> {
        if let Some(p) = policy_id {
            self.policy(p).await?;
        }
        let done = sqlx::query("UPDATE devices SET policy_id = $1 WHERE id = $2")
            .bind(policy_id)
            .bind(device_id)
            .execute(&self.pool)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound("device"));
        }
        self.device(device_id).await
    }

    /// Retires a device: it can no longer report, and its configuration is to be deactivated.
    pub async fn retire_device(&self, device_id: DeviceId) -> Result<Device> {
        let done =
            sqlx::query("UPDATE devices SET retired_ms = $1 WHERE id = $2 AND retired_ms IS NULL")
                .bind(now_ms())
                .bind(device_id)
                .execute(&self.pool)
                .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound("active device"));
        }
        self.device(device_id).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn damaged_stored_facts_read_as_none_and_good_ones_as_written() {
        assert_eq!(
            stored_facts(DeviceId(1), "{not json"),
            DeviceFacts::default()
        );
        assert_eq!(stored_facts(DeviceId(1), ""), DeviceFacts::default());
        let facts = stored_facts(DeviceId(1), r#"{"name":"pc-1","ram":"8 GB"}"#);
        assert_eq!(facts.name.as_deref(), Some("pc-1"));
        assert_eq!(facts.ram.as_deref(), Some("8 GB"));
    }
}
