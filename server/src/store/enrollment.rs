//! Enrollment: a machine joining with a token, found again when it enrolls again (its agent id
//! with its credential as proof), and the possible reinstalls (a new agent id with a known serial
//! or MAC) that wait for a person to approve them or keep them separate.

use super::devices::{COLUMNS, from_row, search_text};
use super::{Device, Result, Store, StoreError, is_unique_violation, now_ms};
use crate::ids::{DeviceId, PolicyId};

/// A machine enrolling.
#[derive(Clone, Debug)]
pub struct NewDevice<'a> {
    pub agent_id: &'a str,
    pub serial: Option<&'a str>,
    /// The canonical MAC of the default route's interface.
    pub mac: Option<&'a str>,
    /// The machine's name, as its normalised facts say.
    pub name: Option<&'a str>,
    pub policy_id: PolicyId,
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
    /// A new agent id with the serial, MAC and name of a long-silent device of the token's
    /// policy, merged into it by the auto-approval setting. The device keeps its earlier agent id, which the
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
    id: DeviceId,
    d: &NewDevice<'_>,
    now: i64,
) -> Result<Device> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "UPDATE devices SET secret_hash = $1, serial = COALESCE($2, serial), mac = COALESCE($3, mac), \
         facts_json = $4, facts_hash = $5, agent_version = $6, last_seen_ms = $7, alert_seq = 0, \
         search_text = $9 WHERE id = $8 RETURNING {COLUMNS}"
    )))
    .bind(d.secret_hash)
    .bind(d.serial)
    .bind(d.mac)
    .bind(d.facts_json)
    .bind(d.facts_hash)
    .bind(d.agent_version)
    .bind(now)
    .bind(id)
    .bind(search_text(d.facts_json))
    .fetch_one(&mut **tx)
    .await?;
    Ok(from_row(&row)?)
}

/// Another record with this serial, or with this MAC where the serials cannot tell the two
/// machines apart (either has no real serial): the same machine reinstalled, or an impostor
/// that read the label. Only proof or a person tells them apart. Two real, different serials
/// are two machines whatever their MACs (docks, USB adapters, cloned VMs), and a MAC several
/// live devices share matches nothing.
async fn twin_of(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    d: &NewDevice<'_>,
) -> Result<Option<Device>> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM devices WHERE merged_into IS NULL AND \
         ((serial IS NOT NULL AND serial = $1) OR (mac IS NOT NULL AND mac = $2 \
           AND (CAST($1 AS TEXT) IS NULL OR serial IS NULL) \
           AND (SELECT COUNT(*) FROM devices s WHERE s.mac = $2 AND s.merged_into IS NULL \
                AND s.retired_ms IS NULL) < 2)) \
         ORDER BY CASE WHEN serial = $1 THEN 0 ELSE 1 END, last_seen_ms DESC LIMIT 1"
    )))
    .bind(d.serial)
    .bind(d.mac)
    .fetch_optional(&mut **tx)
    .await?;
    Ok(row.as_ref().map(from_row).transpose()?)
}

/// True when the enrolling machine shows the known device's serial, MAC and name, all of them
/// present and equal (the name without case).
fn same_machine(known: &Device, d: &NewDevice<'_>) -> bool {
    let name = |n: Option<&str>| {
        n.map(str::trim)
            .filter(|n| !n.is_empty())
            .map(str::to_lowercase)
    };
    known.serial.is_some()
        && known.serial.as_deref() == d.serial
        && known.mac.is_some()
        && known.mac.as_deref() == d.mac
        && name(known.facts.name.as_deref()).is_some()
        && name(known.facts.name.as_deref()) == name(d.name)
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
        let twin = twin_of(&mut tx, d).await?;
        // Auto-approval (opt-in) takes a silent device over only when everything a machine
        // shows agrees: serial, MAC and name. A MAC or a serial alone is visible to anyone
        // on the network or holding the machine, and proves nothing.
        if let Some(old) = &twin
            && old.retired_ms.is_none()
            && old.reinstall_of.is_none()
            && old.policy_id == Some(d.policy_id)
            && d.auto_approve_silent_ms
                .is_some_and(|silent| old.last_seen_ms <= now - silent)
            && same_machine(old, d)
        {
            let device = renew(&mut tx, old.id, d, now).await?;
            tx.commit().await?;
            return Ok(Enrollment::Reinstalled(device));
        }
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "INSERT INTO devices (agent_id, secret_hash, policy_id, serial, mac, facts_json, facts_hash, agent_version, \
             enrolled_ms, last_seen_ms, reinstall_of, search_text) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9, $10, $11) RETURNING {COLUMNS}"
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
        .bind(search_text(d.facts_json))
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
    pub async fn approve_reinstall(&self, device_id: DeviceId) -> Result<Device> {
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
        let facts_json = serde_json::to_string(&new.facts).unwrap_or_default();
        let secret: (String, i64) =
            sqlx::query_as("SELECT secret_hash, alert_seq FROM devices WHERE id = $1")
                .bind(new.id)
                .fetch_one(&mut *tx)
                .await?;
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "UPDATE devices SET secret_hash = $1, alert_seq = $2, serial = COALESCE($3, serial), \
             mac = COALESCE($4, mac), facts_json = $5, facts_hash = $6, agent_version = $7, \
             last_seen_ms = $8, retired_ms = NULL, search_text = $10 WHERE id = $9 RETURNING {COLUMNS}"
        )))
        .bind(&secret.0)
        .bind(secret.1)
        .bind(&new.serial)
        .bind(&new.mac)
        .bind(&facts_json)
        .bind(&new.facts_hash)
        .bind(&new.agent_version)
        .bind(new.last_seen_ms)
        .bind(of)
        .bind(search_text(&facts_json))
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
    pub async fn keep_separate(&self, device_id: DeviceId) -> Result<Device> {
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
}
