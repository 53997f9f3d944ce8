//! Routing one device's new tickets: its instance's rules and the boards its tickets take
//! without them, read once for a batch of alerts (or a help request), then applied to each
//! ticket as it is made. The dry run asks the same question and gets the same answer.

use serde::Serialize;

use super::{Routing, Subject, TicketKind, Values, first_match, render, route_of, routing};
use crate::ids::IntegrationId;
use crate::integration::{self, BoardUse};
use crate::store::{NewTicket, Store, TicketRoute};

/// An instance's rules and default boards.
#[derive(Clone, Debug, Default)]
pub struct Router {
    rules: Routing,
    monitoring: Option<BoardUse>,
    self_service: Option<BoardUse>,
}

/// What routing decides for one ticket.
#[derive(Clone, Debug, PartialEq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Decision {
    /// The rule that decided, and its place in the list (from 1); none: no rule matched.
    pub rule: Option<String>,
    pub rule_number: Option<usize>,
    /// Where the ticket goes, and what it carries; none: the kind's board from the choices.
    pub route: Option<TicketRoute>,
    pub summary: String,
}

impl Router {
    /// The router of a device's instance (none: its policy is not linked, so no ticket). A
    /// damaged rule set is logged and routes nothing: tickets still open, as without rules.
    pub async fn for_instance(store: &Store, integration: Option<IntegrationId>) -> Router {
        let Some(id) = integration else {
            return Router::default();
        };
        let rules = routing(store, id).await.unwrap_or_else(|e| {
            tracing::warn!(integration = %id, error = %e, "ticket routing rules not applied");
            Routing::default()
        });
        let choices = integration::choices(store, id).await.ok().flatten();
        Router {
            rules,
            monitoring: choices.as_ref().map(|c| c.monitoring),
            self_service: choices.as_ref().map(|c| c.self_service),
        }
    }

    pub fn with(rules: Routing, monitoring: BoardUse, self_service: BoardUse) -> Router {
        Router {
            rules,
            monitoring: Some(monitoring),
            self_service: Some(self_service),
        }
    }

    /// The first matching rule's route and summary (Bindery's `summary` without a template).
    pub fn decide(&self, s: &Subject<'_>, values: &Values, summary: &str) -> Decision {
        let default_board = if s.kind == TicketKind::Help {
            self.self_service
        } else {
            self.monitoring
        };
        let hit = first_match(&self.rules.rules, s);
        let route = hit
            .zip(default_board.as_ref())
            .map(|((_, rule), board)| route_of(rule, board));
        let summary = match hit.and_then(|(_, r)| r.summary.as_deref()) {
            Some(template) => render(template, values),
            None => summary.to_owned(),
        };
        Decision {
            rule: hit.map(|(_, r)| r.name.clone()),
            rule_number: hit.map(|(n, _)| n + 1),
            route,
            summary,
        }
    }

    /// Routes a new ticket: its route and summary, when a rule matches.
    pub fn apply(&self, s: &Subject<'_>, values: &Values, ticket: &mut NewTicket) {
        let d = self.decide(s, values, &ticket.summary);
        ticket.route = d.route;
        ticket.summary = d.summary;
    }
}
