//! The choices form of the ConnectWise page as posted (boards, statuses, types, rule rows,
//! adoption, ticket rules), and the choices it asks for; the close rules as the form names them.

use bindery_shared::FactField;
use serde::Deserialize;

use crate::integration::{
    BoardUse, Choices, CloseRule, QuestionAnswer, TicketRules, TypeRuleChoice,
};
use crate::reconcile::adoption::AdoptionSettings;

/// The close rules as the form offers them: (value, label).
pub(super) const CLOSE_RULES: [(&str, &str); 3] = [
    ("untouched", "close unless a person worked it"),
    ("always", "always close"),
    ("never", "never close (note only)"),
];

fn close_rule(value: Option<&str>) -> CloseRule {
    match value {
        Some("always") => CloseRule::Always,
        Some("never") => CloseRule::Never,
        _ => CloseRule::Untouched,
    }
}

pub(super) fn close_rule_value(rule: CloseRule) -> &'static str {
    match rule {
        CloseRule::Always => "always",
        CloseRule::Untouched => "untouched",
        CloseRule::Never => "never",
    }
}

#[derive(Deserialize)]
pub(super) struct ChoicesForm {
    #[serde(default)]
    pub(super) csrf: String,
    monitoring_board: i64,
    monitoring_open: i64,
    monitoring_closed: i64,
    self_service_board: i64,
    self_service_open: i64,
    self_service_closed: i64,
    active_status: i64,
    inactive_status: i64,
    default_type: i64,
    rule0_field: Option<String>,
    rule0_pattern: Option<String>,
    rule0_type: Option<String>,
    rule1_field: Option<String>,
    rule1_pattern: Option<String>,
    rule1_type: Option<String>,
    rule2_field: Option<String>,
    rule2_pattern: Option<String>,
    rule2_type: Option<String>,
    /// Checkboxes: present when ticked.
    adopt_serial: Option<String>,
    adopt_mac: Option<String>,
    adopt_name: Option<String>,
    adopt_type_rules: Option<String>,
    monitoring_close_rule: Option<String>,
    self_service_close_rule: Option<String>,
    reopen_within_hours: Option<u32>,
    poll_minutes: Option<u32>,
    max_open_alerts: Option<u32>,
    max_open_help: Option<u32>,
    /// Answers to required questions, one per line: `type question answer`.
    answers: Option<String>,
}

/// Answers as the form shows them, one per line: `3 2 Rack {name}`.
pub(super) fn answers_text(answers: &[QuestionAnswer]) -> String {
    answers
        .iter()
        .map(|a| format!("{} {} {}", a.type_id, a.question_id, a.answer))
        .collect::<Vec<_>>()
        .join("\n")
}

impl ChoicesForm {
    /// The rule rows filled in (a type chosen): (row, rule).
    pub(super) fn rules(&self) -> Vec<(usize, TypeRuleChoice)> {
        let rows = [
            (&self.rule0_field, &self.rule0_pattern, &self.rule0_type),
            (&self.rule1_field, &self.rule1_pattern, &self.rule1_type),
            (&self.rule2_field, &self.rule2_pattern, &self.rule2_type),
        ];
        rows.iter()
            .enumerate()
            .filter_map(|(n, (field, pattern, type_id))| {
                let type_id = type_id.as_deref()?.trim().parse::<i64>().ok()?;
                Some((
                    n,
                    TypeRuleChoice {
                        field: FactField::from_name(field.as_deref()?.trim())?,
                        pattern: pattern.as_deref().unwrap_or("").trim().to_owned(),
                        type_id,
                    },
                ))
            })
            .collect()
    }
}

impl ChoicesForm {
    /// The choices the form asks for, rule rows included.
    /// The answers' lines, or the first line that is not `type question answer`.
    pub(super) fn answers(&self) -> Result<Vec<QuestionAnswer>, String> {
        let text = self.answers.as_deref().unwrap_or_default();
        let mut out = Vec::new();
        for (n, line) in text
            .lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty())
        {
            let mut words = line.trim().splitn(3, char::is_whitespace);
            let parsed = (|| {
                let type_id = words.next()?.parse().ok()?;
                let question_id = words.next()?.trim().parse().ok()?;
                let answer = words.next()?.trim().to_owned();
                Some(QuestionAnswer {
                    type_id,
                    question_id,
                    answer,
                })
            })();
            match parsed {
                Some(a) => out.push(a),
                None => {
                    return Err(format!(
                        "answers, line {}: write the type id, the question id, then the answer",
                        n + 1
                    ));
                }
            }
        }
        Ok(out)
    }

    pub(super) fn choices(
        &self,
        rules: &[(usize, TypeRuleChoice)],
        answers: Vec<QuestionAnswer>,
    ) -> Choices {
        let f = self;
        Choices {
            monitoring: BoardUse {
                board_id: f.monitoring_board,
                open_status_id: f.monitoring_open,
                closed_status_id: f.monitoring_closed,
                close_rule: close_rule(f.monitoring_close_rule.as_deref()),
            },
            self_service: BoardUse {
                board_id: f.self_service_board,
                open_status_id: f.self_service_open,
                closed_status_id: f.self_service_closed,
                close_rule: close_rule(f.self_service_close_rule.as_deref()),
            },
            active_status_id: f.active_status,
            inactive_status_id: f.inactive_status,
            default_type_id: f.default_type,
            type_rules: rules.iter().map(|(_, r)| r.clone()).collect(),
            adoption: AdoptionSettings {
                by_serial: f.adopt_serial.is_some(),
                by_mac: f.adopt_mac.is_some(),
                by_name: f.adopt_name.is_some(),
                apply_type_rules: f.adopt_type_rules.is_some(),
            },
            tickets: TicketRules {
                reopen_within_hours: f.reopen_within_hours.unwrap_or(24),
                poll_minutes: f.poll_minutes.unwrap_or(5),
                max_open_alerts: f.max_open_alerts.unwrap_or(20),
                max_open_help: f.max_open_help.unwrap_or(10),
            },
            answers,
        }
    }
}
