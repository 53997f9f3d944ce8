//! The configuration writes binding makes, one per planned action, each recorded in the
//! activity log (an adoption field by field, so a person can see and undo it); and the lookup of
//! a device's own configurations that a retried write starts with.

use std::sync::atomic::Ordering;

use bindery_shared::DeviceFacts;
use connectwise_client::conditions::Op;
use connectwise_client::{Client, Condition, Error as CwError, ListQuery};

use super::adoption::MatchKey;
use super::binding_records::written_after;
use super::fields;
use super::job_error::JobError;
use super::plan::{Action, BindingSettings, Observed};
use super::runner::Engine;
use crate::ids::CompanyId;
use crate::store::{DeviceTarget, WrittenFields, now_ms};

impl Engine {
    /// Records a configuration write in the activity log.
    pub(super) async fn log_write(
        &self,
        action: &Action,
        target: &DeviceTarget,
        facts: &DeviceFacts,
        written: &Result<Option<Observed>, CwError>,
    ) {
        let (name, known_id) = match action {
            Action::InLine | Action::NeedsPerson { .. } => return,
            Action::Create { .. } => ("configuration.create", None),
            Action::Adopt {
                configuration_id, ..
            } => ("configuration.adopt", Some(*configuration_id)),
            Action::Update {
                configuration_id, ..
            } => ("configuration.update", Some(*configuration_id)),
            Action::Deactivate { configuration_id } => {
                ("configuration.deactivate", Some(*configuration_id))
            }
        };
        let subject = match facts.get(bindery_shared::FactField::Name) {
            Some(n) => format!("{n} ({})", target.agent_id),
            None => target.agent_id.clone(),
        };
        let (cw_id, refusal) = match written {
            Ok(after) => (after.as_ref().map(|o| o.id).or(known_id), None),
            Err(e) => (known_id, Some(e.to_string())),
        };
        if let (
            Action::Adopt {
                key,
                fields,
                before,
                type_id,
                ..
            },
            None,
        ) = (action, &refusal)
        {
            // What changed, field by field, so a person can see and undo it.
            let detail = adoption_detail(*key, fields, before, *type_id);
            self.store
                .record_activity_detail(name, &subject, cw_id.map(i64::from), true, Some(&detail))
                .await;
            return;
        }
        let outcome = refusal.as_deref().map_or(Ok(()), Err);
        self.store
            .record_activity(name, &subject, cw_id.map(i64::from), outcome)
            .await;
    }

    /// The device's configurations (by deviceIdentifier) in the companies it is bound or to
    /// be bound in. Its agent id showing up anywhere else is never touched.
    pub(super) async fn lookup(
        &self,
        client: &Client,
        target: &DeviceTarget,
        settings: &BindingSettings,
    ) -> Result<Vec<Observed>, JobError> {
        let allowed: Vec<CompanyId> = target
            .company_id
            .into_iter()
            .chain(target.binding.as_ref().and_then(|b| b.company_id))
            .collect();
        if allowed.is_empty() {
            return Ok(Vec::new());
        }
        let query = ListQuery::filter(
            Condition::text("deviceIdentifier", Op::Eq, &target.agent_id).map_err(CwError::from)?,
        )
        .fields(&fields::read_fields(&settings.field_map));
        let found = client.configurations(&query).await?;
        Ok(found
            .iter()
            .filter(|c| {
                c.device_identifier
                    .as_deref()
                    .is_some_and(|d| d.eq_ignore_ascii_case(&target.agent_id))
            })
            .filter_map(fields::observed)
            .filter(|o| allowed.contains(&o.company_id))
            .collect())
    }

    /// Carries out one planned write; returns the configuration as it now is.
    pub(super) async fn write(
        &self,
        client: &Client,
        action: &Action,
        settings: &BindingSettings,
        agent_id: &str,
    ) -> Result<Option<Observed>, CwError> {
        let written = match action {
            Action::InLine | Action::NeedsPerson { .. } => return Ok(None),
            Action::Adopt {
                configuration_id,
                fields: values,
                extras,
                activate,
                type_id,
                ..
            } => {
                let mut ops = fields::patch(
                    values,
                    extras,
                    activate.then_some(settings.active_status_id),
                );
                if let Some(t) = type_id {
                    ops.push(connectwise_client::model::PatchOp::replace_reference(
                        "type", *t,
                    ));
                    let answers = questions(settings.answers_for(*t, values));
                    if !answers.is_empty() {
                        ops.push(connectwise_client::model::PatchOp::replace(
                            "questions",
                            serde_json::to_value(&answers).unwrap_or_default(),
                        ));
                    }
                }
                client.patch_configuration(configuration_id.0, &ops).await?
            }
            Action::Create {
                company_id,
                type_id,
                fields: values,
                extras,
            } => {
                let mut body = fields::new_configuration(
                    *company_id,
                    *type_id,
                    settings.active_status_id,
                    values,
                    extras,
                    agent_id,
                );
                body.questions = questions(settings.answers_for(*type_id, values));
                let mut made = client.create_configuration(&body).await?;
                // What was sent is what is there, whatever the answer leaves out.
                made.company = made.company.or(body.company);
                made.status = made.status.or(body.status);
                made
            }
            Action::Update {
                configuration_id,
                fields: values,
                extras,
                activate,
            } => {
                let ops = fields::patch(
                    values,
                    extras,
                    activate.then_some(settings.active_status_id),
                );
                client.patch_configuration(configuration_id.0, &ops).await?
            }
            Action::Deactivate { configuration_id } => {
                let ops =
                    fields::patch(&[], &Default::default(), Some(settings.inactive_status_id));
                client.patch_configuration(configuration_id.0, &ops).await?
            }
        };
        Ok(fields::observed(&written))
    }

    /// Makes one planned write and folds what ConnectWise answers into `observed` (and what
    /// went into mapped fields into `remembered`).
    pub(super) async fn write_and_see(
        &self,
        client: &Client,
        target: &DeviceTarget,
        action: &Action,
        settings: &BindingSettings,
        observed: &mut Vec<Observed>,
        remembered: &mut WrittenFields,
    ) -> Result<(), JobError> {
        self.store
            .mark_write_started(target.device_id, now_ms())
            .await?;
        self.stats.writes.fetch_add(1, Ordering::Relaxed);
        let written = self.write(client, action, settings, &target.agent_id).await;
        self.log_write(action, target, &target.facts, &written)
            .await;
        match written {
            Ok(Some(after)) => {
                if let Some(record) = written_after(remembered, action, after.id) {
                    self.store
                        .remember_written(target.device_id, &record)
                        .await?;
                    *remembered = record;
                }
                observed.retain(|o| o.id != after.id);
                observed.push(after);
            }
            Ok(None) => {}
            // Deleted by hand: plan again without it (a create follows if it is needed).
            Err(CwError::NotFound { .. }) => {
                if let Action::Update {
                    configuration_id, ..
                }
                | Action::Deactivate { configuration_id }
                | Action::Adopt {
                    configuration_id, ..
                } = action
                {
                    observed.retain(|o| o.id != *configuration_id);
                }
            }
            Err(e) => return Err(e.into()),
        }
        Ok(())
    }
}

/// An adoption for the activity log: the key, then each field as it was and as it is now.
fn adoption_detail(
    key: MatchKey,
    fields: &[(bindery_shared::FactField, String)],
    before: &[(bindery_shared::FactField, Option<String>)],
    type_id: Option<i64>,
) -> String {
    let mut parts = vec![format!("adopted by {}", key.as_str())];
    for (f, after) in fields {
        let was = before
            .iter()
            .find(|(g, _)| g == f)
            .and_then(|(_, v)| v.as_deref())
            .unwrap_or("");
        parts.push(format!("{}: {was:?} -> {after:?}", f.as_str()));
    }
    if let Some(t) = type_id {
        parts.push(format!("type -> {t}"));
    }
    parts.join("; ")
}

/// The answers as a configuration carries them.
fn questions(answers: Vec<(i64, String)>) -> Vec<connectwise_client::model::ConfigurationQuestion> {
    answers
        .into_iter()
        .map(
            |(id, answer)| connectwise_client::model::ConfigurationQuestion {
                question_id: Some(id),
                answer: Some(serde_json::Value::String(answer)),
                ..Default::default()
            },
        )
        .collect()
}
