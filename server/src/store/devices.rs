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
    /// The canonical MAC, used like the serial.
    pub mac: Option<String>,
    /// The device this one may be a reinstall of; it waits for a person.
    pub reinstall_of: Option<i64>,
    /// The device a person merged this one into (this record is then retired).
    pub merged_into: Option<i64>,
}

const COLUMNS: &str = "id, agent_id, policy_id, serial, facts_json, facts_hash, agent_version, enrolled_ms, last_seen_ms, retired_ms, alert_events_dropped, mac, reinstall_of, merged_into";

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
        mac: r.try_get("mac")?,
        reinstall_of: r.try_get("reinstall_of")?,
        merged_into: r.try_get("merged_into")?,
    })
}

/// A reporting device as a check-in sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeviceAuth {
    pub id: i64,
    /// The device's agent id; another than the one that authenticated when that record was
    /// merged into this device (the agent is told to use this one).
    pub agent_id: String,
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
    /// The canonical MAC of the default route's interface.
    pub mac: Option<&'a str>,
    pub policy_id: i64,
    pub facts_json: &'a str,
    pub facts_hash: &'a str,
    pub agent_version: &'a str,
    pub secret_hash: &'a str,
    /// The machine showed the current credential of `agent_id` (a reinstall that kept its state).
    pub proven: bool,
    /// Merge a reinstall without a person when the known device has been silent this long and
    /// the token is of its policy (`None`: never; a setting, off by default).
    pub auto_approve_silent_ms: Option<i64>,
}

/// How an enrollment was matched.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Enrollment {
    New(Device),
    /// The same agent id, with its credential as proof: the same record, a new secret.
    SameAgent(Device),
    /// A new agent id with the serial or MAC of a long-silent device of the token's policy, merged
    /// into it by the auto-approval setting. The device keeps its earlier agent id, which the
    /// agent adopts.
    Reinstalled(Device),
    /// A new device that may be a reinstall of `of` (same serial or MAC, no proof). It waits for
    /// a person to approve it as the same machine or keep it separate.
    PossibleReinstall {
        device: Device,
        of: Box<Device>,
    },
}

impl Enrollment {
    pub fn device(&self) -> &Device {
        match self {
            Enrollment::New(d)
            | Enrollment::SameAgent(d)
            | Enrollment::Reinstalled(d)
            | Enrollment::PossibleReinstall { device: d, .. } => d,
        }
    }
}

/// A known device takes the enrolling machine's new secret and facts (its record, agent id and
/// policy stay); its alert sequence starts afresh with the agent's.
async fn renew(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    id: i64,
    d: &NewDevice<'_>,
    now: i64,
) -> Result<Device> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "UPDATE devices SET secret_hash = $1, serial = COALESCE($2, serial), mac = COALESCE($3, mac), \
         facts_json = $4, facts_hash = $5, agent_version = $6, last_seen_ms = $7, alert_seq = 0 \
         WHERE id = $8 RETURNING {COLUMNS}"
    )))
    .bind(d.secret_hash)
    .bind(d.serial)
    .bind(d.mac)
    .bind(d.facts_json)
    .bind(d.facts_hash)
    .bind(d.agent_version)
    .bind(now)
    .bind(id)
    .fetch_one(&mut **tx)
    .await?;
    Ok(from_row(&row)?)
}

impl Store {
    /// Enrolls a machine. A known agent id needs its credential as proof, and keeps its record
    /// and policy (a token never moves a device). A new agent id with a known serial or MAC is a
    /// new device, marked as a possible reinstall of the known one, unless the auto-approval
    /// setting applies.
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
            "SELECT {COLUMNS} FROM devices WHERE lower(agent_id) = lower($1)"
        )))
        .bind(d.agent_id)
        .fetch_optional(&mut *tx)
        .await?
        .as_ref()
        .map(from_row)
        .transpose()?;
        if let Some(known) = by_agent {
            if !d.proven || known.agent_id != d.agent_id {
                return Err(StoreError::Conflict(
                    "this agent id belongs to another device: a machine enrolling again must show \
                     its current device credential (delete the agent's state to enroll as a new \
                     device, which an admin can then approve as the same machine)"
                        .into(),
                ));
            }
            if known.retired_ms.is_some() {
                return Err(StoreError::Conflict(
                    "this device was retired: it cannot enroll again under its old identity".into(),
                ));
            }
            let device = renew(&mut tx, known.id, d, now).await?;
            tx.commit().await?;
            return Ok(Enrollment::SameAgent(device));
        }
        // Another record with this serial or MAC: the same machine reinstalled, or an impostor
        // that read the label. Only proof or a person tells them apart.
        let twin = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM devices WHERE merged_into IS NULL AND \
             ((serial IS NOT NULL AND serial = $1) OR (mac IS NOT NULL AND mac = $2)) \
             ORDER BY CASE WHEN serial = $1 THEN 0 ELSE 1 END, last_seen_ms DESC LIMIT 1"
        )))
        .bind(d.serial)
        .bind(d.mac)
        .fetch_optional(&mut *tx)
        .await?
        .as_ref()
        .map(from_row)
        .transpose()?;
        if let Some(old) = &twin
            && old.retired_ms.is_none()
            && old.reinstall_of.is_none()
            && old.policy_id == Some(d.policy_id)
            && d.auto_approve_silent_ms
                .is_some_and(|silent| old.last_seen_ms <= now - silent)
        {
            let device = renew(&mut tx, old.id, d, now).await?;
            tx.commit().await?;
            return Ok(Enrollment::Reinstalled(device));
        }
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "INSERT INTO devices (agent_id, secret_hash, policy_id, serial, mac, facts_json, facts_hash, agent_version, \
             enrolled_ms, last_seen_ms, reinstall_of) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9, $10) RETURNING {COLUMNS}"
        )))
        .bind(d.agent_id)
        .bind(d.secret_hash)
        .bind(d.policy_id)
        .bind(d.serial)
        .bind(d.mac)
        .bind(d.facts_json)
        .bind(d.facts_hash)
        .bind(d.agent_version)
        .bind(now)
        .bind(twin.as_ref().map(|t| t.id))
        .fetch_one(&mut *tx)
        .await?;
        let device = from_row(&row)?;
        tx.commit().await?;
        Ok(match twin {
            Some(of) => Enrollment::PossibleReinstall {
                device,
                of: Box::new(of),
            },
            None => Enrollment::New(device),
        })
    }

    /// A person says a possible reinstall is the same machine as the device it may be: that
    /// device takes over the new one's credential and facts (its agent id, configuration and
    /// history stay), comes back if it was retired, and the new record is retired, pointing at
    /// it so that its agent learns the old agent id at its next check-in. The old credential
    /// stops working. Returns the merged device.
    pub async fn approve_reinstall(&self, device_id: i64) -> Result<Device> {
        let mut tx = self.begin_write().await?;
        let new = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM devices WHERE id = $1"
        )))
        .bind(device_id)
        .fetch_optional(&mut *tx)
        .await?
        .as_ref()
        .map(from_row)
        .transpose()?
        .ok_or(StoreError::NotFound("device"))?;
        let Some(of) = new.reinstall_of else {
            return Err(StoreError::Conflict(
                "this device is not waiting as a possible reinstall".into(),
            ));
        };
        let secret: (String, i64) =
            sqlx::query_as("SELECT secret_hash, alert_seq FROM devices WHERE id = $1")
                .bind(new.id)
                .fetch_one(&mut *tx)
                .await?;
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "UPDATE devices SET secret_hash = $1, alert_seq = $2, serial = COALESCE($3, serial), \
             mac = COALESCE($4, mac), facts_json = $5, facts_hash = $6, agent_version = $7, \
             last_seen_ms = $8, retired_ms = NULL WHERE id = $9 RETURNING {COLUMNS}"
        )))
        .bind(&secret.0)
        .bind(secret.1)
        .bind(&new.serial)
        .bind(&new.mac)
        .bind(&new.facts_json)
        .bind(&new.facts_hash)
        .bind(&new.agent_version)
        .bind(new.last_seen_ms)
        .bind(of)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(StoreError::NotFound("device it may be a reinstall of"))?;
        let merged = from_row(&row)?;
        sqlx::query(
            "UPDATE devices SET retired_ms = $1, merged_into = $2, reinstall_of = NULL WHERE id = $3",
        )
        .bind(now_ms())
        .bind(of)
        .bind(new.id)
        .execute(&mut *tx)
        .await?;
        // Earlier merges into the new record now lead to the old one.
        sqlx::query("UPDATE devices SET merged_into = $1 WHERE merged_into = $2")
            .bind(of)
            .bind(new.id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(merged)
    }

    /// A person says a possible reinstall is another machine: it becomes an ordinary device.
    pub async fn keep_separate(&self, device_id: i64) -> Result<Device> {
        let done = sqlx::query(
            "UPDATE devices SET reinstall_of = NULL WHERE id = $1 AND reinstall_of IS NOT NULL",
        )
        .bind(device_id)
        .execute(&self.pool)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::Conflict(
                "this device is not waiting as a possible reinstall".into(),
            ));
        }
        self.device(device_id).await
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
    /// Retired devices have none; a record merged into another answers for that one.
    pub async fn device_auth(&self, agent_id: &str) -> Result<Option<DeviceAuth>> {
        type AuthRow = (
            i64,
            String,
            String,
            String,
            String,
            Option<i64>,
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
