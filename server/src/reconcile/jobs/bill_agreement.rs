//! `cw.bill_agreement`: bring an agreement's additions to the number of devices billed to it
//! (`reconcile/billing.rs` decides). One read of the agreement's additions, then at most one
//! write per (agreement, product).
//!
//! Where a policy asks for it, the agreement also covers each bound configuration of its
//! devices (one more read, and a write per change), and stops covering one whose device left;
//! a configuration Bindery does not bind is never uncovered.
//!
//! Bindery never loses track of its addition: it records the addition's id, and before creating
//! one it records that it is about to, so a retry after a lost reply or a crash finds the
//! addition it made (by its product, on that agreement) instead of making a second.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use super::JobKind;
use crate::ids::{ConfigurationId, IntegrationId, PolicyId};
use crate::reconcile::Engine;
use crate::reconcile::billing::{self, BillingRules, Decision};
use crate::reconcile::job_error::JobError;
use crate::store::{BilledAddition, Store, now_ms};
use connectwise_client::Client;
use connectwise_client::model::{Addition, Reference};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BillAgreement {
    /// The instance the agreement is in (payloads from before there were several: the first).
    #[serde(default = "IntegrationId::first")]
    pub integration: IntegrationId,
    pub agreement_id: i64,
}

impl JobKind for BillAgreement {
    const KIND: &'static str = "cw.bill_agreement";

    fn dedupe_key(&self) -> String {
        super::scoped_key("bill", self.integration, self.agreement_id)
    }

    async fn process(self, engine: &Engine, _attempts: i64) -> Result<(), JobError> {
        let client = engine.shared_client(self.integration).await?;
        bill(&engine.store, &client, self.integration, self.agreement_id).await
    }
}

/// One run for the agreement.
async fn bill(
    store: &Store,
    client: &Client,
    integration: IntegrationId,
    agreement_id: i64,
) -> Result<(), JobError> {
    let policies = store.agreement_billing(integration, agreement_id).await?;
    // No policy bills here any more: the quantities stay as they are.
    let Some(first) = policies.first() else {
        return Ok(());
    };
    let devices = store.billed_devices(integration, agreement_id).await?;
    let counts = billing::counts(&policies, &devices);
    let rules = BillingRules::from_stored(store.setting(billing::RULES).await?.as_deref());
    let month = billing::month_of(now_ms());
    let additions = client.agreement_additions(agreement_id).await?;
    for mut rec in store
        .billed_additions(Some((integration, agreement_id)))
        .await?
    {
        let Some(&count) = counts.get(&rec.product_id) else {
            continue;
        };
        let live: Vec<&Addition> = additions
            .iter()
            .filter(|a| a.product.id == Some(rec.product_id) && a.cancelled_date.is_none())
            .collect();
        let ours = match rec.addition_id {
            Some(id) => live.iter().find(|a| a.id == Some(id)).copied(),
            None => match live.as_slice() {
                [] => None,
                [one] => {
                    adopt(&mut rec, one);
                    Some(*one)
                }
                several => {
                    wait_for_a_choice(store, &mut rec, several).await?;
                    continue;
                }
            },
        };
        // Deleted or cancelled in ConnectWise: Bindery's is gone, and a new one is the first.
        if ours.is_none() && rec.addition_id.is_some() {
            rec.addition_id = None;
            rec.written_ms = None;
        }
        let current = ours.map(|a| a.quantity.unwrap_or(0.0).round() as i64);
        let billed = billing::billed_count(count, &mut rec, &rules, &month);
        let decision = billing::decide(billed, current, &rec, rules.max_drop_percent, now_ms());
        carry_out(
            store,
            client,
            &mut rec,
            ours,
            decision,
            &first.bill_customer,
        )
        .await?;
    }
    let covering: Vec<PolicyId> = policies
        .iter()
        .filter(|p| p.cover_configurations)
        .map(|p| p.policy_id)
        .collect();
    // Only a policy that covers has anything to uncover: one that never did leaves the
    // agreement's configurations alone.
    if covering.is_empty() {
        return Ok(());
    }
    let wanted: BTreeSet<ConfigurationId> = devices
        .iter()
        .filter(|d| covering.contains(&d.policy_id))
        .filter_map(|d| d.configuration_id)
        .collect();
    let known = store
        .configurations_known_in(integration, first.company_id)
        .await?;
    cover(store, client, agreement_id, &wanted, &known).await
}

/// Covers `wanted` with the agreement and uncovers the configurations of `known` (Bindery's)
/// that are not wanted any more.
async fn cover(
    store: &Store,
    client: &Client,
    agreement_id: i64,
    wanted: &BTreeSet<ConfigurationId>,
    known: &[ConfigurationId],
) -> Result<(), JobError> {
    let covered: BTreeSet<ConfigurationId> = client
        .covered_configurations(agreement_id)
        .await?
        .into_iter()
        .filter_map(|r| r.id.map(ConfigurationId))
        .collect();
    let subject = format!("agreement {agreement_id}");
    for config in wanted.difference(&covered) {
        let done = client.cover_configuration(agreement_id, config.0).await;
        let outcome = done.as_ref().map(|_| ()).map_err(ToString::to_string);
        store
            .record_activity(
                "agreement.cover",
                &subject,
                Some(config.0),
                outcome.as_ref().map(|_| ()).map_err(String::as_str),
            )
            .await;
        done?;
    }
    let gone = covered
        .iter()
        .filter(|c| known.contains(c) && !wanted.contains(c));
    for config in gone {
        let done = client.uncover_configuration(agreement_id, config.0).await;
        let outcome = done.as_ref().map(|_| ()).map_err(ToString::to_string);
        store
            .record_activity(
                "agreement.uncover",
                &subject,
                Some(config.0),
                outcome.as_ref().map(|_| ()).map_err(String::as_str),
            )
            .await;
        done?;
    }
    Ok(())
}

/// Several live additions of the product: a person chooses the one Bindery keeps (there is no
/// quantity to approve meanwhile).
async fn wait_for_a_choice(
    store: &Store,
    rec: &mut BilledAddition,
    several: &[&Addition],
) -> Result<(), JobError> {
    let ids: Vec<String> = several
        .iter()
        .filter_map(|a| a.id)
        .map(|i| i.to_string())
        .collect();
    rec.held_quantity = None;
    rec.held_reason = Some(format!(
        "the agreement has {} additions of {} (ids {}): choose the one Bindery keeps",
        ids.len(),
        rec.product,
        ids.join(", ")
    ));
    store.record_billed_addition(rec).await?;
    Ok(())
}

/// Takes an addition found on the agreement as Bindery's. One Bindery itself was creating when
/// its reply was lost is already written; one a person made waits for a first confirmation.
fn adopt(rec: &mut BilledAddition, found: &Addition) {
    rec.addition_id = found.id;
    rec.quantity = found.quantity.map(|q| q.round() as i64);
    if rec.create_started_ms.take().is_some() {
        rec.written_ms = Some(now_ms());
    }
}

async fn carry_out(
    store: &Store,
    client: &Client,
    rec: &mut BilledAddition,
    ours: Option<&Addition>,
    decision: Decision,
    bill_customer: &str,
) -> Result<(), JobError> {
    match decision {
        // Only the month's high (kept below) changes.
        Decision::Later => {}
        Decision::InLine => {
            rec.quantity = ours.and_then(|a| a.quantity).map(|q| q.round() as i64);
            rec.held_quantity = None;
            rec.held_reason = None;
            rec.approved_quantity = None;
        }
        Decision::Hold(quantity, reason) => {
            if rec.held_quantity != Some(quantity) || rec.held_reason.as_deref() != Some(&reason) {
                tracing::info!(agreement = rec.agreement_id, product = %rec.product, %reason, "billing waits for a person");
            }
            rec.held_quantity = Some(quantity);
            rec.held_reason = Some(reason);
        }
        Decision::Write(quantity) => {
            write_quantity(store, client, rec, ours.is_some(), quantity, bill_customer).await?;
        }
    }
    store.record_billed_addition(rec).await?;
    Ok(())
}

/// Sets the addition's quantity (or creates the addition, saying first that it is about to) and
/// records the change in the activity log, before and after.
async fn write_quantity(
    store: &Store,
    client: &Client,
    rec: &mut BilledAddition,
    exists: bool,
    quantity: i64,
    bill_customer: &str,
) -> Result<(), JobError> {
    let subject = format!("agreement {}: {}", rec.agreement_id, rec.product);
    let before = rec.quantity;
    let written = match rec.addition_id.filter(|_| exists) {
        Some(id) => client
            .set_addition_quantity(rec.agreement_id, id, quantity as f64)
            .await
            .map(|_| id),
        None => {
            rec.create_started_ms = Some(now_ms());
            store.record_billed_addition(rec).await?;
            let new = Addition {
                product: Reference::id(rec.product_id),
                quantity: Some(quantity as f64),
                bill_customer: bill_customer.to_owned(),
                description: Some("Devices managed by Bindery".into()),
                ..Addition::default()
            };
            client
                .add_addition(rec.agreement_id, &new)
                .await
                .map(|a| a.id.unwrap_or_default())
        }
    };
    let detail = format!(
        "{} → {quantity}",
        before.map_or("none".into(), |b| b.to_string())
    );
    match &written {
        Ok(id) => {
            store
                .record_activity_detail(
                    "billing.quantity",
                    &subject,
                    Some(*id),
                    true,
                    Some(&detail),
                )
                .await;
        }
        Err(e) => {
            let why = format!("{detail}: {e}");
            store
                .record_activity_detail("billing.quantity", &subject, None, false, Some(&why))
                .await;
        }
    }
    rec.addition_id = Some(written?);
    rec.create_started_ms = None;
    rec.quantity = Some(quantity);
    rec.written_ms = Some(now_ms());
    rec.held_quantity = None;
    rec.held_reason = None;
    rec.approved_quantity = None;
    Ok(())
}
