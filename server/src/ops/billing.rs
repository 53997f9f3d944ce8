//! Billing by device count: a policy bills its bound devices to an agreement of its company, a
//! product per device class; a change that waits for a person (the first write, a steep drop,
//! several additions to choose from) is approved here. The writes themselves are the
//! `cw.bill_agreement` job's.

use connectwise_client::Error as CwError;
use connectwise_client::model::Agreement;

use super::{OpError, Ops};
use crate::access::Act;
use crate::ids::{CompanyId, IntegrationId, PolicyId};
use crate::reconcile::billing::{self, BillingRules};
use crate::reconcile::jobs::{BillAgreement, JobKind};
use crate::store::{BilledAddition, PolicyBilling, Product};

/// What `bill_customer` may be, as ConnectWise names it.
pub const BILL_CUSTOMER: [&str; 3] = ["Billable", "DoNotBill", "NoCharge"];

/// What an admin asks for: the agreement and the products' identifiers (`MANAGED-WS`).
pub struct BillingRequest<'r> {
    pub agreement_id: i64,
    pub workstation_product: Option<&'r str>,
    pub server_product: Option<&'r str>,
    pub bill_customer: &'r str,
    /// Also cover each bound configuration with the agreement.
    pub cover_configurations: bool,
}

/// One (agreement, product) addition as people see it: Bindery's record and the count now.
#[derive(Clone, Debug, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BillingLine {
    #[serde(flatten)]
    pub addition: BilledAddition,
    /// Devices that count for it now.
    pub devices: i64,
}

fn invalid(field: &'static str, message: String) -> OpError {
    OpError::Invalid {
        field: Some(field),
        message,
    }
}

impl Ops<'_> {
    /// The company's agreements that are not cancelled (child agreements included).
    pub async fn company_agreements(
        &self,
        integration: IntegrationId,
        company: CompanyId,
    ) -> Result<Vec<Agreement>, OpError> {
        Ok(self
            .client(integration)
            .await?
            .company_agreements(company.0)
            .await?)
    }

    /// Bills the policy's devices to an agreement of its linked company, checked with
    /// ConnectWise; the first quantity then waits for a person's confirmation.
    pub async fn set_billing(
        &self,
        policy_id: PolicyId,
        req: &BillingRequest<'_>,
    ) -> Result<PolicyBilling, OpError> {
        self.allow(Act::SetBilling)?;
        let billing = self.bill_policy(policy_id, req).await?;
        let detail = format!(
            "integration {}, agreement {}",
            billing.integration_id, billing.agreement_id
        );
        self.audited(
            Act::SetBilling,
            format!("policy {policy_id}"),
            Some(&detail),
        )
        .await;
        Ok(billing)
    }

    async fn bill_policy(
        &self,
        policy_id: PolicyId,
        req: &BillingRequest<'_>,
    ) -> Result<PolicyBilling, OpError> {
        let policy = self.store.policy(policy_id).await?;
        let (Some(integration), Some(company)) = (policy.cw_integration_id, policy.cw_company_id)
        else {
            return Err(invalid(
                "agreementId",
                "link the policy to a company first".into(),
            ));
        };
        if !BILL_CUSTOMER.contains(&req.bill_customer) {
            return Err(invalid(
                "billCustomer",
                format!("billCustomer is one of {}", BILL_CUSTOMER.join(", ")),
            ));
        }
        if req.workstation_product.is_none() && req.server_product.is_none() {
            return Err(invalid(
                "workstationProduct",
                "name a product for workstations, servers or both".into(),
            ));
        }
        let client = self.client(integration).await?;
        let agreement = match client.agreement(req.agreement_id).await {
            Err(CwError::NotFound { .. }) => {
                return Err(invalid(
                    "agreementId",
                    format!("no agreement {} in ConnectWise", req.agreement_id),
                ));
            }
            found => found?,
        };
        let of_company = agreement.company.as_ref().and_then(|c| c.id) == Some(company.0);
        if !of_company || agreement.cancelled_flag == Some(true) {
            return Err(invalid(
                "agreementId",
                format!(
                    "agreement {} is not an agreement of company {company} that is in force",
                    req.agreement_id
                ),
            ));
        }
        let mut products = [None, None];
        for (slot, (field, wanted)) in products.iter_mut().zip([
            ("workstationProduct", req.workstation_product),
            ("serverProduct", req.server_product),
        ]) {
            let Some(identifier) = wanted.map(str::trim) else {
                continue;
            };
            let item = client.catalog_item(identifier).await?.ok_or_else(|| {
                invalid(
                    field,
                    format!("no active product {identifier:?} in the catalog"),
                )
            })?;
            *slot = Some(Product {
                id: item.id,
                identifier: item.identifier,
            });
        }
        let [workstation_product, server_product] = products;
        let before = self.store.policy_billing(policy_id).await?;
        let billing = PolicyBilling {
            policy_id,
            integration_id: integration,
            company_id: company,
            agreement_id: agreement.id,
            agreement_name: agreement.name,
            workstation_product,
            server_product,
            bill_customer: req.bill_customer.to_owned(),
            cover_configurations: req.cover_configurations,
        };
        self.store.set_policy_billing(&billing).await?;
        let moved_from = before
            .map(|b| (b.integration_id, b.agreement_id))
            .filter(|a| *a != (integration, agreement.id));
        self.bill_again([Some((integration, agreement.id)), moved_from])
            .await?;
        Ok(billing)
    }

    /// Stops billing the policy. The agreement's quantities are counted again, and a drop
    /// waits for a person as any other.
    pub async fn clear_billing(&self, policy_id: PolicyId) -> Result<(), OpError> {
        self.allow(Act::ClearBilling)?;
        self.stop_billing(policy_id).await?;
        self.audited(Act::ClearBilling, format!("policy {policy_id}"), None)
            .await;
        Ok(())
    }

    /// `clear_billing`, as part of another act (a link elsewhere, a deletion).
    pub(super) async fn stop_billing(&self, policy_id: PolicyId) -> Result<(), OpError> {
        self.store.policy(policy_id).await?;
        let was = self.store.clear_policy_billing(policy_id).await?;
        self.bill_again([was]).await
    }

    /// How quantities follow the count, server-wide.
    pub async fn billing_rules(&self) -> Result<BillingRules, OpError> {
        let stored = self.store.setting(billing::RULES).await?;
        Ok(BillingRules::from_stored(stored.as_deref()))
    }

    /// Sets the rules; every billed agreement is counted again under them.
    pub async fn set_billing_rules(&self, rules: &BillingRules) -> Result<(), OpError> {
        self.allow(Act::SetBillingRules)?;
        if let Some(why) = rules.problem() {
            return Err(invalid("maxDropPercent", why));
        }
        let json = serde_json::to_string(rules).unwrap_or_default();
        self.store.put_setting(billing::RULES, &json).await?;
        let agreements = self.store.billed_agreements().await?;
        self.bill_again(agreements.into_iter().map(Some)).await?;
        self.audited(Act::SetBillingRules, "the server", Some(&json))
            .await;
        Ok(())
    }

    /// Every addition Bindery keeps, with the devices that count for it now.
    pub async fn billing_lines(&self) -> Result<Vec<BillingLine>, OpError> {
        let mut out = Vec::new();
        for agreement in self.store.billed_agreements().await? {
            let policies = self
                .store
                .agreement_billing(agreement.0, agreement.1)
                .await?;
            let devices = self.store.billed_devices(agreement.0, agreement.1).await?;
            let counts = billing::counts(&policies, &devices);
            for addition in self.store.billed_additions(Some(agreement)).await? {
                let Some(&devices) = counts.get(&addition.product_id) else {
                    continue;
                };
                out.push(BillingLine { addition, devices });
            }
        }
        Ok(out)
    }

    /// A person's yes to a quantity that waits: it is written at the next run, unless the count
    /// has moved since (then it is decided afresh).
    pub async fn approve_billing(
        &self,
        (integration, agreement_id): (IntegrationId, i64),
        product_id: i64,
    ) -> Result<BilledAddition, OpError> {
        self.allow(Act::ApproveBilling)?;
        let mut rec = self.held((integration, agreement_id), product_id).await?;
        let Some(quantity) = rec.held_quantity else {
            let why = rec
                .held_reason
                .clone()
                .unwrap_or_else(|| "nothing waits for approval here".into());
            return Err(invalid("productId", why));
        };
        rec.approved_quantity = Some(quantity);
        self.store.record_billed_addition(&rec).await?;
        self.bill_again([Some((integration, agreement_id))]).await?;
        self.audited(
            Act::ApproveBilling,
            format!("agreement {agreement_id} of integration {integration}, product {product_id}"),
            Some(&format!("quantity {quantity}")),
        )
        .await;
        Ok(rec)
    }

    /// Which of several additions of the product on the agreement is Bindery's.
    pub async fn choose_addition(
        &self,
        (integration, agreement_id): (IntegrationId, i64),
        product_id: i64,
        addition_id: i64,
    ) -> Result<BilledAddition, OpError> {
        self.allow(Act::ChooseAddition)?;
        let mut rec = self.held((integration, agreement_id), product_id).await?;
        let additions = self
            .client(integration)
            .await?
            .agreement_additions(agreement_id)
            .await?;
        let fits = additions.iter().any(|a| {
            a.id == Some(addition_id)
                && a.product.id == Some(product_id)
                && a.cancelled_date.is_none()
        });
        if !fits {
            return Err(invalid(
                "additionId",
                format!(
                    "addition {addition_id} is not a live addition of {} on agreement {agreement_id}",
                    rec.product
                ),
            ));
        }
        rec.addition_id = Some(addition_id);
        rec.held_quantity = None;
        rec.held_reason = None;
        self.store.record_billed_addition(&rec).await?;
        self.bill_again([Some((integration, agreement_id))]).await?;
        self.audited(
            Act::ChooseAddition,
            format!("agreement {agreement_id} of integration {integration}, product {product_id}"),
            Some(&format!("addition {addition_id}")),
        )
        .await;
        Ok(rec)
    }

    async fn held(
        &self,
        (integration, agreement_id): (IntegrationId, i64),
        product_id: i64,
    ) -> Result<BilledAddition, OpError> {
        self.store
            .billed_additions(Some((integration, agreement_id)))
            .await?
            .into_iter()
            .find(|a| a.product_id == product_id)
            .ok_or_else(|| {
                invalid(
                    "productId",
                    format!("Bindery bills no product {product_id} on agreement {agreement_id}"),
                )
            })
    }

    /// Queues a billing run for each agreement given.
    async fn bill_again(
        &self,
        agreements: impl IntoIterator<Item = Option<(IntegrationId, i64)>>,
    ) -> Result<(), OpError> {
        let jobs: Vec<_> = agreements
            .into_iter()
            .flatten()
            .map(|(integration, agreement_id)| {
                BillAgreement {
                    integration,
                    agreement_id,
                }
                .job()
            })
            .collect();
        self.store.enqueue_many(&jobs).await?;
        self.wake();
        Ok(())
    }
}
