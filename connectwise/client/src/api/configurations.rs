use futures_util::{Stream, TryStreamExt};
use reqwest::Method;

use crate::conditions::{Condition, Op};
use crate::http::{Call, Client};
use crate::model::{
    Configuration, ConfigurationStatus, ConfigurationType, ConfigurationTypeQuestion,
    ConfigurationTypeQuestionValue, Count, CustomFieldValue, Manufacturer, PatchOp,
};
use crate::{Error, ListQuery};

impl Client {
    /// Configurations matching `query`, page by page (forward-only paging unless ordered).
    pub fn configuration_pages(
        &self,
        query: &ListQuery,
    ) -> impl Stream<Item = Result<Vec<Configuration>, Error>> + use<> {
        self.pages(
            "company/configurations".into(),
            query.pairs(true),
            query.order_by.is_none(),
        )
    }

    /// Every configuration of a company, only `fields` of each: one paged query for the whole
    /// company, however many devices it has.
    pub async fn company_configurations(
        &self,
        company_id: i64,
        fields: &str,
    ) -> Result<Vec<Configuration>, Error> {
        let query =
            ListQuery::filter(Condition::int("company/id", Op::Eq, company_id)?).fields(fields);
        self.configurations(&query).await
    }

    /// Every configuration matching `query`, all pages read.
    pub async fn configurations(&self, query: &ListQuery) -> Result<Vec<Configuration>, Error> {
        let pages: Vec<Vec<Configuration>> = self.configuration_pages(query).try_collect().await?;
        Ok(pages.into_iter().flatten().collect())
    }

    pub async fn get_configuration(&self, id: i64) -> Result<Configuration, Error> {
        self.get(Call::get(&format!("company/configurations/{id}")))
            .await
    }

    pub async fn count_configurations(&self, query: &ListQuery) -> Result<u64, Error> {
        let mut call = Call::get("company/configurations/count");
        call.query = query.count_pairs();
        Ok(self.get::<Count>(call).await?.count)
    }

    pub async fn create_configuration(
        &self,
        config: &Configuration,
    ) -> Result<Configuration, Error> {
        self.send(&Call::with_body(
            Method::POST,
            "company/configurations",
            config,
        )?)
        .await?
        .json()
    }

    pub async fn patch_configuration(
        &self,
        id: i64,
        ops: &[PatchOp],
    ) -> Result<Configuration, Error> {
        let path = format!("company/configurations/{id}");
        self.send(&Call::with_body(Method::PATCH, &path, &ops)?)
            .await?
            .json()
    }

    pub async fn configuration_types(&self) -> Result<Vec<ConfigurationType>, Error> {
        self.all("company/configurations/types", "name asc").await
    }

    pub async fn configuration_type_questions(
        &self,
        type_id: i64,
    ) -> Result<Vec<ConfigurationTypeQuestion>, Error> {
        self.all(
            &format!("company/configurations/types/{type_id}/questions"),
            "sequenceNumber asc",
        )
        .await
    }

    /// The values a question of `type_id` allows (list and option questions).
    pub async fn configuration_type_question_values(
        &self,
        type_id: i64,
        question_id: i64,
    ) -> Result<Vec<ConfigurationTypeQuestionValue>, Error> {
        self.all(
            &format!("company/configurations/types/{type_id}/questions/{question_id}/values"),
            "id asc",
        )
        .await
    }

    /// The custom fields configurations have, as one configuration lists them (every defined
    /// field, with its value); none when no configuration exists yet.
    pub async fn configuration_custom_fields(&self) -> Result<Vec<CustomFieldValue>, Error> {
        let mut call = Call::get("company/configurations");
        call.query = vec![
            ("pageSize", "1".to_owned()),
            ("fields", "id,customFields".to_owned()),
        ];
        let first: Vec<Configuration> = self.get(call).await?;
        Ok(first
            .into_iter()
            .next()
            .map(|c| c.custom_fields)
            .unwrap_or_default())
    }

    /// ConnectWise's list of manufacturers (configurations refer to one by id).
    pub async fn manufacturers(&self) -> Result<Vec<Manufacturer>, Error> {
        self.all("procurement/manufacturers", "name asc").await
    }

    pub async fn configuration_statuses(&self) -> Result<Vec<ConfigurationStatus>, Error> {
        self.all("company/configurations/statuses", "description asc")
            .await
    }

    /// A whole (small) list, ordered.
    pub(crate) async fn all<T: serde::de::DeserializeOwned + 'static>(
        &self,
        path: &str,
        order: &str,
    ) -> Result<Vec<T>, Error> {
        let query = ListQuery::default().order_by(order);
        let pages: Vec<Vec<T>> = self
            .pages(path.to_owned(), query.pairs(true), false)
            .try_collect()
            .await?;
        Ok(pages.into_iter().flatten().collect())
    }
}
