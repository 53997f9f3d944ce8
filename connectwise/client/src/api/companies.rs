use futures_util::TryStreamExt;

use crate::conditions::{Condition, Op, is_safe_text};
use crate::http::{Call, Client};
use crate::model::{Company, CompanySite, Contact};
use crate::{Error, ListQuery};

const COMPANY_FIELDS: &str = "id,identifier,name,status,types,deletedFlag";

impl Client {
    /// The active contacts of a company: one paged read (1,000 a page), as matching needs them.
    pub async fn company_contacts(&self, company_id: i64) -> Result<Vec<Contact>, Error> {
        let query = ListQuery::filter(
            Condition::int("company/id", Op::Eq, company_id)?
                .and(Condition::boolean("inactiveFlag", false)?),
        )
        .fields("id,firstName,lastName,inactiveFlag,securityIdentifier,communicationItems");
        let pages: Vec<Vec<Contact>> = self
            .pages("company/contacts".into(), query.pairs(true), true)
            .try_collect()
            .await?;
        Ok(pages.into_iter().flatten().collect())
    }

    /// Companies whose name contains `text` or whose identifier is `text`, by name, at most
    /// `limit`. Characters that cannot be placed in a condition are searched around: the longest
    /// safe run of the text is sent and the results are matched against the whole text here.
    pub async fn search_companies(&self, text: &str, limit: u32) -> Result<Vec<Company>, Error> {
        let text = text.trim();
        let probe = longest_safe_run(text);
        if probe.is_empty() {
            return Ok(Vec::new());
        }
        let mut cond = Condition::text("name", Op::Contains, probe)?;
        if probe == text {
            cond = cond.or(Condition::text("identifier", Op::Eq, text)?);
        }
        let query = ListQuery::filter(cond)
            .fields(COMPANY_FIELDS)
            .order_by("name asc")
            .page_size(limit.clamp(1, 1000));
        let mut call = Call::get("company/companies");
        call.query = query.pairs(true);
        let found: Vec<Company> = self.get(call).await?;
        let needle = text.to_lowercase();
        Ok(found
            .into_iter()
            .filter(|c| {
                c.name.to_lowercase().contains(&needle) || c.identifier.eq_ignore_ascii_case(text)
            })
            .collect())
    }

    /// The company's active sites (all pages), by name.
    pub async fn company_sites(&self, company_id: i64) -> Result<Vec<CompanySite>, Error> {
        let query = ListQuery::filter(Condition::boolean("inactiveFlag", false)?)
            .fields("id,name,city,primaryAddressFlag,inactiveFlag")
            .order_by("name asc");
        let pages: Vec<Vec<CompanySite>> = self
            .pages(
                format!("company/companies/{company_id}/sites"),
                query.pairs(true),
                false,
            )
            .try_collect()
            .await?;
        Ok(pages.into_iter().flatten().collect())
    }

    pub async fn get_company(&self, id: i64) -> Result<Company, Error> {
        let path = format!("company/companies/{id}");
        let mut call = Call::get(&path);
        call.query = vec![("fields", COMPANY_FIELDS.to_owned())];
        self.get(call).await
    }

    /// Every company not marked deleted, with its id, identifier and name (all pages): what
    /// matching policies to companies by name needs.
    pub async fn all_companies(&self) -> Result<Vec<Company>, Error> {
        let query = ListQuery::default().fields("id,identifier,name,deletedFlag");
        Ok(self
            .list_companies(&query)
            .await?
            .into_iter()
            .filter(|c| c.deleted_flag != Some(true))
            .collect())
    }

    /// Every company matching `query` (all pages).
    pub async fn list_companies(&self, query: &ListQuery) -> Result<Vec<Company>, Error> {
        let pages = self.pages::<Company>(
            "company/companies".into(),
            query.pairs(true),
            query.order_by.is_none(),
        );
        let pages: Vec<Vec<Company>> = pages.try_collect().await?;
        Ok(pages.into_iter().flatten().collect())
    }
}

fn longest_safe_run(text: &str) -> &str {
    let mut best = "";
    for run in text.split(|c: char| !is_safe_text(c.encode_utf8(&mut [0; 4]))) {
        if run.trim().chars().count() > best.chars().count() {
            best = run.trim();
        }
    }
    best
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_longest_safe_run_is_searched() {
        assert_eq!(super::longest_safe_run("O'Brien IT"), "Brien IT");
        assert_eq!(super::longest_safe_run("Acme"), "Acme");
        assert_eq!(super::longest_safe_run("\"\"*"), "");
    }
}
