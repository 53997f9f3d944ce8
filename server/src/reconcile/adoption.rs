//! Adopting configurations someone else made: which configuration of a company, owned by no
//! Bindery device, is this device? Pure, and computed for a whole company at once, since one
//! configuration wanted by two devices must go to neither without a person.
//!
//! The keys are tried in order (serial, MAC, host name); the first key that finds any
//! configuration decides. Exactly one match, wanted by no other device, is adopted; anything
//! else waits for a person. Placeholder serials never match (the agent and the server drop
//! them, and a configuration holding one is not matched either).

use std::collections::HashMap;

use bindery_shared::normalize::{canonical_mac, is_junk_serial};
use bindery_shared::{DeviceFacts, FactField};
use serde::{Deserialize, Serialize};

use super::observed::Observed;
use crate::ids::ConfigurationId;
pub use crate::integration::AdoptionSettings;

/// How a configuration was matched to a device.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "camelCase")]
pub enum MatchKey {
    Serial,
    Mac,
    Name,
    /// A person chose the configuration.
    Person,
}

impl MatchKey {
    pub fn as_str(self) -> &'static str {
        match self {
            MatchKey::Serial => "serial",
            MatchKey::Mac => "mac",
            MatchKey::Name => "name",
            MatchKey::Person => "person",
        }
    }
}

/// What adoption found for one device.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", tag = "kind")]
pub enum Candidacy {
    /// Nothing to adopt: a new configuration is right.
    #[default]
    Nothing,
    /// Exactly this one, by this key.
    One { config: Observed, key: MatchKey },
    /// Several, or one that another device wants too: a person decides.
    Ambiguous {
        key: MatchKey,
        candidates: Vec<ConfigurationId>,
        /// True when the trouble is another device wanting the same configuration.
        contested: bool,
    },
}

/// A device looking for a configuration to adopt.
#[derive(Clone, Copy, Debug)]
pub struct Seeker<'a> {
    pub facts: &'a DeviceFacts,
    /// Its MAC is another live device's too (a dock, a USB adapter, a cloned VM): it matches
    /// nothing.
    pub mac_shared: bool,
}

impl<'a> Seeker<'a> {
    pub fn new(facts: &'a DeviceFacts) -> Seeker<'a> {
        Seeker {
            facts,
            mac_shared: false,
        }
    }
}

fn text(o: &Observed, field: FactField) -> Option<&str> {
    o.fields
        .iter()
        .find(|(f, _)| *f == field)
        .and_then(|(_, v)| v.as_deref())
        .map(str::trim)
        .filter(|v| !v.is_empty())
}

/// `host.corp.example` and `HOST` are one name: the short name, without case.
fn short_name(name: &str) -> String {
    name.trim()
        .split('.')
        .next()
        .unwrap_or_default()
        .to_lowercase()
}

fn clean_serial(s: &str) -> Option<String> {
    let s = s.trim();
    (!is_junk_serial(s)).then(|| s.to_lowercase())
}

/// The device's value for a key, as compared.
fn device_key(facts: &DeviceFacts, key: MatchKey) -> Option<String> {
    match key {
        MatchKey::Serial => facts.get(FactField::SerialNumber).and_then(clean_serial),
        MatchKey::Mac => facts
            .get(FactField::MacAddress)
            .and_then(|m| canonical_mac(m).ok()),
        MatchKey::Name => facts
            .get(FactField::Name)
            .map(short_name)
            .filter(|n| !n.is_empty()),
        MatchKey::Person => None,
    }
}

/// A configuration's value for a key, as compared.
fn config_key(o: &Observed, key: MatchKey) -> Option<String> {
    match key {
        MatchKey::Serial => text(o, FactField::SerialNumber).and_then(clean_serial),
        MatchKey::Mac => text(o, FactField::MacAddress).and_then(|m| canonical_mac(m).ok()),
        MatchKey::Name => text(o, FactField::Name)
            .map(short_name)
            .filter(|n| !n.is_empty()),
        MatchKey::Person => None,
    }
}

fn keys(settings: &AdoptionSettings) -> Vec<MatchKey> {
    [
        (settings.by_serial, MatchKey::Serial),
        (settings.by_mac, MatchKey::Mac),
        (settings.by_name, MatchKey::Name),
    ]
    .into_iter()
    .filter_map(|(on, k)| on.then_some(k))
    .collect()
}

/// For each seeker, what it may adopt among `unowned` (the company's configurations no Bindery
/// device owns). One pass to index the configurations, one per device: linear in both.
pub fn candidacies(
    seekers: &[Seeker<'_>],
    unowned: &[Observed],
    settings: &AdoptionSettings,
) -> Vec<Candidacy> {
    let keys = keys(settings);
    let mut index: HashMap<(MatchKey, String), Vec<usize>> = HashMap::new();
    for (i, o) in unowned.iter().enumerate() {
        for &k in &keys {
            if let Some(v) = config_key(o, k) {
                index.entry((k, v)).or_default().push(i);
            }
        }
    }
    // Each device's matches on its first key that finds any. A MAC does not match a
    // configuration whose real serial is another than the device's: two real, different
    // serials are two machines, whatever MAC a dock or an adapter gave them.
    let found: Vec<Option<(MatchKey, Vec<usize>)>> = seekers
        .iter()
        .map(|s| {
            keys.iter().find_map(|&k| {
                if k == MatchKey::Mac && s.mac_shared {
                    return None;
                }
                let v = device_key(s.facts, k)?;
                let hits = index.get(&(k, v))?;
                let serial = device_key(s.facts, MatchKey::Serial);
                let hits: Vec<usize> = match (k, serial) {
                    (MatchKey::Mac, Some(serial)) => hits
                        .iter()
                        .copied()
                        .filter(|&i| {
                            config_key(&unowned[i], MatchKey::Serial).is_none_or(|c| c == serial)
                        })
                        .collect(),
                    _ => hits.clone(),
                };
                (!hits.is_empty()).then_some((k, hits))
            })
        })
        .collect();
    let mut wanted_by: HashMap<usize, usize> = HashMap::new();
    for (_, hits) in found.iter().flatten() {
        for &i in hits.iter() {
            *wanted_by.entry(i).or_default() += 1;
        }
    }
    found
        .into_iter()
        .map(|f| match f {
            None => Candidacy::Nothing,
            Some((key, hits)) if hits.len() == 1 && wanted_by.get(&hits[0]) == Some(&1) => {
                Candidacy::One {
                    config: unowned[hits[0]].clone(),
                    key,
                }
            }
            Some((key, hits)) => Candidacy::Ambiguous {
                key,
                candidates: hits.iter().map(|&i| unowned[i].id).collect(),
                contested: hits.len() == 1,
            },
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::CompanyId;

    fn config(id: i64, serial: Option<&str>, mac: Option<&str>, name: Option<&str>) -> Observed {
        Observed {
            id: ConfigurationId(id),
            company_id: CompanyId(2),
            status_id: Some(1),
            fields: vec![
                (FactField::SerialNumber, serial.map(str::to_owned)),
                (FactField::MacAddress, mac.map(str::to_owned)),
                (FactField::Name, name.map(str::to_owned)),
            ],
            extras: Default::default(),
        }
    }

    fn device(serial: Option<&str>, mac: Option<&str>, name: &str) -> DeviceFacts {
        let mut f = DeviceFacts::default();
        f.set(FactField::Name, name);
        if let Some(s) = serial {
            f.set(FactField::SerialNumber, s);
        }
        if let Some(m) = mac {
            f.set(FactField::MacAddress, m);
        }
        f.normalized()
    }

    fn one(c: &Candidacy) -> (i64, MatchKey) {
        match c {
            Candidacy::One { config, key } => (config.id.0, *key),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn each_key_adopts_in_order_and_case_or_format_does_not_matter() {
        let unowned = vec![
            config(1, Some("77ndz12"), None, Some("other")),
            config(2, None, Some("aa-bb-cc-dd-ee-01"), Some("x")),
            config(3, None, None, Some("FRONT-DESK.corp.example")),
            // The serial key wins over a name that also matches another configuration.
            config(4, None, None, Some("pc-serial")),
        ];
        let a = device(Some("77NDZ12"), None, "pc-serial");
        let b = device(None, Some("AA:BB:CC:DD:EE:01"), "b");
        let c = device(None, None, "front-desk");
        let d = device(Some("SN-NONE"), Some("02:00:00:00:00:09"), "nobody");
        let got = candidacies(
            &[
                Seeker::new(&a),
                Seeker::new(&b),
                Seeker::new(&c),
                Seeker::new(&d),
            ],
            &unowned,
            &AdoptionSettings::default(),
        );
        assert_eq!(one(&got[0]), (1, MatchKey::Serial));
        assert_eq!(one(&got[1]), (2, MatchKey::Mac));
        assert_eq!(one(&got[2]), (3, MatchKey::Name));
        assert_eq!(got[3], Candidacy::Nothing);
    }

    #[test]
    fn a_key_switched_off_finds_nothing() {
        let unowned = vec![config(3, None, None, Some("front-desk"))];
        let c = device(None, None, "FRONT-DESK");
        let off = AdoptionSettings {
            by_name: false,
            ..AdoptionSettings::default()
        };
        assert_eq!(
            candidacies(&[Seeker::new(&c)], &unowned, &off),
            vec![Candidacy::Nothing]
        );
    }

    #[test]
    fn two_candidates_or_two_claimants_wait_for_a_person() {
        let unowned = vec![
            config(1, Some("DUP123"), None, None),
            config(2, Some("dup123"), None, None),
            config(3, None, None, Some("shared-name")),
        ];
        let a = device(Some("DUP123"), None, "a");
        let b = device(None, None, "shared-name");
        let c = device(None, None, "SHARED-NAME");
        let got = candidacies(
            &[Seeker::new(&a), Seeker::new(&b), Seeker::new(&c)],
            &unowned,
            &AdoptionSettings::default(),
        );
        assert_eq!(
            got[0],
            Candidacy::Ambiguous {
                key: MatchKey::Serial,
                candidates: vec![ConfigurationId(1), ConfigurationId(2)],
                contested: false
            }
        );
        for g in &got[1..] {
            assert_eq!(
                *g,
                Candidacy::Ambiguous {
                    key: MatchKey::Name,
                    candidates: vec![ConfigurationId(3)],
                    contested: true
                }
            );
        }
    }

    #[test]
    fn placeholder_serials_never_match() {
        let unowned = vec![config(1, Some("0123456789"), None, Some("a"))];
        let mut f = DeviceFacts::default();
        // Even a device that reports the placeholder raw (an old agent) matches nothing by it.
        f.set(FactField::SerialNumber, "0123456789");
        f.set(FactField::Name, "b");
        assert_eq!(
            candidacies(&[Seeker::new(&f)], &unowned, &AdoptionSettings::default()),
            vec![Candidacy::Nothing]
        );
    }
}
