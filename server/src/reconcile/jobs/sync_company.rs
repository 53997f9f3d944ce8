//! `cw.sync_company`: read every configuration of a company in one paged query, and queue the
//! writes it needs (`binding.rs` carries it out).

use serde::{Deserialize, Serialize};

use super::JobKind;
use crate::ids::CompanyId;
use crate::reconcile::Engine;
use crate::reconcile::job_error::JobError;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SyncCompany {
    pub company_id: CompanyId,
}

impl JobKind for SyncCompany {
    const KIND: &'static str = "cw.sync_company";

    fn dedupe_key(&self) -> String {
        format!("sync:{}", self.company_id)
    }

    async fn process(self, engine: &Engine, _attempts: i64) -> Result<(), JobError> {
        engine.sync_company(self.company_id).await
    }
}
