//! The names an integration keeps its settings under. The first keeps the names every server
//! used before there could be several, so an upgrade moves no sealed secret.

use crate::ids::IntegrationId;

pub(super) const CREDENTIALS: &str = "cw.credentials";
pub(super) const PRIVATE_KEY: &str = "cw.private_key";
pub const CHOICES: &str = "cw.choices";
/// The state of an instance's ticket callback (`reconcile::callbacks`).
pub const CALLBACK_REGISTRATION: &str = "tickets.callback";
/// When an instance's open tickets were last polled (ms since the epoch).
pub const LAST_TICKET_POLL: &str = "tickets.last_poll_ms";
/// An instance's manual login-to-contact mappings: a JSON list of `[login, contactId]`.
pub const CONTACT_MAPPINGS: &str = "contacts.manual";
/// An instance's ticket routing rules (`monitoring::routing`).
pub const ROUTING_RULES: &str = "cw.routing";
/// An instance's configuration field map (`integration::field_map`).
pub const FIELD_MAP: &str = "cw.field_map";
/// Every setting an integration keeps (removed with it).
const ALL: &[&str] = &[
    CREDENTIALS,
    PRIVATE_KEY,
    CHOICES,
    CALLBACK_REGISTRATION,
    LAST_TICKET_POLL,
    CONTACT_MAPPINGS,
    ROUTING_RULES,
    FIELD_MAP,
];

/// The name integration `id` keeps the setting `name` under. The first keeps the names every
/// server used before there could be several (so an upgrade moves no sealed secret); the others
/// prefix theirs. A sealed value is sealed for this name, so one integration's private key
/// cannot be passed off as another's.
pub fn setting_name(id: IntegrationId, name: &str) -> String {
    if id == IntegrationId::FIRST {
        name.to_owned()
    } else {
        format!("integration.{id}.{name}")
    }
}

/// Every setting integration `id` may keep.
pub fn setting_names(id: IntegrationId) -> Vec<String> {
    ALL.iter().map(|n| setting_name(id, n)).collect()
}
