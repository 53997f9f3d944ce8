//! Ticket routing: an integration's ordered rules decide, for each new ticket, its board (with
//! that board's open and closed statuses), type, subtype, item, priority, severity, impact,
//! source and summary. The first rule that matches decides (`rules.rs`); with none, a ticket
//! goes where it went before there were rules: an alert on the monitoring board, a help request
//! on the self-service board, with Bindery's own summary. A rule's summary is a template
//! (`summary.rs`). A rule change applies to new tickets: each ticket keeps the route it was
//! opened with (`store::TicketRoute`).
//!
//! What ConnectWise allows (a board's types, subtypes, items and their combinations, the
//! priorities and sources) is checked when the rules are saved (`ops::routing`), not when a
//! ticket fails at 3 a.m.

mod router;
mod rules;
mod summary;

use bindery_shared::FactField;
use bindery_shared::protocol::{AlertSeverity, MonitorKind};
use serde::{Deserialize, Serialize};

pub use router::{Decision, Router};
pub use rules::{Subject, first_match};
pub use summary::{PLACEHOLDERS, Values, render, template_problems};

use crate::ids::{IntegrationId, PolicyId};
use crate::integration::{self, BoardUse, IntegrationError};
use crate::store::{Store, TicketRoute};

use crate::integration::ROUTING_RULES as ROUTING;
/// The most rules an integration keeps.
pub const MAX_RULES: usize = 200;

/// What a ticket is about, as rules match it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub enum TicketKind {
    Disk,
    Memory,
    Load,
    Service,
    Offline,
    /// A monitor of a kind this server does not name.
    Custom,
    Help,
}

impl TicketKind {
    /// The kind of a monitor's alerts.
    pub fn of_monitor(kind: MonitorKind) -> TicketKind {
        match kind {
            MonitorKind::DiskFree => TicketKind::Disk,
            MonitorKind::MemoryUsed => TicketKind::Memory,
            MonitorKind::CpuLoad => TicketKind::Load,
            MonitorKind::ServiceRunning | MonitorKind::ProcessRunning => TicketKind::Service,
            MonitorKind::Unsupported => TicketKind::Custom,
        }
    }
}

/// A device class, as conditional configuration types and billing tell them apart.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub enum DeviceClass {
    Workstation,
    Server,
}

/// ConnectWise's three steps for a ticket's severity and impact.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub enum Level {
    Low,
    Medium,
    High,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Low => "Low",
            Level::Medium => "Medium",
            Level::High => "High",
        }
    }
}

/// "When the device's `field` matches `pattern`" (case-insensitive, `*` any run).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FactMatch {
    pub field: FactField,
    pub pattern: String,
}

/// One rule: when every condition given holds (a list given: any of its values), the ticket
/// gets what the rule sets; what it leaves out stays as it would be without rules.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RoutingRule {
    /// For people, and named by the dry run and on each ticket's route.
    pub name: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub kinds: Vec<TicketKind>,
    /// The alert's severity (its monitor's); a help request has none, so a rule naming
    /// severities never matches one.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub severities: Vec<AlertSeverity>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub policies: Vec<PolicyId>,
    /// A pattern on the device's OS (`osInfo`): `*Server 2022*`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub os: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub class: Option<DeviceClass>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fact: Option<FactMatch>,
    /// The board and its statuses; none: the kind's board from the choices.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub board: Option<BoardUse>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub type_id: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subtype_id: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub item_id: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority_id: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_id: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub severity: Option<Level>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub impact: Option<Level>,
    /// A summary template (`{device}: {monitor} {value}`); none: Bindery's own summary.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
}

/// An integration's rules, in order.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Routing {
    pub rules: Vec<RoutingRule>,
}

impl RoutingRule {
    /// Whether the ticket goes on the self-service board without a board of the rule's own:
    /// true when it matches only help requests, false when only alerts, none when both.
    pub fn help_board(&self) -> Option<bool> {
        let help = self.kinds.contains(&TicketKind::Help);
        let alerts = self.kinds.iter().any(|k| *k != TicketKind::Help);
        match (self.kinds.is_empty(), help, alerts) {
            (false, true, false) => Some(true),
            (false, false, true) => Some(false),
            _ => None,
        }
    }
}

impl Routing {
    /// What is wrong with the rules on their own (ConnectWise's side is `ops::routing`'s),
    /// each naming its rule; empty when nothing is.
    pub fn problems(&self) -> Vec<String> {
        let mut out = Vec::new();
        if self.rules.len() > MAX_RULES {
            out.push(format!("at most {MAX_RULES} rules"));
        }
        for (n, r) in self.rules.iter().enumerate() {
            let at = format!("rule {} ({:?})", n + 1, r.name);
            let name = r.name.trim();
            if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
                out.push(format!("{at}: a name is 1-100 characters"));
            }
            let patterns = [r.os.as_deref(), r.fact.as_ref().map(|f| f.pattern.as_str())];
            if patterns
                .iter()
                .flatten()
                .any(|p| p.trim().is_empty() || p.len() > 200)
            {
                out.push(format!("{at}: a pattern is 1-200 characters"));
            }
            if r.subtype_id.is_some() && r.type_id.is_none() {
                out.push(format!("{at}: a subtype needs its type"));
            }
            if r.item_id.is_some() && r.type_id.is_none() {
                out.push(format!("{at}: an item needs a type"));
            }
            let board_bound = r.type_id.is_some() || r.subtype_id.is_some() || r.item_id.is_some();
            if board_bound && r.board.is_none() && r.help_board().is_none() {
                out.push(format!(
                    "{at}: a type belongs to one board: name the board, or match only alerts or \
                     only help requests"
                ));
            }
            if let Some(t) = &r.summary {
                out.extend(
                    template_problems(t)
                        .into_iter()
                        .map(|p| format!("{at}: {p}")),
                );
            }
        }
        out
    }
}

/// An integration's rules (none saved: none).
pub async fn routing(store: &Store, id: IntegrationId) -> Result<Routing, IntegrationError> {
    let name = integration::setting_name(id, ROUTING);
    let Some(json) = store.setting(&name).await? else {
        return Ok(Routing::default());
    };
    serde_json::from_str(&json).map_err(|e| {
        IntegrationError::Invalid(format!("the stored ticket routing rules are damaged: {e}"))
    })
}

/// Saves rules already checked (`Routing::problems` and ConnectWise's lookups).
pub async fn save_routing(
    store: &Store,
    id: IntegrationId,
    routing: &Routing,
) -> Result<(), IntegrationError> {
    let json =
        serde_json::to_string(routing).map_err(|e| IntegrationError::Invalid(e.to_string()))?;
    let name = integration::setting_name(id, ROUTING);
    store.put_setting(&name, &json).await?;
    Ok(())
}

/// The route a rule gives a ticket whose board without rules is `default_board`.
pub fn route_of(rule: &RoutingRule, default_board: &BoardUse) -> TicketRoute {
    let board = rule.board.as_ref().unwrap_or(default_board);
    TicketRoute {
        rule: rule.name.clone(),
        board_id: board.board_id,
        open_status_id: board.open_status_id,
        closed_status_id: board.closed_status_id,
        type_id: rule.type_id,
        subtype_id: rule.subtype_id,
        item_id: rule.item_id,
        priority_id: rule.priority_id,
        source_id: rule.source_id,
        severity: rule.severity.map(|l| l.as_str().to_owned()),
        impact: rule.impact.map(|l| l.as_str().to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Whatever a client sends as a rule, it is read or refused with a reason, and a rule
        /// read is judged without panicking: a problem names its rule.
        #[test]
        fn any_rule_document_is_read_or_refused_never_a_panic(
            name in "\\PC{0,120}",
            summary in proptest::option::of("\\PC{0,120}"),
            os in proptest::option::of("\\PC{0,250}"),
            kinds in proptest::collection::vec(
                prop_oneof!["disk", "memory", "help", "offline", "bogus"], 0..4),
            type_id in proptest::option::of(any::<i64>()),
            subtype_id in proptest::option::of(any::<i64>()),
        ) {
            let doc = serde_json::json!({ "rules": [{
                "name": name, "summary": summary, "os": os, "kinds": kinds,
                "typeId": type_id, "subtypeId": subtype_id,
            }]});
            if let Ok(routing) = serde_json::from_value::<Routing>(doc) {
                for p in routing.problems() {
                    prop_assert!(p.starts_with("rule 1"), "{}", p);
                }
            }
        }
    }

    #[test]
    fn a_rule_setting_a_type_must_say_which_board_it_belongs_to() {
        let rule = |kinds: &[&str]| -> Routing {
            serde_json::from_value(serde_json::json!({ "rules": [
                { "name": "r", "kinds": kinds, "typeId": 1 }
            ]}))
            .unwrap()
        };
        assert!(rule(&["disk", "offline"]).problems().is_empty());
        assert!(rule(&["help"]).problems().is_empty());
        assert!(rule(&["disk", "help"]).problems()[0].contains("one board"));
        assert!(rule(&[]).problems()[0].contains("one board"));
        let subtype_alone: Routing = serde_json::from_value(serde_json::json!({ "rules": [
            { "name": "r", "kinds": ["disk"], "subtypeId": 1 }
        ]}))
        .unwrap();
        assert!(subtype_alone.problems()[0].contains("needs its type"));
    }
}
