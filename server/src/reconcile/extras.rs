//! What Bindery wants in the configuration fields that are not facts (`plan::Extras`): the
//! `managementLink` to the device's console page (from `public_url`), and the `contact` of the
//! person who uses the machine (matched by `contacts`).
//!
//! A contact is chosen when the configuration has none yet, when the device's user changed (the
//! configuration's `lastLoginName` is not the device's), or when the device has no
//! configuration yet. Otherwise Bindery has no opinion, so a contact a person set by hand stays.
//! Matching a new user reads the company's contacts at most every ten minutes; a configuration
//! that only lacks one (nobody matched last time) is checked with a copy up to a day old, so a
//! periodic re-sync of an unchanged company costs no contact read.

use std::time::Duration;

use bindery_shared::FactField;
use connectwise_client::Client;

use super::contact_lookup::{self, ContactCache, KEEP};
use super::contacts::{ContactMatch, match_login};
use super::manufacturers::ManufacturerCache;
use super::observed::MappedValue;
use super::plan::{Extras, Observed};
use crate::ids::{CompanyId, DeviceId, IntegrationId};
use crate::integration::{FieldMap, MapTarget};
use crate::store::{DeviceTarget, Store};

/// How old a copy of the contacts may be for a configuration that only lacks a contact.
const RECHECK: Duration = Duration::from_secs(24 * 3600);

/// Where the wanted extras come from. Without a contact cache no contact is wanted; without a
/// manufacturer list no manufacturer.
#[derive(Clone, Copy)]
pub struct ExtrasSource<'a> {
    pub public_url: Option<&'a str>,
    /// The instance whose contacts (and manual mappings) these are.
    pub integration: IntegrationId,
    pub contacts: Option<&'a ContactCache>,
    /// The instance's field map, and its manufacturer list.
    pub field_map: &'a FieldMap,
    pub manufacturers: Option<&'a ManufacturerCache>,
}

/// The device's page in the console, as `managementLink` carries it.
pub fn console_link(public_url: &str, device: DeviceId) -> String {
    format!(
        "{}/console/devices/{device}",
        public_url.trim_end_matches('/')
    )
}

/// Why a device needs its contact chosen now, if it does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum ContactNeed {
    /// The configuration has a contact for the current user: leave it.
    None,
    /// The configuration has no contact: check again with a copy up to a day old.
    Missing,
    /// A new user, or no configuration yet: match with a fresh copy.
    NewUser,
}

/// `t`'s own configurations in `company`: those carrying its agent id (several only where a
/// person made copies by hand).
fn own_configs<'a>(
    t: &'a DeviceTarget,
    company: CompanyId,
    configs: &'a [Observed],
) -> impl Iterator<Item = &'a Observed> + 'a {
    configs.iter().filter(move |o| {
        o.company_id == company
            && o.fields.iter().any(|(f, v)| {
                *f == FactField::DeviceIdentifier
                    && v.as_deref()
                        .is_some_and(|v| v.eq_ignore_ascii_case(&t.agent_id))
            })
    })
}

/// What `t`, to be bound in `company`, needs, given the company's configurations.
pub fn contact_need(t: &DeviceTarget, company: CompanyId, configs: &[Observed]) -> ContactNeed {
    let Some(login) = t
        .facts
        .get(FactField::LastLoginName)
        .filter(|l| !l.trim().is_empty())
    else {
        return ContactNeed::None;
    };
    if t.company_id != Some(company) {
        return ContactNeed::None;
    }
    own_configs(t, company, configs)
        .map(|o| {
            let held_login = o
                .fields
                .iter()
                .find(|(f, _)| *f == FactField::LastLoginName)
                .and_then(|(_, v)| v.as_deref());
            if held_login != Some(login) {
                ContactNeed::NewUser
            } else if o.extras.contact_id.is_none() {
                ContactNeed::Missing
            } else {
                ContactNeed::None
            }
        })
        .min()
        .unwrap_or(ContactNeed::NewUser)
}

impl super::runner::Engine {
    /// The engine's source in one instance: its public URL, the instance's contact cache and
    /// manufacturer list, and its field map.
    pub(super) fn extras_source<'a>(
        &'a self,
        instance: &'a super::runner::Instance,
        field_map: &'a FieldMap,
    ) -> ExtrasSource<'a> {
        ExtrasSource {
            public_url: self.config.public_url.as_deref(),
            integration: instance.id,
            contacts: Some(&instance.contacts),
            field_map,
            manufacturers: Some(&instance.manufacturers),
        }
    }

    /// What `target` wants beside its facts, given its configurations.
    pub(super) async fn wanted_extras(
        &self,
        instance: &super::runner::Instance,
        field_map: &FieldMap,
        target: &DeviceTarget,
        observed: &[Observed],
    ) -> Extras {
        match target.company_id {
            Some(company) => self
                .extras_source(instance, field_map)
                .wanted(
                    &self.store,
                    &instance.client,
                    company,
                    std::slice::from_ref(target),
                    observed,
                )
                .await
                .pop()
                .unwrap_or_default(),
            None => Extras::default(),
        }
    }
}

impl ExtrasSource<'_> {
    /// The extras each of `targets` wants in `company`, in order. Reads the company's contacts
    /// only when some device needs its contact chosen (see the module's notes).
    pub async fn wanted(
        &self,
        store: &Store,
        client: &Client,
        company: CompanyId,
        targets: &[DeviceTarget],
        configs: &[Observed],
    ) -> Vec<Extras> {
        let needs: Vec<ContactNeed> = targets
            .iter()
            .map(|t| contact_need(t, company, configs))
            .collect();
        let most = needs.iter().copied().max().unwrap_or(ContactNeed::None);
        let (contacts, manual) = match (self.contacts, most) {
            (None, _) | (_, ContactNeed::None) => (Vec::new(), Vec::new()),
            (Some(cache), need) => {
                let age = if need == ContactNeed::NewUser {
                    KEEP
                } else {
                    RECHECK
                };
                (
                    cache.company_within(client, company.0, age).await,
                    contact_lookup::manual(store, self.integration).await,
                )
            }
        };
        let mut out = Vec::with_capacity(targets.len());
        for (t, need) in targets.iter().zip(needs) {
            // Only in the company its policy links to: a device leaving keeps its site and
            // its mapped fields as they are.
            let here = t.company_id == Some(company);
            out.push(Extras {
                management_link: self.public_url.map(|u| console_link(u, t.device_id)),
                site_id: t.site_id.filter(|_| here),
                contact_id: match (need, t.facts.get(FactField::LastLoginName)) {
                    (ContactNeed::None, _) | (_, None) => None,
                    (_, Some(login)) => match match_login(login, &contacts, &manual) {
                        ContactMatch::One(id) => Some(id),
                        _ => None,
                    },
                },
                mapped: if here {
                    self.mapped(client, t, own_configs(t, company, configs).next())
                        .await
                } else {
                    Vec::new()
                },
                custom_fields: Vec::new(),
                written_in: t.written.configuration_id,
            });
        }
        out
    }

    /// The field map's values for `t`: each rule whose facts it reports (a manufacturer only
    /// when ConnectWise's list has one of that name), with what Bindery last wrote there. A
    /// manufacturer its configuration already names is taken from there: an unchanged fleet
    /// reads no manufacturer list.
    async fn mapped(
        &self,
        client: &Client,
        t: &DeviceTarget,
        held: Option<&Observed>,
    ) -> Vec<MappedValue> {
        let mut out = Vec::new();
        for rule in &self.field_map.rules {
            let Some(mut value) = rule.render(&t.facts) else {
                continue;
            };
            let mut reference_id = None;
            if rule.target == MapTarget::Manufacturer {
                let named = held.and_then(|o| {
                    o.extras.mapped.iter().find(|m| {
                        m.key.target == MapTarget::Manufacturer
                            && m.value.trim().eq_ignore_ascii_case(value.trim())
                    })
                });
                let found = match (named, self.manufacturers) {
                    (Some(m), _) => m.reference_id.map(|id| (id, m.value.clone())),
                    (None, Some(cache)) => cache.find(client, &value).await,
                    (None, None) => None,
                };
                let Some((id, name)) = found else {
                    continue;
                };
                (reference_id, value) = (Some(id), name);
            }
            let key = rule.key();
            out.push(MappedValue {
                key,
                value,
                reference_id,
                owned: rule.owned,
                written: t.written.fields.get(&key.to_string()).cloned(),
            });
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::{ConfigurationId, DeviceId};
    use crate::store::PersonChoice;

    fn target(login: Option<&str>) -> DeviceTarget {
        let mut facts = bindery_shared::DeviceFacts::default();
        if let Some(l) = login {
            facts.set(FactField::LastLoginName, l);
        }
        DeviceTarget {
            device_id: DeviceId(4),
            agent_id: "Agent-1".into(),
            facts,
            policy_id: None,
            integration_id: Some(crate::ids::IntegrationId::FIRST),
            company_id: Some(CompanyId(2)),
            site_id: None,
            binding: None,
            choice: PersonChoice::Auto,
            reinstall_of: None,
            retired: false,
            mac_shared: false,
            facts_unreadable: false,
            written: Default::default(),
        }
    }

    fn config(login: &str, contact: Option<i64>) -> Observed {
        Observed {
            id: ConfigurationId(9),
            company_id: CompanyId(2),
            status_id: Some(1),
            fields: vec![
                (FactField::DeviceIdentifier, Some("agent-1".into())),
                (FactField::LastLoginName, Some(login.into())),
            ],
            extras: Extras {
                management_link: None,
                contact_id: contact,
                site_id: None,
                ..Extras::default()
            },
        }
    }

    #[test]
    fn a_contact_is_chosen_for_a_new_user_or_a_missing_one_only() {
        let t = target(Some("ana"));
        let c = CompanyId(2);
        assert_eq!(contact_need(&t, c, &[]), ContactNeed::NewUser);
        assert_eq!(
            contact_need(&t, c, &[config("bea", Some(1))]),
            ContactNeed::NewUser
        );
        assert_eq!(
            contact_need(&t, c, &[config("ana", None)]),
            ContactNeed::Missing
        );
        assert_eq!(
            contact_need(&t, c, &[config("ana", Some(1))]),
            ContactNeed::None
        );
        // No user, or another company's device: nothing to choose.
        assert_eq!(contact_need(&target(None), c, &[]), ContactNeed::None);
        assert_eq!(contact_need(&target(Some(" ")), c, &[]), ContactNeed::None);
        assert_eq!(contact_need(&t, CompanyId(3), &[]), ContactNeed::None);
    }

    #[test]
    fn the_link_names_the_device_page_under_the_public_url() {
        assert_eq!(
            console_link("https://b.example/", DeviceId(12)),
            "https://b.example/console/devices/12"
        );
        assert_eq!(
            console_link("https://b.example/bindery", DeviceId(3)),
            "https://b.example/bindery/console/devices/3"
        );
    }
}
