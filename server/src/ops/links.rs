//! Linking policies to ConnectWise companies: the preview of what a link would do, the link
//! itself, unlinking, and suggestions of the company that best matches each unlinked policy.

use serde::Serialize;

use super::{OpError, Ops, suggest};
use crate::access::Act;
use crate::ids::{CompanyId, IntegrationId, PolicyId};
use crate::reconcile::company::Preview;
use crate::reconcile::{queue, sync};
use crate::store::{Policy, SiteRef};
use connectwise_client::model::CompanySite;

/// What linking a policy to a company would do.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LinkPreview {
    pub policy_id: PolicyId,
    pub policy_name: String,
    /// The instance the company is in, and its name.
    pub integration_id: IntegrationId,
    pub integration_name: String,
    pub company_name: String,
    /// Configurations of the policy's devices set inactive in another instance they leave (a
    /// policy moving between instances; `plan.deactivate` counts those in this one).
    pub deactivated_elsewhere: usize,
    #[serde(flatten)]
    pub plan: Preview,
}

/// A company as a suggestion names it.
#[derive(Clone, Debug, PartialEq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CompanyMatch {
    pub id: CompanyId,
    pub name: String,
    /// 1 for the same name after normalising; lower for a looser match.
    pub score: f64,
}

/// An unlinked policy and the company whose name matches it best, if any does well enough.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Suggestion {
    pub policy_id: PolicyId,
    pub policy_name: String,
    pub company: Option<CompanyMatch>,
}

impl Ops<'_> {
    /// The company's name, as ConnectWise confirms it exists.
    async fn company_name(
        &self,
        (integration, company_id): (IntegrationId, CompanyId),
    ) -> Result<String, OpError> {
        Ok(self
            .client(integration)
            .await?
            .get_company(company_id.0)
            .await?
            .name)
    }

    /// What linking would do, computed from one sync's reads by the sync's own planning code;
    /// nothing is written anywhere. A policy moving from another instance also has its
    /// devices' configurations there set inactive, as an unlink would.
    pub async fn preview_link(
        &self,
        policy_id: PolicyId,
        (integration, company_id): (IntegrationId, CompanyId),
    ) -> Result<LinkPreview, OpError> {
        self.allow(Act::PreviewLink)?;
        let policy = self.store.policy(policy_id).await?;
        let instance = self.store.integration(integration).await?;
        let settings = self.binding_settings(integration).await?;
        let client = self.client(integration).await?;
        // The preview matches contacts as the sync will (one read of the company's contacts,
        // when some device needs one), so it counts the same writes.
        let contacts = crate::reconcile::contact_lookup::ContactCache::default();
        let manufacturers = crate::reconcile::manufacturers::ManufacturerCache::default();
        let source = crate::reconcile::extras::ExtrasSource {
            public_url: self.public_url,
            integration,
            contacts: Some(&contacts),
            field_map: &settings.field_map,
            manufacturers: Some(&manufacturers),
        };
        let (plan, name) = sync::preview_link(
            self.store,
            &client,
            policy_id,
            (integration, company_id),
            &settings,
            source,
        )
        .await?;
        // A company without configurations is named (and shown to exist) by a read of its own.
        let company_name = match name {
            Some(n) => n,
            None => client.get_company(company_id.0).await?.name,
        };
        let deactivated_elsewhere = self
            .store
            .policy_targets(policy_id)
            .await?
            .into_iter()
            .filter(|t| {
                t.binding.as_ref().is_some_and(|b| {
                    b.integration_id != integration
                        && b.state != crate::store::BindingState::Inactive
                        && b.configuration_id.is_some()
                })
            })
            .count();
        Ok(LinkPreview {
            policy_id,
            policy_name: policy.name,
            integration_id: integration,
            integration_name: instance.name,
            company_name,
            deactivated_elsewhere,
            plan,
        })
    }

    /// Links the policy to a company ConnectWise confirms exists; binding starts at once.
    pub async fn link(
        &self,
        policy_id: PolicyId,
        company: (IntegrationId, CompanyId),
    ) -> Result<Policy, OpError> {
        self.link_at_site(policy_id, company, None).await
    }

    /// The company's active sites, for a link's site picker.
    pub async fn company_sites(
        &self,
        (integration, company_id): (IntegrationId, CompanyId),
    ) -> Result<Vec<CompanySite>, OpError> {
        Ok(self
            .client(integration)
            .await?
            .company_sites(company_id.0)
            .await?)
    }

    /// Links the policy to a company and, when given, one of that company's active sites,
    /// which its devices' configurations and tickets then carry. Linking again (another site,
    /// or none) is how a policy's site changes; without one, Bindery leaves sites alone.
    pub async fn link_at_site(
        &self,
        policy_id: PolicyId,
        (integration, company_id): (IntegrationId, CompanyId),
        site_id: Option<i64>,
    ) -> Result<Policy, OpError> {
        self.allow(Act::Link)?;
        self.store.policy(policy_id).await?;
        let company = (integration, company_id);
        let name = self.company_name(company).await?;
        let site = match site_id {
            None => None,
            Some(id) => Some(self.site_of(company, id).await?),
        };
        let policy = self
            .store
            .link_policy_at(
                policy_id,
                Some((integration, company_id, &name)),
                site.as_ref(),
            )
            .await?;
        // Billing is to an agreement of the company it was set for: linked elsewhere (even
        // after an unlink, or to the same id in another instance), it stops, and the old
        // agreement's drop waits for a person.
        let billed = self.store.policy_billing(policy_id).await?;
        if billed.is_some_and(|b| (b.integration_id, b.company_id) != company) {
            self.stop_billing(policy_id).await?;
        }
        queue::policy_linked(self.store, policy_id).await?;
        self.wake();
        let at = site
            .as_ref()
            .map(|s| format!(", site {}", s.name))
            .unwrap_or_default();
        let detail = format!("integration {integration}, company {company_id} ({name}){at}");
        self.audited(Act::Link, format!("policy {policy_id}"), Some(&detail))
            .await;
        Ok(policy)
    }

    /// Site `site_id` of the company, as ConnectWise lists it now; refused when it is not one
    /// of the company's active sites.
    async fn site_of(
        &self,
        company: (IntegrationId, CompanyId),
        site_id: i64,
    ) -> Result<SiteRef, OpError> {
        let company_id = company.1;
        let sites = self.company_sites(company).await?;
        let site = sites
            .into_iter()
            .find(|s| s.id == site_id)
            .ok_or_else(|| OpError::Invalid {
                field: Some("siteId"),
                message: format!(
                    "site {site_id} is not an active site of company {company_id} in ConnectWise"
                ),
            })?;
        Ok(SiteRef {
            id: site.id,
            name: site.name,
        })
    }

    /// Unlinks the policy; its devices' configurations are deactivated. Returns how many.
    pub async fn unlink(&self, policy_id: PolicyId) -> Result<(Policy, usize), OpError> {
        self.allow(Act::Unlink)?;
        let done = queue::unlink_policy(self.store, policy_id).await?;
        self.wake();
        let detail = format!("{} devices deactivated", done.1);
        self.audited(Act::Unlink, format!("policy {policy_id}"), Some(&detail))
            .await;
        Ok(done)
    }

    /// Every unlinked policy with the best-matching company of an instance (one paged read of
    /// its companies).
    pub async fn company_suggestions(
        &self,
        integration: IntegrationId,
    ) -> Result<Vec<Suggestion>, OpError> {
        self.allow(Act::PreviewLink)?;
        let unlinked: Vec<Policy> = self
            .store
            .policies()
            .await?
            .into_iter()
            .filter(|p| p.cw_company_id.is_none())
            .collect();
        if unlinked.is_empty() {
            return Ok(Vec::new());
        }
        let companies: Vec<(CompanyId, String)> = self
            .client(integration)
            .await?
            .all_companies()
            .await?
            .into_iter()
            .map(|c| (CompanyId(c.id), c.name))
            .collect();
        Ok(unlinked
            .into_iter()
            .map(|p| Suggestion {
                company: suggest::best(&p.name, &companies).map(|((id, name), score)| {
                    CompanyMatch {
                        id: *id,
                        name: name.clone(),
                        score: (score * 100.0).round() / 100.0,
                    }
                }),
                policy_id: p.id,
                policy_name: p.name,
            })
            .collect())
    }
}
