//! The binding decision for one device, pure: given what Bindery wants (the device's facts, the
//! company its policy is linked to, the settings, a person's choice) and what ConnectWise holds
//! (the device's configurations, found by deviceIdentifier, and what it could adopt), what single
//! write brings ConnectWise in line?
//!
//! The job runner carries the write out and records the result; it decides nothing. A retry, a
//! restart and a periodic re-sync all come back here, so they cannot disagree.

pub use crate::store::PersonChoice;
use bindery_shared::{DeviceFacts, FactField};

use crate::integration::Choices;

use super::adoption::{AdoptionSettings, Candidacy, MatchKey};

/// The choices an admin made in the ConnectWise settings that binding needs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BindingSettings {
    pub active_status_id: i64,
    pub inactive_status_id: i64,
    pub default_type_id: i64,
    /// Tried in order; the first that matches chooses the type of a new configuration.
    pub type_rules: Vec<TypeRule>,
    /// Which configurations made by others a device may adopt.
    pub adoption: AdoptionSettings,
}

impl BindingSettings {
    /// What the planner needs of the admin's ConnectWise choices.
    pub fn from_choices(choices: &Choices) -> BindingSettings {
        BindingSettings {
            active_status_id: choices.active_status_id,
            inactive_status_id: choices.inactive_status_id,
            default_type_id: choices.default_type_id,
            type_rules: choices
                .type_rules
                .iter()
                .map(|r| TypeRule {
                    field: r.field,
                    pattern: r.pattern.clone(),
                    type_id: r.type_id,
                })
                .collect(),
            adoption: choices.adoption,
        }
    }

    /// The type a new configuration of these facts gets.
    pub fn type_for(&self, facts: &DeviceFacts) -> i64 {
        self.type_rules
            .iter()
            .find(|r| r.matches(facts))
            .map(|r| r.type_id)
            .unwrap_or(self.default_type_id)
    }
}

/// "When `field` of the device matches `pattern`, use configuration type `type_id`."
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TypeRule {
    pub field: FactField,
    /// Case-insensitive; `*` matches any run of characters (`Windows Server*`, `*-srv-*`).
    pub pattern: String,
    pub type_id: i64,
}

impl TypeRule {
    pub fn matches(&self, facts: &DeviceFacts) -> bool {
        facts
            .get(self.field)
            .is_some_and(|v| glob(&v.to_lowercase(), &self.pattern.to_lowercase()))
    }
}

/// A configuration as ConnectWise holds it (the fields binding reads). Serialisable, so a sync's
/// read can travel inside the write job it plans.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Observed {
    pub id: i64,
    pub company_id: i64,
    pub status_id: Option<i64>,
    /// The owned fields' current values, by field.
    pub fields: Vec<(FactField, Option<String>)>,
}

impl Observed {
    fn value(&self, field: FactField) -> Option<&str> {
        self.fields
            .iter()
            .find(|(f, _)| *f == field)
            .and_then(|(_, v)| v.as_deref())
    }
}

/// What Bindery wants for one device.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Desired<'a> {
    pub agent_id: &'a str,
    pub facts: &'a DeviceFacts,
    /// The company of the device's linked policy; `None` when the device should be bound
    /// nowhere (no policy, an unlinked policy, retired).
    pub company_id: Option<i64>,
    /// What a person decided for this device, if anything.
    pub choice: PersonChoice,
    /// Why the device may not be bound until a person acts (a possible reinstall of another).
    pub hold: Option<&'a str>,
}

/// The one write to make next (after it, planning again gives the next one, if any).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    /// Nothing to write: ConnectWise already says what Bindery wants.
    InLine,
    /// No configuration of this device exists in the company: create one.
    Create {
        company_id: i64,
        type_id: i64,
        fields: Vec<(FactField, String)>,
    },
    /// The configuration exists: set these owned fields (and the active status if it was not).
    Update {
        configuration_id: i64,
        fields: Vec<(FactField, String)>,
        activate: bool,
    },
    /// A configuration that should no longer be active: set the inactive status.
    Deactivate { configuration_id: i64 },
    /// A configuration someone else made is this device: write its identifier and the owned
    /// fields, re-activate it, and set the type only when the admin asked for that.
    Adopt {
        configuration_id: i64,
        key: MatchKey,
        fields: Vec<(FactField, String)>,
        /// What the configuration held before, for each field written (the activity log).
        before: Vec<(FactField, Option<String>)>,
        activate: bool,
        type_id: Option<i64>,
    },
    /// Not a write: the device waits for a person (ambiguous candidates, or a possible
    /// reinstall of another device).
    NeedsPerson {
        candidates: Vec<i64>,
        reason: String,
    },
}

impl Action {
    /// True for the actions that write to ConnectWise.
    pub fn writes(&self) -> bool {
        !matches!(self, Action::InLine | Action::NeedsPerson { .. })
    }
}

/// The owned fields and the device's value for each; the agent id is the device identifier.
fn owned_values(d: &Desired<'_>) -> Vec<(FactField, String)> {
    FactField::ALL
        .into_iter()
        .filter_map(|f| {
            let value = if f == FactField::DeviceIdentifier {
                Some(d.agent_id)
            } else {
                d.facts.get(f)
            };
            value.map(|v| (f, v.to_owned()))
        })
        .collect()
}

/// Decides the next write for a device. `observed` holds every configuration ConnectWise has
/// with this device's identifier, in the companies Bindery looked in; `candidacy` what the
/// device could adopt in its company (see `adoption`).
pub fn plan(
    desired: &Desired<'_>,
    observed: &[Observed],
    candidacy: &Candidacy,
    settings: &BindingSettings,
) -> Action {
    // A configuration a person pointed the device at replaces any other of its own there.
    let pinned = match desired.choice {
        PersonChoice::Adopt(id) => Some(id),
        _ => None,
    };
    // First take the device out of companies it should no longer be in (a moved device is
    // deactivated in the old company before it is bound in the new one), and out of its own
    // configurations a person re-pointed it away from.
    if let Some(stale) = observed
        .iter()
        .filter(|o| Some(o.company_id) != desired.company_id || pinned.is_some_and(|p| p != o.id))
        .find(|o| o.status_id != Some(settings.inactive_status_id))
    {
        return Action::Deactivate {
            configuration_id: stale.id,
        };
    }
    let Some(company_id) = desired.company_id else {
        return Action::InLine;
    };
    if let Some(reason) = desired.hold {
        return Action::NeedsPerson {
            candidates: Vec::new(),
            reason: reason.to_owned(),
        };
    }
    let wanted = owned_values(desired);
    let current = match pinned {
        Some(p) => observed
            .iter()
            .find(|o| o.id == p && o.company_id == company_id),
        None => chosen(observed, company_id, settings),
    };
    if let Some(current) = current {
        // Only fields we have a value for, and only where it differs: a fact the agent could
        // not read never blanks a good value.
        let fields: Vec<(FactField, String)> = wanted
            .into_iter()
            .filter(|(f, v)| current.value(*f) != Some(v.as_str()))
            .collect();
        let activate = current.status_id != Some(settings.active_status_id);
        return if fields.is_empty() && !activate {
            Action::InLine
        } else {
            Action::Update {
                configuration_id: current.id,
                fields,
                activate,
            }
        };
    }
    let create = || Action::Create {
        company_id,
        type_id: settings.type_for(desired.facts),
        fields: owned_values(desired),
    };
    match (desired.choice, candidacy) {
        (PersonChoice::CreateNew, _) => create(),
        (PersonChoice::Adopt(id), Candidacy::One { config, .. }) if config.id == id => {
            adopt(desired, config, MatchKey::Person, settings)
        }
        (PersonChoice::Adopt(id), _) => Action::NeedsPerson {
            candidates: vec![id],
            reason: format!(
                "configuration {id} was chosen for this device, but it is not in company \
                 {company_id} or another device owns it: choose again"
            ),
        },
        (PersonChoice::Auto, Candidacy::Nothing) => create(),
        (PersonChoice::Auto, Candidacy::One { config, key }) => {
            adopt(desired, config, *key, settings)
        }
        (
            PersonChoice::Auto,
            Candidacy::Ambiguous {
                key,
                candidates,
                contested,
            },
        ) => Action::NeedsPerson {
            candidates: candidates.clone(),
            reason: if *contested {
                format!(
                    "configuration {} matches this device by {} and so does another device: \
                     choose which device it is, or create a new one",
                    candidates.first().copied().unwrap_or_default(),
                    key.as_str()
                )
            } else {
                format!(
                    "{} configurations match this device by {}: adopt one, or create a new one",
                    candidates.len(),
                    key.as_str()
                )
            },
        },
    }
}

/// Taking over `config`: every owned field that differs, the identifier first among them.
fn adopt(
    desired: &Desired<'_>,
    config: &Observed,
    key: MatchKey,
    settings: &BindingSettings,
) -> Action {
    let fields: Vec<(FactField, String)> = owned_values(desired)
        .into_iter()
        .filter(|(f, v)| config.value(*f) != Some(v.as_str()))
        .collect();
    let before = fields
        .iter()
        .map(|(f, _)| (*f, config.value(*f).map(str::to_owned)))
        .collect();
    Action::Adopt {
        configuration_id: config.id,
        key,
        fields,
        before,
        activate: config.status_id != Some(settings.active_status_id),
        type_id: settings
            .adoption
            .apply_type_rules
            .then(|| settings.type_for(desired.facts)),
    }
}

/// The configuration a device is bound to in `company_id`. Several of one device in a company
/// (made by hand): the active one, else the oldest; the others are left alone.
pub fn chosen<'a>(
    observed: &'a [Observed],
    company_id: i64,
    settings: &BindingSettings,
) -> Option<&'a Observed> {
    observed
        .iter()
        .filter(|o| o.company_id == company_id)
        .min_by_key(|o| (o.status_id != Some(settings.active_status_id), o.id))
}

/// Case-insensitive-by-caller wildcard match; `*` is any run of characters.
fn glob(text: &str, pattern: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return text == pattern;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !text.starts_with(first) || text.len() < first.len() + last.len() || !text.ends_with(last) {
        return false;
    }
    let mut rest = &text[first.len()..text.len() - last.len()];
    for part in &parts[1..parts.len() - 1] {
        match rest.find(part) {
            Some(at) => rest = &rest[at + part.len()..],
            None => return false,
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    const ACTIVE: i64 = 1;
    const INACTIVE: i64 = 2;

    fn settings() -> BindingSettings {
        BindingSettings {
            active_status_id: ACTIVE,
            inactive_status_id: INACTIVE,
            default_type_id: 10,
            type_rules: vec![
                TypeRule {
                    field: FactField::OsInfo,
                    pattern: "Windows Server*".into(),
                    type_id: 20,
                },
                TypeRule {
                    field: FactField::Name,
                    pattern: "*-fw-*".into(),
                    type_id: 30,
                },
            ],
            adoption: AdoptionSettings::default(),
        }
    }

    fn facts(name: &str, os_info: &str) -> DeviceFacts {
        let mut f = DeviceFacts::default();
        f.set(FactField::Name, name);
        f.set(FactField::OsInfo, os_info);
        f.set(FactField::Ram, "16.0 GB");
        f.set_absent(FactField::SerialNumber, "needs root");
        f
    }

    fn observed(id: i64, company: i64, status: i64, name: &str, os: &str, ram: &str) -> Observed {
        Observed {
            id,
            company_id: company,
            status_id: Some(status),
            fields: vec![
                (FactField::DeviceIdentifier, Some("agent-1".into())),
                (FactField::Name, Some(name.into())),
                (FactField::OsInfo, Some(os.into())),
                (FactField::Ram, Some(ram.into())),
                (FactField::SerialNumber, Some("77NDZ12".into())),
            ],
        }
    }

    #[test]
    fn a_new_device_is_created_with_the_type_its_first_matching_rule_names() {
        let f = facts("web-01", "Windows Server 2022 Standard 21H2 (20348)");
        let d = Desired {
            agent_id: "agent-1",
            facts: &f,
            company_id: Some(5),
            choice: PersonChoice::Auto,
            hold: None,
        };
        let Action::Create {
            company_id,
            type_id,
            fields,
        } = plan(&d, &[], &Candidacy::Nothing, &settings())
        else {
            panic!()
        };
        assert_eq!((company_id, type_id), (5, 20));
        assert!(fields.contains(&(FactField::DeviceIdentifier, "agent-1".into())));
        assert!(
            !fields.iter().any(|(f, _)| *f == FactField::SerialNumber),
            "an absent fact is not sent"
        );
        let f = facts("branch-fw-02", "Linux");
        assert!(matches!(
            plan(
                &Desired {
                    facts: &f,
                    ..d.clone()
                },
                &[],
                &Candidacy::Nothing,
                &settings()
            ),
            Action::Create { type_id: 30, .. }
        ));
        let f = facts("laptop", "macOS 14.5 (23F79)");
        assert!(matches!(
            plan(
                &Desired { facts: &f, ..d },
                &[],
                &Candidacy::Nothing,
                &settings()
            ),
            Action::Create { type_id: 10, .. }
        ));
    }

    #[test]
    fn an_up_to_date_configuration_needs_no_write() {
        let f = facts("web-01", "Debian GNU/Linux 12 (bookworm)");
        let d = Desired {
            agent_id: "agent-1",
            facts: &f,
            company_id: Some(5),
            choice: PersonChoice::Auto,
            hold: None,
        };
        let o = observed(
            7,
            5,
            ACTIVE,
            "web-01",
            "Debian GNU/Linux 12 (bookworm)",
            "16.0 GB",
        );
        assert_eq!(
            plan(&d, &[o], &Candidacy::Nothing, &settings()),
            Action::InLine
        );
    }

    #[test]
    fn only_changed_fields_are_written_and_absent_facts_blank_nothing() {
        let f = facts("web-01", "Debian GNU/Linux 12 (bookworm)");
        let d = Desired {
            agent_id: "agent-1",
            facts: &f,
            company_id: Some(5),
            choice: PersonChoice::Auto,
            hold: None,
        };
        let o = observed(
            7,
            5,
            ACTIVE,
            "web-01",
            "Debian GNU/Linux 11 (bullseye)",
            "8.0 GB",
        );
        assert_eq!(
            plan(&d, &[o], &Candidacy::Nothing, &settings()),
            Action::Update {
                configuration_id: 7,
                fields: vec![
                    (FactField::OsInfo, "Debian GNU/Linux 12 (bookworm)".into()),
                    (FactField::Ram, "16.0 GB".into())
                ],
                activate: false,
            }
        );
    }

    #[test]
    fn an_inactive_configuration_is_reactivated_rather_than_duplicated() {
        let f = facts("web-01", "Debian GNU/Linux 12 (bookworm)");
        let d = Desired {
            agent_id: "agent-1",
            facts: &f,
            company_id: Some(5),
            choice: PersonChoice::Auto,
            hold: None,
        };
        let o = observed(
            7,
            5,
            INACTIVE,
            "web-01",
            "Debian GNU/Linux 12 (bookworm)",
            "16.0 GB",
        );
        assert_eq!(
            plan(&d, &[o], &Candidacy::Nothing, &settings()),
            Action::Update {
                configuration_id: 7,
                fields: vec![],
                activate: true
            }
        );
    }

    #[test]
    fn a_device_bound_nowhere_has_its_configurations_deactivated() {
        let f = facts("web-01", "x");
        let d = Desired {
            agent_id: "agent-1",
            facts: &f,
            company_id: None,
            choice: PersonChoice::Auto,
            hold: None,
        };
        let o = observed(7, 5, ACTIVE, "web-01", "x", "16.0 GB");
        assert_eq!(
            plan(
                &d,
                std::slice::from_ref(&o),
                &Candidacy::Nothing,
                &settings()
            ),
            Action::Deactivate {
                configuration_id: 7
            }
        );
        let done = Observed {
            status_id: Some(INACTIVE),
            ..o
        };
        assert_eq!(
            plan(&d, &[done], &Candidacy::Nothing, &settings()),
            Action::InLine
        );
        assert_eq!(
            plan(&d, &[], &Candidacy::Nothing, &settings()),
            Action::InLine
        );
    }

    #[test]
    fn a_moved_device_leaves_its_old_company_first() {
        let f = facts("web-01", "x");
        let d = Desired {
            agent_id: "agent-1",
            facts: &f,
            company_id: Some(6),
            choice: PersonChoice::Auto,
            hold: None,
        };
        let old = observed(7, 5, ACTIVE, "web-01", "x", "16.0 GB");
        assert_eq!(
            plan(
                &d,
                std::slice::from_ref(&old),
                &Candidacy::Nothing,
                &settings()
            ),
            Action::Deactivate {
                configuration_id: 7
            }
        );
        let old = Observed {
            status_id: Some(INACTIVE),
            ..old
        };
        assert!(matches!(
            plan(&d, &[old], &Candidacy::Nothing, &settings()),
            Action::Create { company_id: 6, .. }
        ));
    }

    #[test]
    fn with_hand_made_duplicates_the_active_one_is_bound() {
        let f = facts("web-01", "x");
        let d = Desired {
            agent_id: "agent-1",
            facts: &f,
            company_id: Some(5),
            choice: PersonChoice::Auto,
            hold: None,
        };
        let older_inactive = observed(3, 5, INACTIVE, "web-01", "x", "16.0 GB");
        let active = observed(9, 5, ACTIVE, "web-01", "x", "16.0 GB");
        assert_eq!(
            plan(
                &d,
                &[older_inactive, active],
                &Candidacy::Nothing,
                &settings()
            ),
            Action::InLine
        );
    }

    fn adopt_test_desired(f: &DeviceFacts) -> Desired<'_> {
        Desired {
            agent_id: "agent-1",
            facts: f,
            company_id: Some(5),
            choice: PersonChoice::Auto,
            hold: None,
        }
    }

    #[test]
    fn a_clear_match_is_adopted_with_its_type_kept_and_the_old_values_recorded() {
        let f = facts("web-01", "Windows Server 2022");
        let d = adopt_test_desired(&f);
        let mut theirs = observed(40, 5, INACTIVE, "WEB-01", "Windows Server 2019", "16.0 GB");
        theirs.fields[0].1 = None; // no deviceIdentifier: made by a person or another tool
        let one = Candidacy::One {
            config: theirs.clone(),
            key: MatchKey::Name,
        };
        let Action::Adopt {
            configuration_id,
            key,
            fields,
            before,
            activate,
            type_id,
        } = plan(&d, &[], &one, &settings())
        else {
            panic!()
        };
        assert_eq!(
            (configuration_id, key, activate, type_id),
            (40, MatchKey::Name, true, None)
        );
        assert!(fields.contains(&(FactField::DeviceIdentifier, "agent-1".into())));
        assert!(fields.contains(&(FactField::Name, "web-01".into())));
        assert!(
            !fields.iter().any(|(f, _)| *f == FactField::Ram),
            "unchanged: not written"
        );
        assert!(before.contains(&(FactField::Name, Some("WEB-01".into()))));
        assert!(before.contains(&(FactField::DeviceIdentifier, None)));
        // Asked to, adoption applies the type rules.
        let mut s = settings();
        s.adoption.apply_type_rules = true;
        assert!(matches!(
            plan(&d, &[], &one, &s),
            Action::Adopt {
                type_id: Some(20),
                ..
            }
        ));
    }

    #[test]
    fn ambiguity_and_holds_wait_for_a_person_and_a_person_decides() {
        let f = facts("web-01", "x");
        let d = adopt_test_desired(&f);
        let two = Candidacy::Ambiguous {
            key: MatchKey::Serial,
            candidates: vec![40, 41],
            contested: false,
        };
        assert!(matches!(
            plan(&d, &[], &two, &settings()),
            Action::NeedsPerson { ref candidates, .. } if *candidates == vec![40, 41]
        ));
        let held = Desired {
            hold: Some("possible reinstall of device 3"),
            ..d.clone()
        };
        assert!(matches!(
            plan(&held, &[], &Candidacy::Nothing, &settings()),
            Action::NeedsPerson { .. }
        ));
        let create = Desired {
            choice: PersonChoice::CreateNew,
            ..d.clone()
        };
        assert!(matches!(
            plan(&create, &[], &two, &settings()),
            Action::Create { .. }
        ));
        // A person's pick is adopted; the device's own configuration elsewhere in the company
        // is deactivated first.
        let theirs = observed(41, 5, ACTIVE, "web-01", "x", "16.0 GB");
        let pick = Desired {
            choice: PersonChoice::Adopt(41),
            ..d
        };
        let mine = observed(7, 5, ACTIVE, "web-01", "x", "16.0 GB");
        let chosen = Candidacy::One {
            config: theirs,
            key: MatchKey::Person,
        };
        assert_eq!(
            plan(&pick, std::slice::from_ref(&mine), &chosen, &settings()),
            Action::Deactivate {
                configuration_id: 7
            }
        );
        let mine = Observed {
            status_id: Some(INACTIVE),
            ..mine
        };
        assert!(matches!(
            plan(&pick, &[mine], &chosen, &settings()),
            Action::Adopt {
                configuration_id: 41,
                key: MatchKey::Person,
                ..
            }
        ));
    }

    #[test]
    fn globs_match_as_admins_expect() {
        for (text, pattern, expected) in [
            ("windows server 2022", "windows server*", true),
            ("windows 11 pro", "windows server*", false),
            ("branch-fw-02", "*-fw-*", true),
            ("fw", "*-fw-*", false),
            ("exact", "exact", true),
            ("ab", "a*b*", true),
            ("aXbYc", "a*b*c", true),
            ("abc", "*", true),
            ("aa", "a*a", true),
            ("a", "a*a", false),
        ] {
            assert_eq!(glob(text, pattern), expected, "{text} ~ {pattern}");
        }
    }
}
