//! Billing by device count: which policies bill their devices to which agreement (and as which
//! products), and Bindery's record of each (agreement, product) addition it keeps: the
//! addition's id once known, the quantity it last wrote, and a change waiting for a person.

use sqlx::Row;
use sqlx::any::AnyRow;

use super::{Result, Store, now_ms};
use bindery_shared::DeviceFacts;

use crate::ids::{CompanyId, ConfigurationId, DeviceId, IntegrationId, PolicyId};

/// A policy's billing: its devices, by class, as products of an agreement of its company.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PolicyBilling {
    pub policy_id: PolicyId,
    /// The instance of the company and the agreement.
    pub integration_id: IntegrationId,
    pub company_id: CompanyId,
    pub agreement_id: i64,
    pub agreement_name: String,
    /// The product a workstation is billed as (none: workstations are not billed).
    pub workstation_product: Option<Product>,
    /// The product a server is billed as (none: servers are not billed).
    pub server_product: Option<Product>,
    /// `Billable`, `DoNotBill` or `NoCharge`, for an addition Bindery creates.
    pub bill_customer: String,
    /// Also cover each bound configuration with the agreement (and uncover it when its device
    /// leaves).
    pub cover_configurations: bool,
}

/// A catalog product: its id and identifier (`MANAGED-WS`).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Product {
    pub id: i64,
    pub identifier: String,
}

/// A device that counts for an agreement: its policy (whose products it is billed as), its
/// facts (its class) and its configuration (which the agreement may cover).
#[derive(Clone, Debug, PartialEq)]
pub struct BilledDevice {
    pub policy_id: PolicyId,
    pub facts: DeviceFacts,
    pub configuration_id: Option<ConfigurationId>,
}

/// Bindery's record of one (agreement, product) addition.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BilledAddition {
    /// The instance of the agreement.
    pub integration_id: IntegrationId,
    pub agreement_id: i64,
    pub product_id: i64,
    pub product: String,
    /// The addition in ConnectWise, once adopted or created.
    pub addition_id: Option<i64>,
    /// The quantity Bindery last wrote (or found, adopting).
    pub quantity: Option<i64>,
    pub written_ms: Option<i64>,
    /// A quantity that waits for a person, and why (the first write, a steep drop, several
    /// additions to choose from).
    pub held_quantity: Option<i64>,
    pub held_reason: Option<String>,
    /// A held quantity a person approved: written even where the rules would hold it.
    pub approved_quantity: Option<i64>,
    /// When a create was sent: a retry looks for the addition before making another.
    pub create_started_ms: Option<i64>,
    /// The month (UTC, `2026-12`) `month_high` is of, and the most devices that counted at
    /// once in it.
    pub month: Option<String>,
    pub month_high: Option<i64>,
}

// The SQL below is built from these constants only (`AssertSqlSafe`).
const POLICY_COLUMNS: &str = "policy_id, company_id, agreement_id, agreement_name, \
     workstation_product_id, workstation_product, server_product_id, server_product, bill_customer, \
     cover_configurations, integration_id";
const ADDITION_COLUMNS: &str = "integration_id, agreement_id, product_id, product, addition_id, quantity, \
     written_ms, held_quantity, held_reason, approved_quantity, create_started_ms, month, month_high";

fn product(r: &AnyRow, id: &str, name: &str) -> std::result::Result<Option<Product>, sqlx::Error> {
    Ok(match r.try_get::<Option<i64>, _>(id)? {
        Some(id) => Some(Product {
            id,
            identifier: r.try_get::<Option<String>, _>(name)?.unwrap_or_default(),
        }),
        None => None,
    })
}

fn policy_from_row(r: &AnyRow) -> std::result::Result<PolicyBilling, sqlx::Error> {
    Ok(PolicyBilling {
        policy_id: r.try_get("policy_id")?,
        integration_id: r.try_get("integration_id")?,
        company_id: r.try_get("company_id")?,
        agreement_id: r.try_get("agreement_id")?,
        agreement_name: r.try_get("agreement_name")?,
        workstation_product: product(r, "workstation_product_id", "workstation_product")?,
        server_product: product(r, "server_product_id", "server_product")?,
        bill_customer: r.try_get("bill_customer")?,
        cover_configurations: r.try_get::<i64, _>("cover_configurations")? != 0,
    })
}

fn addition_from_row(r: &AnyRow) -> std::result::Result<BilledAddition, sqlx::Error> {
    Ok(BilledAddition {
        integration_id: r.try_get("integration_id")?,
        agreement_id: r.try_get("agreement_id")?,
        product_id: r.try_get("product_id")?,
        product: r.try_get("product")?,
        addition_id: r.try_get("addition_id")?,
        quantity: r.try_get("quantity")?,
        written_ms: r.try_get("written_ms")?,
        held_quantity: r.try_get("held_quantity")?,
        held_reason: r.try_get("held_reason")?,
        approved_quantity: r.try_get("approved_quantity")?,
        create_started_ms: r.try_get("create_started_ms")?,
        month: r.try_get("month")?,
        month_high: r.try_get("month_high")?,
    })
}

impl Store {
    /// Sets the policy's billing (replacing any), and makes sure each of its products has its
    /// record, in one transaction.
    pub async fn set_policy_billing(&self, b: &PolicyBilling) -> Result<()> {
        let mut tx = self.begin_write().await?;
        let ws = b.workstation_product.as_ref();
        let srv = b.server_product.as_ref();
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "INSERT INTO policy_billing ({POLICY_COLUMNS}, updated_ms) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) \
             ON CONFLICT (policy_id) DO UPDATE SET company_id = $2, agreement_id = $3, \
             agreement_name = $4, workstation_product_id = $5, workstation_product = $6, \
             server_product_id = $7, server_product = $8, bill_customer = $9, \
             cover_configurations = $10, integration_id = $11, updated_ms = $12"
        )))
        .bind(b.policy_id)
        .bind(b.company_id)
        .bind(b.agreement_id)
        .bind(&b.agreement_name)
        .bind(ws.map(|p| p.id))
        .bind(ws.map(|p| p.identifier.clone()))
        .bind(srv.map(|p| p.id))
        .bind(srv.map(|p| p.identifier.clone()))
        .bind(&b.bill_customer)
        .bind(i64::from(b.cover_configurations))
        .bind(b.integration_id)
        .bind(now_ms())
        .execute(&mut *tx)
        .await?;
        for p in [ws, srv].into_iter().flatten() {
            sqlx::query(
                "INSERT INTO billed_additions (agreement_id, product_id, product, integration_id) \
                 VALUES ($1, $2, $3, $4) ON CONFLICT (integration_id, agreement_id, product_id) DO NOTHING",
            )
            .bind(b.agreement_id)
            .bind(p.id)
            .bind(&p.identifier)
            .bind(b.integration_id)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Stops billing the policy; the agreement it billed to (and its instance), if any.
    pub async fn clear_policy_billing(
        &self,
        policy_id: PolicyId,
    ) -> Result<Option<(IntegrationId, i64)>> {
        Ok(sqlx::query_as(
            "DELETE FROM policy_billing WHERE policy_id = $1 RETURNING integration_id, agreement_id",
        )
        .bind(policy_id)
        .fetch_optional(&self.pool)
        .await?)
    }

    pub async fn policy_billing(&self, policy_id: PolicyId) -> Result<Option<PolicyBilling>> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {POLICY_COLUMNS} FROM policy_billing WHERE policy_id = $1"
        )))
        .bind(policy_id)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.as_ref().map(policy_from_row).transpose()?)
    }

    /// The policies billed to the agreement.
    pub async fn agreement_billing(
        &self,
        integration: IntegrationId,
        agreement_id: i64,
    ) -> Result<Vec<PolicyBilling>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {POLICY_COLUMNS} FROM policy_billing WHERE agreement_id = $1 \
             AND integration_id = $2 ORDER BY policy_id"
        )))
        .bind(agreement_id)
        .bind(integration)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .iter()
            .map(policy_from_row)
            .collect::<std::result::Result<_, _>>()?)
    }

    /// Every agreement some policy bills to, with its instance.
    pub async fn billed_agreements(&self) -> Result<Vec<(IntegrationId, i64)>> {
        Ok(sqlx::query_as(
            "SELECT DISTINCT integration_id, agreement_id FROM policy_billing \
             ORDER BY integration_id, agreement_id",
        )
        .fetch_all(&self.pool)
        .await?)
    }

    /// Bindery's additions: of one agreement of an instance, or (`None`) of every agreement.
    pub async fn billed_additions(
        &self,
        agreement: Option<(IntegrationId, i64)>,
    ) -> Result<Vec<BilledAddition>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {ADDITION_COLUMNS} FROM billed_additions \
             WHERE ($1 IS NULL OR (agreement_id = $1 AND integration_id = $2)) \
             ORDER BY integration_id, agreement_id, product_id"
        )))
        .bind(agreement.map(|a| a.1))
        .bind(agreement.map_or(IntegrationId::FIRST, |a| a.0))
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .iter()
            .map(addition_from_row)
            .collect::<std::result::Result<_, _>>()?)
    }

    /// Records what billing did or decided for one addition.
    pub async fn record_billed_addition(&self, a: &BilledAddition) -> Result<()> {
        sqlx::query(
            "UPDATE billed_additions SET addition_id = $3, quantity = $4, written_ms = $5, \
             held_quantity = $6, held_reason = $7, approved_quantity = $8, create_started_ms = $9, \
             month = $10, month_high = $11 WHERE agreement_id = $1 AND product_id = $2 \
             AND integration_id = $12",
        )
        .bind(a.agreement_id)
        .bind(a.product_id)
        .bind(a.addition_id)
        .bind(a.quantity)
        .bind(a.written_ms)
        .bind(a.held_quantity)
        .bind(&a.held_reason)
        .bind(a.approved_quantity)
        .bind(a.create_started_ms)
        .bind(&a.month)
        .bind(a.month_high)
        .bind(a.integration_id)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Every device that counts for the agreement: not retired, in a policy billed to it, and
    /// bound in that policy's company; its facts decoded as every device's are.
    pub async fn billed_devices(
        &self,
        integration: IntegrationId,
        agreement_id: i64,
    ) -> Result<Vec<BilledDevice>> {
        let rows: Vec<(DeviceId, PolicyId, String, Option<ConfigurationId>)> = sqlx::query_as(
            "SELECT d.id, d.policy_id, d.facts_json, b.configuration_id FROM devices d \
             JOIN policy_billing pb ON pb.policy_id = d.policy_id \
             JOIN bindings b ON b.device_id = d.id AND b.company_id = pb.company_id \
             AND b.integration_id = pb.integration_id \
             WHERE pb.agreement_id = $1 AND pb.integration_id = $2 AND d.retired_ms IS NULL \
             AND b.state = 'bound'",
        )
        .bind(agreement_id)
        .bind(integration)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(id, policy_id, json, configuration_id)| BilledDevice {
                policy_id,
                facts: super::devices::stored_facts(id, &json),
                configuration_id,
            })
            .collect())
    }

    /// Every configuration Bindery has bound in `company`, whatever its state now: the ones it
    /// may uncover from an agreement (never one it does not know).
    pub async fn configurations_known_in(
        &self,
        integration: IntegrationId,
        company: CompanyId,
    ) -> Result<Vec<ConfigurationId>> {
        let rows: Vec<(ConfigurationId,)> = sqlx::query_as(
            "SELECT configuration_id FROM bindings WHERE company_id = $1 AND integration_id = $2 \
             AND configuration_id IS NOT NULL",
        )
        .bind(company)
        .bind(integration)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(|(c,)| c).collect())
    }
}
