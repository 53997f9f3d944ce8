//! The binding records a device's job or its company's sync writes: bound, inactive, or
//! waiting for a person, each in the instance its configuration is in.

use super::plan::{self, Action, BindingSettings, Observed};
use crate::ids::ConfigurationId;
use crate::store::{Binding, BindingState, DeviceTarget, WrittenFields, now_ms};

/// What Bindery has written into the mapped fields of `config` once `action` is done there:
/// `None` when the action wrote none (the record stands). A record of another configuration is
/// replaced: what was written there says nothing about this one.
pub(super) fn written_after(
    before: &WrittenFields,
    action: &Action,
    config: ConfigurationId,
) -> Option<WrittenFields> {
    let extras = match action {
        Action::Create { extras, .. }
        | Action::Update { extras, .. }
        | Action::Adopt { extras, .. } => extras,
        _ => return None,
    };
    if extras.mapped.is_empty() {
        return None;
    }
    let mut after = if before.configuration_id == Some(config) {
        before.clone()
    } else {
        WrittenFields {
            configuration_id: Some(config),
            ..WrittenFields::default()
        }
    };
    for m in &extras.mapped {
        after.fields.insert(m.key.to_string(), m.value.clone());
    }
    Some(after)
}

/// The binding record for a device whose configurations are in line.
pub(super) fn settle(
    t: &DeviceTarget,
    observed: &[Observed],
    settings: &BindingSettings,
) -> Option<Binding> {
    let base = Binding {
        device_id: t.device_id,
        state: BindingState::Bound,
        integration_id: t.instance(),
        company_id: None,
        configuration_id: None,
        error: None,
        updated_ms: now_ms(),
        write_started_ms: None,
        candidates: Vec::new(),
    };
    match t.company_id {
        Some(company) => plan::chosen(observed, company, settings).map(|o| Binding {
            company_id: Some(company),
            configuration_id: Some(o.id),
            ..base
        }),
        None => t.binding.as_ref().map(|b| Binding {
            state: BindingState::Inactive,
            integration_id: b.integration_id,
            company_id: b.company_id,
            configuration_id: b.configuration_id,
            ..base
        }),
    }
}

pub(super) fn same_binding(current: Option<&Binding>, new: &Binding) -> bool {
    current.is_some_and(|c| {
        (
            c.state,
            c.integration_id,
            c.company_id,
            c.configuration_id,
            &c.error,
            &c.candidates,
        ) == (
            new.state,
            new.integration_id,
            new.company_id,
            new.configuration_id,
            &new.error,
            &new.candidates,
        )
    })
}

/// The record of a device that waits for a person, with the configurations it could be.
pub(super) fn needs_person(
    t: &DeviceTarget,
    candidates: &[ConfigurationId],
    reason: &str,
) -> Binding {
    Binding {
        device_id: t.device_id,
        state: BindingState::NeedsPerson,
        integration_id: t.instance(),
        company_id: t.company_id,
        configuration_id: None,
        error: Some(reason.to_owned()),
        updated_ms: now_ms(),
        write_started_ms: None,
        candidates: candidates.to_vec(),
    }
}
