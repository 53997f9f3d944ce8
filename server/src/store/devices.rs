//! Devices: one per managed machine, found again when the machine enrolls again.

use sqlx::Row;
use sqlx::any::AnyRow;

use super::{Result, Store, StoreError, is_unique_violation, now_ms};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Device {
    pub id: i64,
    pub agent_id: String,
    pub policy_id: Option<i64>,
    /// The clean (non-placeholder) serial, used to recognise the machine after its agent state
    /// was wiped.
    pub serial: Option<String>,
    pub facts_json: String,
    pub facts_hash: String,
    pub agent_version: String,
    pub enrolled_ms: i64,
    pub last_seen_ms: i64,
    pub retired_ms: Option<i64>,
    /// Alert events its agent dropped from a full spool, as reported in check-ins.
    pub alert_events_dropped: i64,
}

const COLUMNS: &str = "id, agent_id, policy_id, serial, facts_json, facts_hash, agent_version, enrolled_ms, last_seen_ms, retired_ms, alert_events_dropped";

fn from_row(r: &AnyRow) -> std::result::Result<Device, sqlx::Error> {
    Ok(Device {
        id: r.try_get("id")?,
        agent_id: r.try_get("agent_id")?,
        policy_id: r.try_get("policy_id")?,
        serial: r.try_get("serial")?,
        facts_json: r.try_get("facts_json")?,
        facts_hash: r.try_get("facts_hash")?,
        agent_version: r.try_get("agent_version")?,
        enrolled_ms: r.try_get("enrolled_ms")?,
        last_seen_ms: r.try_get("last_seen_ms")?,
        retired_ms: r.try_get("retired_ms")?,
        alert_events_dropped: r.try_get("alert_events_dropped")?,
    })
}

/// A reporting device as a check-in sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeviceAuth {
    pub id: i64,
    pub secret_hash: String,
    pub facts_hash: String,
    pub agent_version: String,
    pub policy_id: Option<i64>,
    /// The policy's monitor settings (`None`: the defaults).
    pub monitors_json: Option<String>,
}

/// A machine enrolling.
#[derive(Clone, Debug)]
pub struct NewDevice<'a> {
    pub agent_id: &'a str,
    pub serial: Option<&'a str>,
    pub policy_id: i64,
    pub facts_json: &'a str,
    pub facts_hash: &'a str,
    pub agent_version: &'a str,
    pub secret_hash: &'a str,
}

/// How an enrollment was matched.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Enrollment {
    New(Device),
    /// The same agent id enrolled before.
    SameAgent(Device),
    /// A new agent id, but the same real serial as a known machine: its state was wiped. The
    /// device keeps its earlier agent id, which the agent adopts.
    SameSerial(Device),
}

impl Enrollment {
    pub fn device(&self) -> &Device {
        match self {
            Enrollment::New(d) | Enrollment::SameAgent(d) | Enrollment::SameSerial(d) => d,
        }
    }
}

impl Store {
    /// Enrolls a machine into a policy with a new secret, reusing its record when it is known
    /// (same agent id, else same clean serial) so that it never appears twice.
    pub async fn enroll_device(&self, d: &NewDevice<'_>) -> Result<Enrollment> {
        match self.try_enroll(d).await {
            // Two enrollments of one new machine raced; the second finds the first's record.
            Err(StoreError::Database(e)) if is_unique_violation(&e) => self.try_enroll(d).await,
            other => other,
        }
    }

    async fn try_enroll(&self, d: &NewDevice<'_>) -> Result<Enrollment> {
        let now = now_ms();
        let mut tx = self.begin_write().await?;
        let by_agent = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM devices WHERE agent_id = $1"
        )))
        .bind(d.agent_id)
        .fetch_optional(&mut *tx)
        .await?;
        let by_serial = match (&by_agent, d.serial) {
            (None, Some(serial)) => sqlx::query(sqlx::AssertSqlSafe(format!(
                "SELECT {COLUMNS} FROM devices WHERE serial = $1 ORDER BY last_seen_ms DESC LIMIT 1"
            )))
            .bind(serial)
            .fetch_optional(&mut *tx)
            .await?,
            _ => None,
        };
        let existing = by_agent
            .as_ref()
            .or(by_serial.as_ref())
            .map(from_row)
            .transpose()?;
        let device = match &existing {
            Some(known) => {
                let row = sqlx::query(sqlx::AssertSqlSafe(format!(
                    "UPDATE devices SET secret_hash = $1, policy_id = $2, serial = COALESCE($3, serial), facts_json = $4, \
                     facts_hash = $5, agent_version = $6, last_seen_ms = $7, retired_ms = NULL, alert_seq = 0 WHERE id = $8 RETURNING {COLUMNS}"
                )))
                .bind(d.secret_hash)
                .bind(d.policy_id)
                .bind(d.serial)
                .bind(d.facts_json)
                .bind(d.facts_hash)
                .bind(d.agent_version)
                .bind(now)
                .bind(known.id)
                .fetch_one(&mut *tx)
                .await?;
                from_row(&row)?
            }
            None => {
                let row = sqlx::query(sqlx::AssertSqlSafe(format!(
                    "INSERT INTO devices (agent_id, secret_hash, policy_id, serial, facts_json, facts_hash, agent_version, \
                     enrolled_ms, last_seen_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) RETURNING {COLUMNS}"
                )))
                .bind(d.agent_id)
                .bind(d.secret_hash)
                .bind(d.policy_id)
                .bind(d.serial)
                .bind(d.facts_json)
                .bind(d.facts_hash)
                .bind(d.agent_version)
                .bind(now)
                .fetch_one(&mut *tx)
                .await?;
                from_row(&row)?
            }
        };
        tx.commit().await?;
        Ok(match (by_agent.is_some(), existing.is_some()) {
            (true, _) => Enrollment::SameAgent(device),
            (false, true) => Enrollment::SameSerial(device),
            (false, false) => Enrollment::New(device),
        })
    }

    pub async fn device(&self, id: i64) -> Result<Device> {
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
    /// Retired devices have none.
    pub async fn device_auth(&self, agent_id: &str) -> Result<Option<DeviceAuth>> {
        type AuthRow = (i64, String, String, String, Option<i64>, Option<String>);
        let row: Option<AuthRow> = sqlx::query_as(
            "SELECT d.id, d.secret_hash, d.facts_hash, d.agent_version, d.policy_id, p.monitors_json \
             FROM devices d LEFT JOIN policies p ON p.id = d.policy_id WHERE d.agent_id = $1 AND d.retired_ms IS NULL",
        )
        .bind(agent_id)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(
            |(id, secret_hash, facts_hash, agent_version, policy_id, monitors_json)| DeviceAuth {
                id,
                secret_hash,
                facts_hash,
                agent_version,
                policy_id,
                monitors_json,
            },
        ))
    }

    /// Devices of one policy (`Some`), or all of them (`None`), by id.
    pub async fn devices(&self, policy_id: Option<i64>) -> Result<Vec<Device>> {
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
        device_id: i64,
        facts_json: &str,
        facts_hash: &str,
        agent_version: &str,
    ) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE devices SET facts_json = $1, facts_hash = $2, agent_version = $3 \
             WHERE id = $4 AND (facts_hash <> $2 OR agent_version <> $3)",
        )
        .bind(facts_json)
        .bind(facts_hash)
        .bind(agent_version)
        .bind(device_id)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() > 0)
    }

    /// Adds to the count of alert events a device's agent dropped from its full spool.
    pub async fn add_alert_events_dropped(&self, id: i64, n: i64) -> Result<()> {
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
    pub async fn touch_seen(&self, seen: &[(i64, i64)]) -> Result<()> {
        let mut tx = self.begin_write().await?;
        for (id, at) in seen {
            sqlx::query("UPDATE devices SET last_seen_ms = $1 WHERE id = $2 AND last_seen_ms < $1")
                .bind(*at)
                .bind(*id)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Moves a device to another policy, or out of every policy (`None`).
    pub async fn move_device(&self, device_id: i64, policy_id: Option<i64>) -> Result<Device> {
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
    pub async fn retire_device(&self, device_id: i64) -> Result<Device> {
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
