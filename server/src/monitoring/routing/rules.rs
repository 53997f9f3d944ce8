//! Which rule a ticket hits: the first whose every condition holds. Pure, so the dry run and
//! the ticket it describes cannot disagree, and cheap: 200 rules cost microseconds an alert
//! (docs/BENCHMARKS.md).

use bindery_shared::protocol::AlertSeverity;
use bindery_shared::{DeviceFacts, FactField};

use super::{DeviceClass, RoutingRule, TicketKind};
use crate::ids::PolicyId;
use crate::reconcile::billing::{Class, class_of};
use crate::reconcile::plan::pattern_matches;

/// What a new ticket is about, as rules match it.
#[derive(Clone, Copy, Debug)]
pub struct Subject<'a> {
    pub kind: TicketKind,
    /// An alert's (its monitor's); none for a help request.
    pub severity: Option<AlertSeverity>,
    pub policy_id: Option<PolicyId>,
    pub facts: &'a DeviceFacts,
}

impl RoutingRule {
    pub fn matches(&self, s: &Subject<'_>) -> bool {
        let any = |list: &[_], v| list.is_empty() || list.contains(&v);
        let class = match class_of(s.facts) {
            Class::Server => DeviceClass::Server,
            Class::Workstation => DeviceClass::Workstation,
        };
        any(&self.kinds, s.kind)
            && (self.severities.is_empty()
                || s.severity.is_some_and(|v| self.severities.contains(&v)))
            && (self.policies.is_empty() || s.policy_id.is_some_and(|p| self.policies.contains(&p)))
            && self.class.is_none_or(|c| c == class)
            && self
                .os
                .as_deref()
                .is_none_or(|p| fact_matches(s.facts, FactField::OsInfo, p))
            && self
                .fact
                .as_ref()
                .is_none_or(|f| fact_matches(s.facts, f.field, &f.pattern))
    }
}

fn fact_matches(facts: &DeviceFacts, field: FactField, pattern: &str) -> bool {
    facts
        .get(field)
        .is_some_and(|v| pattern_matches(v, pattern))
}

/// The first rule that matches, with its place in the list.
pub fn first_match<'r>(
    rules: &'r [RoutingRule],
    s: &Subject<'_>,
) -> Option<(usize, &'r RoutingRule)> {
    rules.iter().enumerate().find(|(_, r)| r.matches(s))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(name: &str) -> RoutingRule {
        serde_json::from_value(serde_json::json!({ "name": name })).unwrap()
    }

    fn facts(os: &str, name: &str) -> DeviceFacts {
        let mut f = DeviceFacts::default();
        f.set(FactField::OsInfo, os);
        f.set(FactField::Name, name);
        f
    }

    #[test]
    fn the_first_rule_whose_every_condition_holds_decides() {
        let server = facts("Windows Server 2022 Standard", "sql-01");
        let laptop = facts("Windows 11 Pro", "ana-laptop");
        let rules = vec![
            RoutingRule {
                kinds: vec![TicketKind::Disk],
                severities: vec![AlertSeverity::Critical],
                ..rule("critical disks")
            },
            RoutingRule {
                class: Some(DeviceClass::Server),
                kinds: vec![TicketKind::Disk, TicketKind::Offline],
                ..rule("servers")
            },
            RoutingRule {
                policies: vec![PolicyId(7)],
                ..rule("policy 7")
            },
            RoutingRule {
                fact: Some(super::super::FactMatch {
                    field: FactField::Name,
                    pattern: "*-laptop".into(),
                }),
                ..rule("laptops")
            },
            RoutingRule {
                kinds: vec![TicketKind::Help],
                os: Some("*server*".into()),
                ..rule("help on servers")
            },
        ];
        let hit = |kind, severity, policy, facts: &DeviceFacts| {
            let s = Subject {
                kind,
                severity,
                policy_id: policy,
                facts,
            };
            first_match(&rules, &s).map(|(_, r)| r.name.clone())
        };
        let warn = Some(AlertSeverity::Warning);
        let crit = Some(AlertSeverity::Critical);
        assert_eq!(
            hit(TicketKind::Disk, crit, None, &laptop).as_deref(),
            Some("critical disks")
        );
        assert_eq!(
            hit(TicketKind::Disk, warn, None, &server).as_deref(),
            Some("servers")
        );
        assert_eq!(
            hit(TicketKind::Disk, warn, None, &laptop).as_deref(),
            Some("laptops")
        );
        assert_eq!(
            hit(TicketKind::Memory, warn, Some(PolicyId(7)), &server).as_deref(),
            Some("policy 7")
        );
        assert_eq!(
            hit(TicketKind::Help, None, None, &server).as_deref(),
            Some("help on servers")
        );
        assert_eq!(
            hit(TicketKind::Memory, warn, Some(PolicyId(8)), &server),
            None
        );
        // A rule naming severities never matches a help request, which has none.
        let only_critical = [RoutingRule {
            severities: vec![AlertSeverity::Critical],
            ..rule("c")
        }];
        let s = Subject {
            kind: TicketKind::Help,
            severity: None,
            policy_id: None,
            facts: &laptop,
        };
        assert!(first_match(&only_critical, &s).is_none());
        // A rule with no conditions is the catch-all.
        assert_eq!(first_match(&[rule("all")], &s).unwrap().0, 0);
    }
}
