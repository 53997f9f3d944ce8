//! What the admin chose after a connection test: the two boards and their statuses, the
//! configuration statuses and types, the type rules and what adoption may match on. Saved only
//! when it fits what ConnectWise offers.

use bindery_shared::FactField;
use serde::{Deserialize, Serialize};

use super::{CHOICES, Catalog, IntegrationError, setting_name};
use crate::ids::IntegrationId;
use crate::store::Store;

/// A board and the statuses tickets take on it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BoardUse {
    pub board_id: i64,
    pub open_status_id: i64,
    pub closed_status_id: i64,
    /// What Bindery does to a ticket when its alert resolves on the device.
    #[serde(default)]
    pub close_rule: CloseRule,
}

/// When the device resolves what a ticket is about, per board.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub enum CloseRule {
    /// Close it, whatever people did.
    Always,
    /// Close it only if no person touched it (no note or time entry of theirs, no change of
    /// theirs); otherwise add a "resolved on the device" note and leave it open.
    #[default]
    Untouched,
    /// Only add the note: people close tickets.
    Never,
}

/// How tickets live in both directions.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct TicketRules {
    /// An alert back within this many hours after Bindery closed its ticket reopens that
    /// ticket (0: always a new one).
    pub reopen_within_hours: u32,
    /// Minutes between reads of the open tickets' statuses when ConnectWise cannot call back
    /// (with callbacks, an hourly read remains as a backstop).
    pub poll_minutes: u32,
    /// The most alerts one device may have active, and help requests open, at once: past
    /// that a device gets 429 (a stolen credential cannot flood the boards).
    pub max_open_alerts: u32,
    pub max_open_help: u32,
}

impl TicketRules {
    fn problems(&self) -> Vec<String> {
        let mut out = Vec::new();
        if self.reopen_within_hours > 24 * 30 {
            out.push("tickets: the reopen window is at most 720 hours (30 days)".into());
        }
        if !(1..=1440).contains(&self.poll_minutes) {
            out.push("tickets: polling runs every 1 to 1,440 minutes".into());
        }
        if !(1..=1000).contains(&self.max_open_alerts) || !(1..=1000).contains(&self.max_open_help)
        {
            out.push("tickets: a device may have 1 to 1,000 open alerts and help requests".into());
        }
        out
    }
}

impl Default for TicketRules {
    fn default() -> TicketRules {
        TicketRules {
            reopen_within_hours: 24,
            poll_minutes: 5,
            max_open_alerts: 20,
            max_open_help: 10,
        }
    }
}

/// A conditional type rule as the admin enters it (first match wins).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TypeRuleChoice {
    /// A fact: `osType`, `osInfo`, `name`, …
    pub field: bindery_shared::FactField,
    /// Case-insensitive, `*` for any run of characters.
    pub pattern: String,
    pub type_id: i64,
}

/// What the admin chose from the [`Catalog`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Choices {
    pub monitoring: BoardUse,
    pub self_service: BoardUse,
    pub active_status_id: i64,
    pub inactive_status_id: i64,
    pub default_type_id: i64,
    #[serde(default)]
    pub type_rules: Vec<TypeRuleChoice>,
    /// Which configurations made by others a device may adopt (serial, MAC, name: all on by
    /// default), and whether type rules apply to an adopted one (off: its type is kept).
    #[serde(default)]
    pub adoption: AdoptionSettings,
    #[serde(default)]
    pub tickets: TicketRules,
    /// Answers to the required questions of the chosen configuration types.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub answers: Vec<QuestionAnswer>,
}

/// An answer to a configuration type's required question: a fixed text (`Rack 4`), or a fact
/// of the device in braces (`{serialNumber}`), given to every configuration of that type.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct QuestionAnswer {
    pub type_id: i64,
    pub question_id: i64,
    pub answer: String,
}

impl QuestionAnswer {
    /// The fact the answer names (`{serialNumber}`), if it names one.
    pub fn fact(&self) -> Option<FactField> {
        let name = self.answer.trim().strip_prefix('{')?.strip_suffix('}')?;
        FactField::from_name(name)
    }

    fn problem(&self, catalog: &Catalog) -> Option<String> {
        let at = format!(
            "the answer to question {} of type {}",
            self.question_id, self.type_id
        );
        let a = self.answer.trim();
        if a.is_empty() || a.chars().count() > 200 || a.chars().any(char::is_control) {
            return Some(format!("{at} must be 1-200 characters"));
        }
        if a.starts_with('{') && self.fact().is_none() {
            return Some(format!(
                "{at}: {a} names no fact (use {{name}}, {{serialNumber}}, …)"
            ));
        }
        let known = catalog
            .configuration_types
            .iter()
            .find(|t| t.id == self.type_id)
            .is_some_and(|t| t.questions.iter().any(|q| q.id == self.question_id));
        (!known).then(|| format!("{at}: the type has no such required question"))
    }
}

impl Choices {
    /// Every reason these choices do not fit what ConnectWise offers (empty when they fit).
    pub fn problems(&self, catalog: &Catalog) -> Vec<String> {
        let mut out = self.board_problems(catalog);
        let config_status = |id: i64| catalog.configuration_statuses.iter().find(|s| s.id == id);
        match config_status(self.active_status_id) {
            Some(s) if !s.closed => {}
            Some(s) => out.push(format!(
                "the active configuration status {:?} is a closed one",
                s.name
            )),
            None => out.push("the active configuration status does not exist".into()),
        }
        match config_status(self.inactive_status_id) {
            Some(s) if s.closed => {}
            Some(s) => out.push(format!(
                "the inactive configuration status {:?} is not a closed one",
                s.name
            )),
            None => out.push("the inactive configuration status does not exist".into()),
        }
        let types = std::iter::once((
            "the default configuration type".to_owned(),
            self.default_type_id,
        ))
        .chain(
            self.type_rules
                .iter()
                .enumerate()
                .map(|(i, r)| (format!("rule {}", i + 1), r.type_id)),
        );
        for (label, id) in types {
            match catalog.configuration_types.iter().find(|t| t.id == id) {
                Some(t) => out.extend(t.refusal(&self.answers).map(|r| format!("{label}: {r}"))),
                None => out.push(format!(
                    "{label}: the configuration type does not exist (or is inactive)"
                )),
            }
        }
        out.extend(self.tickets.problems());
        out.extend(self.answers.iter().filter_map(|a| a.problem(catalog)));
        for (i, r) in self.type_rules.iter().enumerate() {
            if r.pattern.trim().is_empty()
                || r.pattern.chars().count() > 100
                || r.pattern.chars().any(char::is_control)
            {
                out.push(format!(
                    "rule {}: the pattern must be 1-100 characters",
                    i + 1
                ));
            }
        }
        out
    }

    /// Why the two boards or their statuses do not fit what ConnectWise offers.
    fn board_problems(&self, catalog: &Catalog) -> Vec<String> {
        let mut out = Vec::new();
        for (label, board) in [
            ("monitoring", &self.monitoring),
            ("self-service", &self.self_service),
        ] {
            let Some(b) = catalog.boards.iter().find(|b| b.id == board.board_id) else {
                out.push(format!(
                    "the {label} board does not exist (or is inactive) in ConnectWise"
                ));
                continue;
            };
            let status = |id: i64| b.statuses.iter().find(|s| s.id == id);
            match status(board.open_status_id) {
                Some(s) if !s.closed => {}
                Some(s) => out.push(format!(
                    "the {label} open status {:?} is a closed status of {:?}",
                    s.name, b.name
                )),
                None => out.push(format!(
                    "the {label} open status is not a status of {:?}",
                    b.name
                )),
            }
            match status(board.closed_status_id) {
                Some(s) if s.closed => {}
                Some(s) => out.push(format!(
                    "the {label} closed status {:?} does not close tickets on {:?}",
                    s.name, b.name
                )),
                None => out.push(format!(
                    "the {label} closed status is not a status of {:?}",
                    b.name
                )),
            }
        }
        out
    }
}

/// Saves the choices when they fit the catalog; otherwise changes nothing and lists every problem.
pub async fn save_choices(
    store: &Store,
    id: IntegrationId,
    catalog: &Catalog,
    choices: &Choices,
) -> Result<(), IntegrationError> {
    let problems = choices.problems(catalog);
    if !problems.is_empty() {
        return Err(IntegrationError::Invalid(problems.join("; ")));
    }
    let json =
        serde_json::to_string(choices).map_err(|e| IntegrationError::Invalid(e.to_string()))?;
    store.put_setting(&setting_name(id, CHOICES), &json).await?;
    Ok(())
}

/// Changes how tickets live (the ticket rules and each board's close rule) in the saved
/// choices; the rest was checked against ConnectWise when it was saved.
pub async fn save_ticket_rules(
    store: &Store,
    id: IntegrationId,
    rules: TicketRules,
    monitoring: CloseRule,
    self_service: CloseRule,
) -> Result<Choices, IntegrationError> {
    let mut c = choices(store, id)
        .await?
        .ok_or(IntegrationError::NotConfigured)?;
    let problems = rules.problems();
    if !problems.is_empty() {
        return Err(IntegrationError::Invalid(problems.join("; ")));
    }
    c.tickets = rules;
    c.monitoring.close_rule = monitoring;
    c.self_service.close_rule = self_service;
    let json = serde_json::to_string(&c).map_err(|e| IntegrationError::Invalid(e.to_string()))?;
    store.put_setting(&setting_name(id, CHOICES), &json).await?;
    Ok(c)
}

pub async fn choices(
    store: &Store,
    id: IntegrationId,
) -> Result<Option<Choices>, IntegrationError> {
    let Some(json) = store.setting(&setting_name(id, CHOICES)).await? else {
        return Ok(None);
    };
    serde_json::from_str(&json).map(Some).map_err(|e| {
        IntegrationError::Invalid(format!("the stored ConnectWise choices are damaged: {e}"))
    })
}

/// Which keys may adopt, and whether type rules apply to an adopted configuration (its type is
/// kept by default: a person chose it). Part of the ConnectWise settings.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct AdoptionSettings {
    pub by_serial: bool,
    pub by_mac: bool,
    pub by_name: bool,
    pub apply_type_rules: bool,
}

impl Default for AdoptionSettings {
    fn default() -> AdoptionSettings {
        AdoptionSettings {
            by_serial: true,
            by_mac: true,
            by_name: true,
            apply_type_rules: false,
        }
    }
}

impl AdoptionSettings {
    pub fn any(&self) -> bool {
        self.by_serial || self.by_mac || self.by_name
    }
}
