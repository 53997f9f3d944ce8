//! The operations Bindery needs, grouped as the API groups them.

mod callbacks;
mod companies;
mod configurations;
mod finance;
mod routing;
pub(crate) mod service;
mod system;

pub use routing::BoardLookup;
pub use service::TICKETS_PER_SEARCH;

use crate::conditions::Condition;

/// Filters and shape for a list call.
#[derive(Clone, Debug, Default)]
pub struct ListQuery {
    pub conditions: Option<Condition>,
    /// `fields=id,name,status/id`: only these fields come back.
    pub fields: Option<String>,
    /// `name asc`; forward-only paging is used only when this is unset.
    pub order_by: Option<String>,
    /// Items per page, at most 1,000 (the default here is the maximum).
    pub page_size: Option<u32>,
}

impl ListQuery {
    pub fn filter(conditions: Condition) -> ListQuery {
        ListQuery {
            conditions: Some(conditions),
            ..ListQuery::default()
        }
    }

    pub fn fields(mut self, fields: &str) -> ListQuery {
        self.fields = Some(fields.to_owned());
        self
    }

    pub fn order_by(mut self, order: &str) -> ListQuery {
        self.order_by = Some(order.to_owned());
        self
    }

    pub fn page_size(mut self, size: u32) -> ListQuery {
        self.page_size = Some(size);
        self
    }

    pub(crate) fn pairs(&self, first_page: bool) -> Vec<(&'static str, String)> {
        let mut q = Vec::new();
        if let Some(c) = &self.conditions {
            q.push(("conditions", c.as_str().to_owned()));
        }
        if let Some(f) = &self.fields {
            q.push(("fields", f.clone()));
        }
        if let Some(o) = &self.order_by {
            q.push(("orderBy", o.clone()));
        }
        q.push((
            "pageSize",
            self.page_size.unwrap_or(1000).clamp(1, 1000).to_string(),
        ));
        if first_page && self.order_by.is_none() {
            q.push(("pageId", "0".to_owned()));
        }
        q
    }

    pub(crate) fn count_pairs(&self) -> Vec<(&'static str, String)> {
        self.conditions
            .iter()
            .map(|c| ("conditions", c.as_str().to_owned()))
            .collect()
    }
}
