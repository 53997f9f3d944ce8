//! The binding decision for one device, pure: given what Bindery wants (the device's facts, the
//! company its policy is linked to, the settings, a person's choice) and what ConnectWise holds
//! (the device's configurations, found by deviceIdentifier, and what it could adopt), what single
//! write brings ConnectWise in line?
//!
//! The job runner carries the write out and records the result; it decides nothing. A retry, a
//! restart and a periodic re-sync all come back here, so they cannot disagree.

pub use crate::store::PersonChoice;
use bindery_shared::{DeviceFacts, FactField};

use crate::integration::{Choices, FieldMap, QuestionAnswer};

use super::adoption::{AdoptionSettings, Candidacy, MatchKey};
pub use super::observed::{Extras, Observed};
use crate::ids::{CompanyId, ConfigurationId};

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
    /// Answers to the required questions of the chosen types.
    pub answers: Vec<QuestionAnswer>,
    /// Which other configuration fields the facts fill.
    pub field_map: FieldMap,
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
            answers: choices.answers.clone(),
            field_map: FieldMap::default(),
        }
    }

    /// The answers a configuration of `type_id` carries: each fixed text, or the fact it names
    /// from `fields` (what is being written; a fact the device does not report answers
    /// `unknown`, so the configuration is never refused for it).
    pub fn answers_for(&self, type_id: i64, fields: &[(FactField, String)]) -> Vec<(i64, String)> {
        self.answers
            .iter()
            .filter(|a| a.type_id == type_id)
            .map(|a| {
                let answer = match a.fact() {
                    Some(f) => fields
                        .iter()
                        .find(|(field, _)| *field == f)
                        .map_or_else(|| "unknown".to_owned(), |(_, v)| v.clone()),
                    None => a.answer.trim().to_owned(),
                };
                (a.question_id, answer)
            })
            .collect()
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
    pub company_id: Option<CompanyId>,
    /// What a person decided for this device, if anything.
    pub choice: PersonChoice,
    /// Why the device may not be bound until a person acts (a possible reinstall of another).
    pub hold: Option<&'a str>,
    /// The console link and the user's contact, where Bindery knows them.
    pub extras: &'a Extras,
}

/// The one write to make next (after it, planning again gives the next one, if any).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    /// Nothing to write: ConnectWise already says what Bindery wants.
    InLine,
    /// No configuration of this device exists in the company: create one.
    Create {
        company_id: CompanyId,
        type_id: i64,
        fields: Vec<(FactField, String)>,
        extras: Extras,
    },
    /// The configuration exists: set these owned fields (and the active status if it was not).
    Update {
        configuration_id: ConfigurationId,
        fields: Vec<(FactField, String)>,
        extras: Extras,
        activate: bool,
    },
    /// A configuration that should no longer be active: set the inactive status.
    Deactivate { configuration_id: ConfigurationId },
    /// A configuration someone else made is this device: write its identifier and the owned
    /// fields, re-activate it, and set the type only when the admin asked for that.
    Adopt {
        configuration_id: ConfigurationId,
        key: MatchKey,
        fields: Vec<(FactField, String)>,
        /// What the configuration held before, for each field written (the activity log).
        before: Vec<(FactField, Option<String>)>,
        extras: Extras,
        activate: bool,
        type_id: Option<i64>,
    },
    /// Not a write: the device waits for a person (ambiguous candidates, or a possible
    /// reinstall of another device).
    NeedsPerson {
        candidates: Vec<ConfigurationId>,
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
    FactField::CONFIGURATION
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
        let extras = desired.extras.missing_from(&current.extras, current.id);
        return if fields.is_empty() && extras.is_empty() && !activate {
            Action::InLine
        } else {
            Action::Update {
                configuration_id: current.id,
                fields,
                extras,
                activate,
            }
        };
    }
    let create = Action::Create {
        company_id,
        type_id: settings.type_for(desired.facts),
        fields: owned_values(desired),
        extras: desired.extras.clone(),
    };
    no_configuration_yet(desired, company_id, candidacy, settings, create)
}

/// What a device with no configuration of its own in its company does: create one, adopt the
/// one that matches, or wait for a person.
fn no_configuration_yet(
    desired: &Desired<'_>,
    company_id: CompanyId,
    candidacy: &Candidacy,
    settings: &BindingSettings,
    create: Action,
) -> Action {
    match (desired.choice, candidacy) {
        (PersonChoice::CreateNew, _) => create,
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
        (PersonChoice::Auto, Candidacy::Nothing) => create,
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
            reason: ambiguity(*key, candidates, *contested),
        },
    }
}

/// Why a device waits when its key matches more than it can adopt alone.
fn ambiguity(key: MatchKey, candidates: &[ConfigurationId], contested: bool) -> String {
    if contested {
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
        extras: desired.extras.missing_from(&config.extras, config.id),
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
    company_id: CompanyId,
    settings: &BindingSettings,
) -> Option<&'a Observed> {
    observed
        .iter()
        .filter(|o| o.company_id == company_id)
        .min_by_key(|o| (o.status_id != Some(settings.active_status_id), o.id))
}

/// Whether `text` matches `pattern`, ignoring case; `*` is any run of characters (what type
/// rules and ticket routing rules match facts with).
pub fn pattern_matches(text: &str, pattern: &str) -> bool {
    glob(&text.to_lowercase(), &pattern.to_lowercase())
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
#[path = "plan_tests.rs"]
mod tests;
