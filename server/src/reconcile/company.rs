//! A whole company's plan, pure: given the devices that should (or should no longer) be bound in
//! it and the company's configurations as one paged read returned them, what each device needs.
//! The sync carries this plan out; a link's preview shows it without writing anything. Both call
//! the same function, so the preview and the outcome cannot disagree.

use std::collections::{HashMap, HashSet};

use bindery_shared::{DeviceFacts, FactField};
use serde::Serialize;

use super::adoption::{self, Candidacy, MatchKey, Seeker};
use super::plan::{self, Action, BindingSettings, Desired, Extras, Observed, PersonChoice};
use crate::ids::{CompanyId, ConfigurationId, DeviceId};

/// One device as the company's plan sees it.
#[derive(Clone, Debug)]
pub struct DeviceInput {
    pub device_id: DeviceId,
    pub agent_id: String,
    pub facts: DeviceFacts,
    /// Where it should be bound (`None`: nowhere).
    pub company_id: Option<CompanyId>,
    pub choice: PersonChoice,
    pub hold: Option<String>,
    /// Its MAC is another live device's too: it matches no configuration.
    pub mac_shared: bool,
    /// A configuration recorded for it in another company, still active (it is moving).
    pub recorded_elsewhere: Option<Observed>,
    /// The console link and contact it wants (see `extras`).
    pub extras: Extras,
}

/// What one device needs, with what the plan was made from (a write job carries it).
#[derive(Clone, Debug)]
pub struct DevicePlan {
    pub device_id: DeviceId,
    pub observed: Vec<Observed>,
    pub candidacy: Candidacy,
    /// The next write (or `InLine`, or `NeedsPerson`).
    pub action: Action,
}

#[derive(Clone, Debug)]
pub struct CompanyPlan {
    pub devices: Vec<DevicePlan>,
    /// Configurations of the company no device owns or would adopt: left alone.
    pub unclaimed: Vec<Observed>,
}

/// Plans every device of `inputs` against `configs`, the company's configurations.
/// `owners` holds every Bindery device's agent id (lower-case), `claimed` the configuration ids
/// recorded for some device: neither kind is another device's to adopt.
pub fn plan_company(
    company_id: CompanyId,
    inputs: &[DeviceInput],
    configs: &[Observed],
    owners: &HashSet<String>,
    claimed: &HashSet<ConfigurationId>,
    settings: &BindingSettings,
) -> CompanyPlan {
    let (by_device, unowned) = split(inputs, configs, owners, claimed);
    let observed: Vec<Vec<Observed>> = inputs
        .iter()
        .map(|d| {
            let mut o = by_device
                .get(&d.agent_id.to_lowercase())
                .cloned()
                .unwrap_or_default();
            o.extend(d.recorded_elsewhere.iter().cloned());
            o
        })
        .collect();
    let candidacy = candidacies(
        company_id, inputs, &observed, &unowned, configs, owners, settings,
    );
    let mut wanted: HashSet<ConfigurationId> = HashSet::new();
    for c in &candidacy {
        match c {
            Candidacy::One { config, .. } => {
                wanted.insert(config.id);
            }
            Candidacy::Ambiguous { candidates, .. } => wanted.extend(candidates.iter().copied()),
            Candidacy::Nothing => {}
        }
    }
    let devices = inputs
        .iter()
        .zip(observed)
        .zip(candidacy)
        .map(|((d, observed), candidacy)| {
            let desired = Desired {
                agent_id: &d.agent_id,
                facts: &d.facts,
                company_id: d.company_id,
                choice: d.choice,
                hold: d.hold.as_deref(),
                extras: &d.extras,
            };
            let action = plan::plan(&desired, &observed, &candidacy, settings);
            DevicePlan {
                device_id: d.device_id,
                observed,
                candidacy,
                action,
            }
        })
        .collect();
    CompanyPlan {
        devices,
        unclaimed: unowned
            .into_iter()
            .filter(|c| !wanted.contains(&c.id))
            .collect(),
    }
}

/// The configuration's device identifier, lower-case (none when blank).
fn ident(o: &Observed) -> Option<String> {
    o.fields
        .iter()
        .find(|(f, _)| *f == FactField::DeviceIdentifier)
        .and_then(|(_, v)| v.as_deref())
        .map(|v| v.trim().to_lowercase())
        .filter(|v| !v.is_empty())
}

/// The company's configurations by owning device (agent id), and those no device owns, claims
/// or was pointed at by a person (the only ones others may adopt).
fn split(
    inputs: &[DeviceInput],
    configs: &[Observed],
    owners: &HashSet<String>,
    claimed: &HashSet<ConfigurationId>,
) -> (HashMap<String, Vec<Observed>>, Vec<Observed>) {
    let picked: HashSet<ConfigurationId> = inputs
        .iter()
        .filter_map(|d| match d.choice {
            PersonChoice::Adopt(id) => Some(id),
            _ => None,
        })
        .collect();
    let mut by_device: HashMap<String, Vec<Observed>> = HashMap::new();
    let mut unowned: Vec<Observed> = Vec::new();
    for c in configs {
        match ident(c) {
            Some(id) if owners.contains(&id) => by_device.entry(id).or_default().push(c.clone()),
            _ if claimed.contains(&c.id) || picked.contains(&c.id) => {}
            _ => unowned.push(c.clone()),
        }
    }
    (by_device, unowned)
}

/// What each device could adopt: matches among the unowned configurations for devices that seek
/// one, and a person's pick when no other device owns it (whatever else wanted it).
fn candidacies(
    company_id: CompanyId,
    inputs: &[DeviceInput],
    observed: &[Vec<Observed>],
    unowned: &[Observed],
    configs: &[Observed],
    owners: &HashSet<String>,
    settings: &BindingSettings,
) -> Vec<Candidacy> {
    // Devices that should be here, have nothing of their own here and let Bindery choose.
    let seeks = |i: usize| {
        let d = &inputs[i];
        d.company_id == Some(company_id)
            && d.choice == PersonChoice::Auto
            && d.hold.is_none()
            && !observed[i].iter().any(|o| o.company_id == company_id)
    };
    let seeking: Vec<usize> = (0..inputs.len()).filter(|&i| seeks(i)).collect();
    let seekers: Vec<Seeker<'_>> = seeking
        .iter()
        .map(|&i| Seeker {
            facts: &inputs[i].facts,
            mac_shared: inputs[i].mac_shared,
        })
        .collect();
    let mut candidacy: Vec<Candidacy> = vec![Candidacy::Nothing; inputs.len()];
    for (i, c) in seeking
        .iter()
        .zip(adoption::candidacies(&seekers, unowned, &settings.adoption))
    {
        candidacy[*i] = c;
    }
    for (i, d) in inputs.iter().enumerate() {
        if let PersonChoice::Adopt(id) = d.choice
            && let Some(c) = configs
                .iter()
                .find(|c| c.id == id && c.company_id == company_id)
            && ident(c).is_none_or(|o| !owners.contains(&o))
        {
            candidacy[i] = Candidacy::One {
                config: c.clone(),
                key: MatchKey::Person,
            };
        }
    }
    candidacy
}

/// What linking (or syncing) would do, for people: counts, and the devices that need a person.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Preview {
    pub company_id: CompanyId,
    /// Configurations made by others that would become devices', by key.
    pub adopt_by_serial: usize,
    pub adopt_by_mac: usize,
    pub adopt_by_name: usize,
    pub adopt_by_person: usize,
    pub create: usize,
    /// The device's own configuration, inactive, made active again (adopted ones included).
    pub reactivate: usize,
    pub update: usize,
    pub deactivate: usize,
    pub in_line: usize,
    pub needs_person: Vec<NeedsPerson>,
    /// Configurations of the company that no device claims; they are left alone.
    pub unclaimed: Vec<Unclaimed>,
    /// Every device and what it gets, in device order.
    pub devices: Vec<DeviceOutcome>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct NeedsPerson {
    pub device_id: DeviceId,
    pub candidates: Vec<ConfigurationId>,
    pub reason: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Unclaimed {
    pub configuration_id: ConfigurationId,
    pub name: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DeviceOutcome {
    pub device_id: DeviceId,
    /// `adopt`, `create`, `update`, `reactivate`, `deactivate`, `in_line`, `needs_person`.
    pub outcome: &'static str,
    pub configuration_id: Option<ConfigurationId>,
    /// For an adoption: the key that matched.
    pub key: Option<MatchKey>,
}

/// The preview of a plan: each device's last write in this company (a moving device is first
/// deactivated elsewhere, which counts as a deactivation too).
pub fn preview(
    company_id: CompanyId,
    plan: &CompanyPlan,
    inputs: &[DeviceInput],
    settings: &BindingSettings,
) -> Preview {
    let mut p = Preview {
        company_id,
        unclaimed: plan
            .unclaimed
            .iter()
            .map(|c| Unclaimed {
                configuration_id: c.id,
                name: c
                    .fields
                    .iter()
                    .find(|(f, _)| *f == FactField::Name)
                    .and_then(|(_, v)| v.clone()),
            })
            .collect(),
        ..Preview::default()
    };
    for (d, input) in plan.devices.iter().zip(inputs) {
        for action in actions(d, input, settings) {
            let outcome = p.count(d.device_id, &action);
            p.devices.push(outcome);
        }
    }
    p
}

impl Preview {
    /// Counts one write of a device, and says what it is.
    fn count(&mut self, device_id: DeviceId, action: &Action) -> DeviceOutcome {
        let (outcome, configuration_id, key) = match action {
            Action::InLine => {
                self.in_line += 1;
                ("in_line", None, None)
            }
            Action::Create { .. } => {
                self.create += 1;
                ("create", None, None)
            }
            Action::Update {
                configuration_id,
                activate: true,
                ..
            } => {
                self.reactivate += 1;
                ("reactivate", Some(*configuration_id), None)
            }
            Action::Update {
                configuration_id, ..
            } => {
                self.update += 1;
                ("update", Some(*configuration_id), None)
            }
            Action::Deactivate { configuration_id } => {
                self.deactivate += 1;
                ("deactivate", Some(*configuration_id), None)
            }
            Action::Adopt {
                configuration_id,
                key,
                activate,
                ..
            } => {
                *match key {
                    MatchKey::Serial => &mut self.adopt_by_serial,
                    MatchKey::Mac => &mut self.adopt_by_mac,
                    MatchKey::Name => &mut self.adopt_by_name,
                    MatchKey::Person => &mut self.adopt_by_person,
                } += 1;
                if *activate {
                    self.reactivate += 1;
                }
                ("adopt", Some(*configuration_id), Some(*key))
            }
            Action::NeedsPerson { candidates, reason } => {
                self.needs_person.push(NeedsPerson {
                    device_id,
                    candidates: candidates.clone(),
                    reason: reason.clone(),
                });
                ("needs_person", None, None)
            }
        };
        DeviceOutcome {
            device_id,
            outcome,
            configuration_id,
            key,
        }
    }
}

/// The writes a device needs in turn: deactivations first, then at most one write here.
fn actions(d: &DevicePlan, input: &DeviceInput, settings: &BindingSettings) -> Vec<Action> {
    let mut observed = d.observed.clone();
    let mut out = Vec::new();
    let mut action = d.action.clone();
    for _ in 0..8 {
        let Action::Deactivate { configuration_id } = action else {
            break;
        };
        out.push(action.clone());
        for o in observed.iter_mut().filter(|o| o.id == configuration_id) {
            o.status_id = Some(settings.inactive_status_id);
        }
        let desired = Desired {
            agent_id: &input.agent_id,
            facts: &input.facts,
            company_id: input.company_id,
            choice: input.choice,
            hold: input.hold.as_deref(),
            extras: &input.extras,
        };
        action = plan::plan(&desired, &observed, &d.candidacy, settings);
    }
    if !matches!(action, Action::Deactivate { .. }) && (out.is_empty() || action != Action::InLine)
    {
        out.push(action);
    }
    out
}
