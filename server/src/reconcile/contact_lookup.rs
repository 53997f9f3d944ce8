//! Finding the user's contact for a ticket: the company's contacts read once (one paged read)
//! and kept ten minutes, the admin's manual mappings (the `contacts.manual` setting), and the
//! matching rule of `contacts`. A failure to read contacts never holds a ticket back: it opens
//! without a contact.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use connectwise_client::Client;
use connectwise_client::model::Contact;
use tokio::sync::Mutex;

use super::contacts::{ContactCandidate, ContactMatch, match_login};
use crate::store::Store;

/// The setting holding the admin's manual mappings: a JSON list of `[login, contactId]`.
pub const MANUAL: &str = "contacts.manual";
const KEEP: Duration = Duration::from_secs(600);

/// Each company's contacts, read at most every ten minutes.
#[derive(Default)]
pub struct ContactCache {
    by_company: Mutex<HashMap<i64, (Vec<ContactCandidate>, Instant)>>,
}

/// What matching needs of ConnectWise's contacts (inactive ones dropped).
pub fn candidates(contacts: Vec<Contact>) -> Vec<ContactCandidate> {
    contacts
        .into_iter()
        .filter(|c| c.inactive_flag != Some(true))
        .map(|c| ContactCandidate {
            id: c.id,
            first_name: c.first_name.unwrap_or_default(),
            last_name: c.last_name.unwrap_or_default(),
            emails: c
                .communication_items
                .into_iter()
                .filter(|i| {
                    i.communication_type
                        .as_deref()
                        .is_some_and(|t| t.eq_ignore_ascii_case("email"))
                })
                .filter_map(|i| i.value)
                .collect(),
            security_identifier: c.security_identifier,
        })
        .collect()
}

/// The admin's manual mappings (none when unset or damaged).
pub async fn manual(store: &Store) -> Vec<(String, i64)> {
    match store.setting(MANUAL).await {
        Ok(Some(json)) => serde_json::from_str(&json).unwrap_or_default(),
        _ => Vec::new(),
    }
}

impl ContactCache {
    async fn company(
        &self,
        client: &Client,
        company: i64,
    ) -> Result<Vec<ContactCandidate>, connectwise_client::Error> {
        let mut cached = self.by_company.lock().await;
        if let Some((list, at)) = cached.get(&company)
            && at.elapsed() < KEEP
        {
            return Ok(list.clone());
        }
        let list = candidates(client.company_contacts(company).await?);
        if cached.len() > 1000 {
            cached.clear();
        }
        cached.insert(company, (list.clone(), Instant::now()));
        Ok(list)
    }

    /// The contact `login` is in `company`, if exactly one fits.
    pub async fn contact_for(
        &self,
        store: &Store,
        client: &Client,
        company: i64,
        login: &str,
    ) -> Option<i64> {
        let contacts = match self.company(client, company).await {
            Ok(c) => c,
            Err(e) => {
                tracing::warn!(company, error = %e, "cannot read the company's contacts; the ticket opens without one");
                return None;
            }
        };
        match match_login(login, &contacts, &manual(store).await) {
            ContactMatch::One(id) => Some(id),
            ContactMatch::Ambiguous(ids) => {
                tracing::info!(company, candidates = ?ids, "several contacts fit the user; none is set");
                None
            }
            ContactMatch::None => None,
        }
    }
}
