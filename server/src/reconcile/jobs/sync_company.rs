//! `cw.sync_company`: read every configuration of a company in one paged query, and queue the
//! writes it needs (`binding.rs` carries it out).

use serde::{Deserialize, Serialize};

use super::JobKind;
use crate::ids::{CompanyId, IntegrationId};
use crate::reconcile::Engine;
use crate::reconcile::job_error::JobError;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SyncCompany {
    /// The instance the company is in (payloads from before there were several: the first).
    #[serde(default = "IntegrationId::first")]
    pub integration: IntegrationId,
    pub company_id: CompanyId,
}

impl JobKind for SyncCompany {
    const KIND: &'static str = "cw.sync_company";

    fn dedupe_key(&self) -> String {
        super::scoped_key("sync", self.integration, self.company_id)
    }

    async fn process(self, engine: &Engine, _attempts: i64) -> Result<(), JobError> {
        engine.sync_company(self.integration, self.company_id).await
    }
}
