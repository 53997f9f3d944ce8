//! Finding the user's contact for a ticket or a configuration: the company's contacts read once
//! (one paged read) and kept ten minutes (longer where only a check is due, see `extras`), the admin's manual mappings (the `contacts.manual` setting), and the
//! matching rule of `contacts`. A failure to read contacts never holds a ticket back: it opens
//! without a contact.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use connectwise_client::Client;
use connectwise_client::model::Contact;
use tokio::sync::Mutex;

use super::contacts::{ContactCandidate, ContactMatch, match_login};
use crate::ids::IntegrationId;
use crate::store::Store;

pub use crate::integration::CONTACT_MAPPINGS as MANUAL;
/// How long a company's contacts are trusted when a new user is being matched.
pub const KEEP: Duration = Duration::from_secs(600);

/// Each company's contacts, read at most every ten minutes.
#[derive(Default)]
pub struct ContactCache {
    by_company: Mutex<HashMap<i64, Held>>,
}

/// A company's contacts as read, when, and whether the read failed (then the list is empty).
type Held = (Vec<ContactCandidate>, Instant, bool);

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

/// The admin's manual mappings in an instance (none when unset or damaged).
pub async fn manual(store: &Store, integration: IntegrationId) -> Vec<(String, i64)> {
    match store
        .setting(&crate::integration::setting_name(integration, MANUAL))
        .await
    {
        Ok(Some(json)) => serde_json::from_str(&json).unwrap_or_default(),
        _ => Vec::new(),
    }
}

impl ContactCache {
    /// The company's contacts, read again when the copy held is older than `max_age`. A read
    /// that fails is remembered as "none" for ten minutes, so a missing permission costs one
    /// request (and one warning) per company per ten minutes, not one per device.
    pub async fn company_within(
        &self,
        client: &Client,
        company: i64,
        max_age: Duration,
    ) -> Vec<ContactCandidate> {
        if let Some((list, at, failed)) = self.by_company.lock().await.get(&company)
            && at.elapsed() < if *failed { KEEP } else { max_age }
        {
            return list.clone();
        }
        // Read without holding the lock: other companies' syncs need not wait for this one.
        let (list, failed) = match client.company_contacts(company).await {
            Ok(contacts) => (candidates(contacts), false),
            Err(e) => {
                tracing::warn!(company, error = %e, "cannot read the company's contacts; tickets and configurations get none for now");
                (Vec::new(), true)
            }
        };
        let mut cached = self.by_company.lock().await;
        if cached.len() > 1000 {
            cached.clear();
        }
        cached.insert(company, (list.clone(), Instant::now(), failed));
        list
    }

    /// The contact `login` is in `company`, if exactly one fits.
    pub async fn contact_for(
        &self,
        store: &Store,
        client: &Client,
        (integration, company): (IntegrationId, i64),
        login: &str,
    ) -> Option<i64> {
        let contacts = self.company_within(client, company, KEEP).await;
        match match_login(login, &contacts, &manual(store, integration).await) {
            ContactMatch::One(id) => Some(id),
            ContactMatch::Ambiguous(ids) => {
                tracing::info!(company, candidates = ?ids, "several contacts fit the user; none is set");
                None
            }
            ContactMatch::None => None,
        }
    }
}
