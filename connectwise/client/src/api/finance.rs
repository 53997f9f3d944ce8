//! Agreements, their additions and the configurations they cover, and the product catalog:
//! what billing by device count reads and writes.

use futures_util::TryStreamExt;
use reqwest::Method;

use crate::conditions::{Condition, Op};
use crate::http::{Call, Client};
use crate::model::{Addition, Agreement, CatalogItem, ConfigurationReference, PatchOp};
use crate::{Error, ListQuery};

const AGREEMENT_FIELDS: &str =
    "id,name,type,company,parentAgreement,startDate,endDate,agreementStatus,cancelledFlag";

impl Client {
    /// The company's agreements that are not cancelled, child agreements included, by name.
    pub async fn company_agreements(&self, company_id: i64) -> Result<Vec<Agreement>, Error> {
        let query = ListQuery::filter(
            Condition::int("company/id", Op::Eq, company_id)?
                .and(Condition::boolean("cancelledFlag", false)?),
        )
        .fields(AGREEMENT_FIELDS)
        .order_by("name asc");
        let pages: Vec<Vec<Agreement>> = self
            .pages("finance/agreements".into(), query.pairs(true), false)
            .try_collect()
            .await?;
        Ok(pages.into_iter().flatten().collect())
    }

    pub async fn agreement(&self, id: i64) -> Result<Agreement, Error> {
        let path = format!("finance/agreements/{id}");
        let mut call = Call::get(&path);
        call.query = vec![("fields", AGREEMENT_FIELDS.to_owned())];
        self.get(call).await
    }

    /// Every addition of the agreement (all pages), cancelled ones included.
    pub async fn agreement_additions(&self, agreement_id: i64) -> Result<Vec<Addition>, Error> {
        let query = ListQuery::default();
        let pages: Vec<Vec<Addition>> = self
            .pages(
                format!("finance/agreements/{agreement_id}/additions"),
                query.pairs(true),
                true,
            )
            .try_collect()
            .await?;
        Ok(pages.into_iter().flatten().collect())
    }

    pub async fn add_addition(
        &self,
        agreement_id: i64,
        addition: &Addition,
    ) -> Result<Addition, Error> {
        let path = format!("finance/agreements/{agreement_id}/additions");
        self.send(&Call::with_body(Method::POST, &path, addition)?)
            .await?
            .json()
    }

    /// Sets an addition's quantity in place (nothing else of it changes).
    pub async fn set_addition_quantity(
        &self,
        agreement_id: i64,
        addition_id: i64,
        quantity: f64,
    ) -> Result<Addition, Error> {
        let path = format!("finance/agreements/{agreement_id}/additions/{addition_id}");
        let ops = [PatchOp::replace("quantity", quantity)];
        self.send(&Call::with_body(Method::PATCH, &path, &ops)?)
            .await?
            .json()
    }

    /// The active product with this identifier (`MANAGED-WS`), if there is one.
    pub async fn catalog_item(&self, identifier: &str) -> Result<Option<CatalogItem>, Error> {
        let query = ListQuery::filter(
            Condition::text("identifier", Op::Eq, identifier)?
                .and(Condition::boolean("inactiveFlag", false)?),
        )
        .fields("id,identifier,description,inactiveFlag");
        let mut call = Call::get("procurement/catalog");
        call.query = query.pairs(true);
        let found: Vec<CatalogItem> = self.get(call).await?;
        Ok(found.into_iter().next())
    }

    /// The configurations the agreement covers.
    pub async fn covered_configurations(
        &self,
        agreement_id: i64,
    ) -> Result<Vec<ConfigurationReference>, Error> {
        let path = format!("finance/agreements/{agreement_id}/configurations");
        self.get(Call::get(&path)).await
    }

    pub async fn cover_configuration(
        &self,
        agreement_id: i64,
        configuration_id: i64,
    ) -> Result<(), Error> {
        let path = format!("finance/agreements/{agreement_id}/configurations");
        let body = ConfigurationReference {
            id: Some(configuration_id),
            device_identifier: None,
        };
        self.send(&Call::with_body(Method::POST, &path, &body)?)
            .await
            .map(|_| ())
    }

    pub async fn uncover_configuration(
        &self,
        agreement_id: i64,
        configuration_id: i64,
    ) -> Result<(), Error> {
        let path = format!("finance/agreements/{agreement_id}/configurations/{configuration_id}");
        let mut call = Call::get(&path);
        call.method = Method::DELETE;
        self.send(&call).await.map(|_| ())
    }
}
