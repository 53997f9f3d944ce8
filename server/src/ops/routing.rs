//! Ticket routing rules: shown, saved only when ConnectWise allows every choice in them (the
//! board and its statuses, the type/subtype/item combination the board lists, the priority and
//! the source), and the dry run: which rule a device's alert or help request would hit, and
//! the ticket it would make.

use std::collections::HashMap;

use connectwise_client::model::{Association, Lookup};
use connectwise_client::{BoardLookup, Client};
use serde::{Deserialize, Serialize};

use super::{OpError, Ops};
use crate::access::Act;
use crate::ids::{DeviceId, IntegrationId};
use crate::integration::{self, BoardUse, Catalog};
use crate::monitoring::limits;
use crate::monitoring::routing::{
    self, Decision, Router, Routing, RoutingRule, Subject, TicketKind, Values,
};
use crate::monitoring::ticket_text::DeviceContext;

/// What a dry run asks about: a device, and one of its policy's monitors or a help request.
#[derive(Clone, Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DryRunRequest {
    pub device_id: DeviceId,
    /// A monitor of the device's policy (`disk-free`, `offline`); none: a help request.
    #[serde(default)]
    pub monitor_id: Option<String>,
    /// The measured value the alert would carry (for `{value}`).
    #[serde(default)]
    pub value: Option<f64>,
}

/// The dry run's answer: the rule, and the ticket as it would be opened.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DryRun {
    pub integration_id: IntegrationId,
    pub kind: TicketKind,
    #[serde(flatten)]
    pub decision: Decision,
    /// The board it would open on, with its statuses (the route's, else the kind's).
    pub board: BoardUse,
}

impl Ops<'_> {
    /// An integration's rules, in order.
    pub async fn routing(&self, id: IntegrationId) -> Result<Routing, OpError> {
        self.store.integration(id).await?;
        Ok(routing::routing(self.store, id).await?)
    }

    /// Saves the rules when they are sound and ConnectWise allows every choice in them;
    /// otherwise changes nothing and names each problem with its rule.
    pub async fn save_routing(&self, id: IntegrationId, rules: &Routing) -> Result<(), OpError> {
        self.allow(Act::SetRouting)?;
        self.store.integration(id).await?;
        let mut problems = rules.problems();
        if problems.is_empty() {
            let choices = integration::choices(self.store, id)
                .await?
                .ok_or_else(|| OpError::invalid("rules", "save the ConnectWise choices first"))?;
            let client = self.client(id).await?;
            let catalog = integration::test_connection(&client).await?;
            let mut lookups = Lookups::new(&client);
            for (n, rule) in rules.rules.iter().enumerate() {
                let board = rule.board.unwrap_or(match rule.help_board() {
                    Some(true) => choices.self_service,
                    _ => choices.monitoring,
                });
                let at = format!("rule {} ({:?})", n + 1, rule.name);
                for p in lookups.problems(rule, &board, &catalog).await? {
                    problems.push(format!("{at}: {p}"));
                }
            }
        }
        if !problems.is_empty() {
            return Err(OpError::invalid("rules", problems.join("; ")));
        }
        routing::save_routing(self.store, id, rules).await?;
        let detail = serde_json::to_string(rules).ok();
        self.audited(
            Act::SetRouting,
            format!("integration {id}"),
            detail.as_deref(),
        )
        .await;
        Ok(())
    }

    /// Which rule the device's alert (or help request) would hit, and the ticket it would
    /// make, by the code that makes it: nothing is written.
    pub async fn routing_dry_run(&self, req: &DryRunRequest) -> Result<DryRun, OpError> {
        let t = self
            .store
            .device_target(req.device_id)
            .await?
            .ok_or(crate::store::StoreError::NotFound("device"))?;
        let (Some(integration), Some(company_id)) = (t.integration_id, t.company_id) else {
            return Err(OpError::invalid("deviceId", crate::monitoring::NOT_LINKED));
        };
        let choices = integration::choices(self.store, integration)
            .await?
            .ok_or_else(|| OpError::invalid("deviceId", "save the ConnectWise choices first"))?;
        let monitors = limits::monitors(self.store, t.policy_id).await?;
        let d = DeviceContext {
            device_id: t.device_id,
            integration_id: integration,
            company_id,
            site_id: t.site_id,
            agent_id: &t.agent_id,
            facts: &t.facts,
        };
        let (kind, severity, values) = match &req.monitor_id {
            None => (TicketKind::Help, None, help_values(&d)),
            Some(m) => {
                let known = m == crate::monitoring::settings::OFFLINE_MONITOR
                    || monitors.iter().any(|s| &s.id == m);
                if !known {
                    return Err(OpError::invalid(
                        "monitorId",
                        format!("the device's policy runs no monitor {m:?}"),
                    ));
                }
                let (kind, severity) = crate::monitoring::kind_of(&monitors, m);
                (kind, severity, alert_values(&d, m, req.value))
            }
        };
        let router = Router::with(
            routing::routing(self.store, integration).await?,
            choices.monitoring,
            choices.self_service,
        );
        let subject = Subject {
            kind,
            severity,
            policy_id: t.policy_id,
            facts: &t.facts,
        };
        let default_summary = format!("{} on {}", values.summary, values.device);
        let decision = router.decide(&subject, &values, &default_summary);
        let kind_board = if kind == TicketKind::Help {
            choices.self_service
        } else {
            choices.monitoring
        };
        let board = match &decision.route {
            Some(r) => BoardUse {
                board_id: r.board_id,
                open_status_id: r.open_status_id,
                closed_status_id: r.closed_status_id,
                close_rule: kind_board.close_rule,
            },
            None => kind_board,
        };
        Ok(DryRun {
            integration_id: integration,
            kind,
            decision,
            board,
        })
    }
}

fn help_values(d: &DeviceContext<'_>) -> Values {
    Values {
        device: d.name(),
        monitor: "help".into(),
        summary: "Help request".into(),
        ..Values::default()
    }
}

fn alert_values(d: &DeviceContext<'_>, monitor: &str, value: Option<f64>) -> Values {
    Values {
        device: d.name(),
        monitor: monitor.to_owned(),
        value: value.map(|v| format!("{v:.1}")).unwrap_or_default(),
        summary: format!("Alert of {monitor}"),
        ..Values::default()
    }
}

/// ConnectWise's lists a rule is checked against, each read once per save.
struct Lookups<'c> {
    client: &'c Client,
    boards: HashMap<(i64, &'static str), Vec<Lookup>>,
    associations: HashMap<i64, Vec<Association>>,
    priorities: Option<Vec<Lookup>>,
    sources: Option<Vec<Lookup>>,
}

fn active(list: &[Lookup], id: i64) -> bool {
    list.iter()
        .any(|l| l.id == id && l.inactive_flag != Some(true))
}

impl<'c> Lookups<'c> {
    fn new(client: &'c Client) -> Lookups<'c> {
        Lookups {
            client,
            boards: HashMap::new(),
            associations: HashMap::new(),
            priorities: None,
            sources: None,
        }
    }

    async fn board(&mut self, board: i64, what: BoardLookup) -> Result<&[Lookup], OpError> {
        let key = (
            board,
            match what {
                BoardLookup::Types => "types",
                BoardLookup::Subtypes => "subtypes",
                BoardLookup::Items => "items",
            },
        );
        if !self.boards.contains_key(&key) {
            let list = self.client.board_lookups(board, what).await?;
            self.boards.insert(key, list);
        }
        Ok(self.boards.get(&key).map(Vec::as_slice).unwrap_or_default())
    }

    /// What ConnectWise does not allow in `rule` on `board`.
    async fn problems(
        &mut self,
        rule: &RoutingRule,
        board: &BoardUse,
        catalog: &Catalog,
    ) -> Result<Vec<String>, OpError> {
        let mut out = Vec::new();
        let Some(known) = catalog.boards.iter().find(|b| b.id == board.board_id) else {
            return Ok(vec![format!("there is no board {}", board.board_id)]);
        };
        for status in [board.open_status_id, board.closed_status_id] {
            if !known.statuses.iter().any(|s| s.id == status) {
                out.push(format!(
                    "status {status} is not a status of board {}",
                    known.name
                ));
            }
        }
        for (id, what, name) in [
            (rule.type_id, BoardLookup::Types, "type"),
            (rule.subtype_id, BoardLookup::Subtypes, "subtype"),
            (rule.item_id, BoardLookup::Items, "item"),
        ] {
            if let Some(id) = id
                && !active(self.board(board.board_id, what).await?, id)
            {
                out.push(format!(
                    "{name} {id} is not an active {name} of board {}",
                    known.name
                ));
            }
        }
        if rule.type_id.is_some() && out.is_empty() {
            let b = board.board_id;
            if !self.associations.contains_key(&b) {
                let list = self.client.board_associations(b).await?;
                self.associations.insert(b, list);
            }
            let allowed = self.associations.get(&b).is_some_and(|list| {
                list.iter().any(|a| {
                    a.kind.as_ref().and_then(|r| r.id) == rule.type_id
                        && a.sub_type.as_ref().and_then(|r| r.id) == rule.subtype_id
                        && a.item.as_ref().and_then(|r| r.id) == rule.item_id
                })
            });
            if !allowed {
                out.push(format!(
                    "board {} does not allow type {:?}, subtype {:?}, item {:?} together \
                     (its type/subtype/item associations)",
                    known.name, rule.type_id, rule.subtype_id, rule.item_id
                ));
            }
        }
        if let Some(p) = rule.priority_id {
            if self.priorities.is_none() {
                self.priorities = Some(self.client.priorities().await?);
            }
            if !self.priorities.as_deref().is_some_and(|l| active(l, p)) {
                out.push(format!("there is no active priority {p}"));
            }
        }
        if let Some(s) = rule.source_id {
            if self.sources.is_none() {
                self.sources = Some(self.client.sources().await?);
            }
            if !self.sources.as_deref().is_some_and(|l| active(l, s)) {
                out.push(format!("there is no active source {s}"));
            }
        }
        Ok(out)
    }
}
